/**
 * A GNS3 project (the JSON of a .gns3 file, plus the startup files found beside it) as a wirelab
 * lab file, with a report of everything that was mapped approximately or not at all: nothing is
 * dropped silently.
 *
 *   vpcs             -> host (eth0; its startup.vpc applied: ip ADDR[/MASK|MASK] [GW], ip dhcp, ip dns)
 *   ethernet_switch  -> switch (ports_mapping: access, dot1q = trunk with that native VLAN, qinq approximated)
 *   ethernet_hub     -> hub
 *   cloud            -> one cloud node per cabled port (udp tunnel, tap, or a real NIC)
 *   nat              -> a NAT network (VMware's layout: gateway .2, DHCP .254) on GNS3's 192.168.122.0/24
 *   dynamips, iou    -> router (interfaces from the slots/adapters; IOS startup-config parsed by the
 *                       console's IOS parser)
 *   qemu, docker     -> router when the image or symbol is a router, switch or firewall, else host
 *   anything else    -> reported (ATM and Frame Relay switches, VirtualBox and VMware VMs, ...)
 *
 * Names keep GNS3's where wirelab allows them (spaces and dots become -), positions come from the
 * nodes' x/y, links keep their ends, suspension and the filters wirelab has (delay, jitter, loss,
 * corruption). Pure: the caller reads the files.
 */
import type { HostNodeSpec, LabFile, NetworkSpec, NodeSpec, RouterNodeSpec, SwitchNodeSpec } from '../lab/schema.js';
import { LAB_NAME_RE, NODE_NAME_RE, OS_IFACE_RE, ROUTER_IFACE_RE } from '../lab/schema.js';
import { parseRunningConfig, routerToSpec } from '../console/index.js';
import type { RouterModel } from '../console/index.js';
import { vpcsArgs } from '../console/vpcs.js';

type Json = Record<string, unknown>;

export interface Gns3Files {
  /** startup.vpc by node id. */
  vpcs: Map<string, string>;
  /** IOS startup-config by node id (dynamips, iou). */
  ios: Map<string, string>;
}

export interface Gns3Report {
  project: string;
  gns3Version: string | null;
  /** What became what: "PC1 (vpcs) -> host PC1". */
  mapped: string[];
  /** Mapped, but not exactly as GNS3 has it. */
  approximated: string[];
  /** Left out, with why. */
  unsupported: string[];
}

export interface Gns3Result {
  file: LabFile;
  report: Gns3Report;
}

const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** A wirelab name from a GNS3 one: letters, digits, - and _; unique among `taken`. */
function safeName(raw: string, taken: Set<string>, fallback: string): string {
  let base = raw.replace(/[^A-Za-z0-9_-]+/g, '-').replace(/^[-_]+/, '').replace(/-+$/, '').slice(0, 60);
  if (!NODE_NAME_RE.test(base)) base = fallback;
  let name = base;
  for (let i = 2; taken.has(name.toLowerCase()); i++) name = `${base.slice(0, 58)}-${i}`;
  taken.add(name.toLowerCase());
  return name;
}

export function labNameFor(project: string): string {
  const n = project.toLowerCase().replace(/[^a-z0-9_-]+/g, '-').replace(/^[-_]+/, '').replace(/-+$/, '').slice(0, 63);
  return LAB_NAME_RE.test(n) ? n : 'gns3-import';
}

/** An interface of a mapped node, by GNS3 (adapter, port). */
interface Mapped {
  name: string;
  kind: 'host' | 'switch' | 'hub' | 'router' | 'cloud' | 'network';
  /** (adapter, port) -> link endpoint text; null: that port cannot be cabled in wirelab (and why). */
  endpoint(adapter: number, port: number): { end: string } | { why: string };
}

const ROUTERISH = /router|switch|multilayer|firewall|asa|\bios|vios|iosv|csr|xrv|nxos|nexus|vyos|mikrotik|routeros|junos|vmx|vsrx|vqfx|forti|palo|pfsense|opnsense|arista|veos|ceos|cumulus|sonic|frr|openwrt|sros|huawei|ne40/i;

export function mapGns3Project(project: unknown, files: Gns3Files = { vpcs: new Map(), ios: new Map() }): Gns3Result {
  if (!isObj(project)) throw new Error('not a GNS3 project: the file is not a JSON object');
  if (project['type'] !== 'topology' || !isObj(project['topology'])) throw new Error('not a GNS3 project: no "type": "topology" with a topology');
  const topo = project['topology'];
  const projectName = str(project['name']) ?? 'gns3';
  const report: Gns3Report = { project: projectName, gns3Version: str(project['version']) ?? null, mapped: [], approximated: [], unsupported: [] };
  const nodes: Record<string, NodeSpec> = {};
  const networks: Record<string, NetworkSpec> = {};
  const links: unknown[] = [];
  const taken = new Set<string>();
  const byId = new Map<string, Mapped>();
  const duplicateIds = new Set<string>();
  const rawNodes = Array.isArray(topo['nodes']) ? topo['nodes'] : [];
  const seenIds = new Set<string>();
  for (const n of rawNodes) {
    const id = isObj(n) ? str(n['node_id']) : undefined;
    if (id === undefined) continue;
    if (seenIds.has(id)) duplicateIds.add(id);
    seenIds.add(id);
  }
  if (duplicateIds.size > 0) report.unsupported.push(`node ids used by more than one node (${[...duplicateIds].join(', ')}): links to them cannot be told apart and are left out`);

  for (const n of rawNodes) {
    if (!isObj(n)) continue;
    const type = str(n['node_type']) ?? '?';
    const gname = str(n['name']) ?? type;
    const id = str(n['node_id']) ?? '';
    const props = isObj(n['properties']) ? n['properties'] : {};
    const x = num(n['x']);
    const y = num(n['y']);
    const ui = x !== undefined && y !== undefined ? { ui: { x, y } } : {};
    const label = `${gname} (${type})`;
    const nameOf = () => {
      const name = safeName(gname, taken, type.replace(/_/g, '-'));
      if (name !== gname) report.approximated.push(`${label}: renamed ${name} (wirelab names are letters, digits, - and _)`);
      return name;
    };
    const console = num(n['console']);
    const consoleKey = console !== undefined && Number.isInteger(console) && console >= 1 && console <= 65535 ? { console } : {};

    switch (type) {
      case 'vpcs': {
        const name = nameOf();
        const spec: HostNodeSpec = { kind: 'host', ...ui, ...consoleKey };
        const script = files.vpcs.get(id) ?? str(props['startup_script']);
        if (script !== undefined) applyVpcsScript(script, spec, label, report);
        nodes[name] = spec;
        const ip = spec.interfaces?.['eth0']?.ip;
        report.mapped.push(`${label} -> host ${name}${script === undefined ? ' (no startup.vpc)' : ip ? ` (startup.vpc: ${ip}${spec.interfaces?.['eth0']?.gateway ? ` via ${spec.interfaces['eth0'].gateway}` : ''})` : ' (startup.vpc gives no address)'}`);
        byId.set(id, { name, kind: 'host', endpoint: (a, p) => (a === 0 && p === 0 ? { end: `${name}:eth0` } : { why: `VPCS has one interface, not adapter ${a} port ${p}` }) });
        break;
      }
      case 'ethernet_switch': {
        const name = nameOf();
        const mapping = Array.isArray(props['ports_mapping']) ? props['ports_mapping'].filter(isObj) : [];
        const ports = Math.max(1, ...mapping.map((p) => (num(p['port_number']) ?? 0) + 1));
        const interfaces: NonNullable<SwitchNodeSpec['interfaces']> = {};
        for (const p of mapping) {
          const pn = num(p['port_number']);
          if (pn === undefined) continue;
          const vlan = clampVlan(num(p['vlan']) ?? 1);
          const ptype = str(p['type']) ?? 'access';
          const ethertype = str(p['ethertype']);
          if (ptype === 'dot1q') {
            interfaces[`e${pn}`] = vlan === 1 ? { mode: 'trunk' } : { mode: 'trunk', native: vlan };
            if (ethertype && ethertype !== '0x8100') report.approximated.push(`${label} port ${pn}: trunk ethertype ${ethertype} is sent as 0x8100`);
          } else if (ptype === 'qinq') {
            interfaces[`e${pn}`] = { mode: 'access', vlan };
            report.approximated.push(`${label} port ${pn}: a QinQ (802.1ad tunnel) port became an access port in VLAN ${vlan}; frames that arrive already tagged are not tunnelled`);
          } else if (vlan !== 1) interfaces[`e${pn}`] = { mode: 'access', vlan };
        }
        const spec: SwitchNodeSpec = { kind: 'switch', ports, stp: false, ...ui, ...(Object.keys(interfaces).length ? { interfaces } : {}) };
        nodes[name] = spec;
        report.mapped.push(`${label} -> switch ${name} (${ports} ports; spanning tree off, as GNS3's built-in switch has none)`);
        byId.set(id, { name, kind: 'switch', endpoint: (a, p) => (a === 0 && p < ports ? { end: `${name}:e${p}` } : { why: `the switch has no port ${a}/${p}` }) });
        break;
      }
      case 'ethernet_hub': {
        const name = nameOf();
        const mapping = Array.isArray(props['ports_mapping']) ? props['ports_mapping'].filter(isObj) : [];
        const ports = Math.max(1, ...mapping.map((p) => (num(p['port_number']) ?? 0) + 1));
        nodes[name] = { kind: 'hub', ports, ...ui };
        report.mapped.push(`${label} -> hub ${name} (${ports} ports)`);
        byId.set(id, { name, kind: 'hub', endpoint: (a, p) => (a === 0 && p < ports ? { end: `${name}:p${p}` } : { why: `the hub has no port ${a}/${p}` }) });
        break;
      }
      case 'cloud': {
        const mapping = Array.isArray(props['ports_mapping']) ? props['ports_mapping'].filter(isObj) : [];
        const made = new Map<number, string>();
        const base = gname;
        const used = usedPorts(topo, id);
        if (mapping.length === 0) report.unsupported.push(`${label}: a cloud with no ports has nothing to map`);
        for (const p of mapping) {
          const pn = num(p['port_number']);
          if (pn === undefined) continue;
          const ptype = str(p['type']);
          const pname = str(p['name']) ?? `port${pn}`;
          if (!used.has(pn)) {
            report.unsupported.push(`${label} port ${pname}: not cabled, so not made (a wirelab cloud is one way out)`);
            continue;
          }
          let endpoint: Extract<NodeSpec, { kind: 'cloud' }>['endpoint'] | null = null;
          if (ptype === 'udp') {
            const lport = num(p['lport']);
            const rport = num(p['rport']);
            const rhost = str(p['rhost']) ?? '127.0.0.1';
            if (lport && rport && /^\d+\.\d+\.\d+\.\d+$/.test(rhost)) endpoint = { type: 'udp', local: `${rhost.startsWith('127.') ? '127.0.0.1' : '0.0.0.0'}:${lport}`, remote: `${rhost}:${rport}` };
            else report.unsupported.push(`${label} port ${pname}: a UDP tunnel to ${rhost} (wirelab needs an IPv4 address and both ports)`);
          } else if (ptype === 'tap' || ptype === 'ethernet') {
            const iface = str(p['interface']) ?? pname;
            if (OS_IFACE_RE.test(iface)) endpoint = ptype === 'tap' ? { type: 'tap', name: iface } : { type: 'nic', interface: iface };
            else report.unsupported.push(`${label} port ${pname}: ${JSON.stringify(iface)} is not a network interface name wirelab can open`);
          } else report.unsupported.push(`${label} port ${pname}: port type ${String(ptype)}`);
          if (!endpoint) continue;
          const name = safeName(mapping.length === 1 ? base : `${base}-${pname}`, taken, 'cloud');
          nodes[name] = { kind: 'cloud', endpoint, ...ui };
          made.set(pn, name);
          report.mapped.push(`${label} port ${pname} -> cloud ${name} (${endpoint.type})`);
        }
        byId.set(id, {
          name: base,
          kind: 'cloud',
          endpoint: (_a, p) => {
            const c = made.get(p);
            return c ? { end: `${c}:eth0` } : { why: `cloud port ${p} was not mapped` };
          },
        });
        break;
      }
      case 'nat': {
        const name = nameOf();
        networks[name] = { type: 'nat', subnet: '192.168.122.0/24', ...ui };
        report.mapped.push(`${label} -> NAT network ${name} (192.168.122.0/24)`);
        report.approximated.push(`${label}: GNS3's NAT node (libvirt, gateway 192.168.122.1) became a wirelab NAT network with VMware's layout: gateway and DNS 192.168.122.2, DHCP from .254; hosts set to a static gateway of .1 must use .2`);
        byId.set(id, { name, kind: 'network', endpoint: () => ({ end: name }) });
        break;
      }
      case 'dynamips':
      case 'iou':
      case 'qemu':
      case 'docker': {
        const name = nameOf();
        const ifaces = interfaceNames(type, props, n, label, report);
        const blob = [str(props['image']), str(props['hda_disk_image']), str(n['symbol']), str(n['template_id']), str(props['platform']), gname].filter(Boolean).join(' ');
        const asRouter = type === 'dynamips' || type === 'iou' || ROUTERISH.test(blob);
        const what = str(props['image']) ?? str(props['hda_disk_image']) ?? type;
        if (asRouter) {
          const names = new Map<string, string>();
          const base: RouterNodeSpec = { kind: 'router', ...ui, ...consoleKey, interfaces: {} };
          for (const [k, raw] of ifaces) {
            const short = routerIfaceName(raw);
            if (short === null) continue;
            names.set(k, short);
            base.interfaces![short] = {};
          }
          let spec: RouterNodeSpec = base;
          const config = files.ios.get(id) ?? str(props['startup_config_content']);
          if (config !== undefined && config.trim() !== '') spec = applyIosConfig(config, name, base, label, report);
          nodes[name] = spec;
          report.mapped.push(`${label} -> router ${name} (${names.size} interfaces${config ? ', startup-config applied' : ''})`);
          if (type === 'qemu' || type === 'docker') report.approximated.push(`${label}: ${what} is not run; the node is an emulated wirelab router with its interfaces`);
          else report.approximated.push(`${label}: ${what} is not run; the node is an emulated wirelab router`);
          byId.set(id, {
            name,
            kind: 'router',
            endpoint: (a, p) => {
              const k = `${a}/${p}`;
              const n2 = names.get(k);
              if (n2) return { end: `${name}:${n2}` };
              const raw = ifaces.get(k);
              return { why: raw ? `${raw} is not an Ethernet interface wirelab routers have` : `no interface at adapter ${a} port ${p}` };
            },
          });
        } else {
          const names = new Map<string, string>();
          const interfaces: NonNullable<HostNodeSpec['interfaces']> = {};
          let i = 0;
          for (const [k] of ifaces) {
            const hn = `eth${i++}`;
            names.set(k, hn);
            interfaces[hn] = {};
          }
          nodes[name] = { kind: 'host', ...ui, ...consoleKey, ...(i > 0 ? { interfaces } : {}) };
          report.mapped.push(`${label} -> host ${name} (${i} interfaces)`);
          report.approximated.push(`${label}: ${what} is not run; the node is an emulated wirelab host (ping, traceroute, DHCP client, services), unconfigured`);
          byId.set(id, {
            name,
            kind: 'host',
            endpoint: (a, p) => {
              const hn = names.get(`${a}/${p}`);
              return hn ? { end: `${name}:${hn}` } : { why: `no interface at adapter ${a} port ${p}` };
            },
          });
        }
        break;
      }
      default:
        report.unsupported.push(`${label}: wirelab has no ${type.replace(/_/g, ' ')}; the node and its links are left out`);
    }
  }

  const rawLinks = Array.isArray(topo['links']) ? topo['links'] : [];
  for (const l of rawLinks) {
    if (!isObj(l) || !Array.isArray(l['nodes']) || l['nodes'].length !== 2) {
      report.unsupported.push('a link without two ends');
      continue;
    }
    const ends: string[] = [];
    const why: string[] = [];
    const labels: string[] = [];
    for (const e of l['nodes']) {
      if (!isObj(e)) continue;
      const nid = str(e['node_id']) ?? '';
      const a = num(e['adapter_number']) ?? 0;
      const p = num(e['port_number']) ?? 0;
      const m = duplicateIds.has(nid) ? undefined : byId.get(nid);
      const gn = rawNodes.find((x) => isObj(x) && x['node_id'] === nid) as Json | undefined;
      labels.push(`${str(gn?.['name']) ?? nid} ${a}/${p}`);
      if (!m) {
        why.push(duplicateIds.has(nid) ? `node id ${nid} is not unique` : `${str(gn?.['name']) ?? nid} was not mapped`);
        continue;
      }
      const r = m.endpoint(a, p);
      if ('end' in r) ends.push(r.end);
      else why.push(r.why);
    }
    const what = `link ${labels.join(' <-> ')}`;
    if (ends.length !== 2 || why.length > 0) {
      report.unsupported.push(`${what}: ${why.join('; ') || 'unmapped ends'}`);
      continue;
    }
    // wirelab writes the network end second.
    if (!ends[0]!.includes(':')) ends.reverse();
    if (!ends[0]!.includes(':')) {
      report.unsupported.push(`${what}: two networks cannot be cabled together`);
      continue;
    }
    const item: Json = { endpoints: ends };
    if (l['suspend'] === true) item['suspended'] = true;
    const filters = isObj(l['filters']) ? l['filters'] : {};
    for (const [f, v] of Object.entries(filters)) {
      const vals = Array.isArray(v) ? v.map(Number) : [];
      if (f === 'delay' && vals.length >= 1) {
        if (vals[0]! > 0) item['delay'] = `${vals[0]}ms`;
        if (vals[1] !== undefined && vals[1] > 0) item['jitter'] = `${vals[1]}ms`;
      } else if (f === 'packet_loss' && vals.length >= 1) item['loss'] = `${vals[0]}%`;
      else if (f === 'corrupt' && vals.length >= 1) item['corrupt'] = `${vals[0]}%`;
      else if (f === 'frequency_drop' && vals.length >= 1 && vals[0]! > 0) {
        item['loss'] = `${Math.round(10000 / vals[0]!) / 100}%`;
        report.approximated.push(`${what}: "drop one frame in ${vals[0]}" became a random loss of ${item['loss']}`);
      } else report.unsupported.push(`${what}: filter ${f} (wirelab links have delay, jitter, loss and corruption)`);
    }
    links.push(Object.keys(item).length === 1 ? ends : item);
  }

  const drawings = Array.isArray(topo['drawings']) ? topo['drawings'].length : 0;
  if (drawings > 0) report.unsupported.push(`${drawings} drawing${drawings > 1 ? 's' : ''} (text, shapes): wirelab's canvas has none`);

  const file: LabFile = {
    wirelab: 1,
    name: labNameFor(projectName),
    description: `Imported from the GNS3 project "${projectName}"${report.gns3Version ? ` (GNS3 ${report.gns3Version})` : ''}`,
    ...(Object.keys(networks).length ? { networks } : {}),
    nodes,
    links: links as LabFile['links'],
  };
  return { file, report };
}

function clampVlan(v: number): number {
  return Number.isInteger(v) && v >= 1 && v <= 4094 ? v : 1;
}

/** Ports of a node that links use, by port number (clouds: one node per cabled port). */
function usedPorts(topo: Json, id: string): Set<number> {
  const out = new Set<number>();
  for (const l of Array.isArray(topo['links']) ? topo['links'] : []) {
    if (!isObj(l) || !Array.isArray(l['nodes'])) continue;
    for (const e of l['nodes']) if (isObj(e) && e['node_id'] === id) out.add(num(e['port_number']) ?? 0);
  }
  return out;
}

/** A router interface name from an IOS or GNS3 port name: `FastEthernet1/0` -> `f1/0`, `Gi0/3` -> `g0/3`. */
export function routerIfaceName(raw: string): string | null {
  const m = /^([A-Za-z-]+?)\s*(\d+(?:\/\d+){0,2})$/.exec(raw.trim());
  if (!m) return null;
  const t = m[1]!.toLowerCase();
  let prefix: string;
  if (/^(gi|gigabitethernet|ge|g)$/.test(t) || t.startsWith('gigabit')) prefix = 'g';
  else if (/^(fa|fastethernet|f|fe)$/.test(t) || t.startsWith('fast')) prefix = 'f';
  else if (/^(te|tengigabitethernet|xe)$/.test(t) || t.startsWith('tengig')) prefix = 'te';
  else if (/^(e|et|eth|ethernet|en|ens|enp)$/.test(t)) prefix = 'e';
  else if (/^(s|se|serial)$/.test(t) || t.startsWith('serial') || t.startsWith('atm') || t.startsWith('pos')) return null;
  else prefix = t.replace(/[^a-z-]/g, '') || 'e';
  const name = `${prefix}${m[2]}`;
  return ROUTER_IFACE_RE.test(name) ? name : null;
}

/** GNS3's port names of a VM-like node, by `adapter/port`. */
function interfaceNames(type: string, props: Json, node: Json, label: string, report: Gns3Report): Map<string, string> {
  const out = new Map<string, string>();
  if (type === 'dynamips') {
    for (let slot = 0; slot < 7; slot++) {
      const module = str(props[`slot${slot}`]);
      if (!module) continue;
      const d = moduleInterfaces(module);
      if (!d) {
        report.unsupported.push(`${label}: slot ${slot} module ${module} (serial, ATM or unknown): its interfaces are left out`);
        continue;
      }
      for (let p = 0; p < d.count; p++) out.set(`${slot}/${p}`, `${d.long}${slot}/${p}`);
    }
    for (let w = 0; w < 3; w++) {
      const wic = str(props[`wic${w}`]);
      if (wic) report.unsupported.push(`${label}: WIC ${wic} (serial or WAN): left out`);
    }
  } else if (type === 'iou') {
    const eth = num(props['ethernet_adapters']) ?? 2;
    const ser = num(props['serial_adapters']) ?? 2;
    for (let a = 0; a < eth; a++) for (let p = 0; p < 4; p++) out.set(`${a}/${p}`, `Ethernet${a}/${p}`);
    if (ser > 0) report.unsupported.push(`${label}: ${ser} serial adapter${ser > 1 ? 's' : ''} left out`);
  } else {
    const adapters = num(props['adapters']) ?? 1;
    const format = str(node['port_name_format']) ?? (type === 'docker' ? 'eth{0}' : 'Ethernet{0}');
    const first = str(node['first_port_name']);
    const segment = num(node['port_segment_size']) ?? 0;
    for (let a = 0; a < adapters; a++) {
      let name: string;
      if (a === 0 && first) name = first;
      else {
        const seg = segment > 0 ? Math.floor(a / segment) : 0;
        const port = segment > 0 ? a % segment : a;
        name = format
          .replace(/\{0\}/g, String(port))
          .replace(/\{1\}/g, String(seg))
          .replace(/\{port0\}/g, String(port))
          .replace(/\{port1\}/g, String(port + 1))
          .replace(/\{segment0\}/g, String(seg))
          .replace(/\{segment1\}/g, String(seg + 1));
      }
      out.set(`${a}/0`, name);
    }
  }
  return out;
}

/** Ethernet interfaces of a Dynamips slot module (names as IOS writes them). */
function moduleInterfaces(module: string): { long: string; count: number } | null {
  const m = module.toUpperCase();
  if (/-T\+?$|-\d*T$|SERIAL|ATM|POS|OC3/.test(m)) return null;
  const count = (() => {
    const k = /(\d+)(FE|E|GE|ESW)/.exec(m);
    if (k) return Number(k[1]);
    if (/GT96100-FE|LEOPARD-2FE/.test(m)) return 2;
    return 1;
  })();
  if (/GE/.test(m)) return { long: 'GigabitEthernet', count };
  if (/FE|ESW|FAST/.test(m)) return { long: 'FastEthernet', count };
  if (/\dE\b|-E$|ENET|1E|4E|8E/.test(m)) return { long: 'Ethernet', count };
  return null;
}

function prefixFromMask(mask: string): number | null {
  const parts = mask.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return null;
  const n = ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
  const inv = ~n >>> 0;
  if ((inv & (inv + 1)) !== 0) return null;
  return 32 - Math.log2(inv + 1);
}

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/** The `ip` commands of a startup.vpc on the host's eth0; others are reported. */
function applyVpcsScript(script: string, spec: HostNodeSpec, label: string, report: Gns3Report): void {
  for (const raw of script.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const args = vpcsArgs(line);
    const cmd = (args[0] ?? '').toLowerCase();
    if (cmd === 'set' && (args[1] ?? '').toLowerCase() === 'pcname') continue;
    if (cmd === 'ip') {
      const rest = args.slice(1);
      if ((rest[0] ?? '').toLowerCase() === 'dhcp') {
        spec.interfaces = { eth0: { ...spec.interfaces?.['eth0'], ip: 'dhcp' } };
        continue;
      }
      if ((rest[0] ?? '').toLowerCase() === 'dns') {
        const servers = rest.slice(1).filter((a) => IPV4.test(a));
        if (servers.length) spec.dns = servers;
        continue;
      }
      // vpcsArgs splits at '/': ip A /24 G, ip A 24 G, ip A M G, ip A G M.
      const addr = rest[0];
      if (addr && IPV4.test(addr)) {
        let prefix: number | null = null;
        let gateway: string | undefined;
        for (const a of rest.slice(1)) {
          if (/^\d{1,2}$/.test(a) && Number(a) <= 32) prefix = Number(a);
          else if (IPV4.test(a)) {
            const p = prefixFromMask(a);
            if (p !== null && prefix === null && a.startsWith('255')) prefix = p;
            else gateway = a;
          }
        }
        prefix ??= 24;
        spec.interfaces = { eth0: { ip: `${addr}/${prefix}`, ...(gateway ? { gateway } : {}) } };
        continue;
      }
    }
    report.approximated.push(`${label}: startup.vpc line ${JSON.stringify(line)} is not applied`);
  }
}

/** A router spec from an IOS startup-config, on the interfaces the node's slots give it. */
function applyIosConfig(config: string, name: string, base: RouterNodeSpec, label: string, report: Gns3Report): RouterNodeSpec {
  let parsed: { model: unknown; errors: string[] };
  try {
    parsed = parseRunningConfig(config, 'router', name, base);
  } catch (e) {
    report.unsupported.push(`${label}: the startup-config could not be read (${(e as Error).message}); the router starts unconfigured`);
    return base;
  }
  for (const e of parsed.errors) report.unsupported.push(`${label}: startup-config line not applied: ${e.trim()}`);
  const r = routerToSpec(parsed.model as RouterModel, base);
  for (const w of r.warnings) report.approximated.push(`${label}: ${w}`);
  const spec = { ...r.spec, ...(base.ui ? { ui: base.ui } : {}), ...(base.console !== undefined ? { console: base.console } : {}) };
  // Interfaces the slots give but the config never mentions stay, unconfigured.
  spec.interfaces = { ...base.interfaces, ...spec.interfaces };
  return spec;
}
