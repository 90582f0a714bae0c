/**
 * The IOS console's EXEC commands (user and privileged): enable, show, ping and traceroute,
 * terminal settings, clear, and the entries of configure, write and reload.
 */
import type { Router } from '../../router/index.js';
import type { Switch } from '../../switch/index.js';
import { type Ip4, ip4ToString, parseIp4 } from '../../wire/bytes.js';
import { EchoRun, TraceRun } from '../probes.js';
import { type Args, Grammar } from './grammar.js';
import { renderInterfaceSection, renderRunningConfig } from './render.js';
import {
  showAccessLists,
  showArp,
  showDhcpBinding,
  showDhcpPool,
  showInterfaces,
  showInterfacesStatus,
  showIpInterfaceBrief,
  showIpRoute,
  showMacTable,
  showNat,
  showSpanningTree,
  showVlan,
  showVlanBrief,
} from './show.js';
import type { IosShell } from './shell.js';
import { reload, writeMemory } from './memory.js';

export function execGrammar(sh: IosShell, privileged: boolean): Grammar {
  const g = sh.grammar();
  g.add('enable', () => {
    sh.mode = 'exec';
  });
  g.add('(exit|logout|quit)', () => sh.logout());
  // IOS takes ping's options in any order, each once.
  const options = ['repeat <count:1-2147483647>', 'size <bytes:36-18024>', 'timeout <seconds:0-3600>', 'source (<srcip:ip>|<srcif:iface>)'];
  for (const order of orderings(options)) g.add(`ping <target:host> ${order.join(' ')}`.trim(), (a) => ping(sh, a));
  g.add('traceroute <target:host>', (a) => traceroute(sh, a));
  g.add('terminal length <length:0-512>', (a) => {
    sh.terminalLength = a.num('length');
  });
  g.add('terminal width <width:0-512>', (a) => {
    sh.terminalWidth = a.num('width');
  });
  showCommands(sh, g, privileged);
  if (!privileged) return g;
  g.add('disable', () => {
    sh.mode = 'user';
  });
  g.add('configure [terminal]', () => {
    sh.out('Enter configuration commands, one per line.  End with CNTL/Z.\n');
    sh.mode = 'config';
  });
  g.add('write [memory]', () => writeMemory(sh));
  g.add('write terminal', () => sh.out(renderRunningConfig(sh.model) + '\n'));
  g.add('copy running-config startup-config', () => {
    sh.question = {
      prompt: 'Destination filename [startup-config]? ',
      answer: (answer) => {
        if (answer !== '' && answer !== 'startup-config') {
          sh.out(`%Error opening ${answer} (only startup-config: lab.yaml can be written)\n`);
          return 'done';
        }
        return writeMemory(sh) ?? 'done';
      },
    };
  });
  g.add('reload', () => reload(sh));
  if (sh.kind === 'router') {
    g.add('clear arp-cache', () => {
      for (const i of sh.router?.stack.interfaces ?? []) i.arp.clear();
    });
    g.add('clear ip nat translation *', () => sh.router?.nat?.clear());
  } else {
    g.add('clear (mac address-table|mac-address-table) dynamic', () => clearMacTable(sh));
  }
  return g;
}

function clearMacTable(sh: IosShell): void {
  const sw = sh.switch;
  if (!sw) return;
  // Re-applying each port's VLAN settings makes the switch forget what it learned there.
  for (const p of sh.s.interfaces) sw.configurePort(p.name, {});
}

function showCommands(sh: IosShell, g: Grammar, privileged: boolean): void {
  if (privileged) {
    g.add('show running-config', () => sh.out(renderRunningConfig(sh.model) + '\n'));
    g.add('show running-config interface <ifname:iface>', (a) => {
      const t = renderInterfaceSection(sh.model, a.get('ifname'));
      if (t) sh.out(t + '\n');
    });
    g.add('show startup-config', () => showStartup(sh));
  }
  g.add('show version', () => sh.out(version(sh)));
  g.add('show history', () => {
    const lines = (sh.host as { historyLines?(): string[] } | null)?.historyLines?.() ?? [];
    sh.out(lines.map((l) => `  ${l}\n`).join(''));
  });
  g.add('show clock', () => sh.out(`*${clock(sh)}\n`));
  g.add('show ip interface brief', () => sh.out(showIpInterfaceBrief(sh.router, sh.model, sh.fromStartup)));
  g.add('show terminal', () => sh.out(`Line 0, Location: "", Type: ""\nLength: ${sh.terminalLength} lines, Width: ${sh.terminalWidth} columns\n`));
  if (sh.kind === 'router') {
    g.add('show ip route', () => needRouter(sh, (r) => showIpRoute(r)));
    g.add('show interfaces [<ifname:iface>]', (a) => sh.out(showInterfaces(sh.router, null, sh.model, a.opt('ifname'))));
    g.add('show ip dhcp binding', () => needRouter(sh, (r) => showDhcpBinding(r)));
    g.add('show ip dhcp pool', () => needRouter(sh, (r) => showDhcpPool(r, sh.r)));
    g.add('show ip nat translations [verbose]', (a) => needRouter(sh, (r) => showNat(r, a.has('verbose'))));
    g.add('show (arp|ip arp)', () => needRouter(sh, (r) => showArp(r)));
    g.add('show (access-lists|ip access-lists) [<acl:word>]', (a) => needRouter(sh, (r) => showAccessLists(r, a.opt('acl'))));
  } else {
    g.add('show vlan brief', () => sh.out(showVlanBrief(sh.s)));
    g.add('show vlan', () => needSwitch(sh, (sw) => showVlan(sh.s, sw)));
    g.add('show (mac address-table|mac-address-table) [dynamic]', () => needSwitch(sh, (sw) => showMacTable(sw)));
    g.add('show spanning-tree', () => needSwitch(sh, (sw) => showSpanningTree(sw, sh.s)));
    g.add('show interfaces [<ifname:iface>]', (a) => sh.out(showInterfaces(null, sh.switch, sh.model, a.opt('ifname'))));
    g.add('show interfaces status', () => needSwitch(sh, (sw) => showInterfacesStatus(sw, sh.s)));
  }
}

function needRouter(sh: IosShell, f: (r: Router) => string): void {
  const r = sh.router;
  if (r) sh.out(f(r));
}

function needSwitch(sh: IosShell, f: (s: Switch) => string): void {
  const s = sh.switch;
  if (s) sh.out(f(s));
}

function clock(sh: IosShell): string {
  const engine = sh.device?.engine;
  const ms = engine ? Number(engine.epochNs / 1_000_000n) + Math.floor(engine.now / 1e6) : 0;
  const d = new Date(ms);
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const t = `${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}:${String(d.getUTCSeconds()).padStart(2, '0')}.${String(d.getUTCMilliseconds()).padStart(3, '0')}`;
  return `${t} UTC ${days[d.getUTCDay()]} ${months[d.getUTCMonth()]} ${d.getUTCDate()} ${d.getUTCFullYear()}`;
}

function version(sh: IosShell): string {
  const up = Math.floor((sh.device?.engine.now ?? 0) / 1e9);
  const uptime = `${Math.floor(up / 3600)} hours, ${Math.floor((up % 3600) / 60)} minutes`;
  const hw = sh.kind === 'router' ? 'wirelab router (IOS-like CLI)' : 'wirelab switch (IOS-like CLI)';
  return `wirelab IOS-like CLI, Version 15.2 (wirelab)\n\n${sh.model.hostname} uptime is ${uptime}\n\n${hw} with ${sh.model.interfaces.length} ${sh.kind === 'router' ? 'Gigabit Ethernet' : 'Ethernet'} interfaces\n\nConfiguration register is 0x2102\n`;
}

function showStartup(sh: IosShell): void {
  if (!sh.startup) {
    sh.out('startup-config is not present\n');
    return;
  }
  const text = renderRunningConfig(sh.modelFromSpec(sh.startup)).split('\n').slice(3).join('\n');
  sh.out(`Using ${text.length} out of 262136 bytes\n${text}\n`);
}

function target(sh: IosShell, a: Args): Ip4 {
  const t = a.get('target');
  const ip = parseIp4(t);
  if (ip !== null) return ip;
  // Lab node names resolve like an IOS `ip host` table.
  const lab = sh.env?.runtime.lab;
  const node = lab?.nodes[t];
  if (node && (node.kind === 'host' || node.kind === 'router')) {
    const live = sh.env!.runtime.node(t);
    const addr = (live as Router | undefined)?.stack?.interfaces.find((i) => i.addresses.length > 0)?.addresses[0]?.ip;
    if (addr !== undefined) return addr;
  }
  sh.refuse('% Unrecognized host or address, or protocol not running.\n');
}

function ping(sh: IosShell, a: Args): void {
  const dst = target(sh, a);
  const r = sh.router;
  if (!r || !r.running) sh.refuse('% Unrecognized host or address, or protocol not running.\n');
  const count = a.has('count') ? a.num('count') : 5;
  const bytes = a.has('bytes') ? a.num('bytes') : 100;
  const seconds = a.has('seconds') ? a.num('seconds') : 2;
  let src: Ip4 | undefined;
  if (a.has('srcip')) {
    src = parseIp4(a.get('srcip'))!;
    if (!r.stack.isLocalAddress(src)) sh.refuse(`% Invalid source address- IP address not on any of our up interfaces\n`);
  } else if (a.has('srcif')) {
    src = r.stack.interface(a.get('srcif'))?.addresses[0]?.ip;
    if (src === undefined) sh.refuse(`% Invalid source interface - IP not enabled or interface is down\n`);
  }
  sh.out(`Type escape sequence to abort.\nSending ${count}, ${bytes}-byte ICMP Echos to ${ip4ToString(dst)}, timeout is ${seconds} seconds:\n`);
  if (src !== undefined) sh.out(`Packet sent with a source address of ${ip4ToString(src)} \n`);
  const run = new EchoRun(r.engine, r.stack, dst, { protocol: 'icmp', count, size: bytes - 28, waitNs: seconds * 1e9, gapNs: 0, unsentIsLost: true, ...(src !== undefined ? { srcIp: src } : {}) }, sh);
  sh.op = { kind: 'ping', run, count, col: 0, rtts: [] };
  run.start();
}

function traceroute(sh: IosShell, a: Args): void {
  const dst = target(sh, a);
  const r = sh.router;
  if (!r || !r.running) sh.refuse('% Unrecognized host or address, or protocol not running.\n');
  sh.out(`Type escape sequence to abort.\nTracing the route to ${ip4ToString(dst)}\nVRF info: (vrf in name/id, vrf out name/id)\n`);
  const run = new TraceRun(r.engine, r.stack, dst, { maxHops: 30, perHop: 3, waitNs: 3e9, size: 0, basePort: 33434, portStep: 1 }, sh);
  sh.op = { kind: 'trace', run, last: null };
  run.start();
}

/** Every ordering of every subset of `items`. */
function orderings<T>(items: readonly T[]): T[][] {
  const out: T[][] = [[]];
  const walk = (prefix: T[], rest: readonly T[]) => {
    rest.forEach((x, i) => {
      const next = [...prefix, x];
      out.push(next);
      walk(next, [...rest.slice(0, i), ...rest.slice(i + 1)]);
    });
  };
  walk([], items);
  return out;
}

