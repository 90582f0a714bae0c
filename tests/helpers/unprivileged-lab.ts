/**
 * Run by tests/interop/real-privilege.test.ts in a child process whose capabilities exclude
 * CAP_NET_ADMIN and CAP_NET_RAW: a lab with a TAP, a NIC and a UDP cloud plus two hosts. Prints one
 * JSON line: each endpoint's state and error, and whether the hosts still ping each other.
 * argv: TAP name, NIC (an existing interface), UDP local port, UDP remote port.
 */
import { realLab, until } from './reallab.js';

const [tap, nic, local, remote] = process.argv.slice(2);
const lab = realLab(`wirelab: 1
name: unprivileged
nodes:
  pc1: { kind: host, interfaces: { eth0: { ip: 10.3.0.1/24 } } }
  pc2: { kind: host, interfaces: { eth0: { ip: 10.3.0.2/24 } } }
  sw: { kind: switch, ports: 8 }
  tapped: { kind: cloud, endpoint: { type: tap, name: ${tap} } }
  wired: { kind: cloud, endpoint: { type: nic, interface: ${nic} } }
  tunnel: { kind: cloud, endpoint: { type: udp, local: "127.0.0.1:${local}", remote: "127.0.0.1:${remote}" } }
links:
  - [pc1:eth0, sw:e0]
  - [pc2:eth0, sw:e1]
  - [tapped:eth0, sw:e2]
  - [wired:eth0, sw:e3]
  - [tunnel:eth0, sw:e4]
`);
await lab.runtime.settle(60e9);
await until(() => lab.endpoint('tunnel').state !== 'starting', 5000);
const ping = lab.host('pc1').ping('10.3.0.2', { count: 3, intervalNs: 100e6, timeoutNs: 2e9 });
await until(() => ping.isDone, 10_000);
const state = (n: string) => ({ state: lab.endpoint(n).state, error: lab.endpoint(n).error });
console.log(JSON.stringify({ tap: state('tapped'), nic: state('wired'), udp: state('tunnel'), reported: lab.errors, pingReceived: ping.result.received }));
lab.stop();
process.exit(0);
