/**
 * Duplicate addresses at run time, as real devices find them (RFC 5227): each address configured
 * is announced with a gratuitous ARP; a station that hears its own address claimed by another MAC
 * reports it (IOS's %IP-4-DUPADDR on a router's console) and defends it once per 10 s, so the
 * other station hears of the conflict too.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Capture } from '../../devices/engine/capture.js';
import { validateLab, type Lab } from '../../devices/lab/schema.js';
import { LabRuntime, type RuntimeEvent } from '../../devices/lab/runtime.js';
import { macToString } from '../../devices/wire/bytes.js';
import { Router } from '../../devices/router/index.js';
import { ConsoleHub } from '../../server/console-hub.js';
import { concat } from '../helpers/pcapng.js';
import { tsharkAvailable, tsharkFields, tsharkProblems } from '../helpers/tshark.js';

function lab(file: Record<string, unknown>): Lab {
  const r = validateLab({ wirelab: 1, name: 'dup', time: 'virtual', ...file });
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.lab;
}

const DUP = {
  nodes: {
    pc1: { kind: 'host', interfaces: { eth0: { ip: '10.0.0.1/24' } } },
    pc2: { kind: 'host', interfaces: { eth0: { ip: '10.0.0.2/24' } } },
    sw1: { kind: 'switch', stp: false },
    r1: { kind: 'router', interfaces: { 'g0/0': { ip: '10.0.0.1/24' } } },
  },
  links: [
    ['pc1:eth0', 'sw1:e0'],
    ['pc2:eth0', 'sw1:e1'],
    ['r1:g0/0', 'sw1:e2'],
  ],
};

type Conflict = Extract<RuntimeEvent, { type: 'address-conflict' }>;
function conflicts(rt: LabRuntime): Conflict[] {
  const out: Conflict[] = [];
  rt.onEvent((e) => {
    if (e.type === 'address-conflict') out.push(e);
  });
  return out;
}
const macOf = (rt: LabRuntime, node: string, iface: string) => macToString(rt.lab.nodes[node]!.interfaces.find((i) => i.name === iface)!.mac);

describe('address conflicts at run time', () => {
  it('a host on its router\'s address: both hear the other\'s gratuitous ARP and report it once, naming the other', () => {
    const rt = new LabRuntime(lab(DUP));
    const seen = conflicts(rt);
    rt.start();
    rt.engine.runFor(3e9);
    const by = (n: string) => seen.filter((c) => c.node === n);
    expect(by('r1')).toEqual([{ type: 'address-conflict', node: 'r1', iface: 'g0/0', ip: '10.0.0.1', mac: macOf(rt, 'pc1', 'eth0'), by: 'pc1 eth0' }]);
    expect(by('pc1')).toEqual([{ type: 'address-conflict', node: 'pc1', iface: 'eth0', ip: '10.0.0.1', mac: macOf(rt, 'r1', 'g0/0'), by: 'r1 g0/0' }]);
    expect(by('pc2')).toEqual([]);
    // Both kept their address (RFC 5227 2.4 (b): defend, do not give up).
    expect(rt.host('pc1')!.showIp()[0]!.ip).toBe(0x0a000001);
    rt.stop();
  });

  it('the defence is not a storm: within 10 s a repeated claim is counted, not reported; after it, reported again', () => {
    const rt = new LabRuntime(lab(DUP));
    const seen = conflicts(rt);
    rt.start();
    rt.engine.runFor(3e9);
    expect(seen).toHaveLength(2);
    const r1 = (rt.node('r1') as Router);
    const before = r1.stack.stats.arpConflicts;
    // pc1 announces again (its address re-applied): r1 counts it, quietly, and does not answer.
    const pc1 = rt.host('pc1')!;
    pc1.stack.announce(pc1.stack.interfaces[0]!, 0x0a000001);
    rt.engine.runFor(1e9);
    expect(r1.stack.stats.arpConflicts).toBe(before + 1);
    expect(seen).toHaveLength(2);
    rt.engine.runFor(10e9);
    pc1.stack.announce(pc1.stack.interfaces[0]!, 0x0a000001);
    rt.engine.runFor(1e9);
    expect(seen.map((c) => c.node).sort()).toEqual(['pc1', 'pc1', 'r1', 'r1']);
    rt.stop();
  });

  it('a lab without duplicates reports nothing', () => {
    const rt = new LabRuntime(lab({ ...DUP, nodes: { ...DUP.nodes, r1: { kind: 'router', interfaces: { 'g0/0': { ip: '10.0.0.254/24' } } } } }));
    const seen = conflicts(rt);
    rt.start();
    rt.engine.runFor(3e9);
    expect(seen).toEqual([]);
    expect((rt.node('r1') as Router).stack.stats.arpConflicts).toBe(0);
    rt.stop();
  });

  it('a router\'s console logs %IP-4-DUPADDR with IOS\'s interface name and MAC notation; a host\'s console says it too', () => {
    const rt = new LabRuntime(lab(DUP));
    const hub = new ConsoleHub(rt);
    const out: Record<string, string> = { r1: '', pc1: '' };
    for (const n of ['r1', 'pc1']) hub.attach(n, { output: (t) => (out[n] += t) });
    rt.start();
    rt.engine.runFor(3e9);
    const pc1Mac = macOf(rt, 'pc1', 'eth0').replace(/:/g, '');
    expect(out['r1']).toContain(`\r\n%IP-4-DUPADDR: Duplicate address 10.0.0.1 on GigabitEthernet0/0, sourced by ${pc1Mac.slice(0, 4)}.${pc1Mac.slice(4, 8)}.${pc1Mac.slice(8)}\r\n`);
    // The prompt comes back after the message (logging synchronous).
    expect(out['r1']).toMatch(/DUPADDR[^\n]*\r\n\r?\n?r1>$/);
    expect(out['pc1']).toContain(`eth0: duplicate address 10.0.0.1, sourced by ${macOf(rt, 'r1', 'g0/0')}`);
    hub.close();
    rt.stop();
  });

  const tshark = tsharkAvailable();
  it.skipIf(!tshark.ok && process.env['CI'] !== 'true')(`tshark reads the announcements as gratuitous ARP and the conflict as a duplicate address${tshark.ok ? '' : ` (skipped: ${tshark.reason})`}`, () => {
    const rt = new LabRuntime(lab(DUP));
    const chunks: Uint8Array[] = [];
    const cap = new Capture(rt.engine, { sink: (c) => chunks.push(c) });
    cap.attachLink(rt.link('r1:g0/0--sw1:e2')!);
    rt.start();
    rt.engine.runFor(3e9);
    cap.close();
    rt.stop();
    const dir = mkdtempSync(join(tmpdir(), 'wl-dup-'));
    try {
      const file = join(dir, 'dup.pcapng');
      writeFileSync(file, concat(chunks));
      const rows = tsharkFields(file, ['eth.dst', 'eth.src', 'arp.opcode', 'arp.src.hw_mac', 'arp.src.proto_ipv4', 'arp.dst.hw_mac', 'arp.dst.proto_ipv4', 'frame.len'], ['-Y', 'arp.isgratuitous == 1']);
      const r1 = macOf(rt, 'r1', 'g0/0');
      const pc1 = macOf(rt, 'pc1', 'eth0');
      // r1's and pc1's announcements at start, then each one's defence: broadcast requests, sender = target = the address, target MAC zero, padded to 60 bytes.
      expect(rows).toContainEqual(['ff:ff:ff:ff:ff:ff', r1, '1', r1, '10.0.0.1', '00:00:00:00:00:00', '10.0.0.1', '60']);
      expect(rows).toContainEqual(['ff:ff:ff:ff:ff:ff', pc1, '1', pc1, '10.0.0.1', '00:00:00:00:00:00', '10.0.0.1', '60']);
      expect(rows.filter((r) => r[1] === r1)).toHaveLength(2);
      // Wireshark's own expert analysis sees the same conflict, and nothing malformed.
      const problems = tsharkProblems(file);
      expect(problems.join('\n')).toMatch(/duplicate use of 10\.0\.0\.1 detected/);
      expect(problems.filter((l) => !/duplicate use of 10\.0\.0\.1 detected/.test(l))).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('address conflicts from a DHCP lease', () => {
  it('a host leased an address another host holds statically announces it, and both report the conflict', () => {
    const rt = new LabRuntime(
      lab({
        networks: { vmnet1: { type: 'host-only', subnet: '192.168.9.0/24', 'host-adapter': false } },
        nodes: {
          squatter: { kind: 'host', interfaces: { eth0: { ip: '192.168.9.128/24', network: 'vmnet1' } } },
          guest: { kind: 'host', interfaces: { eth0: { ip: 'dhcp', network: 'vmnet1' } } },
        },
      }),
    );
    const seen = conflicts(rt);
    rt.start();
    rt.engine.runUntilCondition(() => rt.host('guest')!.settled, 120e9);
    rt.engine.runFor(2e9);
    const leased = rt.host('guest')!.showIp()[0]!;
    expect(leased.mode).toBe('dhcp');
    // VMware's DHCP server does not check an address before leasing it: .128, the first of the range.
    expect(leased.ip).toBe(0xc0a80980);
    expect(seen.map((c) => `${c.node} ${c.ip} by ${c.by}`).sort()).toEqual(['guest 192.168.9.128 by squatter eth0', 'squatter 192.168.9.128 by guest eth0']);
    rt.stop();
  });
});

describe('address conflicts from the console', () => {
  it('IOS `ip address` taking a host\'s address: the router announces it, hears the host defend it, and logs %IP-4-DUPADDR', () => {
    const rt = new LabRuntime(lab({ ...DUP, nodes: { ...DUP.nodes, r1: { kind: 'router', interfaces: { 'g0/0': { ip: '10.0.0.254/24' } } } } }));
    const seen = conflicts(rt);
    const hub = new ConsoleHub(rt);
    let out = '';
    const r1 = hub.attach('r1', { output: (t) => (out += t) });
    rt.start();
    rt.engine.runFor(2e9);
    expect(seen).toEqual([]);
    for (const line of ['enable', 'configure terminal', 'interface g0/0', 'ip address 10.0.0.2 255.255.255.0']) {
      r1.write(`${line}\r`);
      rt.engine.runFor(0.5e9);
    }
    expect(seen.map((c) => `${c.node} ${c.iface} ${c.ip} by ${c.by}`).sort()).toEqual(['pc2 eth0 10.0.0.2 by r1 g0/0', 'r1 g0/0 10.0.0.2 by pc2 eth0']);
    expect(out).toMatch(/%IP-4-DUPADDR: Duplicate address 10\.0\.0\.2 on GigabitEthernet0\/0, sourced by [0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4}\r\n/);
    // Back at the prompt it was at.
    expect(out).toMatch(/DUPADDR[^\n]*\r\n\r?\n?r1\(config-if\)#$/);
    hub.close();
    rt.stop();
  });
});

describe('a conflict before anyone opened the console', () => {
  it('is shown to the first viewer, above the first prompt', () => {
    const rt = new LabRuntime(lab(DUP));
    const hub = new ConsoleHub(rt);
    rt.start();
    rt.engine.runFor(3e9);
    let out = '';
    hub.attach('r1', { output: (t) => (out += t) });
    expect(out).toMatch(/^%IP-4-DUPADDR: Duplicate address 10\.0\.0\.1 on GigabitEthernet0\/0, sourced by [0-9a-f.]{14}\r\n\r?\n?r1>$/);
    hub.close();
    rt.stop();
  });
});
