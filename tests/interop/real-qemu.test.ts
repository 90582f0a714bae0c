/**
 * QEMU's UDP netdevs speak the same tunnel format: `qemu-system-x86_64 -machine none` (no guest)
 * makes a two-port hub between two UDP netdevs, wired to two wirelab UDP endpoints. Two emulated
 * hosts ping each other through QEMU, and every frame that leaves one endpoint comes into the other
 * byte for byte. Both syntaxes: `-netdev dgram` (QEMU >= 7.2) and the older `-netdev socket,udp=`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addTap } from '../../devices/engine/tap.js';
import { toHex } from '../../devices/wire/bytes.js';
import { pad60 } from '../../server/endpoints/base.js';
import { Cleanup, freePorts, realPeers, start, waitUntil, run } from '../helpers/netns.js';
import { realLab, until, type RealLab } from '../helpers/reallab.js';

const peers = realPeers(['qemu-system-x86_64', 'ss'], { root: false });

describe.skipIf(!peers.ok).each(['dgram', 'socket'] as const)('a QEMU hub between two wirelab UDP endpoints (-netdev %s)', (syntax) => {
  const cleanup = new Cleanup();
  let lab: RealLab;
  const leftA: string[] = [];
  const enteredB: string[] = [];
  const leftB: string[] = [];
  const enteredA: string[] = [];

  beforeAll(async () => {
    const [labA, qemuA, labB, qemuB] = await freePorts('udp', 4);
    const netdev = (id: string, local: number, remote: number) =>
      syntax === 'dgram'
        ? `dgram,id=${id},local.type=inet,local.host=127.0.0.1,local.port=${local},remote.type=inet,remote.host=127.0.0.1,remote.port=${remote}`
        : `socket,id=${id},udp=127.0.0.1:${remote},localaddr=127.0.0.1:${local}`;
    const qemu = start('qemu-system-x86_64', [
      '-machine', 'none', '-nodefaults', '-display', 'none', '-monitor', 'none',
      '-netdev', netdev('a', qemuA!, labA!),
      '-netdev', netdev('b', qemuB!, labB!),
      '-netdev', 'hubport,id=ha,hubid=0,netdev=a',
      '-netdev', 'hubport,id=hb,hubid=0,netdev=b',
    ]);
    cleanup.process(qemu.child, 'qemu');
    const bound = await waitUntil(() => {
      const out = run('ss', ['-Hlnup']);
      return out.includes(`127.0.0.1:${qemuA}`) && out.includes(`127.0.0.1:${qemuB}`);
    }, 10_000, 50);
    expect(bound, `QEMU did not bind its UDP ports: ${qemu.output()}`).toBe(true);

    lab = realLab(`wirelab: 1
name: qemu-hub
nodes:
  pcA: { kind: host, interfaces: { eth0: { ip: 10.0.5.1/24 } } }
  pcB: { kind: host, interfaces: { eth0: { ip: 10.0.5.2/24 } } }
  qa: { kind: cloud, endpoint: { type: udp, local: "127.0.0.1:${labA}", remote: "127.0.0.1:${qemuA}" } }
  qb: { kind: cloud, endpoint: { type: udp, local: "127.0.0.1:${labB}", remote: "127.0.0.1:${qemuB}" } }
links:
  - [pcA:eth0, qa:eth0]
  - [pcB:eth0, qb:eth0]
`);
    cleanup.add('lab', () => lab.stop());
    await until(() => lab.endpoint('qa').state === 'running' && lab.endpoint('qb').state === 'running', 5000);
    // What each endpoint sends out (as padded on the wire) and what comes in from outside.
    const out = (list: string[]) => ({ record: (f: Uint8Array, d: 1 | 2) => d === 1 && list.push(toHex(f.length < 60 ? pad60(f) : f)) });
    const into = (list: string[]) => ({ record: (f: Uint8Array, d: 1 | 2) => d === 2 && list.push(toHex(f)) });
    for (const [node, sent, got] of [['qa', leftA, enteredA], ['qb', leftB, enteredB]] as const) {
      const port = lab.runtime.port(node, 'eth0')!;
      addTap(port, out(sent));
      addTap(port, into(got));
    }
  }, 60_000);

  afterAll(async () => {
    expect(await cleanup.run()).toEqual([]);
  });

  it('carries ARP and ICMP (up to 1514-byte frames) both ways, byte for byte', async () => {
    // The hosts' start-up announcements (sent while the endpoints and QEMU were still coming up) are
    // not part of this: wait until nothing has moved for half a second, then start recording.
    const moved = () => leftA.length + leftB.length + enteredA.length + enteredB.length;
    for (let last = -1; last !== moved(); ) {
      last = moved();
      await new Promise((r) => setTimeout(r, 500));
    }
    for (const list of [leftA, enteredB, leftB, enteredA]) list.length = 0;
    const [qa0, qb0] = [structuredClone(lab.endpoint('qa').counters), structuredClone(lab.endpoint('qb').counters)];
    const small = lab.host('pcA').ping('10.0.5.2', { count: 3, intervalNs: 100e6, timeoutNs: 2e9 });
    await until(() => small.isDone, 10_000);
    expect(small.result.received).toBe(3);
    const big = lab.host('pcB').ping('10.0.5.1', { count: 2, intervalNs: 100e6, timeoutNs: 2e9, size: 1472 });
    await until(() => big.isDone, 10_000);
    expect(big.result.received).toBe(2);
    expect(leftA.length).toBeGreaterThanOrEqual(5);
    expect(enteredB).toEqual(leftA);
    expect(enteredA).toEqual(leftB);
    expect(Math.max(...leftB.map((h) => h.length / 2))).toBe(1514);
    const qa = lab.endpoint('qa').counters;
    const qb = lab.endpoint('qb').counters;
    expect([qa.framesOut - qa0.framesOut, qa.bytesOut - qa0.bytesOut]).toEqual([qb.framesIn - qb0.framesIn, qb.bytesIn - qb0.bytesIn]);
    expect([qb.framesOut - qb0.framesOut, qb.bytesOut - qb0.bytesOut]).toEqual([qa.framesIn - qa0.framesIn, qa.bytesIn - qa0.bytesIn]);
  });
});

describe('QEMU interop prerequisites', () => {
  it('are present (skipped locally with the reason, required in CI)', () => {
    if (!peers.ok) console.warn(`QEMU interop skipped: ${peers.reason} (Debian package qemu-system-x86)`);
    if (process.env.CI === 'true') expect(peers.reason).toBe('');
  });
});
