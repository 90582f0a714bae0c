/**
 * Node consoles: one per node, shared by everyone looking at it (telnet clients, browser tabs),
 * as a GNS3 console is. A console is a line discipline (terminal.ts) in front of a shell: VPCS
 * for hosts (vpcs.ts), the IOS-like CLI for routers and switches (ios/shell.ts).
 *
 *   const c = new NodeConsole({ runtime, node: 'r1', save: (req) => ... });
 *   const off = c.onOutput((text) => socket.write(text));
 *   c.input('enable\r');  c.input('show ip interface brief\r');
 *   // in virtual time: runtime.engine.runUntilCondition(() => !c.busy, 10e9)
 */
import type { TimerTarget } from '../engine/engine.js';
import type { Shell, ShellHost } from './terminal.js';
import { Terminal } from './terminal.js';
import type { ConsoleEnv } from './env.js';
import { VpcsShell } from './vpcs.js';
import { IosShell } from './ios/shell.js';
import { routerFromSpec, switchFromSpec } from './ios/model.js';
import { longName } from './ios/names.js';
import { ciscoMac } from './ios/render.js';

export { Terminal, crlf } from './terminal.js';
export type { Shell, ShellHost } from './terminal.js';
export { applySaveToLabFile } from './env.js';
export type { ConsoleEnv, SaveRequest, SaveOutcome } from './env.js';
export { VpcsShell, vpcsArgs } from './vpcs.js';
export { IosShell, parseRunningConfig } from './ios/shell.js';
export { renderRunningConfig } from './ios/render.js';
export { routerFromSpec, routerToSpec, switchFromSpec, switchToSpec } from './ios/model.js';
export type { DeviceModel, RouterModel, SwitchModel } from './ios/model.js';

/** Hubs and clouds have no command line; their console says so. */
class NoCliShell implements Shell {
  constructor(
    private readonly env: ConsoleEnv,
    private readonly host: ShellHost,
    private readonly kind: string,
  ) {}
  prompt(): string {
    return `${this.env.node}> `;
  }
  execute(line: string): 'done' {
    if (line.trim()) this.host.print(`% ${this.env.node} is a ${this.kind}: it has no command line\n`);
    return 'done';
  }
  interrupt(): void {}
}

/** A console environment whose node name follows a rename (`hostname`, `set pcname` then a save). */
export interface NodeConsoleEnv extends ConsoleEnv {
  node: string;
}

export class NodeConsole implements TimerTarget {
  readonly terminal: Terminal;
  readonly shell: Shell;
  private readonly listeners = new Set<(text: string) => void>();

  constructor(readonly env: NodeConsoleEnv) {
    const host: ShellHost & { historyLines(): string[] } = {
      print: (t) => this.terminal.print(t),
      finished: () => this.terminal.finished(),
      historyLines: () => this.terminal.historyLines(),
    };
    this.shell = makeShell(env, host);
    this.terminal = new Terminal(this.shell, (text) => {
      for (const fn of this.listeners) fn(text);
    });
  }

  get node(): string {
    return this.env.node;
  }

  /** Terminal output ('\r\n' line ends, echo and escape sequences included) goes to `fn`; returns the unsubscribe. */
  onOutput(fn: (text: string) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /**
   * Keystrokes from a viewer. In real time they are taken inside the engine's own turn, so that
   * what a command sends starts at the engine's current time (a socket callback runs between the
   * engine's turns, when its clock is behind).
   */
  input(data: string): void {
    const engine = this.env.runtime.engine;
    if (engine.mode !== 'real' || !engine.isRunning) {
      this.terminal.input(data);
      return;
    }
    this.pendingInput += data;
    if (this.inputTimer < 0) this.inputTimer = engine.after(0, this, 0);
  }

  private pendingInput = '';
  private inputTimer = -1;

  onTimer(): void {
    this.inputTimer = -1;
    const data = this.pendingInput;
    this.pendingInput = '';
    this.terminal.input(data);
  }

  resize(cols: number, rows: number): void {
    this.terminal.resize(cols, rows);
  }

  /** The commands entered, oldest first: what a snapshot keeps of a console. */
  history(): string[] {
    return this.terminal.historyLines();
  }

  restoreHistory(lines: readonly string[]): void {
    this.terminal.setHistory(lines);
  }

  get started(): boolean {
    return this.terminal.started;
  }

  /** Shows the first prompt if nothing has been typed yet. */
  start(): void {
    this.terminal.start();
  }

  /** What a viewer attaching now should be shown: the prompt and the line being typed. */
  currentView(): string {
    return this.terminal.currentView();
  }

  /** A command is running (ping, trace, DHCP, a save). */
  get busy(): boolean {
    return this.terminal.running || this.pendingInput !== '';
  }

  /**
   * Another station claims this node's address (the runtime's address-conflict event): a router
   * logs IOS's message; a host, which VPCS never warns, says the same in its own terms.
   */
  addressConflict(iface: string, ip: string, mac: string): void {
    this.terminal.notice(
      this.shell instanceof IosShell
        ? `%IP-4-DUPADDR: Duplicate address ${ip} on ${longName(iface)}, sourced by ${ciscoMac(mac)}`
        : `${iface}: duplicate address ${ip}, sourced by ${mac}`,
    );
  }

  /**
   * The node was rebuilt from a changed lab: a router or switch starts over from its new entry
   * in lab.yaml (its running configuration is that now). Returns whether the viewers were told.
   */
  labChanged(): boolean {
    if (!(this.shell instanceof IosShell)) return false;
    const spec = this.env.runtime.lab.file.nodes?.[this.env.node];
    const changed = this.shell.reloadFromLab(spec);
    if (changed) this.terminal.print(`\n% ${this.env.node} was rebuilt from lab.yaml; its running configuration is the saved one now\n`);
    return changed;
  }
}

function makeShell(env: ConsoleEnv, host: ShellHost & { historyLines(): string[] }): Shell {
  const lab = env.runtime.lab;
  const node = lab.nodes[env.node];
  if (!node) throw new Error(`no node ${env.node}`);
  const spec = lab.file.nodes?.[env.node];
  switch (node.kind) {
    case 'host':
      return new VpcsShell(env, host);
    case 'router':
      return new IosShell({ kind: 'router', model: routerFromSpec(env.node, spec?.kind === 'router' ? spec : { kind: 'router' }), startup: spec, env, host });
    case 'switch':
      return new IosShell({ kind: 'switch', model: switchFromSpec(env.node, spec?.kind === 'switch' ? spec : { kind: 'switch' }), startup: spec, env, host });
    default:
      return new NoCliShell(env, host, node.kind);
  }
}
