/** The IOS console's interface configuration modes: a router's interfaces and sub-interfaces, a switch's ports. */
import { type Ip4, ip4ToString, macToString, parseIp4, parseMac, prefixToMask } from '../../wire/bytes.js';
import { type Args, Grammar, parseVlanList } from './grammar.js';
import { type RouterIfaceModel, type SwitchPortModel, addUsedVlans, defaultVlanName } from './model.js';
import { longName } from './names.js';
import type { IosShell } from './shell.js';
import { maskLength } from './config-global.js';

const SUBIF_NEEDS_ENCAP = `% Configuring IP routing on a LAN subinterface is only allowed if that
subinterface is already configured as part of an IEEE 802.10, IEEE 802.1Q,
or ISL vLAN.
`;

export function commonSub(sh: IosShell, g: Grammar): void {
  g.add('exit', () => sh.exit());
  g.add('end', () => sh.end());
}

export function routerIfGrammar(sh: IosShell, sub: boolean): Grammar {
  const g = sh.grammar();
  commonSub(sh, g);
  const each = (f: (i: RouterIfaceModel) => void) => () => sh.currentIfaces().forEach(f);
  g.add('ip address <addr:ip> <mask:mask>', (a) => {
    const ip = parseIp4(a.get('addr'))!;
    const prefix = maskLength(a.get('mask'));
    for (const i of sh.currentIfaces()) setIfaceAddress(sh, i, ip, prefix);
  });
  g.add('no ip address [<addr:ip> <mask:mask>]', each((i) => (i.ip = null)));
  g.add('shutdown', each((i) => (i.shutdown = true)));
  g.add('no shutdown', each((i) => (i.shutdown = false)));
  g.add('description <text:line>', (a) => sh.currentIfaces().forEach((i) => (i.description = a.get('text').slice(0, 240))));
  g.add('no description', each((i) => (i.description = null)));
  g.add('ip helper-address <helper:ip>', (a) => {
    const h = parseIp4(a.get('helper'))!;
    for (const i of sh.currentIfaces()) if (!i.helpers.includes(h)) i.helpers.push(h);
  });
  g.add('no ip helper-address [<helper:ip>]', (a) => {
    const h = a.has('helper') ? parseIp4(a.get('helper')) : null;
    for (const i of sh.currentIfaces()) i.helpers = h === null ? [] : i.helpers.filter((x) => x !== h);
  });
  g.add('ip nat (inside|outside)', (a) => {
    for (const i of sh.currentIfaces()) {
      if (a.has('inside')) {
        i.natInside = true;
        i.natOutside = false;
      } else {
        i.natOutside = true;
        i.natInside = false;
      }
    }
  });
  g.add('no ip nat (inside|outside)', (a) => {
    for (const i of sh.currentIfaces()) {
      if (a.has('inside')) i.natInside = false;
      else i.natOutside = false;
    }
  });
  g.add('ip access-group <acl:word> (in|out)', (a) => {
    for (const i of sh.currentIfaces()) {
      if (a.has('in')) i.aclIn = a.get('acl');
      else i.aclOut = a.get('acl');
    }
  });
  g.add('no ip access-group [<acl:word>] (in|out)', (a) => {
    for (const i of sh.currentIfaces()) {
      if (a.has('in')) i.aclIn = null;
      else i.aclOut = null;
    }
  });
  if (sub) {
    g.add('encapsulation dot1Q <vlan:1-4094> [native]', (a) => {
      if (a.has('native')) sh.refuse('% wirelab: a native-VLAN sub-interface is not supported; put the untagged address on the port itself');
      const v = a.num('vlan');
      for (const i of sh.currentIfaces()) {
        const clash = sh.r.interfaces.find((o) => o !== i && o.parent === i.parent && o.vlan === v);
        if (clash) sh.refuse(`% Configuration of multiple subinterfaces of the same main\n% interface with the same VLAN (${v}) is not permitted.\n% This VLAN is already configured on ${longName(clash.name)}.`);
        const live = sh.router?.stack.interface(i.name);
        if (live && live.vlan !== v) sh.refuse(`% wirelab: ${longName(i.name)} already carries VLAN ${live.vlan} on the running router; another VLAN needs a reload after write memory`);
        i.vlan = v;
      }
    });
  } else {
    g.add('mac-address <mac:word>', (a) => {
      const text = a.get('mac');
      const hex = text.replace(/\./g, '');
      const mac = /^[0-9a-fA-F]{12}$/.test(hex) && /^[0-9a-fA-F]{4}\.[0-9a-fA-F]{4}\.[0-9a-fA-F]{4}$/.test(text) ? parseMac(hex.match(/../g)!.join(':')) : null;
      if (mac === null) sh.refuse(`${' '.repeat(sh.promptWidth + 12)}^\n% Invalid input detected at '^' marker.\n`);
      for (const i of sh.currentIfaces()) i.mac = macToString(mac);
    });
    g.add('no mac-address', each((i) => (i.mac = undefined)));
  }
  return g;
}

function setIfaceAddress(sh: IosShell, i: RouterIfaceModel, ip: Ip4, prefix: number): void {
  if (i.parent !== null && i.vlan === null) sh.refuse(SUBIF_NEEDS_ENCAP);
  const mask = prefixToMask(prefix);
  const host = (ip & ~mask) >>> 0;
  if (prefix < 31 && (host === 0 || (host | mask) >>> 0 === 0xffffffff)) sh.refuse(`Bad mask /${prefix} for address ${ip4ToString(ip)}`);
  for (const o of sh.r.interfaces) {
    if (o === i || !o.ip) continue;
    const small = Math.min(prefix, o.ip.prefix);
    const m = prefixToMask(small);
    if (((o.ip.ip & m) >>> 0) === ((ip & m) >>> 0)) sh.refuse(`% ${ip4ToString((ip & mask) >>> 0)} overlaps with ${longName(o.name)}`);
  }
  i.ip = { ip, prefix };
}

export function switchIfGrammar(sh: IosShell): Grammar {
  const g = sh.grammar();
  commonSub(sh, g);
  const each = (f: (p: SwitchPortModel) => void) => () => sh.currentPorts().forEach(f);
  g.add('switchport mode (access|trunk)', (a) => sh.currentPorts().forEach((p) => (p.mode = a.has('trunk') ? 'trunk' : 'access')));
  g.add('no switchport mode', each((p) => (p.mode = 'access')));
  g.add('switchport access vlan <vid:1-4094>', (a) => {
    const v = a.num('vid');
    if (!sh.s.vlans.has(v)) {
      sh.out(`% Access VLAN does not exist. Creating vlan ${v}\n`);
      sh.s.vlans.set(v, defaultVlanName(v));
      sh.s.vlans = new Map([...sh.s.vlans].sort((x, y) => x[0] - y[0]));
    }
    for (const p of sh.currentPorts()) p.accessVlan = v;
  });
  g.add('no switchport access vlan', each((p) => (p.accessVlan = 1)));
  g.add('switchport trunk allowed vlan (<vids:vlans>|add <addv:vlans>|remove <remv:vlans>|except <exv:vlans>|all|none)', (a) => {
    for (const p of sh.currentPorts()) p.allowed = allowedAfter(p.allowed, a);
    addUsedVlans(sh.s);
  });
  g.add('no switchport trunk allowed vlan', each((p) => (p.allowed = 'all')));
  g.add('switchport trunk native vlan <vid:1-4094>', (a) => {
    for (const p of sh.currentPorts()) p.native = a.num('vid');
    addUsedVlans(sh.s);
  });
  g.add('no switchport trunk native vlan', each((p) => (p.native = 1)));
  g.add('switchport trunk encapsulation dot1q', () => {});
  g.add('shutdown', each((p) => (p.shutdown = true)));
  g.add('no shutdown', each((p) => (p.shutdown = false)));
  g.add('description <text:line>', (a) => sh.currentPorts().forEach((p) => (p.description = a.get('text').slice(0, 240))));
  g.add('no description', each((p) => (p.description = null)));
  return g;
}

function allowedAfter(current: number[] | 'all', a: Args): number[] | 'all' {
  const all = () => Array.from({ length: 4094 }, (_, i) => i + 1);
  if (a.has('all')) return 'all';
  if (a.has('none')) return [];
  if (a.has('vids')) {
    const v = a.get('vids');
    return v === 'all' ? 'all' : v === 'none' ? [] : parseVlanList(v)!;
  }
  const cur = current === 'all' ? all() : current;
  let next: number[];
  if (a.has('addv')) next = [...new Set([...cur, ...parseVlanList(a.get('addv'))!])];
  else if (a.has('remv')) {
    const rem = new Set(parseVlanList(a.get('remv'))!);
    next = cur.filter((v) => !rem.has(v));
  } else {
    const ex = new Set(parseVlanList(a.get('exv'))!);
    next = all().filter((v) => !ex.has(v));
  }
  next.sort((x, y) => x - y);
  return next.length === 4094 ? 'all' : next;
}

