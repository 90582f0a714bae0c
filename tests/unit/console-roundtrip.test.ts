/**
 * `show running-config` and lab.yaml are two views of one model: for every router and switch
 * of every sample lab (and a lab that uses every feature the file has), the running
 * configuration a booted node shows parses back into the same model, and that model saved
 * gives a lab that validates to the same normalized node.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadLabText } from '../../devices/lab/load.js';
import { LabRuntime } from '../../devices/lab/runtime.js';
import { validateLab, type Lab, type LabFile, type RouterNodeSpec, type SwitchNodeSpec } from '../../devices/lab/schema.js';
import {
  NodeConsole,
  applySaveToLabFile,
  parseRunningConfig,
  renderRunningConfig,
  routerFromSpec,
  routerToSpec,
  switchFromSpec,
  switchToSpec,
  type DeviceModel,
} from '../../devices/console/index.js';

const LABS = join(import.meta.dirname, '../../labs');

/** The spelling carriers (the file's own text for a lease, for stp) are not part of the meaning. */
function meaning(m: DeviceModel): unknown {
  const copy = structuredClone(m) as unknown as Record<string, unknown>;
  delete copy['stpText'];
  if (m.kind === 'router') for (const p of (copy['pools'] as Record<string, unknown>[]) ?? []) delete p['leaseText'];
  if (m.kind === 'switch') copy['vlans'] = [...(copy['vlans'] as Map<number, string>)];
  return copy;
}

function loadLab(file: string): Lab {
  const r = loadLabText(readFileSync(file, 'utf8'), file);
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join('\n'));
  return r.lab;
}

/** What a user reads after `enable` / `show running-config` on the node's console. */
function runningConfigOnConsole(rt: LabRuntime, node: string): string {
  const c = new NodeConsole({ runtime: rt, node });
  let out = '';
  c.onOutput((t) => (out += t));
  c.input('enable\rterminal length 0\r');
  out = '';
  c.input('show running-config\r');
  const text = out.replace(/\r\n/g, '\n');
  const start = text.indexOf('Building configuration...');
  const end = text.indexOf('\nend\n');
  return text.slice(start, end + 5);
}

function roundTrip(lab: Lab, rt: LabRuntime, name: string): void {
  const spec = lab.file.nodes![name]!;
  if (spec.kind !== 'router' && spec.kind !== 'switch') return;
  const model = spec.kind === 'router' ? routerFromSpec(name, spec) : switchFromSpec(name, spec as SwitchNodeSpec);
  const text = runningConfigOnConsole(rt, name);
  expect(text).toBe(renderRunningConfig(model));
  const parsed = parseRunningConfig(text, spec.kind, name, spec as RouterNodeSpec | SwitchNodeSpec);
  expect(parsed.errors).toEqual([]);
  expect(meaning(parsed.model)).toEqual(meaning(model));
  const saved = parsed.model.kind === 'router' ? routerToSpec(parsed.model, spec as RouterNodeSpec) : switchToSpec(parsed.model, spec as SwitchNodeSpec);
  expect(saved.warnings).toEqual([]);
  const file: LabFile = applySaveToLabFile(lab.file, { node: name, spec: saved.spec, warnings: [] });
  const again = validateLab(file);
  if (!again.ok) throw new Error(again.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n'));
  expect(again.lab.nodes[name]).toEqual(lab.nodes[name]);
  // Saving without a change writes the entry the file had.
  expect(saved.spec).toEqual(spec);
}

describe('running-config round trip', () => {
  const labs = readdirSync(LABS).filter((d) => existsSync(join(LABS, d, 'lab.yaml')));

  it('covers the sample labs', () => {
    expect(labs.length).toBeGreaterThanOrEqual(4);
  });

  for (const dir of labs) {
    it(`every router and switch of labs/${dir}`, () => {
      const lab = loadLab(join(LABS, dir, 'lab.yaml'));
      const rt = new LabRuntime(lab);
      let n = 0;
      for (const [name, node] of Object.entries(lab.nodes)) {
        if (node.kind !== 'router' && node.kind !== 'switch') continue;
        roundTrip(lab, rt, name);
        n++;
      }
      expect(n).toBeGreaterThan(0);
    });
  }

  it('a lab that uses every router and switch setting lab.yaml has', () => {
    const text = `
wirelab: 1
name: everything
nodes:
  pc1: { kind: host, interfaces: { eth0: { ip: dhcp } } }
  r1:
    kind: router
    interfaces:
      g0/0: { ip: 203.0.113.1/24, acl-in: "101", mac: "02:00:00:00:aa:01" }
      g0/1: { ip: 10.1.0.1/24, shutdown: true }
      g0/2.20: { vlan: 20, ip: 10.2.0.1/24, acl-out: WEB }
      g0/3: { ip: 10.3.0.1/30 }
      g1/0: {}
    routes:
      - { to: 0.0.0.0/0, via: 203.0.113.2 }
      - { to: 10.50.0.0/16, via: 10.3.0.2, distance: 200 }
      - { to: 10.60.0.0/24, via: 10.3.0.2, interface: g0/3 }
    dhcp-server:
      pools:
        - { name: LAN, interface: g0/2.20, range: 10.2.0.100-10.2.0.199, gateway: 10.2.0.1, dns: [10.2.0.1, 8.8.8.8], lease: 90m, excluded: [10.2.0.150, 10.2.0.160-10.2.0.170], reservations: [{ node: pc1, ip: 10.2.0.120 }, { mac: "02:00:00:00:00:99", ip: 10.2.0.121 }] }
        - { network: 10.9.0.0/24, gateway: 10.9.0.1 }
    dhcp-relay: { g0/1: 10.3.0.2 }
    acls:
      "101": [deny icmp any host 203.0.113.1 echo, permit ip any any]
      "10": [permit 10.2.0.0 0.0.0.255]
      WEB: [permit tcp any any eq 80, deny ip any any]
    nat: { inside: [g0/2.20, g0/1], outside: g0/0, static: [{ inside: 10.2.0.5, outside: 203.0.113.5 }] }
    console: 5100
    ui: { x: 10, y: 20 }
  sw1:
    kind: switch
    ports: 12
    stp: stp
    stp-priority: 8192
    interfaces:
      e0: { mode: access, vlan: 20 }
      e1: { mode: trunk, allowed: [20, 30, 31, 32, 40], native: 99 }
      e2: { mode: trunk }
      e3: { shutdown: true }
      e11: { mode: access }
  sw2: { kind: switch, stp: false }
links:
  - [pc1:eth0, sw1:e0]
  - [sw1:e1, r1:g0/2]
`;
    const r = loadLabText(text, 'everything.yaml');
    if (!r.ok) throw new Error(r.errors.map((e) => e.message).join('\n'));
    const rt = new LabRuntime(r.lab);
    for (const name of ['r1', 'sw1', 'sw2']) roundTrip(r.lab, rt, name);
  });
});
