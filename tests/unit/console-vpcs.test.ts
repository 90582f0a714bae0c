/**
 * The host console as transcripts in VPCS 0.5b2's words and layout (the expected texts are what
 * the real VPCS printed for the same commands, see tests/interop/console-vpcs.test.ts), and what
 * each command does to the host.
 */
import { describe, expect, it } from 'vitest';
import { Bench } from './console-harness.js';

const LAB = `
wirelab: 1
name: v
nodes:
  PC1: { kind: host }
  PC2: { kind: host, interfaces: { eth0: { ip: 10.0.0.2/24 } }, services: { udp-echo: { port: 7 } } }
  PC3: { kind: host, interfaces: { eth0: { ip: 10.9.0.10/24, gateway: 10.9.0.1 } }, dns: [10.0.0.53] }
  r1: { kind: router, interfaces: { g0/0: { ip: 10.0.0.254/24 }, g0/1: { ip: 10.9.0.1/24 } } }
  dns:
    kind: host
    interfaces: { eth0: { ip: 10.0.0.53/24, gateway: 10.0.0.254 } }
    services: { dns: { records: { web.lab: 10.0.0.2 } } }
  sw: { kind: switch, stp: false }
links:
  - [PC1:eth0, sw:e0]
  - [PC2:eth0, sw:e1]
  - [r1:g0/0, sw:e2]
  - [dns:eth0, sw:e3]
  - [PC3:eth0, r1:g0/1]
`;

/** Times differ from run to run on a real VPCS; here (virtual time, no link delay) they are 0.000. */
const T = '0.000';

describe('VPCS commands', () => {
  it('ip ADDR/MASK GW, ip ADDR MASK, and show ip', () => {
    const b = new Bench(LAB);
    expect(b.type('PC1', 'ip 10.0.0.1/24 10.0.0.254\r')).toBe('ip 10.0.0.1/24 10.0.0.254\nChecking for duplicate address...\nPC1 : 10.0.0.1 255.255.255.0 gateway 10.0.0.254\n\nPC1> ');
    const mac = b.rt.host('PC1')!.showIp()[0]!.mac;
    const macText = mac.toString(16).padStart(12, '0').match(/../g)!.join(':');
    expect(b.type('PC1', 'show ip\r')).toBe(
      `show ip\n\nNAME        : PC1[1]\nIP/MASK     : 10.0.0.1/24\nGATEWAY     : 10.0.0.254\nDNS         : \nMAC         : ${macText}\nMTU:        : 1500\n\nPC1> `,
    );
    expect(b.type('PC1', 'ip 10.0.0.1 255.255.255.128\r')).toBe('ip 10.0.0.1 255.255.255.128\nChecking for duplicate address...\nPC1 : 10.0.0.1 255.255.255.128\n\nPC1> ');
    expect(b.rt.host('PC1')!.address()).toBe('10.0.0.1/25');
    expect(b.type('PC1', 'ip 10.0.0.1 10.0.0.62 26\r')).toContain('PC1 : 10.0.0.1 255.255.255.192 gateway 10.0.0.62\n');
    expect(b.type('PC1', 'ip 10.0.0.1 10.0.0.254 26\r')).toContain('not same subnet\n');
  });

  it('says what is wrong with an address, as VPCS does', () => {
    const b = new Bench(LAB);
    expect(b.type('PC1', 'ip 300.1.1.1/24\r')).toBe('ip 300.1.1.1/24\nInvalid address\n\nPC1> ');
    expect(b.type('PC1', 'ip 10.0.0.0/24\r')).toBe('ip 10.0.0.0/24\nInvalid host address\n\nPC1> ');
    expect(b.type('PC1', 'ip 10.0.0.1/24 10.0.0.255\r')).toBe('ip 10.0.0.1/24 10.0.0.255\nInvalid gateway address\n\nPC1> ');
    expect(b.type('PC1', 'ip 10.0.0.1/24 10.1.0.1\r')).toBe('ip 10.0.0.1/24 10.1.0.1\nnot same subnet\n\nPC1> ');
    expect(b.type('PC1', 'ip 10.0.0.1/24 xyz\r')).toBe('ip 10.0.0.1/24 xyz\nInvalid options\n\nPC1> ');
    expect(b.rt.host('PC1')!.address()).toBe('');
  });

  it('ping: replies, a neighbour that does not answer ARP, no gateway, and ICMP errors from a router', () => {
    const b = new Bench(LAB);
    b.type('PC1', 'ip 10.0.0.1/24 10.0.0.254\r');
    expect(b.type('PC1', 'ping 10.0.0.2 -c 3\r')).toBe(`ping 10.0.0.2 -c 3\n10.0.0.2 icmp_seq=1 ttl=64 time=${T} ms\n10.0.0.2 icmp_seq=2 ttl=64 time=${T} ms\n10.0.0.2 icmp_seq=3 ttl=64 time=${T} ms\n\nPC1> `);
    expect(b.type('PC1', 'ping 10.0.0.9 -c 2\r')).toBe('ping 10.0.0.9 -c 2\nhost (10.0.0.9) not reachable\n\nPC1> ');
    expect(b.type('PC1', 'ping 10.77.0.1 -c 1\r')).toBe(`ping 10.77.0.1 -c 1\n*10.0.0.254 icmp_seq=1 ttl=255 time=${T} ms (ICMP type:3, code:0, Destination network unreachable)\n\nPC1> `);
    expect(b.type('PC1', 'ping 10.9.0.10\r')).toBe(`ping 10.9.0.10\n${[1, 2, 3, 4, 5].map((i) => `10.9.0.10 icmp_seq=${i} ttl=63 time=${T} ms\n`).join('')}\nPC1> `);
    b.type('PC1', 'ip 10.0.0.1/24\r');
    expect(b.type('PC1', 'ping 192.168.9.9 -c 1\r')).toBe('ping 192.168.9.9 -c 1\nNo gateway found\n\nPC1> ');
    expect(b.type('PC1', 'ping 10.0.0.1 -c 2\r')).toBe('ping 10.0.0.1 -c 2\n10.0.0.1 icmp_seq=1 ttl=64 time=0.001 ms\n10.0.0.1 icmp_seq=2 ttl=64 time=0.001 ms\n\nPC1> ');
  });

  it('ping a silent address prints timeouts; Ctrl-C stops ping -t', () => {
    const b = new Bench(LAB);
    b.type('PC1', 'ip 10.0.0.1/24 10.0.0.254\r');
    b.type('PC1', 'ping 10.0.0.2 -c 1\r');
    // PC2 goes away but PC1 still has its MAC: requests leave and nothing answers.
    b.rt.stopNode('PC2');
    expect(b.type('PC1', 'ping 10.0.0.2 -c 2\r')).toBe('ping 10.0.0.2 -c 2\n10.0.0.2 icmp_seq=1 timeout\n10.0.0.2 icmp_seq=2 timeout\n\nPC1> ');
    b.rt.startNode('PC2');
    const c = b.console('PC1');
    let out = '';
    const off = c.onOutput((t) => (out += t));
    c.input('ping 10.0.0.2 -t\r');
    b.wait(3.5e9);
    c.input('\x03');
    b.rt.engine.runUntilCondition(() => !c.busy, 5e9);
    off();
    expect(out.replace(/\r\n/g, '\n')).toBe(`ping 10.0.0.2 -t\n${[1, 2, 3, 4].map((i) => `10.0.0.2 icmp_seq=${i} ttl=64 time=${T} ms\n`).join('')}\nPC1> `);
  });

  it('ping -P 17 (UDP to the echo port) and -p PORT; TCP mode is refused', () => {
    const b = new Bench(LAB);
    b.type('PC1', 'ip 10.0.0.1/24\r');
    expect(b.type('PC1', 'ping 10.0.0.2 -P 17 -c 2\r')).toBe(`ping 10.0.0.2 -P 17 -c 2\n10.0.0.2 udp_seq=1 ttl=64 time=${T} ms\n10.0.0.2 udp_seq=2 ttl=64 time=${T} ms\n\nPC1> `);
    expect(b.type('PC1', 'ping 10.0.0.2 -P 17 -p 9 -c 1\r')).toBe(`ping 10.0.0.2 -P 17 -p 9 -c 1\n*10.0.0.2 udp_seq=1 ttl=64 time=${T} ms (ICMP type:3, code:3, Destination port unreachable)\n\nPC1> `);
    expect(b.type('PC1', 'ping 10.0.0.2 -P 6 -p 80\r')).toContain('TCP mode is not available');
  });

  it('trace: through a router to a host, to itself, and when the next hop is not there', () => {
    const b = new Bench(LAB);
    b.type('PC1', 'ip 10.0.0.1/24 10.0.0.254\r');
    expect(b.type('PC1', 'trace 10.9.0.10\r')).toBe(
      `trace 10.9.0.10\ntrace to 10.9.0.10, 8 hops max, press Ctrl+C to stop\n 1   10.0.0.254   ${T} ms  ${T} ms  ${T} ms\n 2   *10.9.0.10   ${T} ms (ICMP type:3, code:3, Destination port unreachable)\n\nPC1> `,
    );
    expect(b.type('PC1', 'trace 10.0.0.2\r')).toBe(`trace 10.0.0.2\ntrace to 10.0.0.2, 8 hops max, press Ctrl+C to stop\n 1   *10.0.0.2   ${T} ms (ICMP type:3, code:3, Destination port unreachable)\n\nPC1> `);
    expect(b.type('PC1', 'trace 10.0.0.9 -m 3\r')).toBe('trace 10.0.0.9 -m 3\ntrace to 10.0.0.9, 3 hops max, press Ctrl+C to stop\nhost (10.0.0.9) not reachable\n\nPC1> ');
    expect(b.type('PC1', 'trace 10.0.0.1\r')).toBe('trace 10.0.0.1\ntraceroute to 10.0.0.1, 8 hops max\n 1 10.0.0.1     0.001 ms\n\nPC1> ');
    expect(b.type('PC1', 'trace 10.9.0.10 -m 99\r')).toBe('trace 10.9.0.10 -m 99\nInvalid TTL\n\nPC1> ');
    expect(b.type('PC1', 'trace 10.44.0.1 -m 2\r')).toBe(
      `trace 10.44.0.1 -m 2\ntrace to 10.44.0.1, 2 hops max, press Ctrl+C to stop\n 1   10.0.0.254   ${T} ms  ${T} ms  ${T} ms\n 2   *10.0.0.254   ${T} ms (ICMP type:3, code:0, Destination network unreachable)\n\nPC1> `,
    );
  });

  it('show arp / arp with VPCS\'s 120 s expiry; clear arp', () => {
    const b = new Bench(LAB);
    expect(b.type('PC1', 'arp\r')).toBe('arp\n\narp table is empty\n\nPC1> ');
    b.type('PC1', 'ip 10.0.0.1/24\r');
    b.type('PC1', 'ping 10.0.0.2 -c 1\r');
    b.wait(3e9);
    const mac = b.rt.host('PC2')!.showIp()[0]!.mac.toString(16).padStart(12, '0').match(/../g)!.join(':');
    expect(b.type('PC1', 'show arp\r')).toBe(`show arp\n\n${mac}  10.0.0.2 expires in 117 seconds \n\nPC1> `);
    b.type('PC1', 'clear arp\r');
    expect(b.type('PC1', 'arp\r')).toBe('arp\n\narp table is empty\n\nPC1> ');
  });

  it('ip dhcp: DORA and the lease; -x releases; no server gives up as VPCS does', () => {
    const lab = LAB.replace('r1: { kind: router, interfaces: { g0/0: { ip: 10.0.0.254/24 }, g0/1: { ip: 10.9.0.1/24 } } }', 'r1:\n    kind: router\n    interfaces: { g0/0: { ip: 10.0.0.254/24 }, g0/1: { ip: 10.9.0.1/24 } }\n    dhcp-server: { pools: [{ interface: g0/0, range: 10.0.0.100-10.0.0.199, dns: [10.0.0.53] }] }');
    const b = new Bench(lab);
    expect(b.type('PC1', 'ip dhcp\r')).toBe('ip dhcp\nDORA IP 10.0.0.100/24 GW 10.0.0.254\n\nPC1> ');
    expect(b.type('PC1', 'show ip\r')).toContain('IP/MASK     : 10.0.0.100/24\nGATEWAY     : 10.0.0.254\nDNS         : 10.0.0.53  \nDHCP SERVER : 10.0.0.254\n');
    expect(b.type('PC1', 'dhcp -x\r')).toBe('dhcp -x\n\nPC1> ');
    expect(b.type('PC1', 'show ip\r')).toContain('IP/MASK     : 0.0.0.0/0\n');
    expect(b.type('PC1', 'dhcp -r\r')).toMatch(/^dhcp -r\nD+ORA IP 10\.0\.0\.10\d\/24 GW 10\.0\.0\.254\n\nPC1> $/);
    b.rt.stopNode('r1');
    expect(b.type('PC2', 'ip dhcp\r')).toMatch(/^ip dhcp\nD{2,3}\nCan't find dhcp server\n\nPC2> $/);
  });

  it('ip dns, names, set pcname, clear ip', () => {
    const b = new Bench(LAB);
    b.type('PC1', 'ip 10.0.0.1/24 10.0.0.254\r');
    expect(b.type('PC1', 'ping web.lab -c 1\r')).toBe('ping web.lab -c 1\nCannot resolve web.lab\n\nPC1> ');
    expect(b.type('PC1', 'ip dns 10.0.0.53\r')).toBe('ip dns 10.0.0.53\n\nPC1> ');
    expect(b.type('PC1', 'ping web.lab -c 1\r')).toBe(`ping web.lab -c 1\nweb.lab resolved to 10.0.0.2\n10.0.0.2 icmp_seq=1 ttl=64 time=${T} ms\n\nPC1> `);
    expect(b.type('PC1', 'ping nowhere.lab -c 1\r')).toBe('ping nowhere.lab -c 1\nCannot resolve nowhere.lab\n\nPC1> ');
    expect(b.type('PC1', 'set pcname Alice\r')).toBe('set pcname Alice\n\nAlice> ');
    expect(b.type('PC1', 'clear ip\r')).toBe('clear ip\nIPv4 address/mask, gateway, DNS, and DHCP cleared\n\nAlice> ');
    expect(b.type('PC1', 'show ip\r')).toContain('NAME        : Alice[1]\nIP/MASK     : 0.0.0.0/0\nGATEWAY     : 0.0.0.0\nDNS         : \n');
  });

  it('bad and ambiguous commands, ?, history, echo', () => {
    const b = new Bench(LAB);
    expect(b.type('PC1', 'foo\r')).toBe('foo\nBad command: "foo". Use ? for help.\n\nPC1> ');
    expect(b.type('PC1', 's\r')).toBe('s\nsave\nset\nshow\n\nPC1> ');
    expect(b.type('PC1', '?\r')).toContain('\nping <host> [-options]   Ping the network <host> with ICMP (default) or UDP\n');
    expect(b.type('PC1', 'ping\r')).toContain('ping <host> [-options]\n  Ping the network <host>. <host> can be an ip address or name\n');
    expect(b.type('PC1', 'ip ?\r')).toContain('    <address> [/<mask>] [<gateway>]\n');
    expect(b.type('PC1', 'echo hello world\r')).toBe('echo hello world\nhello world\nPC1> ');
    expect(b.type('PC1', 'history\r')).toBe('history\nfoo\ns\n?\nping\nip ?\necho hello world\nhistory\n\nPC1> ');
  });

  it('save writes the host\'s entry of lab.yaml; a new pcname renames the node', () => {
    const b = new Bench(LAB);
    b.type('PC1', 'ip 10.0.0.1/24 10.0.0.254\r');
    b.type('PC1', 'ip dns 10.0.0.53\r');
    expect(b.type('PC1', 'save\r')).toBe('save\n.  done\n\nPC1> ');
    expect(b.saves[0]).toEqual({ node: 'PC1', spec: { kind: 'host', interfaces: { eth0: { ip: '10.0.0.1/24', gateway: '10.0.0.254' } }, dns: ['10.0.0.53'] }, warnings: [] });
    b.type('PC3', 'set pcname web1\r');
    b.type('PC3', 'ip dhcp\r');
    b.type('PC3', 'save\r');
    expect(b.saves[1]).toMatchObject({ node: 'PC3', rename: 'web1', spec: { kind: 'host', interfaces: { eth0: { ip: 'dhcp' } }, dns: ['10.0.0.53'] } });
    expect(Object.keys(b.file.nodes!)).toContain('web1');
  });
});

describe('the line discipline', () => {
  it('edits the line: backspace, Ctrl-U, Ctrl-W, arrows, and recalls history with up and down', () => {
    const b = new Bench(LAB);
    b.type('PC1', 'ip 10.0.0.1/24\r');
    expect(b.type('PC1', 'shwo\x7f\x7f\x7fhow ip\x15set pcname X\x17Bob\r')).toContain('\nBob> ');
    // Up twice: "ip 10.0.0.1/24"; left and right again, then 4 becomes 5.
    const t = b.type('PC1', '\x1b[A\x1b[A\x1b[D\x1b[D\x1b[C\x1b[C\x7f5\r');
    expect(t).toContain('Bob : 10.0.0.1 255.255.255.128\n');
    expect(b.rt.host('PC1')!.address()).toBe('10.0.0.1/25');
    // Up, then down past the line being typed: the bell.
    const u = b.type('PC1', '\x1b[A\x1b[B\x1b[B\r');
    expect(u).toContain('\x07');
    expect(u.endsWith('\nBob> ')).toBe(true);
  });

  it('keeps what is typed while a command runs and runs it after', () => {
    const b = new Bench(LAB);
    const out = b.type('PC1', 'ip 10.0.0.1/24\rping 10.0.0.2 -c 1\rshow ip\r');
    expect(out).toMatch(/ping 10\.0\.0\.2 -c 1\n10\.0\.0\.2 icmp_seq=1 ttl=64 time=0\.000 ms\n\nPC1> show ip\n\nNAME        : PC1\[1\]\n/);
  });
});
