/**
 * The consoles of a running lab, for every transport: one NodeConsole per node (made on first
 * use), shared by all its viewers as a GNS3 console is (telnet clients, browser tabs): what one
 * types, all see, and output goes to every viewer.
 *
 *   const hub = new ConsoleHub(runtime, { persist: async (file) => writeLabYaml(file) });
 *   const a = hub.attach('r1', { output: (text) => ws.send(text), closed: (why) => ... });
 *   a.write('show ip interface brief\r');  a.resize(120, 40);  a.detach();
 *
 * `write memory` / `save` arrive here as a SaveRequest: the hub puts the node's new entry into
 * the lab file, validates the whole lab (validateLab) and hands the file to `persist` to write;
 * the console prints [OK] or the error. When the runtime rebuilds a node from a changed lab, its
 * console starts over from the node's new entry.
 */
import type { LabRuntime, RuntimeEvent } from '../devices/lab/runtime.js';
import { type Lab, type LabFile, formatPath, validateLab } from '../devices/lab/schema.js';
import { NodeConsole, applySaveToLabFile, type SaveOutcome, type SaveRequest } from '../devices/console/index.js';

export interface ConsoleClient {
  /** Terminal output for this viewer ('\r\n' line ends, ANSI editing sequences). */
  output(data: string): void;
  /** The keystrokes waiting for the console were all taken (after `write` answered false). */
  drained?(): void;
  /** The console went away (the node was removed, the lab stopped). */
  closed?(reason: string): void;
}

export interface ConsoleAttachment {
  readonly node: string;
  /**
   * Keystrokes from the viewer, as the terminal sends them. False: the console has much waiting
   * (a transport that can should stop reading until `drained`); beyond INPUT_MAX it is dropped.
   */
  write(input: string): boolean;
  resize(cols: number, rows: number): void;
  detach(): void;
}

export interface ConsoleHubOptions {
  /**
   * Writes the lab file with a node's saved configuration in it; `lab` is its validated model.
   * Absent: `write memory` and `save` answer that this console cannot write lab.yaml.
   */
  persist?(file: LabFile, lab: Lab, request: SaveRequest): Promise<void> | void;
  /** The lab folder's name, for validateLab's name check. */
  folderName?: string;
}

interface Entry {
  console: NodeConsole;
  clients: Set<ConsoleClient>;
  /** Keystrokes not yet given to the console, oldest first, and how many characters they hold. */
  pending: string[];
  pendingChars: number;
  /** Keystrokes given to the console since the last turn began (reset by pump). */
  turnChars: number;
  scheduled: boolean;
  /** Viewers told to wait (write answered false), to be told when the backlog is taken. */
  waiting: Set<ConsoleClient>;
  /** The node was removed or the lab stopped: waiting keystrokes go nowhere. */
  gone: boolean;
}

/**
 * Keystrokes a console takes per event-loop turn: a megabyte pasted or typed without Enter is
 * worked through in slices, so the API and other consoles are served in between.
 */
const INPUT_PER_TURN = 64 * 1024;
/** Waiting keystrokes beyond which a viewer is asked to stop sending (telnet stops reading). */
const INPUT_HIGH = 64 * 1024;
/** Waiting keystrokes beyond which more input is dropped (a viewer that cannot be paused). */
const INPUT_MAX = 1024 * 1024;

export class ConsoleHub {
  private readonly consoles = new Map<string, Entry>();
  /** The lab file as last written by a console save, or as the runtime has it. */
  private file: LabFile;
  private readonly onRuntimeEvent = (e: RuntimeEvent) => this.runtimeEvent(e);
  private closedHub = false;

  constructor(
    readonly runtime: LabRuntime,
    private readonly opts: ConsoleHubOptions = {},
  ) {
    this.file = runtime.lab.file;
    runtime.onEvent(this.onRuntimeEvent);
  }

  /** Nodes and their telnet ports, as the lab model says (given, or assigned from 5000 up). */
  ports(): { node: string; kind: string; port: number; explicit: boolean }[] {
    return Object.values(this.runtime.lab.nodes).map((n) => ({ node: n.name, kind: n.kind, port: n.console, explicit: n.consoleExplicit }));
  }

  /** The node's console, made on first use. */
  console(node: string): NodeConsole {
    return this.entry(node).console;
  }

  private entry(node: string): Entry {
    let e = this.consoles.get(node);
    if (e) return e;
    if (this.closedHub) throw new Error('the lab consoles are closed');
    if (!Object.hasOwn(this.runtime.lab.nodes, node)) throw new Error(`no node ${node}`);
    const env = { runtime: this.runtime, node, save: (req: SaveRequest) => this.save(req) };
    const console = new NodeConsole(env);
    const entry: Entry = { console, clients: new Set(), pending: [], pendingChars: 0, turnChars: 0, scheduled: false, waiting: new Set(), gone: false };
    console.onOutput((text) => {
      for (const c of entry.clients) c.output(text);
    });
    this.consoles.set(node, entry);
    e = entry;
    return e;
  }

  /** Attaches a viewer to a node's console; it sees the prompt at once. */
  attach(node: string, client: ConsoleClient): ConsoleAttachment {
    const e = this.entry(node);
    e.clients.add(client);
    const c = e.console;
    // The first viewer ever sees the first prompt; a later one is shown where the line is now.
    if (!c.started) c.start();
    else {
      const view = c.currentView();
      if (view) client.output(`\r\n${view}`);
    }
    let attached = true;
    return {
      node,
      write: (input) => {
        if (!attached) return true;
        if (e.pendingChars === 0 && e.turnChars + input.length <= INPUT_PER_TURN) {
          e.turnChars += input.length;
          this.schedule(e);
          c.input(input);
          return true;
        }
        const dropped = e.pendingChars + input.length > INPUT_MAX;
        if (!dropped) {
          e.pending.push(input);
          e.pendingChars += input.length;
        }
        this.schedule(e);
        if (!dropped && e.pendingChars < INPUT_HIGH) return true;
        e.waiting.add(client);
        return false;
      },
      resize: (cols, rows) => {
        if (attached) c.resize(cols, rows);
      },
      detach: () => {
        attached = false;
        e.clients.delete(client);
        e.waiting.delete(client);
      },
    };
  }

  private schedule(e: Entry): void {
    if (e.scheduled) return;
    e.scheduled = true;
    setImmediate(() => this.pump(e));
  }

  /** A new event-loop turn: gives the console this turn's slice of the waiting keystrokes. */
  private pump(e: Entry): void {
    e.scheduled = false;
    e.turnChars = 0;
    if (e.gone) {
      e.pending.length = 0;
      e.pendingChars = 0;
      return;
    }
    let budget = INPUT_PER_TURN;
    while (budget > 0 && e.pending.length > 0) {
      const head = e.pending[0]!;
      let n = Math.min(budget, head.length);
      // Never split a surrogate pair between two slices.
      const last = head.charCodeAt(n - 1);
      if (n < head.length && last >= 0xd800 && last <= 0xdbff) n--;
      if (n <= 0) n = Math.min(2, head.length);
      const piece = n === head.length ? head : head.slice(0, n);
      if (n === head.length) e.pending.shift();
      else e.pending[0] = head.slice(n);
      e.pendingChars -= n;
      budget -= n;
      e.turnChars += n;
      e.console.input(piece);
    }
    if (e.pending.length > 0 || e.turnChars > 0) this.schedule(e);
    if (e.pending.length > 0) return;
    const waiting = [...e.waiting];
    e.waiting.clear();
    for (const c of waiting) c.drained?.();
  }

  /** Each console's command history (consoles nobody opened have none). */
  histories(): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const [node, e] of this.consoles) {
      const lines = e.console.history();
      if (lines.length > 0) out[node] = lines;
    }
    return out;
  }

  /** Puts back the histories of a restored snapshot; consoles it does not name start with none. */
  restoreHistories(histories: Readonly<Record<string, readonly string[]>>): void {
    for (const [node, e] of this.consoles) if (!(node in histories)) e.console.restoreHistory([]);
    for (const [node, lines] of Object.entries(histories)) {
      if (Object.hasOwn(this.runtime.lab.nodes, node) && Array.isArray(lines)) this.entry(node).console.restoreHistory(lines.filter((l) => typeof l === 'string'));
    }
  }

  /** Viewers attached to a node's console. */
  viewers(node: string): number {
    return this.consoles.get(node)?.clients.size ?? 0;
  }

  private async save(req: SaveRequest): Promise<SaveOutcome> {
    const persist = this.opts.persist;
    if (!persist) return { ok: false, error: 'this console cannot write lab.yaml' };
    const request = req;
    let file: LabFile;
    try {
      file = applySaveToLabFile(this.file, request);
    } catch (e) {
      return { ok: false, error: (e as Error).message };
    }
    const v = validateLab(file, this.opts.folderName !== undefined ? { folderName: this.opts.folderName } : {});
    if (!v.ok) return { ok: false, error: v.issues.map((i) => `${formatPath(i.path)}: ${i.message}`).join('; ') };
    // The node runs what it saves: the lab service's apply must not rebuild it (and lose its
    // tables and this very console session) for the file it is about to write.
    const saved = v.lab.nodes[request.rename ?? request.node];
    if (request.rename === undefined && saved) this.runtime.adopt(request.node, saved);
    try {
      await persist(file, v.lab, request);
    } catch (e) {
      return { ok: false, error: (e as Error).message };
    }
    this.file = file;
    return { ok: true };
  }

  private runtimeEvent(e: RuntimeEvent): void {
    if (e.type === 'lab-state' && e.status === 'stopped') return;
    if (e.type === 'address-conflict') {
      // Made if nobody has opened it yet, so the first viewer sees the line above the first prompt.
      if (!this.closedHub && Object.hasOwn(this.runtime.lab.nodes, e.node)) this.entry(e.node).console.addressConflict(e.iface, e.ip, e.mac);
      return;
    }
    if (e.type !== 'node-changed') return;
    // The lab changed under the consoles: the runtime's file is the truth again.
    this.file = this.runtime.lab.file;
    const entry = this.consoles.get(e.node);
    if (!entry) return;
    if (e.change === 'removed') {
      for (const c of entry.clients) c.closed?.(`node ${e.node} was removed`);
      entry.gone = true;
      this.consoles.delete(e.node);
      return;
    }
    entry.console.labChanged();
  }

  /** Detaches every viewer (the lab stops). */
  close(reason = 'the lab stopped'): void {
    this.closedHub = true;
    this.runtime.offEvent(this.onRuntimeEvent);
    for (const e of this.consoles.values()) {
      e.gone = true;
      for (const c of e.clients) c.closed?.(reason);
    }
    this.consoles.clear();
  }
}
