/**
 * The router and switch console: an IOS-like CLI on the running configuration model (model.ts),
 * which it keeps in step with the live device (reconcile.ts) after every configuration command.
 *
 * Modes and prompts as IOS: R1> (user EXEC), R1# (privileged, `enable`), R1(config)#
 * (`configure terminal`), R1(config-if)#, R1(config-subif)#, R1(dhcp-config)#, R1(config-line)#,
 * R1(config-ext-nacl)#, SW1(config-vlan)#. A command a sub-mode does not know is tried in global
 * configuration, as IOS does; `do` runs an EXEC command from any configuration mode.
 *
 * The same class, without a device, reads a `show running-config` text back into a model
 * (parseRunningConfig).
 */
import type { Router } from '../../router/index.js';
import type { Switch } from '../../switch/index.js';
import type { NodeSpec, RouterNodeSpec, SwitchNodeSpec } from '../../lab/schema.js';
import { NODE_NAME_RE } from '../../lab/schema.js';
import { isStandardAclName, parseAclRule } from '../../router/acl.js';
import { type Ip4, ip4ToString, macToString, parseIp4, parseMac, prefixToMask } from '../../wire/bytes.js';
import type { ConsoleEnv, SaveOutcome, SaveRequest } from '../env.js';
import { EchoRun, type EchoRunListener, type ProbeResult, TraceRun, type TraceProbeResult, type TraceRunListener } from '../probes.js';
import type { Shell, ShellHost } from '../terminal.js';
import { type Args, Grammar, Parser, type ParseResult, parseVlanList, tokenize } from './grammar.js';
import { helpText } from './help.js';
import {
  type DeviceModel,
  type PoolModel,
  type RouterIfaceModel,
  type RouterModel,
  type SwitchModel,
  type SwitchPortModel,
  addUsedVlans,
  blankRouter,
  blankSwitch,
  defaultVlanName,
  networkOf,
  routerFromSpec,
  routerToSpec,
  routerTopology,
  sortRouterIfaces,
  switchFromSpec,
  switchToSpec,
} from './model.js';
import { DeviceIfaces, longName } from './names.js';
import { reconcileRouter, reconcileSwitch } from './reconcile.js';
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

export type IosMode = 'user' | 'exec' | 'config' | 'if' | 'subif' | 'pool' | 'line' | 'vlan' | 'nacl';

const CONFIG_MODES: ReadonlySet<IosMode> = new Set(['config', 'if', 'subif', 'pool', 'line', 'vlan', 'nacl']);
const SUB_MODES: ReadonlySet<IosMode> = new Set(['if', 'subif', 'pool', 'line', 'vlan', 'nacl']);

const PROMPT_SUFFIX: Record<IosMode, string> = {
  user: '>',
  exec: '#',
  config: '(config)#',
  if: '(config-if)#',
  subif: '(config-subif)#',
  pool: '(dhcp-config)#',
  line: '(config-line)#',
  vlan: '(config-vlan)#',
  nacl: '(config-ext-nacl)#',
};

const SUBIF_NEEDS_ENCAP = `% Configuring IP routing on a LAN subinterface is only allowed if that
subinterface is already configured as part of an IEEE 802.10, IEEE 802.1Q,
or ISL vLAN.
`;

/** Thrown by a handler to refuse a command with IOS's message; nothing has changed yet. */
class Refused extends Error {}

type Operation =
  | { kind: 'ping'; run: EchoRun; count: number; col: number; rtts: number[] }
  | { kind: 'trace'; run: TraceRun; last: Ip4 | null }
  | { kind: 'save' };

export interface IosShellOptions {
  kind: 'router' | 'switch';
  model: DeviceModel;
  /** The node's lab.yaml entry (the startup configuration). */
  startup?: NodeSpec | undefined;
  env?: ConsoleEnv | null;
  host?: ShellHost | null;
  mode?: IosMode;
}

export class IosShell implements Shell, EchoRunListener, TraceRunListener {
  readonly historySize = 256;
  readonly kind: 'router' | 'switch';
  model: DeviceModel;
  mode: IosMode;
  startup: NodeSpec | undefined;
  /** Interfaces whose address came from lab.yaml (`show ip interface brief` Method NVRAM). */
  fromStartup = new Set<string>();
  /** What a configuration text did not understand (parseRunningConfig). */
  readonly errors: string[] = [];
  private readonly env: ConsoleEnv | null;
  private readonly host: ShellHost | null;
  private readonly parser: Parser;
  private readonly built = new Map<IosMode, Grammar>();
  /** Each mode's commands, made on first use (reading a configuration text needs only the configuration modes). */
  private readonly grammars = new Proxy({} as Record<IosMode, Grammar>, {
    get: (_t, mode: string) => {
      const m = mode as IosMode;
      let g = this.built.get(m);
      if (!g) {
        g = this.makeGrammar(m);
        this.built.set(m, g);
      }
      return g;
    },
  });

  private makeGrammar(mode: IosMode): Grammar {
    switch (mode) {
      case 'user':
        return this.execGrammar(false);
      case 'exec':
        return this.execGrammar(true);
      case 'config':
        return this.configGrammar();
      case 'if':
        return this.kind === 'router' ? this.routerIfGrammar(false) : this.switchIfGrammar();
      case 'subif':
        return this.routerIfGrammar(true);
      case 'pool':
        return this.poolGrammar();
      case 'line':
        return this.lineGrammar();
      case 'vlan':
        return this.vlanGrammar();
      case 'nacl':
        return this.naclGrammar();
    }
  }
  private ifaces: string[] = [];
  private pool: string | null = null;
  private vlans: number[] = [];
  private acl: string | null = null;
  private question: { prompt: string; answer: (line: string) => 'done' | 'busy' } | null = null;
  private pressReturn = false;
  private op: Operation | null = null;
  /** Column of the prompt's end, for the caret under an error. */
  private promptWidth = 0;
  terminalLength = 24;
  terminalWidth = 80;

  constructor(opts: IosShellOptions) {
    this.kind = opts.kind;
    this.model = opts.model;
    this.startup = opts.startup;
    this.env = opts.env ?? null;
    this.host = opts.host ?? null;
    this.mode = opts.mode ?? 'user';
    this.parser = new Parser(
      new DeviceIfaces(
        () => this.interfaceNames(),
        () => this.kind === 'router' && CONFIG_MODES.has(this.mode),
      ),
    );
    this.markStartupAddresses();
  }

  // ---------------------------------------------------------------- device

  private get device(): Router | Switch | null {
    if (!this.env) return null;
    return (this.env.runtime.node(this.env.node) as Router | Switch | undefined) ?? null;
  }
  private get router(): Router | null {
    const d = this.device;
    return d && d.kind === 'router' ? (d as Router) : null;
  }
  private get switch(): Switch | null {
    const d = this.device;
    return d && d.kind === 'switch' ? (d as Switch) : null;
  }

  private interfaceNames(): string[] {
    return this.model.interfaces.map((i) => i.name);
  }

  private markStartupAddresses(): void {
    this.fromStartup = new Set(this.model.kind === 'router' ? this.model.interfaces.filter((i) => i.ip).map((i) => i.name) : []);
  }

  // ---------------------------------------------------------------- Shell

  prompt(): string {
    if (this.question) return this.question.prompt;
    if (this.pressReturn) return '';
    return `${this.model.hostname}${PROMPT_SUFFIX[this.mode]}`;
  }

  private out(text: string): void {
    if (this.host) this.host.print(text);
  }

  execute(raw: string): 'done' | 'busy' {
    if (this.question) {
      const q = this.question;
      this.question = null;
      return q.answer(raw.trim());
    }
    if (this.pressReturn) {
      this.pressReturn = false;
      return 'done';
    }
    this.promptWidth = this.prompt().length;
    const line = raw.replace(/\s+$/, '');
    if (line.trim() === '') return 'done';
    if (CONFIG_MODES.has(this.mode) && line.trimStart().startsWith('!')) return 'done';
    return this.run(line, this.mode);
  }

  /** Runs a line in `mode`, with IOS's fallbacks (`do`, a sub-mode's unknown command tried globally). */
  private run(line: string, mode: IosMode): 'done' | 'busy' {
    const tokens = tokenize(line);
    if (CONFIG_MODES.has(mode) && tokens[0] && tokens[0].text.toLowerCase() === 'do' && tokens.length > 1) {
      const r = this.parser.parse(this.grammars.exec.root, line, tokens.slice(1));
      return this.finish(r, line, 'exec');
    }
    let r = this.parser.parse(this.grammars[mode].root, line, tokens);
    if (!r.ok && SUB_MODES.has(mode)) {
      const g = this.parser.parse(this.grammars.config.root, line, tokens);
      if (g.ok) {
        this.exitToConfig();
        r = g;
        mode = 'config';
      }
    }
    if (!r.ok && (mode === 'user' || mode === 'exec') && r.kind === 'invalid' && tokens.length === 1 && r.at === tokens[0]!.start) {
      this.out(`Translating "${tokens[0]!.text}"\n% Unknown command or computer name, or unable to find computer address\n`);
      return 'done';
    }
    return this.finish(r, line, mode);
  }

  private finish(r: ParseResult, line: string, mode: IosMode): 'done' | 'busy' {
    if (!r.ok) {
      this.parseError(r, line);
      return 'done';
    }
    // The model before the command, to reconcile the device with (and to go back to if refused);
    // reading a configuration text has no device, and its handlers check before they change.
    const configuring = CONFIG_MODES.has(mode) && this.env !== null;
    const before = configuring ? structuredClone(this.model) : null;
    const opBefore = this.op;
    try {
      r.node.run!(r.args);
    } catch (e) {
      if (e instanceof Refused) {
        if (before) this.model = before;
        this.out(e.message.endsWith('\n') ? e.message : `${e.message}\n`);
        if (!this.host) this.errors.push(`${line}: ${e.message.trim()}`);
        return 'done';
      }
      throw e;
    }
    if (before) this.syncDevice(before);
    if (this.question) return 'done';
    return this.op !== null && this.op !== opBefore ? 'busy' : 'done';
  }

  private parseError(r: ParseResult & { ok: false }, line: string): void {
    if (!this.host) {
      this.errors.push(`${line}: ${r.kind === 'invalid' ? `invalid input at column ${r.at + 1}` : r.kind}`);
      return;
    }
    if (r.kind === 'invalid') this.out(`${' '.repeat(this.promptWidth + r.at)}^\n% Invalid input detected at '^' marker.\n\n`);
    else if (r.kind === 'incomplete') this.out('% Incomplete command.\n\n');
    else this.out(`% Ambiguous command:  "${line.trim()}"\n`);
  }

  /** Pushes the change of one configuration command to the live device. */
  private syncDevice(before: DeviceModel): void {
    const d = this.device;
    if (!d) return;
    try {
      if (this.model.kind === 'router' && before.kind === 'router') reconcileRouter(d as Router, before, this.model);
      else if (this.model.kind === 'switch' && before.kind === 'switch') reconcileSwitch(d as Switch, before, this.model);
    } catch (e) {
      this.out(`% ${(e as Error).message}\n`);
      const failed = this.model;
      this.model = before;
      try {
        if (failed.kind === 'router' && before.kind === 'router') reconcileRouter(d as Router, failed, before);
        else if (failed.kind === 'switch' && before.kind === 'switch') reconcileSwitch(d as Switch, failed, before);
      } catch {
        // The device keeps what it could take; the model says what was asked for before.
      }
    }
  }

  help(line: string): string[] | null {
    if (this.question || this.pressReturn) return null;
    this.promptWidth = this.prompt().length;
    const mode = this.mode;
    const tokens = tokenize(line);
    let root = this.grammars[mode].root;
    let text = line;
    if (CONFIG_MODES.has(mode) && tokens[0]?.text.toLowerCase() === 'do' && (tokens.length > 1 || /\s$/.test(line))) {
      root = this.grammars.exec.root;
      text = ' '.repeat(tokens[0].start + 2) + line.slice(tokens[0].start + 2);
    }
    const h = this.parser.help(root, text);
    if ('lines' in h) return h.lines;
    if ('unrecognized' in h) return ['% Unrecognized command'];
    const e = h.error;
    if (e.kind === 'invalid') return [`${' '.repeat(this.promptWidth + e.at)}^`, "% Invalid input detected at '^' marker.", ''];
    if (e.kind === 'ambiguous') return [`% Ambiguous command:  "${line.trim()}"`];
    return ['% Incomplete command.', ''];
  }

  complete(line: string): string | null {
    if (this.question || this.pressReturn) return null;
    const tokens = tokenize(line);
    if (CONFIG_MODES.has(this.mode) && tokens[0]?.text.toLowerCase() === 'do' && tokens.length > 1) {
      return this.parser.complete(this.grammars.exec.root, line.slice(0, tokens[0].start) + ' '.repeat(2) + line.slice(tokens[0].start + 2))?.replace(/^(\s*)  /, `$1${tokens[0].text}`) ?? null;
    }
    return this.parser.complete(this.grammars[this.mode].root, line);
  }

  suspend(): boolean {
    if (!CONFIG_MODES.has(this.mode)) return false;
    this.mode = 'exec';
    return true;
  }

  interrupt(): void {
    const op = this.op;
    if (op === null) return;
    if (op.kind === 'ping' || op.kind === 'trace') op.run.stop();
  }

  // ---------------------------------------------------------------- modes

  private exitToConfig(): void {
    this.mode = 'config';
    this.ifaces = [];
    this.pool = null;
    this.vlans = [];
    this.acl = null;
  }

  private exit(): void {
    if (SUB_MODES.has(this.mode)) this.exitToConfig();
    else if (this.mode === 'config') this.mode = 'exec';
    else this.logout();
  }

  private end(): void {
    this.exitToConfig();
    this.mode = 'exec';
  }

  private logout(): void {
    this.mode = 'user';
    this.out(`\n${this.model.hostname} con0 is now available\n\n\n\n\n\nPress RETURN to get started.\n\n`);
    this.pressReturn = true;
  }

  // ---------------------------------------------------------------- grammar helpers

  private grammar(): Grammar {
    return new Grammar(helpText);
  }

  private refuse(message: string): never {
    throw new Refused(message);
  }

  private get r(): RouterModel {
    if (this.model.kind !== 'router') throw new Error('not a router');
    return this.model;
  }
  private get s(): SwitchModel {
    if (this.model.kind !== 'switch') throw new Error('not a switch');
    return this.model;
  }

  private currentIfaces(): RouterIfaceModel[] {
    return this.r.interfaces.filter((i) => this.ifaces.includes(i.name));
  }
  private currentPorts(): SwitchPortModel[] {
    return this.s.interfaces.filter((i) => this.ifaces.includes(i.name));
  }

  // ---------------------------------------------------------------- EXEC

  private execGrammar(privileged: boolean): Grammar {
    const g = this.grammar();
    g.add('enable', () => {
      this.mode = 'exec';
    });
    g.add('(exit|logout|quit)', () => this.logout());
    // IOS takes ping's options in any order, each once.
    const options = ['repeat <count:1-2147483647>', 'size <bytes:36-18024>', 'timeout <seconds:0-3600>', 'source (<srcip:ip>|<srcif:iface>)'];
    for (const order of orderings(options)) g.add(`ping <target:host> ${order.join(' ')}`.trim(), (a) => this.ping(a));
    g.add('traceroute <target:host>', (a) => this.traceroute(a));
    g.add('terminal length <length:0-512>', (a) => {
      this.terminalLength = a.num('length');
    });
    g.add('terminal width <width:0-512>', (a) => {
      this.terminalWidth = a.num('width');
    });
    this.showCommands(g, privileged);
    if (!privileged) return g;
    g.add('disable', () => {
      this.mode = 'user';
    });
    g.add('configure [terminal]', () => {
      this.out('Enter configuration commands, one per line.  End with CNTL/Z.\n');
      this.mode = 'config';
    });
    g.add('write [memory]', () => this.writeMemory());
    g.add('write terminal', () => this.out(renderRunningConfig(this.model) + '\n'));
    g.add('copy running-config startup-config', () => {
      this.question = {
        prompt: 'Destination filename [startup-config]? ',
        answer: (answer) => {
          if (answer !== '' && answer !== 'startup-config') {
            this.out(`%Error opening ${answer} (only startup-config: lab.yaml can be written)\n`);
            return 'done';
          }
          return this.writeMemory() ?? 'done';
        },
      };
    });
    g.add('reload', () => this.reload());
    if (this.kind === 'router') {
      g.add('clear arp-cache', () => {
        for (const i of this.router?.stack.interfaces ?? []) i.arp.clear();
      });
      g.add('clear ip nat translation *', () => this.router?.nat?.clear());
    } else {
      g.add('clear (mac address-table|mac-address-table) dynamic', () => this.clearMacTable());
    }
    return g;
  }

  private clearMacTable(): void {
    const sw = this.switch;
    if (!sw) return;
    // Re-applying each port's VLAN settings makes the switch forget what it learned there.
    for (const p of this.s.interfaces) sw.configurePort(p.name, {});
  }

  private showCommands(g: Grammar, privileged: boolean): void {
    if (privileged) {
      g.add('show running-config', () => this.out(renderRunningConfig(this.model) + '\n'));
      g.add('show running-config interface <ifname:iface>', (a) => {
        const t = renderInterfaceSection(this.model, a.get('ifname'));
        if (t) this.out(t + '\n');
      });
      g.add('show startup-config', () => this.showStartup());
    }
    g.add('show version', () => this.out(this.version()));
    g.add('show history', () => {
      const lines = (this.host as { historyLines?(): string[] } | null)?.historyLines?.() ?? [];
      this.out(lines.map((l) => `  ${l}\n`).join(''));
    });
    g.add('show clock', () => this.out(`*${this.clock()}\n`));
    g.add('show ip interface brief', () => this.out(showIpInterfaceBrief(this.router, this.model, this.fromStartup)));
    g.add('show terminal', () => this.out(`Line 0, Location: "", Type: ""\nLength: ${this.terminalLength} lines, Width: ${this.terminalWidth} columns\n`));
    if (this.kind === 'router') {
      g.add('show ip route', () => this.needRouter((r) => showIpRoute(r)));
      g.add('show interfaces [<ifname:iface>]', (a) => this.out(showInterfaces(this.router, null, this.model, a.opt('ifname'))));
      g.add('show ip dhcp binding', () => this.needRouter((r) => showDhcpBinding(r)));
      g.add('show ip dhcp pool', () => this.needRouter((r) => showDhcpPool(r, this.r)));
      g.add('show ip nat translations [verbose]', (a) => this.needRouter((r) => showNat(r, a.has('verbose'))));
      g.add('show (arp|ip arp)', () => this.needRouter((r) => showArp(r)));
      g.add('show (access-lists|ip access-lists) [<acl:word>]', (a) => this.needRouter((r) => showAccessLists(r, a.opt('acl'))));
    } else {
      g.add('show vlan brief', () => this.out(showVlanBrief(this.s)));
      g.add('show vlan', () => this.needSwitch((sw) => showVlan(this.s, sw)));
      g.add('show (mac address-table|mac-address-table) [dynamic]', () => this.needSwitch((sw) => showMacTable(sw)));
      g.add('show spanning-tree', () => this.needSwitch((sw) => showSpanningTree(sw, this.s)));
      g.add('show interfaces [<ifname:iface>]', (a) => this.out(showInterfaces(null, this.switch, this.model, a.opt('ifname'))));
      g.add('show interfaces status', () => this.needSwitch((sw) => showInterfacesStatus(sw, this.s)));
    }
  }

  private needRouter(f: (r: Router) => string): void {
    const r = this.router;
    if (r) this.out(f(r));
  }
  private needSwitch(f: (s: Switch) => string): void {
    const s = this.switch;
    if (s) this.out(f(s));
  }

  private clock(): string {
    const engine = this.device?.engine;
    const ms = engine ? Number(engine.epochNs / 1_000_000n) + Math.floor(engine.now / 1e6) : 0;
    const d = new Date(ms);
    const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
    const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
    const t = `${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}:${String(d.getUTCSeconds()).padStart(2, '0')}.${String(d.getUTCMilliseconds()).padStart(3, '0')}`;
    return `${t} UTC ${days[d.getUTCDay()]} ${months[d.getUTCMonth()]} ${d.getUTCDate()} ${d.getUTCFullYear()}`;
  }

  private version(): string {
    const up = Math.floor((this.device?.engine.now ?? 0) / 1e9);
    const uptime = `${Math.floor(up / 3600)} hours, ${Math.floor((up % 3600) / 60)} minutes`;
    const hw = this.kind === 'router' ? 'wirelab router (IOS-like CLI)' : 'wirelab switch (IOS-like CLI)';
    return `wirelab IOS-like CLI, Version 15.2 (wirelab)\n\n${this.model.hostname} uptime is ${uptime}\n\n${hw} with ${this.model.interfaces.length} ${this.kind === 'router' ? 'Gigabit Ethernet' : 'Ethernet'} interfaces\n\nConfiguration register is 0x2102\n`;
  }

  private showStartup(): void {
    if (!this.startup) {
      this.out('startup-config is not present\n');
      return;
    }
    const text = renderRunningConfig(this.modelFromSpec(this.startup)).split('\n').slice(3).join('\n');
    this.out(`Using ${text.length} out of 262136 bytes\n${text}\n`);
  }

  private modelFromSpec(spec: NodeSpec): DeviceModel {
    const name = this.env?.node ?? this.model.hostname;
    if (spec.kind === 'router') return routerFromSpec(name, spec);
    if (spec.kind === 'switch') return switchFromSpec(name, spec);
    throw new Error(`${name} is a ${spec.kind}`);
  }

  // ---------------------------------------------------------------- ping and traceroute

  private target(a: Args): Ip4 {
    const t = a.get('target');
    const ip = parseIp4(t);
    if (ip !== null) return ip;
    // Lab node names resolve like an IOS `ip host` table.
    const lab = this.env?.runtime.lab;
    const node = lab?.nodes[t];
    if (node && (node.kind === 'host' || node.kind === 'router')) {
      const live = this.env!.runtime.node(t);
      const addr = (live as Router | undefined)?.stack?.interfaces.find((i) => i.addresses.length > 0)?.addresses[0]?.ip;
      if (addr !== undefined) return addr;
    }
    this.refuse('% Unrecognized host or address, or protocol not running.\n');
  }

  private ping(a: Args): void {
    const dst = this.target(a);
    const r = this.router;
    if (!r || !r.running) this.refuse('% Unrecognized host or address, or protocol not running.\n');
    const count = a.has('count') ? a.num('count') : 5;
    const bytes = a.has('bytes') ? a.num('bytes') : 100;
    const seconds = a.has('seconds') ? a.num('seconds') : 2;
    let src: Ip4 | undefined;
    if (a.has('srcip')) {
      src = parseIp4(a.get('srcip'))!;
      if (!r.stack.isLocalAddress(src)) this.refuse(`% Invalid source address- IP address not on any of our up interfaces\n`);
    } else if (a.has('srcif')) {
      src = r.stack.interface(a.get('srcif'))?.addresses[0]?.ip;
      if (src === undefined) this.refuse(`% Invalid source interface - IP not enabled or interface is down\n`);
    }
    this.out(`Type escape sequence to abort.\nSending ${count}, ${bytes}-byte ICMP Echos to ${ip4ToString(dst)}, timeout is ${seconds} seconds:\n`);
    if (src !== undefined) this.out(`Packet sent with a source address of ${ip4ToString(src)} \n`);
    const run = new EchoRun(r.engine, r.stack, dst, { protocol: 'icmp', count, size: bytes - 28, waitNs: seconds * 1e9, gapNs: 0, unsentIsLost: true, ...(src !== undefined ? { srcIp: src } : {}) }, this);
    this.op = { kind: 'ping', run, count, col: 0, rtts: [] };
    run.start();
  }

  onProbe(run: EchoRun, p: ProbeResult): void {
    const op = this.op;
    if (op?.kind !== 'ping' || op.run !== run) return;
    let c = '.';
    if (p.kind === 'reply') {
      c = '!';
      op.rtts.push(p.rttNs);
    } else if (p.kind === 'error' && !p.local) c = p.type === 3 ? (p.code === 4 ? 'M' : 'U') : p.type === 11 ? '&' : p.type === 4 ? 'Q' : '?';
    // Our own ARP giving up is silence to IOS: a dot, as for a timeout.
    if (op.col === 70) {
      this.out('\n');
      op.col = 0;
    }
    op.col++;
    this.out(c);
  }

  onRunDone(run: EchoRun): void {
    const op = this.op;
    if (op?.kind !== 'ping' || op.run !== run) return;
    // An interrupted probe still waiting for its answer is not counted, as IOS does.
    const sent = run.results.length;
    const got = run.received;
    const pct = sent ? Math.floor((100 * got) / sent) : 0;
    let line = `\nSuccess rate is ${pct} percent (${got}/${sent})`;
    if (got > 0) {
      const ms = op.rtts.map((t) => Math.round(t / 1e6));
      line += `, round-trip min/avg/max = ${Math.min(...ms)}/${Math.round(ms.reduce((x, y) => x + y, 0) / ms.length)}/${Math.max(...ms)} ms`;
    }
    this.out(`${line}\n`);
    this.opDone();
  }

  private traceroute(a: Args): void {
    const dst = this.target(a);
    const r = this.router;
    if (!r || !r.running) this.refuse('% Unrecognized host or address, or protocol not running.\n');
    this.out(`Type escape sequence to abort.\nTracing the route to ${ip4ToString(dst)}\nVRF info: (vrf in name/id, vrf out name/id)\n`);
    const run = new TraceRun(r.engine, r.stack, dst, { maxHops: 30, perHop: 3, waitNs: 3e9, size: 0, basePort: 33434, portStep: 1 }, this);
    this.op = { kind: 'trace', run, last: null };
    run.start();
  }

  onTraceProbe(run: TraceRun, p: TraceProbeResult): void {
    const op = this.op;
    if (op?.kind !== 'trace' || op.run !== run) return;
    if (p.index === 0) {
      this.out(String(p.hop).padStart(3));
      op.last = null;
    }
    if (p.from === null) {
      this.out('  *');
      return;
    }
    if (p.from !== op.last) this.out(` ${ip4ToString(p.from)}`);
    op.last = p.from;
    const mark = p.type === 3 && p.code !== 3 ? ({ 0: '!N', 1: '!H', 2: '!P', 9: '!A', 10: '!A', 13: '!A' } as Record<number, string>)[p.code] ?? `!${p.code}` : null;
    this.out(mark !== null ? ` ${mark} ` : ` ${Math.round(p.rttNs / 1e6)} msec`);
  }

  onHopDone(run: TraceRun): void {
    if (this.op?.kind === 'trace' && this.op.run === run) this.out('\n');
  }

  onTraceDone(run: TraceRun): void {
    const op = this.op;
    if (op?.kind !== 'trace' || op.run !== run) return;
    if (run.sendError !== null && run.hop === 1) this.out('% No route to host\n');
    this.opDone();
  }

  private opDone(): void {
    const wasBusy = this.op !== null;
    this.op = null;
    if (wasBusy) this.host?.finished();
  }

  // ---------------------------------------------------------------- write memory, reload

  /** The node's lab.yaml entry from the running configuration, with what cannot be saved. */
  saveRequest(): SaveRequest {
    const base = this.startup;
    const r =
      this.model.kind === 'router'
        ? routerToSpec(this.model, base?.kind === 'router' ? (base as RouterNodeSpec) : undefined)
        : switchToSpec(this.model, base?.kind === 'switch' ? (base as SwitchNodeSpec) : undefined);
    const node = this.fileName ?? this.env?.node ?? this.model.hostname;
    return { node, spec: r.spec, warnings: r.warnings, ...(this.model.hostname !== node ? { rename: this.model.hostname } : {}) };
  }

  /** The node's key in lab.yaml once a save renamed it (the running lab keeps the old name until rebuilt). */
  private fileName: string | null = null;

  private writeMemory(): 'busy' | undefined {
    const env = this.env;
    this.out('Building configuration...\n');
    if (!env?.save) {
      this.out('%Error: this console cannot write lab.yaml\n');
      return undefined;
    }
    const req = this.saveRequest();
    for (const w of req.warnings) this.out(`% Warning: ${w}\n`);
    let outcome: SaveOutcome | Promise<SaveOutcome>;
    try {
      outcome = env.save(req);
    } catch (e) {
      this.out(`%Error writing lab.yaml: ${(e as Error).message}\n`);
      return undefined;
    }
    if (!(outcome instanceof Promise)) {
      this.saved(outcome, req);
      return undefined;
    }
    this.op = { kind: 'save' };
    outcome.then(
      (o) => {
        this.saved(o, req);
        this.opDone();
      },
      (e: unknown) => {
        this.saved({ ok: false, error: (e as Error).message }, req);
        this.opDone();
      },
    );
    return 'busy';
  }

  private saved(o: SaveOutcome, req: SaveRequest): void {
    if (o.ok) {
      this.startup = req.spec;
      this.fileName = req.rename ?? req.node;
      this.out('[OK]\n');
    } else this.out(`%Error writing lab.yaml: ${o.error}\n`);
  }

  private reload(): void {
    const modified = this.startup === undefined || renderRunningConfig(this.model) !== renderRunningConfig(this.modelFromSpec(this.startup));
    const proceed = (): 'done' | 'busy' => {
      this.question = {
        prompt: 'Proceed with reload? [confirm]',
        answer: (a) => {
          if (a !== '' && !'yes'.startsWith(a.toLowerCase())) return 'done';
          this.doReload();
          return 'done';
        },
      };
      return 'done';
    };
    if (!modified) {
      proceed();
      return;
    }
    this.question = {
      prompt: '\nSystem configuration has been modified. Save? [yes/no]: ',
      answer: (a) => {
        const w = a.toLowerCase();
        if (w !== '' && 'yes'.startsWith(w)) {
          const busy = this.writeMemory();
          if (busy) return busy;
        } else if (!(w !== '' && 'no'.startsWith(w))) {
          this.out('% Please answer \'yes\' or \'no\'.\n');
          return 'done';
        }
        return proceed();
      },
    };
  }

  /** Power-cycles the node with the startup configuration, as a reload does. */
  private doReload(): void {
    const env = this.env;
    this.out('\n%SYS-5-RELOAD: Reload requested by console. Reload Reason: Reload Command.\n');
    const before = this.model;
    if (this.startup) this.model = this.modelFromSpec(this.startup);
    this.syncDevice(before);
    if (env) {
      env.runtime.stopNode(env.node);
      env.runtime.startNode(env.node);
    }
    this.markStartupAddresses();
    this.exitToConfig();
    this.mode = 'user';
    this.out(`\n\n${this.model.hostname} con0 is now available\n\n\nPress RETURN to get started.\n\n`);
    this.pressReturn = true;
  }

  /** The lab (or its file) changed under the console: start over from the node's entry in it. */
  reloadFromLab(spec: NodeSpec | undefined): boolean {
    const before = renderRunningConfig(this.model);
    this.startup = spec;
    this.fileName = null;
    if (spec) this.model = this.modelFromSpec(spec);
    this.markStartupAddresses();
    if (!this.ifaces.every((n) => this.model.interfaces.some((i) => i.name === n))) {
      this.exitToConfig();
      this.mode = 'exec';
    }
    return before !== renderRunningConfig(this.model);
  }

  // ---------------------------------------------------------------- global configuration

  private configGrammar(): Grammar {
    const g = this.grammar();
    g.add('end', () => this.end());
    g.add('exit', () => this.exit());
    g.add('hostname <hostname:word>', (a) => {
      const h = a.get('hostname');
      if (!NODE_NAME_RE.test(h)) this.refuse('% Hostname contains one or more illegal characters.');
      this.model.hostname = h;
    });
    g.add('interface <ifname:iface>', (a) => this.enterInterface(a.get('ifname')));
    // Lines show running-config writes that have no effect in wirelab.
    const noop = () => {};
    g.add('!version <v:word>', noop);
    g.add('!service timestamps (debug|log) datetime msec', noop);
    g.add('!no service password-encryption', noop);
    g.add('line (con|aux) <first:0-0>', () => this.enterMode('line'));
    g.add('line vty <first:0-15> [<last:0-15>]', () => this.enterMode('line'));
    if (this.kind === 'router') this.routerGlobal(g);
    else this.switchGlobal(g);
    return g;
  }

  private enterMode(mode: IosMode): void {
    this.exitToConfig();
    this.mode = mode;
  }

  private enterInterface(name: string): void {
    this.exitToConfig();
    if (this.model.kind === 'router') {
      const m = this.model;
      if (!m.interfaces.some((i) => i.name === name)) {
        const dot = name.indexOf('.');
        m.interfaces.push({
          name,
          parent: name.slice(0, dot),
          ip: null,
          shutdown: false,
          description: null,
          aclIn: null,
          aclOut: null,
          vlan: null,
          helpers: [],
          natInside: false,
          natOutside: false,
          mac: undefined,
          network: undefined,
        });
        m.interfaces = sortRouterIfaces(m.interfaces);
      }
      this.mode = name.includes('.') ? 'subif' : 'if';
    } else this.mode = 'if';
    this.ifaces = [name];
  }

  private routerGlobal(g: Grammar): void {
    const noop = () => {};
    g.add('no interface <ifname:iface>', (a) => {
      const name = a.get('ifname');
      if (!name.includes('.')) this.refuse('% Removal of physical interfaces is not permitted');
      this.r.interfaces = this.r.interfaces.filter((i) => i.name !== name);
      this.r.routes = this.r.routes.filter((x) => x.iface !== name);
      if (this.r.natOverload?.iface === name) this.r.natOverload = null;
    });
    g.add('ip route <net:ip> <netmask:mask> (<via:ip>|<out:iface> [<via2:ip>]) [<dist:1-255>]', (a) => {
      const route = this.routeFrom(a);
      const m = this.r;
      m.routes = m.routes.filter((x) => !(x.prefix.ip === route.prefix.ip && x.prefix.prefix === route.prefix.prefix && x.via === route.via && x.iface === route.iface));
      m.routes.push(route);
    });
    g.add('no ip route <net:ip> <netmask:mask> [(<via:ip>|<out:iface> [<via2:ip>])] [<dist:1-255>]', (a) => {
      const net = parseIp4(a.get('net'))!;
      const prefix = maskLength(a.get('netmask'));
      const via = a.opt('via') ?? a.opt('via2');
      const out = a.opt('out');
      const m = this.r;
      const keep = m.routes.filter(
        (x) =>
          !(
            networkOf(x.prefix) === ((net & prefixToMask(prefix)) >>> 0) &&
            x.prefix.prefix === prefix &&
            (via === undefined || x.via === parseIp4(via)) &&
            (out === undefined || x.iface === out)
          ),
      );
      if (keep.length === m.routes.length) this.refuse('%No matching route to delete');
      m.routes = keep;
    });
    g.add('ip dhcp pool <pool:word>', (a) => {
      const name = a.get('pool');
      if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/.test(name)) this.refuse('% wirelab: a pool name is letters, digits, _ . - (up to 63)');
      if (!this.r.pools.some((p) => p.name === name)) {
        this.r.pools.push({ name, network: null, gateways: [], dns: [], leaseNs: null, leaseText: undefined, domain: null, range: null, reservations: [] });
      }
      this.enterMode('pool');
      this.pool = name;
    });
    g.add('no ip dhcp pool <pool:word>', (a) => {
      const before = this.r.pools.length;
      this.r.pools = this.r.pools.filter((p) => p.name !== a.get('pool'));
      if (this.r.pools.length === before) this.refuse(`%Pool ${a.get('pool')} does not exist`);
    });
    g.add('ip dhcp excluded-address <lo:ip> [<hi:ip>]', (a) => {
      const lo = parseIp4(a.get('lo'))!;
      const hi = a.has('hi') ? parseIp4(a.get('hi'))! : lo;
      if (hi < lo) this.refuse('% Invalid address range');
      if (!this.r.excluded.some((e) => e.start === lo && e.end === hi)) this.r.excluded.push({ start: lo, end: hi });
    });
    g.add('no ip dhcp excluded-address <lo:ip> [<hi:ip>]', (a) => {
      const lo = parseIp4(a.get('lo'))!;
      const hi = a.has('hi') ? parseIp4(a.get('hi'))! : lo;
      this.r.excluded = this.r.excluded.filter((e) => !(e.start === lo && e.end === hi));
    });
    g.add('ip nat inside source list <list:word> interface <ifname:iface> [overload]', (a) => {
      if (!a.has('overload')) this.refuse('% wirelab: interface NAT needs overload (PAT): ip nat inside source list ... interface ... overload');
      this.r.natOverload = { list: a.get('list'), iface: a.get('ifname') };
    });
    g.add('no ip nat inside source list <list:word> [interface <ifname:iface> [overload]]', () => {
      this.r.natOverload = null;
    });
    g.add('ip nat inside source static <local:ip> <global:ip>', (a) => {
      const inside = parseIp4(a.get('local'))!;
      const outside = parseIp4(a.get('global'))!;
      const m = this.r;
      if (m.natStatic.some((s) => s.inside === inside || s.outside === outside)) this.refuse(`% ${a.get('local')} already mapped (${a.get('local')} -> ${a.get('global')})`);
      m.natStatic.push({ inside, outside });
    });
    g.add('no ip nat inside source static <local:ip> <global:ip>', (a) => {
      const inside = parseIp4(a.get('local'))!;
      this.r.natStatic = this.r.natStatic.filter((s) => s.inside !== inside);
    });
    g.add('access-list (<std:1-99>|<stdx:1300-1999>|<ext:100-199>|<extx:2000-2699>) (permit|deny) <rule:line>', (a) => {
      const name = a.opt('std') ?? a.opt('stdx') ?? a.opt('ext') ?? a.opt('extx')!;
      this.addAclRule(name, `${a.has('permit') ? 'permit' : 'deny'} ${a.get('rule')}`);
    });
    g.add('no access-list <acl:word>', (a) => {
      this.r.acls = this.r.acls.filter((x) => x.name !== a.get('acl'));
    });
    g.add('ip access-list (standard|extended) <acl:word>', (a) => {
      const name = a.get('acl');
      if (a.has('standard') && !isStandardAclName(name)) this.refuse('% wirelab: named standard access lists are not supported; use access-list 1-99, or ip access-list extended NAME');
      if (a.has('extended') && isStandardAclName(name)) this.refuse(`% ${name} is a standard access list number`);
      if (!this.r.acls.some((x) => x.name === name)) this.r.acls.push({ name, rules: [] });
      this.enterMode('nacl');
      this.acl = name;
    });
    g.add('no ip access-list (standard|extended) <acl:word>', (a) => {
      this.r.acls = this.r.acls.filter((x) => x.name !== a.get('acl'));
    });
    g.add('[no] ip (domain lookup|domain-lookup)', noop);
    g.add('!ip cef', noop);
    g.add('!ip forward-protocol nd', noop);
    g.add('!no ip http server', noop);
  }

  private routeFrom(a: Args): RouterModel['routes'][number] {
    const net = parseIp4(a.get('net'))!;
    const prefix = maskLength(a.get('netmask'));
    if (((net & prefixToMask(prefix)) >>> 0) !== net) this.refuse('%Inconsistent address and mask');
    const viaText = a.opt('via') ?? a.opt('via2');
    const via = viaText !== undefined ? parseIp4(viaText)! : null;
    const iface = a.opt('out') ?? null;
    if (via !== null && this.r.interfaces.some((i) => i.ip?.ip === via)) this.refuse('%Invalid next hop address (it\'s this router)');
    return { prefix: { ip: net, prefix }, via, iface, distance: a.has('dist') ? a.num('dist') : null };
  }

  private addAclRule(name: string, rule: string): void {
    const standard = isStandardAclName(name);
    try {
      parseAclRule(rule, standard);
    } catch (e) {
      this.refuse(`% Invalid access list entry: ${(e as Error).message.replace(/^"[^"]*": /, '')}`);
    }
    let acl = this.r.acls.find((x) => x.name === name);
    if (!acl) {
      acl = { name, rules: [] };
      this.r.acls.push(acl);
    }
    const text = rule.replace(/\s+/g, ' ').trim();
    if (!acl.rules.includes(text)) acl.rules.push(text);
  }

  private switchGlobal(g: Grammar): void {
    g.add('vlan <vids:vlans>', (a) => {
      const list = parseVlanList(a.get('vids'));
      if (!list) this.refuse('% Bad VLAN list');
      for (const v of list) if (!this.s.vlans.has(v)) this.s.vlans.set(v, defaultVlanName(v));
      this.s.vlans = new Map([...this.s.vlans].sort((x, y) => x[0] - y[0]));
      this.enterMode('vlan');
      this.vlans = list;
    });
    g.add('no vlan <vids:vlans>', (a) => {
      const list = parseVlanList(a.get('vids'));
      if (!list) this.refuse('% Bad VLAN list');
      if (list.includes(1)) this.refuse('%Default VLAN 1 may not be deleted.');
      for (const v of list) this.s.vlans.delete(v);
      addUsedVlans(this.s);
    });
    g.add('spanning-tree mode (pvst|rapid-pvst|mst)', (a) => {
      if (a.has('mst')) this.refuse('% wirelab: one spanning tree runs for all VLANs; choose pvst (802.1D) or rapid-pvst (802.1w)');
      this.s.stp = a.has('pvst') ? 'stp' : 'rstp';
    });
    g.add('spanning-tree vlan <vids:vlans> priority <prio:0-61440>', (a) => {
      const p = a.num('prio');
      if (p % 4096 !== 0) this.refuse('% Bridge Priority must be in increments of 4096.\n% Allowed values are: \n  0     4096  8192  12288 16384 20480 24576 28672\n  32768 36864 40960 45056 49152 53248 57344 61440');
      this.s.priority = p;
    });
    g.add('no spanning-tree vlan <vids:vlans> priority', () => {
      this.s.priority = 32768;
    });
    g.add('no spanning-tree vlan <vids:vlans>', () => {
      this.s.stp = 'off';
    });
    g.add('spanning-tree vlan <vids:vlans>', () => {
      if (this.s.stp === 'off') this.s.stp = 'rstp';
    });
    g.add('!spanning-tree extend system-id', () => {});
  }

  // ---------------------------------------------------------------- interface configuration

  private commonSub(g: Grammar): void {
    g.add('exit', () => this.exit());
    g.add('end', () => this.end());
  }

  private routerIfGrammar(sub: boolean): Grammar {
    const g = this.grammar();
    this.commonSub(g);
    const each = (f: (i: RouterIfaceModel) => void) => () => this.currentIfaces().forEach(f);
    g.add('ip address <addr:ip> <mask:mask>', (a) => {
      const ip = parseIp4(a.get('addr'))!;
      const prefix = maskLength(a.get('mask'));
      for (const i of this.currentIfaces()) this.setIfaceAddress(i, ip, prefix);
    });
    g.add('no ip address [<addr:ip> <mask:mask>]', each((i) => (i.ip = null)));
    g.add('shutdown', each((i) => (i.shutdown = true)));
    g.add('no shutdown', each((i) => (i.shutdown = false)));
    g.add('description <text:line>', (a) => this.currentIfaces().forEach((i) => (i.description = a.get('text').slice(0, 240))));
    g.add('no description', each((i) => (i.description = null)));
    g.add('ip helper-address <helper:ip>', (a) => {
      const h = parseIp4(a.get('helper'))!;
      for (const i of this.currentIfaces()) if (!i.helpers.includes(h)) i.helpers.push(h);
    });
    g.add('no ip helper-address [<helper:ip>]', (a) => {
      const h = a.has('helper') ? parseIp4(a.get('helper')) : null;
      for (const i of this.currentIfaces()) i.helpers = h === null ? [] : i.helpers.filter((x) => x !== h);
    });
    g.add('ip nat (inside|outside)', (a) => {
      for (const i of this.currentIfaces()) {
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
      for (const i of this.currentIfaces()) {
        if (a.has('inside')) i.natInside = false;
        else i.natOutside = false;
      }
    });
    g.add('ip access-group <acl:word> (in|out)', (a) => {
      for (const i of this.currentIfaces()) {
        if (a.has('in')) i.aclIn = a.get('acl');
        else i.aclOut = a.get('acl');
      }
    });
    g.add('no ip access-group [<acl:word>] (in|out)', (a) => {
      for (const i of this.currentIfaces()) {
        if (a.has('in')) i.aclIn = null;
        else i.aclOut = null;
      }
    });
    if (sub) {
      g.add('encapsulation dot1Q <vlan:1-4094> [native]', (a) => {
        if (a.has('native')) this.refuse('% wirelab: a native-VLAN sub-interface is not supported; put the untagged address on the port itself');
        const v = a.num('vlan');
        for (const i of this.currentIfaces()) {
          const clash = this.r.interfaces.find((o) => o !== i && o.parent === i.parent && o.vlan === v);
          if (clash) this.refuse(`% Configuration of multiple subinterfaces of the same main\n% interface with the same VLAN (${v}) is not permitted.\n% This VLAN is already configured on ${longName(clash.name)}.`);
          const live = this.router?.stack.interface(i.name);
          if (live && live.vlan !== v) this.refuse(`% wirelab: ${longName(i.name)} already carries VLAN ${live.vlan} on the running router; another VLAN needs a reload after write memory`);
          i.vlan = v;
        }
      });
    } else {
      g.add('mac-address <mac:word>', (a) => {
        const text = a.get('mac');
        const hex = text.replace(/\./g, '');
        const mac = /^[0-9a-fA-F]{12}$/.test(hex) && /^[0-9a-fA-F]{4}\.[0-9a-fA-F]{4}\.[0-9a-fA-F]{4}$/.test(text) ? parseMac(hex.match(/../g)!.join(':')) : null;
        if (mac === null) this.refuse(`${' '.repeat(this.promptWidth + 12)}^\n% Invalid input detected at '^' marker.\n`);
        for (const i of this.currentIfaces()) i.mac = macToString(mac);
      });
      g.add('no mac-address', each((i) => (i.mac = undefined)));
    }
    return g;
  }

  private setIfaceAddress(i: RouterIfaceModel, ip: Ip4, prefix: number): void {
    if (i.parent !== null && i.vlan === null) this.refuse(SUBIF_NEEDS_ENCAP);
    const mask = prefixToMask(prefix);
    const host = (ip & ~mask) >>> 0;
    if (prefix < 31 && (host === 0 || (host | mask) >>> 0 === 0xffffffff)) this.refuse(`Bad mask /${prefix} for address ${ip4ToString(ip)}`);
    for (const o of this.r.interfaces) {
      if (o === i || !o.ip) continue;
      const small = Math.min(prefix, o.ip.prefix);
      const m = prefixToMask(small);
      if (((o.ip.ip & m) >>> 0) === ((ip & m) >>> 0)) this.refuse(`% ${ip4ToString((ip & mask) >>> 0)} overlaps with ${longName(o.name)}`);
    }
    i.ip = { ip, prefix };
  }

  private switchIfGrammar(): Grammar {
    const g = this.grammar();
    this.commonSub(g);
    const each = (f: (p: SwitchPortModel) => void) => () => this.currentPorts().forEach(f);
    g.add('switchport mode (access|trunk)', (a) => this.currentPorts().forEach((p) => (p.mode = a.has('trunk') ? 'trunk' : 'access')));
    g.add('no switchport mode', each((p) => (p.mode = 'access')));
    g.add('switchport access vlan <vid:1-4094>', (a) => {
      const v = a.num('vid');
      if (!this.s.vlans.has(v)) {
        this.out(`% Access VLAN does not exist. Creating vlan ${v}\n`);
        this.s.vlans.set(v, defaultVlanName(v));
        this.s.vlans = new Map([...this.s.vlans].sort((x, y) => x[0] - y[0]));
      }
      for (const p of this.currentPorts()) p.accessVlan = v;
    });
    g.add('no switchport access vlan', each((p) => (p.accessVlan = 1)));
    g.add('switchport trunk allowed vlan (<vids:vlans>|add <addv:vlans>|remove <remv:vlans>|except <exv:vlans>|all|none)', (a) => {
      for (const p of this.currentPorts()) p.allowed = allowedAfter(p.allowed, a);
      addUsedVlans(this.s);
    });
    g.add('no switchport trunk allowed vlan', each((p) => (p.allowed = 'all')));
    g.add('switchport trunk native vlan <vid:1-4094>', (a) => {
      for (const p of this.currentPorts()) p.native = a.num('vid');
      addUsedVlans(this.s);
    });
    g.add('no switchport trunk native vlan', each((p) => (p.native = 1)));
    g.add('switchport trunk encapsulation dot1q', () => {});
    g.add('shutdown', each((p) => (p.shutdown = true)));
    g.add('no shutdown', each((p) => (p.shutdown = false)));
    g.add('description <text:line>', (a) => this.currentPorts().forEach((p) => (p.description = a.get('text').slice(0, 240))));
    g.add('no description', each((p) => (p.description = null)));
    return g;
  }

  // ---------------------------------------------------------------- DHCP pool, ACL, VLAN, line

  private currentPool(): PoolModel {
    const p = this.r.pools.find((x) => x.name === this.pool);
    if (!p) throw new Refused(`%Pool ${this.pool} does not exist`);
    return p;
  }

  private poolGrammar(): Grammar {
    const g = this.grammar();
    this.commonSub(g);
    if (this.kind !== 'router') return g;
    const ips = (a: Args, names: string[]) => names.filter((n) => a.has(n)).map((n) => parseIp4(a.get(n))!);
    g.add('network <net:ip> <mask:mask>', (a) => {
      const ip = parseIp4(a.get('net'))!;
      const prefix = maskLength(a.get('mask'));
      const p = this.currentPool();
      if (this.r.pools.some((o) => o !== p && o.network && o.network.prefix === prefix && networkOf(o.network) === ((ip & prefixToMask(prefix)) >>> 0))) {
        this.refuse(`% ${a.get('net')}/${prefix} is already used by another pool`);
      }
      if (((ip & prefixToMask(prefix)) >>> 0) !== ip) this.refuse(`% ${a.get('net')} is not the network address of the subnet`);
      p.network = { ip, prefix };
      if (p.range && !(inSubnet(p.range.start, p.network) && inSubnet(p.range.end, p.network))) p.range = null;
    });
    g.add('no network', () => {
      this.currentPool().network = null;
    });
    g.add('default-router <gw1:ip> [<gw2:ip> [<gw3:ip>]]', (a) => {
      this.currentPool().gateways = ips(a, ['gw1', 'gw2', 'gw3']);
    });
    g.add('no default-router', () => {
      this.currentPool().gateways = [];
    });
    g.add('dns-server <dns1:ip> [<dns2:ip> [<dns3:ip>]]', (a) => {
      this.currentPool().dns = ips(a, ['dns1', 'dns2', 'dns3']);
    });
    g.add('no dns-server', () => {
      this.currentPool().dns = [];
    });
    g.add('lease (<days:0-365> [<hours:0-23> [<minutes:0-59>]]|infinite)', (a) => {
      if (a.has('infinite')) this.refuse('% wirelab: leases end; give days [hours [minutes]]');
      const ns = ((a.has('days') ? a.num('days') : 0) * 1440 + (a.has('hours') ? a.num('hours') : 0) * 60 + (a.has('minutes') ? a.num('minutes') : 0)) * 60e9;
      if (ns === 0) this.refuse('% Lease time must be at least one minute');
      const p = this.currentPool();
      p.leaseNs = ns;
    });
    g.add('no lease', () => {
      this.currentPool().leaseNs = null;
    });
    g.add('domain-name <domain:word>', (a) => {
      this.currentPool().domain = a.get('domain');
    });
    g.add('no domain-name', () => {
      this.currentPool().domain = null;
    });
    g.add('address range <lo:ip> <hi:ip>', (a) => {
      const p = this.currentPool();
      const lo = parseIp4(a.get('lo'))!;
      const hi = parseIp4(a.get('hi'))!;
      if (hi < lo) this.refuse('% Invalid address range');
      if (p.network && !(inSubnet(lo, p.network) && inSubnet(hi, p.network))) this.refuse('% The range is outside the pool\'s network');
      p.range = { start: lo, end: hi };
    });
    g.add('no address range', () => {
      this.currentPool().range = null;
    });
    g.add('address <fixed:ip> hardware-address <mac:word>', (a) => {
      const hex = a.get('mac').replace(/[.:-]/g, '');
      if (!/^[0-9a-fA-F]{12}$/.test(hex)) this.refuse('% Invalid hardware address');
      const p = this.currentPool();
      const mac = hex.toLowerCase().match(/../g)!.join(':');
      p.reservations = p.reservations.filter((r) => r.ip !== a.get('fixed'));
      p.reservations.push({ ip: a.get('fixed'), mac });
    });
    g.add('address <fixed:ip> node <node:word> [<nodeif:word>]', (a) => {
      const p = this.currentPool();
      p.reservations = p.reservations.filter((r) => r.ip !== a.get('fixed'));
      p.reservations.push({ ip: a.get('fixed'), node: a.get('node'), ...(a.has('nodeif') ? { iface: a.get('nodeif') } : {}) });
    });
    g.add('no address <fixed:ip>', (a) => {
      const p = this.currentPool();
      p.reservations = p.reservations.filter((r) => r.ip !== a.get('fixed'));
    });
    return g;
  }

  private naclGrammar(): Grammar {
    const g = this.grammar();
    this.commonSub(g);
    if (this.kind !== 'router') return g;
    g.add('(permit|deny) <rule:line>', (a) => this.addAclRule(this.acl!, `${a.has('permit') ? 'permit' : 'deny'} ${a.get('rule')}`));
    g.add('no (permit|deny) <rule:line>', (a) => {
      const acl = this.r.acls.find((x) => x.name === this.acl);
      const text = `${a.has('permit') ? 'permit' : 'deny'} ${a.get('rule')}`.replace(/\s+/g, ' ').trim();
      if (acl) acl.rules = acl.rules.filter((r) => r !== text);
    });
    return g;
  }

  private vlanGrammar(): Grammar {
    const g = this.grammar();
    this.commonSub(g);
    if (this.kind !== 'switch') return g;
    g.add('name <vname:word>', (a) => {
      const name = a.get('vname').slice(0, 32);
      for (const v of this.vlans) this.s.vlans.set(v, name);
    });
    g.add('no name', () => {
      for (const v of this.vlans) this.s.vlans.set(v, defaultVlanName(v));
    });
    return g;
  }

  private lineGrammar(): Grammar {
    const g = this.grammar();
    this.commonSub(g);
    // Console line settings change nothing in wirelab (no logins, no timeouts): accepted, not kept.
    const noop = () => {};
    g.add('[no] logging synchronous', noop);
    g.add('exec-timeout <minutes:0-35791> [<seconds:0-2147483>]', noop);
    g.add('[no] login', noop);
    g.add('password <pw:line>', noop);
    g.add('privilege level <level:0-15>', noop);
    return g;
  }
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

function maskLength(mask: string): number {
  const m = parseIp4(mask)!;
  for (let p = 0; p <= 32; p++) if (prefixToMask(p) === m) return p;
  return 0;
}

function inSubnet(ip: Ip4, net: { ip: Ip4; prefix: number }): boolean {
  const m = prefixToMask(net.prefix);
  return ((ip & m) >>> 0) === ((net.ip & m) >>> 0);
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

// ------------------------------------------------------------------ reading a configuration text

/**
 * Reads a `show running-config` text into a model, as a router loads its startup configuration:
 * each line is a configuration command. `base` (the node's lab.yaml entry) gives what a running
 * configuration cannot say: the ports and how they are cabled (network:), ui, console.
 */
export function parseRunningConfig(
  text: string,
  kind: 'router' | 'switch',
  hostname: string,
  base?: RouterNodeSpec | SwitchNodeSpec,
): { model: DeviceModel; errors: string[] } {
  let model: DeviceModel;
  if (kind === 'router') {
    const topo = routerTopology(base?.kind === 'router' ? base : undefined);
    model = { ...blankRouter(hostname), interfaces: topo.ifaces, extra: topo.extra };
  } else {
    const s = base?.kind === 'switch' ? base : undefined;
    model = blankSwitch(hostname, s?.ports ?? undefined, s?.ports !== undefined);
    model.extra = { ...(s?.ui ? { ui: s.ui } : {}), ...(s?.console !== undefined ? { console: s.console } : {}) };
  }
  const shell = new IosShell({ kind, model, mode: 'config' });
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/\s+$/, '');
    if (line === '' || line.startsWith('!') || line === 'end' || /^Building configuration|^Current configuration|^Using \d+ out of/.test(line)) continue;
    shell.execute(line);
    // A configuration text never leaves configuration mode.
    if (!CONFIG_MODES.has(shell.mode)) shell.mode = 'config';
  }
  return { model: shell.model, errors: shell.errors };
}

export { blankRouter, blankSwitch };
