/**
 * Whole-lab figures of issue 3: building, booting and idling big labs, and pingall.
 */
import { validateLab, type LabFile, type Lab } from '../../devices/lab/schema.js';
import { formatLabErrors, labFileToYaml, loadLabText } from '../../devices/lab/load.js';
import { LabRuntime } from '../../devices/lab/runtime.js';
import { Host } from '../../devices/host/index.js';
import type { Figure } from './run.js';

function mustValidate(file: unknown): Lab {
  const r = validateLab(file);
  if (!r.ok) throw new Error(`bench lab invalid: ${JSON.stringify(r.issues.slice(0, 3))}`);
  return r.lab;
}

/** A lab as `wirelab run` and `wirelab check` read it: the text of its lab.yaml, parsed and validated by the loader. */
function mustLoad(text: string, folderName: string): Lab {
  const r = loadLabText(text, `${folderName}/lab.yaml`, { folderName });
  if (!r.ok) throw new Error(`bench lab invalid:\n${formatLabErrors(r.errors.slice(0, 3))}`);
  return r.lab;
}

/** `hosts` static hosts on one switch with as many ports. */
export function flatLab(name: string, hosts: number): LabFile {
  const nodes: Record<string, unknown> = { sw1: { kind: 'switch', ports: hosts } };
  const links: unknown[] = [];
  for (let i = 0; i < hosts; i++) {
    const ip = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${(i & 255) + 0}`;
    nodes[`h${i}`] = { kind: 'host', interfaces: { eth0: { ip: `${ipFor(i)}/16` } } };
    void ip;
    links.push([`h${i}:eth0`, `sw1:e${i}`]);
  }
  return { wirelab: 1, name, nodes, links } as unknown as LabFile;
}

function ipFor(i: number): string {
  const n = i + 10;
  return `10.0.${(n >> 8) & 255}.${n & 255}`;
}

/** 100 switches of 100 DHCP hosts each, every switch its own subnet on one router with 100 pools. */
export function campusLab(switches: number, perSwitch: number): LabFile {
  const nodes: Record<string, unknown> = {};
  const links: unknown[] = [];
  const interfaces: Record<string, unknown> = {};
  const pools: unknown[] = [];
  for (let s = 0; s < switches; s++) {
    const sw = `sw${s}`;
    nodes[sw] = { kind: 'switch', ports: perSwitch + 1 };
    const ifName = `g0/${s}`;
    interfaces[ifName] = { ip: `10.${s}.0.1/16` };
    pools.push({ interface: ifName, range: `10.${s}.1.0-10.${s}.255.254`, gateway: `10.${s}.0.1`, lease: '1h' });
    links.push([`${sw}:e${perSwitch}`, `r1:${ifName}`]);
    for (let h = 0; h < perSwitch; h++) {
      const host = `h${s}_${h}`;
      nodes[host] = { kind: 'host', interfaces: { eth0: { ip: 'dhcp' } } };
      links.push([`${host}:eth0`, `${sw}:e${h}`]);
    }
  }
  nodes.r1 = { kind: 'router', interfaces, 'dhcp-server': { pools } };
  return { wirelab: 1, name: 'campus', nodes, links } as unknown as LabFile;
}

function rssKb(): number {
  return process.memoryUsage().rss / 1024;
}

async function gc(): Promise<void> {
  (globalThis as { gc?: () => void }).gc?.();
  await new Promise((r) => setTimeout(r, 50));
}

export async function boot10k(switches = 100, perSwitch = 100): Promise<{ seconds: number; kbPerNode: number; leased: number }> {
  const text = labFileToYaml(campusLab(switches, perSwitch));
  await gc();
  const rss0 = rssKb();
  const t0 = performance.now();
  const lab = mustLoad(text, 'campus');
  const rt = new LabRuntime(lab, { time: 'virtual' });
  rt.start();
  // Settled as `wirelab check` waits for it: spanning tree converged and every DHCP client bound
  // or given up, looked at every 50 ms of lab time (asking ten thousand hosts after every frame
  // cost the bench a second of its own).
  const settled = await rt.settle(600e9);
  const seconds = (performance.now() - t0) / 1000;
  const hosts = rt.nodeNames().map((n) => rt.host(n)).filter((h): h is Host => h !== undefined);
  const leased = hosts.filter((h) => h.dhcpStatus('eth0')?.bound).length;
  await gc();
  const kbPerNode = (rssKb() - rss0) / rt.nodeNames().length;
  if (!settled || leased !== hosts.length) throw new Error(`only ${leased}/${hosts.length} hosts leased`);
  rt.stop();
  return { seconds, kbPerNode, leased };
}

export function build1k(hosts = 1000): number {
  const text = labFileToYaml(flatLab('flat', hosts));
  const t0 = performance.now();
  const rt = new LabRuntime(mustLoad(text, 'flat'), { time: 'virtual' });
  rt.start();
  const s = (performance.now() - t0) / 1000;
  rt.stop();
  return s;
}

export async function pingall100(hosts = 100): Promise<number> {
  const file = flatLab('pingall', hosts);
  (file as unknown as { checks: unknown[] }).checks = [{ name: 'pingall', pingall: {} }];
  const rt = new LabRuntime(mustValidate(file), { time: 'virtual' });
  rt.start();
  await rt.settle();
  const t0 = performance.now();
  const [r] = await rt.runChecks({ settle: false });
  const s = (performance.now() - t0) / 1000;
  if (!r?.passed) throw new Error(`pingall failed: ${r?.detail}`);
  rt.stop();
  return s;
}

export async function idle1k(seconds = 10): Promise<number> {
  // 1,000 hosts on 10 access switches under one core switch, in real time, doing nothing.
  const nodes: Record<string, unknown> = { core: { kind: 'switch', ports: 10 } };
  const links: unknown[] = [];
  for (let s = 0; s < 10; s++) {
    nodes[`sw${s}`] = { kind: 'switch', ports: 100 };
    links.push([`sw${s}:e99`, `core:e${s}`]);
    for (let h = 0; h < 99; h++) {
      const n = s * 99 + h;
      nodes[`h${n}`] = { kind: 'host', interfaces: { eth0: { ip: `${ipFor(n)}/16` } } };
      links.push([`h${n}:eth0`, `sw${s}:e${h}`]);
    }
  }
  const rt = new LabRuntime(mustValidate({ wirelab: 1, name: 'idle', nodes, links }), { time: 'real' });
  rt.start();
  await new Promise((r) => setTimeout(r, 5000)); // let spanning tree and gratuitous ARP settle
  const before = process.cpuUsage();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const used = process.cpuUsage(before);
  const wall = performance.now() - t0;
  rt.stop();
  return ((used.user + used.system) / 1000 / wall) * 100;
}

export async function devicesBench(): Promise<Figure[]> {
  const figures: Figure[] = [];
  figures.push({ name: 'devices.build1k_s', value: round(build1k()), unit: 's', target: 0.2 });
  figures.push({ name: 'devices.pingall100_s', value: round(await pingall100()), unit: 's', target: 1 });
  const boot = await boot10k();
  figures.push({ name: 'devices.boot10k_s', value: round(boot.seconds), unit: 's', target: 5 });
  figures.push({ name: 'devices.boot10k_kb_per_node', value: round(boot.kbPerNode), unit: 'KB', target: 20 });
  figures.push({ name: 'devices.idle1k_cpu_pct', value: round(await idle1k()), unit: '%', target: 1 });
  return figures;
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
