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
import { type Ip4, ip4ToString } from '../../wire/bytes.js';
import type { ConsoleEnv, SaveRequest } from '../env.js';
import { EchoRun, type EchoRunListener, type ProbeResult, TraceRun, type TraceProbeResult, type TraceRunListener } from '../probes.js';
import type { Shell, ShellHost } from '../terminal.js';
import { Grammar, Parser, type ParseResult, tokenize } from './grammar.js';
import { configGrammar } from './config-global.js';
import { routerIfGrammar, switchIfGrammar } from './config-interface.js';
import { lineGrammar, naclGrammar, poolGrammar, vlanGrammar } from './config-submodes.js';
import { execGrammar } from './exec-commands.js';
import { helpText } from './help.js';
import {
  type DeviceModel,
  type RouterIfaceModel,
  type RouterModel,
  type SwitchModel,
  type SwitchPortModel,
  blankRouter,
  blankSwitch,
  routerFromSpec,
  routerIface,
  routerToSpec,
  routerTopology,
  sortRouterIfaces,
  switchFromSpec,
  switchToSpec,
} from './model.js';
import { DeviceIfaces } from './names.js';
import { reconcileRouter, reconcileSwitch } from './reconcile.js';
import { renderRunningConfig } from './render.js';

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

/**
 * One console session on a router or switch. Each mode's commands live in their own module
 * (exec-commands.ts, memory.ts, config-global.ts, config-interface.ts, config-submodes.ts) as
 * functions of the shell; the members they use are the ones not marked private.
 */
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
  readonly env: ConsoleEnv | null;
  readonly host: ShellHost | null;
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
        return execGrammar(this, false);
      case 'exec':
        return execGrammar(this, true);
      case 'config':
        return configGrammar(this);
      case 'if':
        return this.kind === 'router' ? routerIfGrammar(this, false) : switchIfGrammar(this);
      case 'subif':
        return routerIfGrammar(this, true);
      case 'pool':
        return poolGrammar(this);
      case 'line':
        return lineGrammar(this);
      case 'vlan':
        return vlanGrammar(this);
      case 'nacl':
        return naclGrammar(this);
    }
  }

  private ifaces: string[] = [];
  pool: string | null = null;
  vlans: number[] = [];
  acl: string | null = null;
  question: { prompt: string; answer: (line: string) => 'done' | 'busy' } | null = null;
  pressReturn = false;
  op: Operation | null = null;
  /** Column of the prompt's end, for the caret under an error. */
  promptWidth = 0;
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

  get device(): Router | Switch | null {
    if (!this.env) return null;
    return (this.env.runtime.node(this.env.node) as Router | Switch | undefined) ?? null;
  }
  get router(): Router | null {
    const d = this.device;
    return d && d.kind === 'router' ? (d as Router) : null;
  }
  get switch(): Switch | null {
    const d = this.device;
    return d && d.kind === 'switch' ? (d as Switch) : null;
  }

  private interfaceNames(): string[] {
    return this.model.interfaces.map((i) => i.name);
  }

  markStartupAddresses(): void {
    this.fromStartup = new Set(this.model.kind === 'router' ? this.model.interfaces.filter((i) => i.ip).map((i) => i.name) : []);
  }

  // ---------------------------------------------------------------- Shell

  prompt(): string {
    if (this.question) return this.question.prompt;
    if (this.pressReturn) return '';
    return `${this.model.hostname}${PROMPT_SUFFIX[this.mode]}`;
  }

  out(text: string): void {
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
  syncDevice(before: DeviceModel): void {
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

  exitToConfig(): void {
    this.mode = 'config';
    this.ifaces = [];
    this.pool = null;
    this.vlans = [];
    this.acl = null;
  }

  exit(): void {
    if (SUB_MODES.has(this.mode)) this.exitToConfig();
    else if (this.mode === 'config') this.mode = 'exec';
    else this.logout();
  }

  end(): void {
    this.exitToConfig();
    this.mode = 'exec';
  }

  logout(): void {
    this.mode = 'user';
    this.out(`\n${this.model.hostname} con0 is now available\n\n\n\n\n\nPress RETURN to get started.\n\n`);
    this.pressReturn = true;
  }

  // ---------------------------------------------------------------- grammar helpers

  grammar(): Grammar {
    return new Grammar(helpText);
  }

  refuse(message: string): never {
    throw new Refused(message);
  }

  get r(): RouterModel {
    if (this.model.kind !== 'router') throw new Error('not a router');
    return this.model;
  }
  get s(): SwitchModel {
    if (this.model.kind !== 'switch') throw new Error('not a switch');
    return this.model;
  }

  currentIfaces(): RouterIfaceModel[] {
    return this.r.interfaces.filter((i) => this.ifaces.includes(i.name));
  }
  currentPorts(): SwitchPortModel[] {
    return this.s.interfaces.filter((i) => this.ifaces.includes(i.name));
  }

  /** A model of the node's lab.yaml entry (the startup configuration). */
  modelFromSpec(spec: NodeSpec): DeviceModel {
    const name = this.env?.node ?? this.model.hostname;
    if (spec.kind === 'router') return routerFromSpec(name, spec);
    if (spec.kind === 'switch') return switchFromSpec(name, spec);
    throw new Error(`${name} is a ${spec.kind}`);
  }

  // ---------------------------------------------------------------- ping and traceroute output (exec-commands.ts starts them)

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

  opDone(): void {
    const wasBusy = this.op !== null;
    this.op = null;
    if (wasBusy) this.host?.finished();
  }

  // ---------------------------------------------------------------- saving and reloading (memory.ts has the commands)

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
  fileName: string | null = null;

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

  // ---------------------------------------------------------------- entering configuration sub-modes

  enterMode(mode: IosMode): void {
    this.exitToConfig();
    this.mode = mode;
  }

  enterInterface(name: string): void {
    this.exitToConfig();
    if (this.model.kind === 'router') {
      const m = this.model;
      if (!m.interfaces.some((i) => i.name === name)) {
        m.interfaces.push(routerIface(name));
        m.interfaces = sortRouterIfaces(m.interfaces);
      }
      this.mode = name.includes('.') ? 'subif' : 'if';
    } else this.mode = 'if';
    this.ifaces = [name];
  }
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
