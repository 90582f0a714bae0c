/**
 * `show running-config` from the model, in IOS's layout. Every line it writes is a command the
 * configuration mode accepts, so the text parses back into the same model (parseRunningConfig).
 */
import { type Ip4, ip4ToString, prefixToMask } from '../../wire/bytes.js';
import { isStandardAclName } from '../../router/acl.js';
import { type RouterModel, type SwitchModel, type DeviceModel, defaultVlanName, networkOf } from './model.js';
import { longName } from './names.js';

const ip = ip4ToString;
const mask = (prefix: number): string => ip(prefixToMask(prefix));

/** IOS writes a lease as days, hours, minutes. */
export function leaseWords(ns: number): string {
  const totalMin = Math.round(ns / 60e9);
  const d = Math.floor(totalMin / 1440);
  const h = Math.floor((totalMin % 1440) / 60);
  const m = totalMin % 60;
  if (m) return `${d} ${h} ${m}`;
  if (h) return `${d} ${h}`;
  return `${d}`;
}

/** VLAN lists as IOS prints them: runs of three or more collapse into a range. */
export function vlanListText(vlans: readonly number[]): string {
  const out: string[] = [];
  for (let i = 0; i < vlans.length; ) {
    let j = i;
    while (j + 1 < vlans.length && vlans[j + 1] === vlans[j]! + 1) j++;
    if (j - i >= 2) out.push(`${vlans[i]}-${vlans[j]}`);
    else for (let k = i; k <= j; k++) out.push(String(vlans[k]));
    i = j + 1;
  }
  return out.join(',');
}

/** A MAC as IOS writes it: 0050.7966.6801. */
export function ciscoMac(text: string): string {
  const hex = text.replace(/[^0-9a-f]/gi, '').toLowerCase().padStart(12, '0');
  return `${hex.slice(0, 4)}.${hex.slice(4, 8)}.${hex.slice(8, 12)}`;
}

function routerBody(m: RouterModel): string[] {
  const L: string[] = ['!', 'version 15.2', 'service timestamps debug datetime msec', 'service timestamps log datetime msec', 'no service password-encryption', '!', `hostname ${m.hostname}`, '!'];
  for (const e of m.excluded) L.push(`ip dhcp excluded-address ${ip(e.start)}${e.end !== e.start ? ` ${ip(e.end)}` : ''}`);
  if (m.excluded.length) L.push('!');
  for (const p of m.pools) {
    L.push(`ip dhcp pool ${p.name}`);
    if (p.network) L.push(` network ${ip(networkOf(p.network))} ${mask(p.network.prefix)}`);
    if (p.range) L.push(` address range ${ip(p.range.start)} ${ip(p.range.end)}`);
    for (const r of p.reservations) {
      if (r.mac !== undefined) L.push(` address ${r.ip} hardware-address ${ciscoMac(r.mac)}`);
      else if (r.node !== undefined) L.push(` address ${r.ip} node ${r.node}${r.iface !== undefined ? ` ${r.iface}` : ''}`);
    }
    if (p.gateways.length) L.push(` default-router ${p.gateways.map(ip).join(' ')}`);
    if (p.dns.length) L.push(` dns-server ${p.dns.map(ip).join(' ')}`);
    if (p.domain) L.push(` domain-name ${p.domain}`);
    if (p.leaseNs !== null) L.push(` lease ${leaseWords(p.leaseNs)}`);
    L.push('!');
  }
  L.push('no ip domain lookup', 'ip cef', '!');
  for (const i of m.interfaces) {
    L.push(`interface ${longName(i.name)}`);
    if (i.description !== null) L.push(` description ${i.description}`);
    if (i.mac !== undefined) L.push(` mac-address ${ciscoMac(i.mac)}`);
    if (i.vlan !== null) L.push(` encapsulation dot1Q ${i.vlan}`);
    if (i.ip) L.push(` ip address ${ip(i.ip.ip)} ${mask(i.ip.prefix)}`);
    else L.push(' no ip address');
    for (const h of i.helpers) L.push(` ip helper-address ${ip(h)}`);
    if (i.aclIn) L.push(` ip access-group ${i.aclIn} in`);
    if (i.aclOut) L.push(` ip access-group ${i.aclOut} out`);
    if (i.natInside) L.push(' ip nat inside');
    if (i.natOutside) L.push(' ip nat outside');
    if (i.shutdown) L.push(' shutdown');
    L.push('!');
  }
  L.push('ip forward-protocol nd', '!', 'no ip http server', '!');
  if (m.natOverload) L.push(`ip nat inside source list ${m.natOverload.list} interface ${longName(m.natOverload.iface)} overload`);
  for (const s of m.natStatic) L.push(`ip nat inside source static ${ip(s.inside)} ${ip(s.outside)}`);
  for (const r of m.routes) {
    const target = [r.iface !== null ? longName(r.iface) : null, r.via !== null ? ip(r.via) : null].filter((x) => x !== null).join(' ');
    L.push(`ip route ${ip(networkOf(r.prefix))} ${mask(r.prefix.prefix)} ${target}${r.distance !== null ? ` ${r.distance}` : ''}`);
  }
  L.push('!');
  const numbered = m.acls.filter((a) => /^\d+$/.test(a.name));
  for (const a of numbered) for (const rule of a.rules) L.push(`access-list ${a.name} ${rule}`);
  if (numbered.length) L.push('!');
  for (const a of m.acls) {
    if (/^\d+$/.test(a.name)) continue;
    L.push(`ip access-list ${isStandardAclName(a.name) ? 'standard' : 'extended'} ${a.name}`);
    for (const rule of a.rules) L.push(` ${rule}`);
    L.push('!');
  }
  L.push('line con 0', ' logging synchronous', 'line aux 0', 'line vty 0 4', ' login', '!', 'end');
  return L;
}

function switchBody(m: SwitchModel): string[] {
  const L: string[] = ['!', 'version 15.2', 'service timestamps debug datetime msec', 'service timestamps log datetime msec', 'no service password-encryption', '!', `hostname ${m.hostname}`, '!'];
  if (m.stp === 'off') L.push('no spanning-tree vlan 1-4094');
  else L.push(`spanning-tree mode ${m.stp === 'rstp' ? 'rapid-pvst' : 'pvst'}`);
  L.push('spanning-tree extend system-id');
  if (m.priority !== 32768) L.push(`spanning-tree vlan 1-4094 priority ${m.priority}`);
  L.push('!');
  for (const [v, name] of m.vlans) {
    if (v === 1) continue;
    L.push(`vlan ${v}`);
    if (name !== defaultVlanName(v)) L.push(` name ${name}`);
    L.push('!');
  }
  for (const p of m.interfaces) {
    L.push(`interface ${longName(p.name)}`);
    if (p.description !== null) L.push(` description ${p.description}`);
    if (p.accessVlan !== 1) L.push(` switchport access vlan ${p.accessVlan}`);
    if (p.allowed !== 'all') L.push(` switchport trunk allowed vlan ${p.allowed.length ? vlanListText(p.allowed) : 'none'}`);
    if (p.native !== 1) L.push(` switchport trunk native vlan ${p.native}`);
    if (p.mode === 'trunk') L.push(' switchport mode trunk');
    else if (p.accessVlan !== 1) L.push(' switchport mode access');
    if (p.shutdown) L.push(' shutdown');
    L.push('!');
  }
  L.push('line con 0', ' logging synchronous', 'line vty 0 4', ' login', '!', 'end');
  return L;
}

/** The whole `show running-config` text ('\n' line ends, none at the very end). */
export function renderRunningConfig(m: DeviceModel): string {
  const body = (m.kind === 'router' ? routerBody(m) : switchBody(m)).join('\n') + '\n';
  return `Building configuration...\n\nCurrent configuration : ${body.length} bytes\n${body}`;
}

/** The interface section of `show running-config interface X`. */
export function renderInterfaceSection(m: DeviceModel, name: string): string | null {
  const lines = renderRunningConfig(m).split('\n');
  const head = `interface ${longName(name)}`;
  const at = lines.indexOf(head);
  if (at < 0) return null;
  let end = at + 1;
  while (end < lines.length && lines[end] !== '!') end++;
  const body = lines.slice(at, end).join('\n') + '\nend\n';
  return `Building configuration...\n\nCurrent configuration : ${body.length} bytes\n!\n${body}`;
}

export function ipText(v: Ip4): string {
  return ip(v);
}
