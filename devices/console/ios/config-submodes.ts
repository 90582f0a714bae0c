/** The IOS console's smaller configuration modes: DHCP pool, named access list, VLAN and line. */
import { type Ip4, parseIp4, prefixToMask } from '../../wire/bytes.js';
import { type Args, Grammar } from './grammar.js';
import { type PoolModel, defaultVlanName, networkOf } from './model.js';
import type { IosShell } from './shell.js';
import { addAclRule, maskLength } from './config-global.js';
import { commonSub } from './config-interface.js';

function currentPool(sh: IosShell): PoolModel {
  const p = sh.r.pools.find((x) => x.name === sh.pool);
  if (!p) sh.refuse(`%Pool ${sh.pool} does not exist`);
  return p;
}

export function poolGrammar(sh: IosShell): Grammar {
  const g = sh.grammar();
  commonSub(sh, g);
  if (sh.kind !== 'router') return g;
  const ips = (a: Args, names: string[]) => names.filter((n) => a.has(n)).map((n) => parseIp4(a.get(n))!);
  g.add('network <net:ip> <mask:mask>', (a) => {
    const ip = parseIp4(a.get('net'))!;
    const prefix = maskLength(a.get('mask'));
    const p = currentPool(sh);
    if (sh.r.pools.some((o) => o !== p && o.network && o.network.prefix === prefix && networkOf(o.network) === ((ip & prefixToMask(prefix)) >>> 0))) {
      sh.refuse(`% ${a.get('net')}/${prefix} is already used by another pool`);
    }
    if (((ip & prefixToMask(prefix)) >>> 0) !== ip) sh.refuse(`% ${a.get('net')} is not the network address of the subnet`);
    p.network = { ip, prefix };
    if (p.range && !(inSubnet(p.range.start, p.network) && inSubnet(p.range.end, p.network))) p.range = null;
  });
  g.add('no network', () => {
    currentPool(sh).network = null;
  });
  g.add('default-router <gw1:ip> [<gw2:ip> [<gw3:ip>]]', (a) => {
    currentPool(sh).gateways = ips(a, ['gw1', 'gw2', 'gw3']);
  });
  g.add('no default-router', () => {
    currentPool(sh).gateways = [];
  });
  g.add('dns-server <dns1:ip> [<dns2:ip> [<dns3:ip>]]', (a) => {
    currentPool(sh).dns = ips(a, ['dns1', 'dns2', 'dns3']);
  });
  g.add('no dns-server', () => {
    currentPool(sh).dns = [];
  });
  g.add('lease (<days:0-365> [<hours:0-23> [<minutes:0-59>]]|infinite)', (a) => {
    if (a.has('infinite')) sh.refuse('% wirelab: leases end; give days [hours [minutes]]');
    const ns = ((a.has('days') ? a.num('days') : 0) * 1440 + (a.has('hours') ? a.num('hours') : 0) * 60 + (a.has('minutes') ? a.num('minutes') : 0)) * 60e9;
    if (ns === 0) sh.refuse('% Lease time must be at least one minute');
    const p = currentPool(sh);
    p.leaseNs = ns;
  });
  g.add('no lease', () => {
    currentPool(sh).leaseNs = null;
  });
  g.add('domain-name <domain:word>', (a) => {
    currentPool(sh).domain = a.get('domain');
  });
  g.add('no domain-name', () => {
    currentPool(sh).domain = null;
  });
  g.add('address range <lo:ip> <hi:ip>', (a) => {
    const p = currentPool(sh);
    const lo = parseIp4(a.get('lo'))!;
    const hi = parseIp4(a.get('hi'))!;
    if (hi < lo) sh.refuse('% Invalid address range');
    if (p.network && !(inSubnet(lo, p.network) && inSubnet(hi, p.network))) sh.refuse('% The range is outside the pool\'s network');
    p.range = { start: lo, end: hi };
  });
  g.add('no address range', () => {
    currentPool(sh).range = null;
  });
  g.add('address <fixed:ip> hardware-address <mac:word>', (a) => {
    const hex = a.get('mac').replace(/[.:-]/g, '');
    if (!/^[0-9a-fA-F]{12}$/.test(hex)) sh.refuse('% Invalid hardware address');
    const p = currentPool(sh);
    const mac = hex.toLowerCase().match(/../g)!.join(':');
    p.reservations = p.reservations.filter((r) => r.ip !== a.get('fixed'));
    p.reservations.push({ ip: a.get('fixed'), mac });
  });
  g.add('address <fixed:ip> node <node:word> [<nodeif:word>]', (a) => {
    const p = currentPool(sh);
    p.reservations = p.reservations.filter((r) => r.ip !== a.get('fixed'));
    p.reservations.push({ ip: a.get('fixed'), node: a.get('node'), ...(a.has('nodeif') ? { iface: a.get('nodeif') } : {}) });
  });
  g.add('no address <fixed:ip>', (a) => {
    const p = currentPool(sh);
    p.reservations = p.reservations.filter((r) => r.ip !== a.get('fixed'));
  });
  return g;
}

export function naclGrammar(sh: IosShell): Grammar {
  const g = sh.grammar();
  commonSub(sh, g);
  if (sh.kind !== 'router') return g;
  g.add('(permit|deny) <rule:line>', (a) => addAclRule(sh, sh.acl!, `${a.has('permit') ? 'permit' : 'deny'} ${a.get('rule')}`));
  g.add('no (permit|deny) <rule:line>', (a) => {
    const acl = sh.r.acls.find((x) => x.name === sh.acl);
    const text = `${a.has('permit') ? 'permit' : 'deny'} ${a.get('rule')}`.replace(/\s+/g, ' ').trim();
    if (acl) acl.rules = acl.rules.filter((r) => r !== text);
  });
  return g;
}

export function vlanGrammar(sh: IosShell): Grammar {
  const g = sh.grammar();
  commonSub(sh, g);
  if (sh.kind !== 'switch') return g;
  g.add('name <vname:word>', (a) => {
    const name = a.get('vname').slice(0, 32);
    for (const v of sh.vlans) sh.s.vlans.set(v, name);
  });
  g.add('no name', () => {
    for (const v of sh.vlans) sh.s.vlans.set(v, defaultVlanName(v));
  });
  return g;
}

export function lineGrammar(sh: IosShell): Grammar {
  const g = sh.grammar();
  commonSub(sh, g);
  // Console line settings change nothing in wirelab (no logins, no timeouts): accepted, not kept.
  const noop = () => {};
  g.add('[no] logging synchronous', noop);
  g.add('exec-timeout <minutes:0-35791> [<seconds:0-2147483>]', noop);
  g.add('[no] login', noop);
  g.add('password <pw:line>', noop);
  g.add('privilege level <level:0-15>', noop);
  return g;
}

function inSubnet(ip: Ip4, net: { ip: Ip4; prefix: number }): boolean {
  const m = prefixToMask(net.prefix);
  return ((ip & m) >>> 0) === ((net.ip & m) >>> 0);
}

