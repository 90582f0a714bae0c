/**
 * GNS3 projects opened as wirelab labs: every published project in tests/fixtures/gns3 imports, its
 * report lists what was not mapped, and the VPCS + built-in switch project pings between its
 * PCs. A .gns3project export (zip, with zstd entries as GNS3 3.x writes them) imports the same.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { zipSync } from 'fflate';
import { routerIfaceName } from '../../devices/gns3/map.js';
import { loadLabText } from '../../devices/lab/load.js';
import { LabRuntime } from '../../devices/lab/runtime.js';
import { importGns3File, importGns3Project } from '../../server/gns3-import.js';
import { importCommand } from '../../server/cmd-archive.js';
import { LabStore } from '../../server/store.js';
import { ArchiveError, crc32 } from '../../server/snapshots-zip.js';
import { type Peer, requirePeer, skipWithout } from '../helpers/peers.js';

/** Published GNS3 projects, stored byte for byte (see tests/fixtures/SOURCES.md). */
const PROJECTS = fileURLToPath(new URL('../fixtures/gns3', import.meta.url));
const zstd = zstdTool();

let dir = '';
let store: LabStore;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wirelab-gns3-'));
  store = new LabStore(join(dir, 'labs'));
  await store.init();
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function projects(): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory() && e.name !== 'project-files') walk(join(d, e.name));
      else if (e.name.endsWith('.gns3')) out.push(join(d, e.name));
    }
  };
  walk(PROJECTS);
  return out.sort();
}

function labOf(name: string) {
  const text = readFileSync(join(store.root, name, 'lab.yaml'), 'utf8');
  const r = loadLabText(text, `${name}/lab.yaml`, { folderName: name });
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join('\n'));
  return { lab: r.lab, data: parseYaml(text) as Record<string, any> };
}

describe('GNS3 projects from tests/fixtures/gns3', () => {
  it.each(projects().map((p) => [p.slice(PROJECTS.length + 1), p]))('%s imports as a valid lab, with a report', async (_rel, file) => {
    const r = await importGns3File(store, file);
    const { lab } = labOf(r.lab);
    expect(r.text).toContain(`imported as lab ${r.lab}`);
    // Every GNS3 node is accounted for: mapped, or named in the report as left out.
    const project = JSON.parse(readFileSync(file, 'utf8'));
    for (const n of project.topology.nodes) {
      const said = [...r.report.mapped, ...r.report.unsupported].some((line) => line.startsWith(`${n.name} (${n.node_type})`));
      expect(said, `${n.name} (${n.node_type}) is in the report`).toBe(true);
    }
    // And every link: made, or reported.
    const made = lab.links.filter((l) => l.origin.kind === 'link').length;
    const reportedLinks = r.report.unsupported.filter((l) => l.startsWith('link ')).length;
    expect(made + reportedLinks).toBe(project.topology.links.length);
    expect(readFileSync(join(store.root, r.lab, 'gns3-import.txt'), 'utf8')).toBe(r.text);
  });

  it('VPCS and a built-in switch: startup.vpc addresses applied, names and positions kept, the PCs ping each other', async () => {
    const r = await importGns3File(store, join(PROJECTS, 'dvarrui_teuton-tests/dvarrui_teuton-tests.gns3'));
    const { lab, data } = labOf(r.lab);
    expect(data.nodes.PC1).toMatchObject({ kind: 'host', interfaces: { eth0: { ip: '192.168.99.1/24' } }, ui: { x: -182, y: -29 } });
    expect(data.nodes.PC2.interfaces.eth0.ip).toBe('192.168.99.2/24');
    expect(data.nodes.Switch1).toMatchObject({ kind: 'switch', ports: 8 });
    expect(lab.links.map((l) => l.id).sort()).toEqual(['PC1:eth0--Switch1:e1', 'PC2:eth0--Switch1:e2']);
    expect(r.report.unsupported).toEqual([]);
    const rt = new LabRuntime(lab, { time: 'virtual' });
    rt.start();
    const ping = rt.host('PC1')!.ping('192.168.99.2', { count: 3 });
    rt.engine.runUntilCondition(() => ping.isDone, 30e9);
    expect(ping.result.received).toBe(3);
    const back = rt.host('PC2')!.ping('192.168.99.1', { count: 1 });
    rt.engine.runUntilCondition(() => back.isDone, 30e9);
    expect(back.result.received).toBe(1);
  });

  it('built-in ATM and Frame Relay switches are reported, never dropped silently', async () => {
    const r = await importGns3File(store, join(PROJECTS, 'gns3-server_builtins.gns3'));
    const { data } = labOf(r.lab);
    expect(Object.keys(data.nodes).sort()).toEqual(['HUB1', 'SW1']);
    expect(data.nodes.HUB1).toMatchObject({ kind: 'hub', ports: 8 });
    expect(r.report.unsupported.join('\n')).toMatch(/ATM1 \(atm_switch\): wirelab has no atm switch/);
    expect(r.report.unsupported.join('\n')).toMatch(/FR1 \(frame_relay_switch\)/);
    // The test file gives every node the same id: its link cannot be resolved, and says so.
    expect(r.report.unsupported.join('\n')).toMatch(/not unique/);
  });

  it('Dynamips routers: interfaces from the slots, the IOS startup-config through the console\'s parser', async () => {
    const r = await importGns3File(store, join(PROJECTS, 'gns3-server_dynamips/dynamips_2_0_0_b2.gns3'));
    const { data } = labOf(r.lab);
    expect(data.nodes.R1.kind).toBe('router');
    expect(data.nodes.R1.interfaces['f0/0']).toMatchObject({ shutdown: true });
    expect(r.report.mapped).toContain('R1 (dynamips) -> router R1 (1 interfaces, startup-config applied)');
    expect(r.report.unsupported.some((l) => l.startsWith('R1 (dynamips): startup-config line not applied: upgrade fpd auto'))).toBe(true);
  });

  it('clouds, NAT, names wirelab cannot take, serial modules and drawings', async () => {
    const nat = await importGns3File(store, join(PROJECTS, 'gns3-server_cloud_nat.gns3'));
    expect(labOf(nat.lab).data.networks['core-1']).toEqual({ type: 'nat', subnet: '192.168.122.0/24', ui: { x: 72, y: 0 } });
    expect(nat.report.approximated.join('\n')).toMatch(/gateway and DNS 192\.168\.122\.2/);
    const names = await importGns3File(store, join(PROJECTS, 'gns3-server_hostnames.gns3'));
    expect(Object.keys(labOf(names.lab).data.nodes)).toContain('Switch-10-0-0-invalid');
    expect(names.report.approximated.join('\n')).toMatch(/renamed Switch-10-0-0-invalid/);
    expect(names.report.unsupported.join('\n')).toMatch(/NM-4T \(serial/);
    const bgp = await importGns3File(store, join(PROJECTS, 'cismembrane_gns3-labs.gns3'));
    const b = labOf(bgp.lab).data;
    expect(b.nodes['Cloud1-tap0']).toMatchObject({ kind: 'cloud', endpoint: { type: 'tap', name: 'tap0' } });
    expect(bgp.report.unsupported.join('\n')).toMatch(/46 drawings/);
    const campus = await importGns3File(store, join(PROJECTS, 'campus-lan.gns3'));
    const c = labOf(campus.lab).data;
    expect(c.nodes.Switch1.interfaces).toMatchObject({ e0: { mode: 'trunk' }, e1: { mode: 'access', vlan: 10 } });
    expect(c.nodes.Toolbox_1 ?? c.nodes['Toolbox-1']).toMatchObject({ kind: 'host' });
    expect(c.nodes.nucleo1.kind).toBe('router');
  });

  it('a .gns3project export, zstd-compressed as GNS3 3.x writes it, imports the same, startup files included', async () => {
    const base = join(PROJECTS, 'dvarrui_teuton-tests');
    const project = readFileSync(join(base, 'dvarrui_teuton-tests.gns3'));
    const entries: Record<string, Uint8Array> = { 'project.gns3': project };
    for (const id of readdirSync(join(base, 'project-files/vpcs'))) entries[`project-files/vpcs/${id}/startup.vpc`] = readFileSync(join(base, 'project-files/vpcs', id, 'startup.vpc'));
    const bytes = zstdZip(entries);
    const r = await importGns3Project(store, bytes, { as: 'from-export' });
    const { lab } = labOf(r.lab);
    expect(r.lab).toBe('from-export');
    const pc1 = lab.nodes['PC1'];
    expect(pc1?.kind === 'host' && pc1.interfaces[0]!.ip).toEqual({ mode: 'static', cidr: expect.objectContaining({ prefix: 24 }) });
    const rt = new LabRuntime(lab, { time: 'virtual' });
    rt.start();
    const ping = rt.host('PC1')!.ping('192.168.99.2', { count: 2 });
    rt.engine.runUntilCondition(() => ping.isDone, 30e9);
    expect(ping.result.received).toBe(2);
    // A project archive is checked like any: no .gns3 at its top, or a traversal, is refused.
    await expect(importGns3Project(store, zstdZip({ 'x/project.gns3': project }))).rejects.toThrow(ArchiveError);
    await expect(importGns3Project(store, zstdZip({ 'project.gns3': project, '../evil': new Uint8Array(1) }))).rejects.toThrow(/climbs out/);
  });

  it.skipIf(skipWithout(zstd, 'the zstd interop test'))('reads entries compressed by the real zstd tool', async () => {
    requirePeer(zstd, 'the zstd interop test');
    const project = readFileSync(join(PROJECTS, 'gns3-server_builtins.gns3'));
    const compressed = execFileSync('zstd', ['-q', '-c', '-19'], { input: project });
    const bytes = zipWith([{ name: 'project.gns3', data: new Uint8Array(project), stored: new Uint8Array(compressed), method: 93 }]);
    const r = await importGns3Project(store, bytes);
    expect(Object.keys(labOf(r.lab).data.nodes).sort()).toEqual(['HUB1', 'SW1']);
  });

  it('wirelab import FILE.gns3 prints the report; a second import gets another name', async () => {
    const lines: string[] = [];
    const log = console.log;
    console.log = (s: string) => lines.push(s);
    try {
      expect(await importCommand([join(PROJECTS, 'gns3-server_vpcs/1_5_vpcs.gns3'), '--labs', store.root])).toBe(0);
      expect(await importCommand([join(PROJECTS, 'gns3-server_vpcs/1_5_vpcs.gns3'), '--labs', store.root])).toBe(0);
    } finally {
      console.log = log;
    }
    expect(lines.join('\n')).toMatch(/imported as lab 1_5_vpcs\b/);
    expect(lines.join('\n')).toMatch(/imported as lab 1_5_vpcs-2/);
    expect(lines.join('\n')).toMatch(/PC2 \(vpcs\) -> host PC2 \(startup.vpc gives no address\)/);
  });
});

describe('interface names', () => {
  it('turn IOS and GNS3 port names into wirelab router interfaces; serial has none', () => {
    expect(routerIfaceName('FastEthernet1/0')).toBe('f1/0');
    expect(routerIfaceName('GigabitEthernet0/0/1')).toBe('g0/0/1');
    expect(routerIfaceName('Gi3')).toBe('g3');
    expect(routerIfaceName('Ethernet0/2')).toBe('e0/2');
    expect(routerIfaceName('Serial1/0')).toBeNull();
    expect(routerIfaceName('not an interface')).toBeNull();
  });
});

function zstdTool(): Peer {
  try {
    execFileSync('zstd', ['--version'], { stdio: 'ignore' });
    return { ok: true, reason: '' };
  } catch {
    return { ok: false, reason: 'the zstd command (apt-get install zstd)' };
  }
}

/** A zstd frame made of raw blocks: valid zstd, built by hand so the test needs no encoder. */
function rawZstd(data: Uint8Array): Uint8Array {
  const parts: number[] = [0x28, 0xb5, 0x2f, 0xfd, 0xa0, data.length & 0xff, (data.length >>> 8) & 0xff, (data.length >>> 16) & 0xff, (data.length >>> 24) & 0xff];
  const MAX = 1 << 17;
  let at = 0;
  do {
    const n = Math.min(MAX, data.length - at);
    const last = at + n >= data.length ? 1 : 0;
    const h = (n << 3) | last;
    parts.push(h & 0xff, (h >>> 8) & 0xff, (h >>> 16) & 0xff);
    for (let i = 0; i < n; i++) parts.push(data[at + i]!);
    at += n;
  } while (at < data.length);
  return new Uint8Array(parts);
}

function zstdZip(files: Record<string, Uint8Array>): Uint8Array {
  return zipWith(Object.entries(files).map(([name, data]) => ({ name, data, stored: rawZstd(data), method: 93 })));
}

/** A zip whose entries are already compressed (method 93), as fflate cannot write zstd. */
function zipWith(entries: { name: string; data: Uint8Array; stored: Uint8Array; method: number }[]): Uint8Array {
  // Written stored by fflate, then the method and sizes patched: a correct zip with zstd entries.
  const z: Record<string, [Uint8Array, { level: 0 }]> = {};
  for (const e of entries) z[e.name] = [e.stored, { level: 0 }];
  const buf = Buffer.from(zipSync(z));
  const byName = new Map(entries.map((e) => [e.name, e] as const));
  for (let i = 0; i + 4 <= buf.length; i++) {
    const sig = buf.readUInt32LE(i);
    if (sig !== 0x04034b50 && sig !== 0x02014b50) continue;
    const central = sig === 0x02014b50;
    const nameLen = buf.readUInt16LE(i + (central ? 28 : 26));
    const name = buf.subarray(i + (central ? 46 : 30), i + (central ? 46 : 30) + nameLen).toString('utf8');
    const e = byName.get(name);
    if (!e) continue;
    const base = central ? i + 10 : i + 8;
    buf.writeUInt16LE(e.method, base);
    buf.writeUInt32LE(crc32(e.data) >>> 0, base + 6);
    buf.writeUInt32LE(e.data.length, base + 14);
  }
  return new Uint8Array(buf);
}
