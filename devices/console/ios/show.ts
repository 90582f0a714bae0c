/**
 * `show` output read from the live device, laid out as IOS 15 lays it out.
 */
import type { Router } from '../../router/index.js';
import type { Switch } from '../../switch/index.js';
import type { Engine } from '../../engine/engine.js';
import { type Ip4, ip4ToString, parseIp4Prefix, prefixToMask } from '../../wire/bytes.js';
import { ciscoMac } from './render.js';
import { longName, shortName } from './names.js';
import { type DeviceModel, type RouterModel, type SwitchModel, defaultVlanName } from './model.js';

const ip = ip4ToString;

// ------------------------------------------------------------------ router

/** `show ip interface brief`; `fromStartup` holds interfaces whose address came from lab.yaml (Method NVRAM). */
export function showIpInterfaceBrief(r: Router | null, m: DeviceModel, fromStartup: ReadonlySet<string>): string {
  const head = `${'Interface'.padEnd(27)}${'IP-Address'.padEnd(16)}OK? Method ${'Status'.padEnd(22)}Protocol`;
  const rows: string[] = [head];
  if (m.kind === 'switch') {
    for (const p of m.interfaces) {
      const status = p.shutdown ? 'administratively down' : 'up';
      rows.push(`${longName(p.name).padEnd(27)}${'unassigned'.padEnd(16)}YES unset  ${status.padEnd(22)}${p.shutdown ? 'down' : 'up'}`);
    }
    return `${rows.join('\n')}\n`;
  }
  const live = new Map((r?.interfaces() ?? []).map((x) => [x.name, x] as const));
  for (const i of m.interfaces) {
    const row = live.get(i.name);
    if (!row) continue;
    const address = i.ip ? ip(i.ip.ip) : 'unassigned';
    const method = !i.ip ? 'unset' : fromStartup.has(i.name) ? 'NVRAM' : 'manual';
    rows.push(`${longName(i.name).padEnd(27)}${address.padEnd(16)}YES ${method.padEnd(7)}${row.status.padEnd(22)}${row.protocol}`);
  }
  return `${rows.join('\n')}\n`;
}

const ROUTE_CODES = `Codes: L - local, C - connected, S - static, R - RIP, M - mobile, B - BGP
       D - EIGRP, EX - EIGRP external, O - OSPF, IA - OSPF inter area 
       N1 - OSPF NSSA external type 1, N2 - OSPF NSSA external type 2
       E1 - OSPF external type 1, E2 - OSPF external type 2
       i - IS-IS, su - IS-IS summary, L1 - IS-IS level-1, L2 - IS-IS level-2
       ia - IS-IS inter area, * - candidate default, U - per-user static route
       o - ODR, P - periodic downloaded static route, H - NHRP, l - LISP
       + - replicated route, % - next hop override
`;

function classfulPrefix(a: Ip4): number {
  const first = a >>> 24;
  return first < 128 ? 8 : first < 192 ? 16 : 24;
}

interface RouteLine {
  code: string;
  net: Ip4;
  prefix: number;
  text: string;
}

/** `show ip route`, with the codes legend, local /32 routes and classful grouping as IOS 15 prints them. */
export function showIpRoute(r: Router): string {
  const lines: RouteLine[] = [];
  let lastResort: string | null = null;
  // IOS lists a connected network only while its interface is up (cabled and not shut down).
  const up = new Set(r.interfaces().filter((i) => i.status === 'up').map((i) => i.name));
  for (const row of r.routes()) {
    if (row.code === 'C' && !up.has(row.iface!)) continue;
    const { ip: net, prefix } = parseIp4Prefix(row.prefix)!;
    const isDefault = prefix === 0;
    const code = `${row.code}${isDefault ? '*' : ''}`;
    let text: string;
    if (row.code === 'C') text = `is directly connected, ${longName(row.iface!)}`;
    else if (row.via === null) text = `is directly connected, ${longName(row.iface!)}`;
    else text = `[${row.distance}/${row.metric}] via ${row.via}${row.iface ? `, ${longName(row.iface)}` : ''}`;
    if (isDefault && row.via !== null && lastResort === null) lastResort = `Gateway of last resort is ${row.via} to network 0.0.0.0`;
    lines.push({ code, net, prefix, text });
  }
  for (const i of r.interfaces()) {
    if (i.status !== 'up' || i.ip === 'unassigned') continue;
    const a = parseIp4Prefix(i.ip)!.ip;
    lines.push({ code: 'L', net: a, prefix: 32, text: `is directly connected, ${longName(i.name)}` });
  }
  lines.sort((a, b) => a.net - b.net || a.prefix - b.prefix || (a.code === 'L' ? 1 : 0) - (b.code === 'L' ? 1 : 0));
  const out: string[] = [ROUTE_CODES, lastResort ?? 'Gateway of last resort is not set', ''];
  // IOS groups the routes inside one classful network under a header, unless the network is alone.
  const groups = new Map<string, RouteLine[]>();
  const order: (RouteLine | string)[] = [];
  for (const l of lines) {
    const cp = classfulPrefix(l.net);
    if (l.prefix < cp) {
      order.push(l);
      continue;
    }
    const major = (l.net & prefixToMask(cp)) >>> 0;
    const key = `${major}/${cp}`;
    if (!groups.has(key)) {
      groups.set(key, []);
      order.push(key);
    }
    groups.get(key)!.push(l);
  }
  for (const item of order) {
    if (typeof item !== 'string') {
      out.push(`${item.code.padEnd(6)}${ip(item.net)}/${item.prefix} ${item.text}`);
      continue;
    }
    const list = groups.get(item)!;
    const cp = classfulPrefix(list[0]!.net);
    const major = (list[0]!.net & prefixToMask(cp)) >>> 0;
    if (list.length === 1 && list[0]!.prefix === cp) {
      const l = list[0]!;
      out.push(`${l.code.padEnd(6)}${ip(l.net)}/${l.prefix} ${l.text}`);
      continue;
    }
    const masks = new Set(list.map((l) => l.prefix));
    const n = list.length;
    if (masks.size === 1) out.push(`      ${ip(major)}/${list[0]!.prefix} is subnetted, ${n} subnets`);
    else out.push(`      ${ip(major)}/${cp} is variably subnetted, ${n} subnets, ${masks.size} masks`);
    for (const l of list) out.push(`${l.code.padEnd(9)}${ip(l.net)}/${l.prefix} ${l.text}`);
  }
  return `${out.join('\n')}\n`;
}

/** `show interfaces [X]`. */
export function showInterfaces(r: Router | null, sw: Switch | null, m: DeviceModel, only?: string): string {
  const blocks: string[] = [];
  if (m.kind === 'router' && r) {
    const rows = new Map(r.interfaces().map((x) => [x.name, x] as const));
    for (const i of m.interfaces) {
      if (only !== undefined && i.name !== only) continue;
      const row = rows.get(i.name);
      if (!row) continue;
      const port = r.ports.find((p) => p.name === (i.parent ?? i.name))!;
      const mac = ciscoMac(row.mac);
      const b = [`${longName(i.name)} is ${row.status}, line protocol is ${row.protocol} `, `  Hardware is iGbE, address is ${mac} (bia ${mac})`];
      if (i.description !== null) b.push(`  Description: ${i.description}`);
      if (i.ip) b.push(`  Internet address is ${ip(i.ip.ip)}/${i.ip.prefix}`);
      b.push('  MTU 1500 bytes, BW 1000000 Kbit/sec, DLY 10 usec, ', '     reliability 255/255, txload 1/255, rxload 1/255');
      b.push(i.vlan !== null ? `  Encapsulation 802.1Q Virtual LAN, Vlan ID  ${i.vlan}.` : '  Encapsulation ARPA, loopback not set');
      if (i.parent === null) {
        b.push('  Full Duplex, 1Gbps, media type is RJ45', '  ARP type: ARPA, ARP Timeout 04:00:00');
        b.push(`     ${port.rxFrames} packets input, ${port.rxBytes} bytes, 0 no buffer`, `     ${port.rxDrops} input errors, 0 CRC, 0 frame, 0 overrun, 0 ignored`);
        b.push(`     ${port.txFrames} packets output, ${port.txBytes} bytes, 0 underruns`, `     ${port.txDrops} output errors, 0 collisions, 0 interface resets`);
      }
      blocks.push(b.join('\n'));
    }
  } else if (m.kind === 'switch' && sw) {
    const counters = new Map(sw.portCounters().map((c) => [c.name, c] as const));
    sw.ports.forEach((port, idx) => {
      const p = m.interfaces[idx];
      if (!p || (only !== undefined && p.name !== only)) return;
      const c = counters.get(p.name)!;
      const link = port.link !== null && !port.link.suspended && port.peer !== null && port.peer.up;
      const status = p.shutdown ? 'administratively down' : link ? 'up' : 'down';
      const mac = ciscoMac(macOf(sw.mac, idx));
      const b = [`${longName(p.name)} is ${status}, line protocol is ${status === 'up' ? 'up (connected)' : 'down (notconnect)'} `, `  Hardware is Ethernet, address is ${mac} (bia ${mac})`];
      if (p.description !== null) b.push(`  Description: ${p.description}`);
      b.push('  MTU 1500 bytes, BW 1000000 Kbit/sec, DLY 10 usec, ', '  Encapsulation ARPA, loopback not set', '  Full-duplex, 1000Mb/s, media type is 10/100/1000BaseTX');
      b.push(`     ${c.rxFrames} packets input, ${c.rxBytes} bytes, 0 no buffer`, `     ${c.rxDrops + c.malformed} input errors, 0 CRC, 0 frame, 0 overrun, 0 ignored`);
      b.push(`     ${c.txFrames} packets output, ${c.txBytes} bytes, 0 underruns`, `     ${c.txDrops} output errors, 0 collisions, 0 interface resets`);
      blocks.push(b.join('\n'));
    });
  }
  return blocks.length ? `${blocks.join('\n')}\n` : '';
}

function macOf(bridge: number, index: number): string {
  const low = bridge % 0x100_0000;
  const v = bridge - low + ((low + index + 1) % 0x100_0000);
  return v.toString(16).padStart(12, '0');
}

/** `show arp` / `show ip arp`. */
export function showArp(r: Router): string {
  const out = ['Protocol  Address          Age (min)  Hardware Addr   Type   Interface'];
  for (const row of r.arp()) {
    const age = row.ageMin === null ? '-' : String(row.ageMin);
    out.push(`Internet  ${row.ip.padEnd(17)}${age.padStart(8)}   ${(row.mac === null ? 'Incomplete' : ciscoMac(row.mac)).padEnd(16)}ARPA   ${longName(row.iface)}`);
  }
  return `${out.join('\n')}\n`;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** IOS's date for a lease end: "Mar 02 2002 12:00 AM". */
export function iosDate(engine: Engine, atNs: number): string {
  const ms = Number(engine.epochNs / 1_000_000n) + Math.floor(atNs / 1e6);
  const d = new Date(ms);
  const h = d.getUTCHours();
  const h12 = h % 12 === 0 ? 12 : h % 12;
  return `${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, '0')} ${d.getUTCFullYear()} ${String(h12).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')} ${h < 12 ? 'AM' : 'PM'}`;
}

/** `show ip dhcp binding`. */
export function showDhcpBinding(r: Router): string {
  const out = ['Bindings from all pools not associated with VRF:', 'IP address          Client-ID/              Lease expiration        Type', '                    Hardware address/', '                    User name'];
  for (const b of r.dhcpBindings()) {
    const client = b.client.includes(':') ? ciscoMac(b.client) : b.client;
    out.push(`${b.ip.padEnd(20)}${client.padEnd(24)}${iosDate(r.engine, r.engine.now + b.expiresInS * 1e9).padEnd(24)}${b.type === 'manual' ? 'Manual' : 'Automatic'}`);
  }
  return `${out.join('\n')}\n`;
}

/** `show ip dhcp pool`. */
export function showDhcpPool(r: Router, m: RouterModel): string {
  const out: string[] = [];
  const usage = r.dhcp?.poolUsage(r.engine.now) ?? [];
  for (const p of m.pools) {
    const u = usage.find((x) => x.pool === p.name);
    out.push('', `Pool ${p.name} :`);
    out.push(` Utilization mark (high/low)    : 100 / 0`);
    out.push(` Subnet size (first/next)       : 0 / 0 `);
    out.push(` Total addresses                : ${u?.size ?? 0}`);
    out.push(` Leased addresses               : ${u?.leased ?? 0}`);
    out.push(` Pending event                  : none`);
    if (p.network) out.push(` ${u ? 1 : 0} subnet is currently in the pool :`, ` Current index        IP address range                    Leased addresses`);
    if (p.network && u) {
      const { ip: net, prefix } = parseIp4Prefix(u.network)!;
      const size = 2 ** (32 - prefix);
      const first = p.range ? p.range.start : net + 1;
      const last = p.range ? p.range.end : net + size - 2;
      out.push(` ${ip(first).padEnd(21)}${`${ip(first)}      - ${ip(last)}`.padEnd(36)}${u.leased}`);
    }
  }
  return `${out.join('\n')}\n`;
}

/** `show ip nat translations`. */
export function showNat(r: Router, verbose: boolean): string {
  const out = [`${'Pro'.padEnd(4)}${'Inside global'.padEnd(20)}${'Inside local'.padEnd(20)}${'Outside local'.padEnd(20)}Outside global`];
  for (const t of r.natTranslations()) {
    out.push(`${`${t.proto} `.padEnd(4)}${t.insideGlobal.padEnd(20)}${t.insideLocal.padEnd(20)}${t.outsideLocal.padEnd(20)}${t.outsideGlobal}`);
    if (verbose) out.push(`  ${t.expiresInS < 0 ? 'static, no timeout' : `timeout in ${t.expiresInS} seconds`}`);
  }
  return `${out.join('\n')}\n`;
}

/** `show access-lists [NAME]`. */
export function showAccessLists(r: Router, only?: string): string {
  const out: string[] = [];
  for (const [name, acl] of r.acls) {
    if (only !== undefined && name !== only) continue;
    out.push(...acl.show());
  }
  return out.length ? `${out.join('\n')}\n` : '';
}

// ------------------------------------------------------------------ switch

const RESERVED_VLANS: [number, string][] = [
  [1002, 'fddi-default'],
  [1003, 'token-ring-default'],
  [1004, 'fddinet-default'],
  [1005, 'trnet-default'],
];

/** `show vlan brief`: access ports by VLAN, wrapped as IOS wraps them. */
export function showVlanBrief(m: SwitchModel): string {
  const out = ['', 'VLAN Name                             Status    Ports', '---- -------------------------------- --------- -------------------------------'];
  const rows: [number, string][] = [...m.vlans];
  for (const [v, name] of rows) {
    const ports = m.interfaces.filter((p) => p.mode === 'access' && p.accessVlan === v).map((p) => shortName(p.name));
    const lines: string[] = [];
    let cur = '';
    for (const p of ports) {
      const next = cur ? `${cur}, ${p}` : p;
      if (next.length > 31 && cur) {
        lines.push(`${cur},`);
        cur = p;
      } else cur = next;
    }
    if (cur) lines.push(cur);
    out.push(`${String(v).padEnd(5)}${name.slice(0, 32).padEnd(33)}${'active'.padEnd(10)}${lines[0] ?? ''}`);
    for (const l of lines.slice(1)) out.push(`${''.padEnd(48)}${l}`);
  }
  for (const [v, name] of RESERVED_VLANS) out.push(`${String(v).padEnd(5)}${name.padEnd(33)}act/unsup `);
  return `${out.join('\n')}\n`;
}

/** `show vlan`: the brief table, then which trunks carry each VLAN. */
export function showVlan(m: SwitchModel, sw: Switch): string {
  const brief = showVlanBrief(m);
  const out = ['', 'VLAN Type  SAID       MTU   Parent RingNo BridgeNo Stp  BrdgMode Trans1 Trans2', '---- ----- ---------- ----- ------ ------ -------- ---- -------- ------ ------'];
  for (const [v] of m.vlans) out.push(`${String(v).padEnd(5)}enet  ${String(100000 + v).padEnd(11)}1500  -      -      -        -    -        0      0   `);
  const trunks = sw.vlans().filter((v) => v.tagged.length > 0);
  if (trunks.length) {
    out.push('', 'VLAN Tagged ports');
    for (const v of trunks) out.push(`${String(v.vlan).padEnd(5)}${v.tagged.map(shortName).join(', ')}`);
  }
  return `${brief}${out.join('\n')}\n`;
}

/** `show mac address-table`. */
export function showMacTable(sw: Switch): string {
  const rows = sw.macTable();
  const out = ['          Mac Address Table', '-------------------------------------------', '', 'Vlan    Mac Address       Type        Ports', '----    -----------       --------    -----'];
  for (const r of rows) out.push(`${String(r.vlan).padStart(4)}    ${ciscoMac(r.mac)}    DYNAMIC     ${shortName(r.port)}`);
  out.push(`Total Mac Addresses for this criterion: ${rows.length}`);
  return `${out.join('\n')}\n`;
}

const ROLE: Record<string, string> = { root: 'Root', designated: 'Desg', alternate: 'Altn', backup: 'Back', disabled: 'Disa' };
const STATE: Record<string, string> = { forwarding: 'FWD', learning: 'LRN', discarding: 'BLK' };

/** `show spanning-tree`: the one tree all VLANs share, in the layout of a Catalyst's VLAN0001. */
export function showSpanningTree(sw: Switch, m: SwitchModel): string {
  const s = sw.stpStatus();
  if (!s.enabled || m.stp === 'off') return 'No spanning tree instance exists.\n';
  const [rootPrio, rootMac] = s.rootId.split('.') as [string, string];
  const [ownPrio, ownMac] = s.bridgeId.split('.') as [string, string];
  const times = `Hello Time   ${s.helloTime} sec  Max Age ${s.maxAge} sec  Forward Delay ${s.forwardDelay} sec`;
  const out = ['', 'VLAN0001', `  Spanning tree enabled protocol ${s.protocol === 'rstp' ? 'rstp' : 'ieee'}`];
  out.push(`  Root ID    Priority    ${rootPrio}`, `             Address     ${ciscoMac(rootMac)}`);
  if (s.isRoot) out.push('             This bridge is the root');
  else {
    out.push(`             Cost        ${s.rootCost}`);
    const idx = sw.ports.findIndex((p) => p.name === s.rootPort);
    out.push(`             Port        ${idx + 1} (${longName(s.rootPort!)})`);
  }
  out.push(`             ${times}`, '');
  out.push(`  Bridge ID  Priority    ${ownPrio}`, `             Address     ${ciscoMac(ownMac)}`, `             ${times}`, '             Aging Time  300 sec', '');
  out.push('Interface           Role Sts Cost      Prio.Nbr Type', '------------------- ---- --- --------- -------- --------------------------------');
  s.ports.forEach((p, i) => {
    const port = sw.ports[i]!;
    if (!port.up || port.link === null || port.link.suspended) return;
    const type = `${p.edge ? 'Edge ' : ''}P2p${p.protocol === 'stp' ? ' Peer(STP)' : ''}`;
    out.push(`${shortName(p.name).padEnd(20)}${(ROLE[p.role] ?? p.role).padEnd(5)}${(STATE[p.state] ?? p.state).padEnd(4)}${String(p.cost).padEnd(10)}${p.portId.padEnd(9)}${type}`);
  });
  return `${out.join('\n')}\n`;
}

/** `show interfaces status` (Catalyst). */
export function showInterfacesStatus(sw: Switch, m: SwitchModel): string {
  const out = ['', 'Port      Name               Status       Vlan       Duplex  Speed Type'];
  sw.ports.forEach((port, i) => {
    const p = m.interfaces[i]!;
    const connected = port.link !== null && !port.link.suspended && port.peer !== null && port.peer.up;
    const status = p.shutdown ? 'disabled' : connected ? 'connected' : 'notconnect';
    const vlan = p.mode === 'trunk' ? 'trunk' : String(p.accessVlan);
    out.push(`${shortName(p.name).padEnd(10)}${(p.description ?? '').slice(0, 18).padEnd(19)}${status.padEnd(13)}${vlan.padEnd(11)}${'a-full'.padEnd(8)}${'a-1000'.padEnd(6)}10/100/1000BaseTX`);
  });
  return `${out.join('\n')}\n`;
}

export { defaultVlanName };
