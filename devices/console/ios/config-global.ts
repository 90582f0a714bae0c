/** The IOS console's global configuration mode: hostname, interfaces, routes, DHCP pools, NAT and ACLs (router), VLANs and spanning tree (switch). */
import { NODE_NAME_RE } from '../../lab/schema.js';
import { isStandardAclName, parseAclRule } from '../../router/acl.js';
import { parseIp4, prefixToMask } from '../../wire/bytes.js';
import { type Args, Grammar, parseVlanList } from './grammar.js';
import { type RouterModel, addUsedVlans, defaultVlanName, networkOf } from './model.js';
import type { IosShell } from './shell.js';

export function configGrammar(sh: IosShell): Grammar {
  const g = sh.grammar();
  g.add('end', () => sh.end());
  g.add('exit', () => sh.exit());
  g.add('hostname <hostname:word>', (a) => {
    const h = a.get('hostname');
    if (!NODE_NAME_RE.test(h)) sh.refuse('% Hostname contains one or more illegal characters.');
    sh.model.hostname = h;
  });
  g.add('interface <ifname:iface>', (a) => sh.enterInterface(a.get('ifname')));
  // Lines show running-config writes that have no effect in wirelab.
  const noop = () => {};
  g.add('!version <v:word>', noop);
  g.add('!service timestamps (debug|log) datetime msec', noop);
  g.add('!no service password-encryption', noop);
  g.add('line (con|aux) <first:0-0>', () => sh.enterMode('line'));
  g.add('line vty <first:0-15> [<last:0-15>]', () => sh.enterMode('line'));
  if (sh.kind === 'router') routerGlobal(sh, g);
  else switchGlobal(sh, g);
  return g;
}

function routerGlobal(sh: IosShell, g: Grammar): void {
  const noop = () => {};
  g.add('no interface <ifname:iface>', (a) => {
    const name = a.get('ifname');
    if (!name.includes('.')) sh.refuse('% Removal of physical interfaces is not permitted');
    sh.r.interfaces = sh.r.interfaces.filter((i) => i.name !== name);
    sh.r.routes = sh.r.routes.filter((x) => x.iface !== name);
    if (sh.r.natOverload?.iface === name) sh.r.natOverload = null;
  });
  g.add('ip route <net:ip> <netmask:mask> (<via:ip>|<out:iface> [<via2:ip>]) [<dist:1-255>]', (a) => {
    const route = routeFrom(sh, a);
    const m = sh.r;
    m.routes = m.routes.filter((x) => !(x.prefix.ip === route.prefix.ip && x.prefix.prefix === route.prefix.prefix && x.via === route.via && x.iface === route.iface));
    m.routes.push(route);
  });
  g.add('no ip route <net:ip> <netmask:mask> [(<via:ip>|<out:iface> [<via2:ip>])] [<dist:1-255>]', (a) => {
    const net = parseIp4(a.get('net'))!;
    const prefix = maskLength(a.get('netmask'));
    const via = a.opt('via') ?? a.opt('via2');
    const out = a.opt('out');
    const m = sh.r;
    const keep = m.routes.filter(
      (x) =>
        !(
          networkOf(x.prefix) === ((net & prefixToMask(prefix)) >>> 0) &&
          x.prefix.prefix === prefix &&
          (via === undefined || x.via === parseIp4(via)) &&
          (out === undefined || x.iface === out)
        ),
    );
    if (keep.length === m.routes.length) sh.refuse('%No matching route to delete');
    m.routes = keep;
  });
  g.add('ip dhcp pool <pool:word>', (a) => {
    const name = a.get('pool');
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/.test(name)) sh.refuse('% wirelab: a pool name is letters, digits, _ . - (up to 63)');
    if (!sh.r.pools.some((p) => p.name === name)) {
      sh.r.pools.push({ name, network: null, gateways: [], dns: [], leaseNs: null, leaseText: undefined, domain: null, range: null, reservations: [] });
    }
    sh.enterMode('pool');
    sh.pool = name;
  });
  g.add('no ip dhcp pool <pool:word>', (a) => {
    const before = sh.r.pools.length;
    sh.r.pools = sh.r.pools.filter((p) => p.name !== a.get('pool'));
    if (sh.r.pools.length === before) sh.refuse(`%Pool ${a.get('pool')} does not exist`);
  });
  g.add('ip dhcp excluded-address <lo:ip> [<hi:ip>]', (a) => {
    const lo = parseIp4(a.get('lo'))!;
    const hi = a.has('hi') ? parseIp4(a.get('hi'))! : lo;
    if (hi < lo) sh.refuse('% Invalid address range');
    if (!sh.r.excluded.some((e) => e.start === lo && e.end === hi)) sh.r.excluded.push({ start: lo, end: hi });
  });
  g.add('no ip dhcp excluded-address <lo:ip> [<hi:ip>]', (a) => {
    const lo = parseIp4(a.get('lo'))!;
    const hi = a.has('hi') ? parseIp4(a.get('hi'))! : lo;
    sh.r.excluded = sh.r.excluded.filter((e) => !(e.start === lo && e.end === hi));
  });
  g.add('ip nat inside source list <list:word> interface <ifname:iface> [overload]', (a) => {
    if (!a.has('overload')) sh.refuse('% wirelab: interface NAT needs overload (PAT): ip nat inside source list ... interface ... overload');
    sh.r.natOverload = { list: a.get('list'), iface: a.get('ifname') };
  });
  g.add('no ip nat inside source list <list:word> [interface <ifname:iface> [overload]]', () => {
    sh.r.natOverload = null;
  });
  g.add('ip nat inside source static <local:ip> <global:ip>', (a) => {
    const inside = parseIp4(a.get('local'))!;
    const outside = parseIp4(a.get('global'))!;
    const m = sh.r;
    if (m.natStatic.some((s) => s.inside === inside || s.outside === outside)) sh.refuse(`% ${a.get('local')} already mapped (${a.get('local')} -> ${a.get('global')})`);
    m.natStatic.push({ inside, outside });
  });
  g.add('no ip nat inside source static <local:ip> <global:ip>', (a) => {
    const inside = parseIp4(a.get('local'))!;
    sh.r.natStatic = sh.r.natStatic.filter((s) => s.inside !== inside);
  });
  g.add('access-list (<std:1-99>|<stdx:1300-1999>|<ext:100-199>|<extx:2000-2699>) (permit|deny) <rule:line>', (a) => {
    const name = a.opt('std') ?? a.opt('stdx') ?? a.opt('ext') ?? a.opt('extx')!;
    addAclRule(sh, name, `${a.has('permit') ? 'permit' : 'deny'} ${a.get('rule')}`);
  });
  g.add('no access-list <acl:word>', (a) => {
    sh.r.acls = sh.r.acls.filter((x) => x.name !== a.get('acl'));
  });
  g.add('ip access-list (standard|extended) <acl:word>', (a) => {
    const name = a.get('acl');
    if (a.has('standard') && !isStandardAclName(name)) sh.refuse('% wirelab: named standard access lists are not supported; use access-list 1-99, or ip access-list extended NAME');
    if (a.has('extended') && isStandardAclName(name)) sh.refuse(`% ${name} is a standard access list number`);
    if (!sh.r.acls.some((x) => x.name === name)) sh.r.acls.push({ name, rules: [] });
    sh.enterMode('nacl');
    sh.acl = name;
  });
  g.add('no ip access-list (standard|extended) <acl:word>', (a) => {
    sh.r.acls = sh.r.acls.filter((x) => x.name !== a.get('acl'));
  });
  g.add('[no] ip (domain lookup|domain-lookup)', noop);
  g.add('!ip cef', noop);
  g.add('!ip forward-protocol nd', noop);
  g.add('!no ip http server', noop);
}

function routeFrom(sh: IosShell, a: Args): RouterModel['routes'][number] {
  const net = parseIp4(a.get('net'))!;
  const prefix = maskLength(a.get('netmask'));
  if (((net & prefixToMask(prefix)) >>> 0) !== net) sh.refuse('%Inconsistent address and mask');
  const viaText = a.opt('via') ?? a.opt('via2');
  const via = viaText !== undefined ? parseIp4(viaText)! : null;
  const iface = a.opt('out') ?? null;
  if (via !== null && sh.r.interfaces.some((i) => i.ip?.ip === via)) sh.refuse('%Invalid next hop address (it\'s this router)');
  return { prefix: { ip: net, prefix }, via, iface, distance: a.has('dist') ? a.num('dist') : null };
}

export function addAclRule(sh: IosShell, name: string, rule: string): void {
  const standard = isStandardAclName(name);
  try {
    parseAclRule(rule, standard);
  } catch (e) {
    sh.refuse(`% Invalid access list entry: ${(e as Error).message.replace(/^"[^"]*": /, '')}`);
  }
  let acl = sh.r.acls.find((x) => x.name === name);
  if (!acl) {
    acl = { name, rules: [] };
    sh.r.acls.push(acl);
  }
  const text = rule.replace(/\s+/g, ' ').trim();
  if (!acl.rules.includes(text)) acl.rules.push(text);
}

function switchGlobal(sh: IosShell, g: Grammar): void {
  g.add('vlan <vids:vlans>', (a) => {
    const list = parseVlanList(a.get('vids'));
    if (!list) sh.refuse('% Bad VLAN list');
    for (const v of list) if (!sh.s.vlans.has(v)) sh.s.vlans.set(v, defaultVlanName(v));
    sh.s.vlans = new Map([...sh.s.vlans].sort((x, y) => x[0] - y[0]));
    sh.enterMode('vlan');
    sh.vlans = list;
  });
  g.add('no vlan <vids:vlans>', (a) => {
    const list = parseVlanList(a.get('vids'));
    if (!list) sh.refuse('% Bad VLAN list');
    if (list.includes(1)) sh.refuse('%Default VLAN 1 may not be deleted.');
    for (const v of list) sh.s.vlans.delete(v);
    addUsedVlans(sh.s);
  });
  g.add('spanning-tree mode (pvst|rapid-pvst|mst)', (a) => {
    if (a.has('mst')) sh.refuse('% wirelab: one spanning tree runs for all VLANs; choose pvst (802.1D) or rapid-pvst (802.1w)');
    sh.s.stp = a.has('pvst') ? 'stp' : 'rstp';
  });
  g.add('spanning-tree vlan <vids:vlans> priority <prio:0-61440>', (a) => {
    const p = a.num('prio');
    if (p % 4096 !== 0) sh.refuse('% Bridge Priority must be in increments of 4096.\n% Allowed values are: \n  0     4096  8192  12288 16384 20480 24576 28672\n  32768 36864 40960 45056 49152 53248 57344 61440');
    sh.s.priority = p;
  });
  g.add('no spanning-tree vlan <vids:vlans> priority', () => {
    sh.s.priority = 32768;
  });
  g.add('no spanning-tree vlan <vids:vlans>', () => {
    sh.s.stp = 'off';
  });
  g.add('spanning-tree vlan <vids:vlans>', () => {
    if (sh.s.stp === 'off') sh.s.stp = 'rstp';
  });
  g.add('!spanning-tree extend system-id', () => {});
}

/** The prefix length of a dotted mask. */
export function maskLength(mask: string): number {
  const m = parseIp4(mask)!;
  for (let p = 0; p <= 32; p++) if (prefixToMask(p) === m) return p;
  return 0;
}

