/**
 * Telnet consoles (the GNS3 convention): each node of a running lab listens on its console port
 * (the lab model's `console:`, from 5000 up), so `telnet 127.0.0.1 5001`, PuTTY, SecureCRT or
 * `nc` reach its console. Option negotiation as a console server does it (RFC 854/857/858/1073):
 * the server echoes and suppresses go-ahead, so clients switch to character mode, and it asks
 * for the window size (NAWS). Several clients may share one console; all see its output. On the
 * server's shared port (server/console-channel.ts) a session first asks which console, `lab/node`,
 * as a terminal server does; on a server with a token both ask for the token first.
 */
import { writeFile, rename } from 'node:fs/promises';
import type { Server, Socket } from 'node:net';
import { basename } from 'node:path';
import { TextDecoder } from 'node:util';
import type { LabRuntime } from '../devices/lab/runtime.js';
import { sameToken } from './auth.js';
import { type ConsoleAttachment, type ConsoleClient, ConsoleHub } from './console-hub.js';
import { ConsolePortPool, type NoPortReason, listenReserved } from './console-ports.js';
import { locateLab } from './lab-files.js';
import { formatLabFile } from './lab-yaml.js';

const IAC = 255;
const DONT = 254;
const DO = 253;
const WONT = 252;
const WILL = 251;
const SB = 250;
const EL = 248;
const EC = 247;
const AYT = 246;
const IP = 244;
const SE = 240;
const OPT_ECHO = 1;
const OPT_SGA = 3;
const OPT_NAWS = 31;

/**
 * Most a client may owe (console output, option replies, AYT answers) before it is dropped: a
 * console never waits for a viewer, and one that never reads must not grow the server.
 */
export const MAX_BACKLOG = 1 << 20;
const AYT_ANSWER = Buffer.from('\r\n[Yes]\r\n');
/** What telnet's commands type into the console: IAC IAC a 0xFF, IP ^C, EC DEL, EL ^U. */
const TYPED_IAC = Uint8Array.of(IAC);
const TYPED_CTRL_C = Uint8Array.of(0x03);
const TYPED_DEL = Uint8Array.of(0x7f);
const TYPED_CTRL_U = Uint8Array.of(0x15);

export interface TelnetConsolesOptions {
  /** Address to listen on; default 127.0.0.1 (without a token, consoles carry no authentication). */
  host?: string;
  /** Ports by node, over the lab model's. */
  ports?: Record<string, number>;
  /** Added to every node's port (several labs side by side). */
  portOffset?: number;
  /** The server's console ports, shared by every running lab; default: one of this lab's own. */
  pool?: ConsolePortPool;
  /** When set, a client must type it as its first line before it reaches a console. */
  token?: string | null;
  /** Told after each plan (ports reserved or refused), before any bind. */
  onPlanned?(): void;
}

/** How long a client may take to give the token or name a node, and the longest line taken as one. */
const LINE_WAIT_MS = 60_000;
const TOKEN_MAX = 256;
const PICK_MAX = 160;
/** Names at the shared port that are no console before the client is disconnected. */
const PICK_TRIES = 5;

export interface ConsoleListener {
  node: string;
  port: number;
  /** Why it could not listen (port taken), or null. */
  error: string | null;
}

/** Where a telnet connection's keystrokes go. */
export interface ConsoleTarget {
  /** The node when the port is that node's own; null: the client names `lab/node` first (the shared port). */
  readonly node: string | null;
  /** Attaches to a node's console; throws with a message for the client when it cannot. */
  attach(node: string, client: ConsoleClient): ConsoleAttachment;
  /** The shared port's first words: how to pick a console. */
  greeting?(): string;
  /** The answer to `?` at the shared port's prompt. */
  list?(): string;
}

/** One telnet connection: the protocol on one side, a console attachment on the other. */
export class TelnetSession {
  private state: 'data' | 'iac' | 'option' | 'sb' | 'sb-iac' = 'data';
  private verb = 0;
  private sb: number[] = [];
  private readonly decoder = new TextDecoder('utf-8', { fatal: false });
  private attachment: ConsoleAttachment | null = null;
  /** Options we have agreed to perform (ECHO, SGA) and asked the client to (NAWS). */
  private readonly local = new Set<number>([OPT_ECHO, OPT_SGA]);
  private readonly remote = new Set<number>();
  /** Bytes gathered while one chunk of input is handled, written as one piece at its end. */
  private batch: Buffer[] | null = null;
  private batchBytes = 0;
  /** A line asked for before the console: the token, then (shared port) the node; null: at the console. */
  private mode: 'token' | 'pick' | null = null;
  private line = '';
  private lineTimer: NodeJS.Timeout | undefined;
  private pickTries = 0;
  private skipLineEnd = false;
  private bell = false;

  constructor(
    readonly socket: Socket,
    private readonly target: ConsoleTarget,
    private readonly token: string | null = null,
  ) {
    socket.setNoDelay(true);
    this.put(Buffer.from([IAC, WILL, OPT_ECHO, IAC, WILL, OPT_SGA, IAC, DO, OPT_SGA, IAC, DO, OPT_NAWS]));
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('close', () => this.close());
    socket.on('error', () => this.close());
    // On a server with a token the console is reached only with it (not echoed: we said WILL ECHO).
    if (token !== null) this.ask('token', 'Token: ');
    else this.afterToken();
  }

  /** The node this session shows (its port's, or the one picked at the shared port), or null. */
  get node(): string | null {
    return this.attachment?.node ?? this.target.node;
  }

  private ask(mode: 'token' | 'pick', prompt: string): void {
    this.mode = mode;
    this.line = '';
    this.bell = false;
    this.send(prompt);
    clearTimeout(this.lineTimer);
    this.lineTimer = setTimeout(() => this.refuse(mode === 'token' ? "no token given; the console needs the server's token as its first line" : 'no console named'), LINE_WAIT_MS);
  }

  private refuse(why: string): void {
    this.mode = null;
    clearTimeout(this.lineTimer);
    if (!this.socket.destroyed) this.socket.end(`\r\n% ${why}\r\n`);
  }

  private afterToken(): void {
    if (this.target.node !== null) {
      this.attach(this.target.node);
      return;
    }
    this.send(this.target.greeting?.() ?? '');
    this.ask('pick', 'Console (lab/node): ');
  }

  /**
   * Typed text while a line is asked for, a character at a time: the token (not echoed) or the
   * node to reach (echoed, with backspace). What follows the line goes to the console.
   */
  private lineInput(text: string): void {
    for (let i = 0; i < text.length; i++) {
      const ch = text[i]!;
      if (this.skipLineEnd) {
        this.skipLineEnd = false;
        if (ch === '\n' || ch === '\0') continue;
      }
      if (ch === '\r' || ch === '\n') {
        // CR LF or CR NUL ends the line; its second half may come in the next chunk.
        this.skipLineEnd = ch === '\r';
        this.lineDone();
        if (this.mode !== null) continue;
        let keys = text.slice(i + 1);
        if (this.skipLineEnd && keys) {
          this.skipLineEnd = false;
          keys = keys.replace(/^[\n\0]/, '');
        }
        if (keys && this.attachment && !this.attachment.write(keys)) this.socket.pause();
        return;
      }
      const echo = this.mode === 'pick';
      if (ch === '\x7f' || ch === '\b') {
        if (this.line && echo) this.send('\b \b');
        this.line = this.line.slice(0, -1);
      } else if (ch === '\x15') {
        if (echo) this.send('\b \b'.repeat(this.line.length));
        this.line = '';
      } else if (ch === '\x03' || ch === '\x04') return this.refuse('bye');
      else if (ch >= ' ') {
        if (this.mode === 'token') {
          if (this.line.length >= TOKEN_MAX) return this.refuse("wrong token; the console needs the server's token as its first line");
        } else if (this.line.length >= PICK_MAX) {
          if (!this.bell) this.send('\x07');
          this.bell = true;
          continue;
        }
        this.line += ch;
        if (echo) this.send(ch);
      }
    }
  }

  private lineDone(): void {
    const line = this.line;
    this.line = '';
    clearTimeout(this.lineTimer);
    if (this.mode === 'token') {
      this.mode = null;
      if (!sameToken(line, this.token!)) return this.refuse("wrong token; the console needs the server's token as its first line");
      this.send('\r\n');
      return this.afterToken();
    }
    const name = line.trim();
    this.send('\r\n');
    if (name === '?' || name === 'help') this.send(this.target.list?.() ?? '');
    else if (name !== '') {
      this.mode = null;
      if (this.attach(name)) return;
      if (++this.pickTries >= PICK_TRIES) return this.refuse('too many names that are no console');
    }
    this.ask('pick', 'Console (lab/node): ');
  }

  /** Attaches to a node's console; at a node's own port a failure closes the connection. */
  private attach(node: string): boolean {
    const socket = this.socket;
    try {
      this.attachment = this.target.attach(node, {
        output: (text) => this.send(text),
        closed: (reason) => {
          this.attachment = null;
          socket.end(`\r\n% ${reason}\r\n`);
        },
        // The console took what this client typed ahead: read from it again.
        drained: () => {
          if (!socket.destroyed) socket.resume();
        },
      });
      return true;
    } catch (e) {
      if (this.target.node !== null) socket.end(`% ${(e as Error).message}\r\n`);
      else this.send(`% ${(e as Error).message}\r\n`);
      return false;
    }
  }

  /** What the client owes: written and not yet taken, and gathered for the next write. */
  get backlog(): number {
    return this.socket.writableLength + this.batchBytes;
  }

  /** Every byte to the client goes here, so that one cap bounds what a client that never reads costs. */
  private put(bytes: Buffer): void {
    if (this.socket.destroyed) return;
    // What is owed already, as before a write: one large piece of output still goes to a reader.
    if (this.backlog > MAX_BACKLOG) {
      this.batch = null;
      this.batchBytes = 0;
      this.socket.destroy();
      return;
    }
    if (this.batch) {
      this.batch.push(bytes);
      this.batchBytes += bytes.length;
    } else this.socket.write(bytes);
  }

  private send(text: string): void {
    const bytes = Buffer.from(text, 'utf8');
    // 0xFF never occurs in UTF-8, but a telnet stream must double it if it did.
    this.put(bytes.includes(IAC) ? Buffer.from([...bytes].flatMap((b) => (b === IAC ? [IAC, IAC] : [b]))) : bytes);
  }

  private negotiate(verb: number, opt: number): void {
    const reply = (v: number) => this.put(Buffer.from([IAC, v, opt]));
    switch (verb) {
      case DO:
        if (opt === OPT_ECHO || opt === OPT_SGA) {
          if (!this.local.has(opt)) {
            this.local.add(opt);
            reply(WILL);
          }
        } else reply(WONT);
        break;
      case DONT:
        if (this.local.has(opt)) {
          this.local.delete(opt);
          reply(WONT);
        }
        break;
      case WILL:
        if (opt === OPT_NAWS || opt === OPT_SGA) this.remote.add(opt);
        else reply(DONT);
        break;
      case WONT:
        this.remote.delete(opt);
        break;
    }
  }

  private subnegotiation(bytes: number[]): void {
    if (bytes[0] === OPT_NAWS && bytes.length >= 5) {
      const cols = (bytes[1]! << 8) | bytes[2]!;
      const rows = (bytes[3]! << 8) | bytes[4]!;
      this.attachment?.resize(cols, rows);
    }
  }

  /** Telnet bytes in; console keystrokes out. What the server answers goes out in one write. */
  receive(chunk: Uint8Array): void {
    const outer = this.batch === null;
    if (outer) {
      this.batch = [];
      this.batchBytes = 0;
    }
    try {
      this.parse(chunk);
    } finally {
      const batch = this.batch;
      if (outer && batch) {
        this.batch = null;
        this.batchBytes = 0;
        if (batch.length > 0 && !this.socket.destroyed) this.socket.write(batch.length === 1 ? batch[0]! : Buffer.concat(batch));
      }
    }
  }

  private parse(chunk: Uint8Array): void {
    // Runs of plain data are taken as views of the chunk, not byte by byte: a flood of typing
    // costs one scan for IAC per chunk (the per-byte loop was most of a flood's CPU).
    let pieces: Uint8Array[] = [];
    const flush = () => {
      if (pieces.length === 0 || this.socket.destroyed) return;
      const bytes = pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces);
      pieces = [];
      let text = this.decoder.decode(bytes, { stream: true });
      if (this.skipLineEnd && text) {
        this.skipLineEnd = false;
        text = text.replace(/^[\n\0]/, '');
      }
      if (text && this.mode !== null) this.lineInput(text);
      // The console has much waiting: stop reading this client until it has taken it.
      else if (text && this.attachment && !this.attachment.write(text)) this.socket.pause();
    };
    const n = chunk.length;
    let i = 0;
    while (i < n) {
      if (this.socket.destroyed) return;
      if (this.state === 'data') {
        const at = chunk.indexOf(IAC, i);
        const end = at < 0 ? n : at;
        if (end > i) pieces.push(chunk.subarray(i, end));
        if (at < 0) break;
        this.state = 'iac';
        i = at + 1;
        continue;
      }
      const b = chunk[i++]!;
      switch (this.state) {
        case 'iac':
          this.state = 'data';
          if (b === IAC) pieces.push(TYPED_IAC);
          else if (b === DO || b === DONT || b === WILL || b === WONT) {
            this.verb = b;
            this.state = 'option';
          } else if (b === SB) {
            this.sb = [];
            this.state = 'sb';
          } else if (b === IP) pieces.push(TYPED_CTRL_C);
          else if (b === EC) pieces.push(TYPED_DEL);
          else if (b === EL) pieces.push(TYPED_CTRL_U);
          else if (b === AYT) {
            flush();
            this.put(AYT_ANSWER);
          }
          break;
        case 'option':
          this.state = 'data';
          flush();
          this.negotiate(this.verb, b);
          break;
        case 'sb':
          if (b === IAC) this.state = 'sb-iac';
          else if (this.sb.length < 64) this.sb.push(b);
          break;
        case 'sb-iac':
          if (b === SE) {
            this.state = 'data';
            flush();
            this.subnegotiation(this.sb);
          } else {
            if (b === IAC && this.sb.length < 64) this.sb.push(IAC);
            this.state = 'sb';
          }
          break;
      }
    }
    flush();
  }

  close(): void {
    clearTimeout(this.lineTimer);
    this.mode = null;
    this.attachment?.detach();
    this.attachment = null;
  }
}

/** A node's telnet port: reserved (then listening), or none and why. */
interface NodePort {
  /** The port the lab model (or the options) asks for, and whether only that port will do. */
  want: number;
  explicit: boolean;
  /** Reserved in the pool (listening once `server` is set), or null. */
  port: number | null;
  server: Server | null;
  binding: boolean;
  /** Why there is no port: the pool's cap or range, or the OS's or the pool's refusal of an explicit port. */
  none: NoPortReason | string | null;
  /** The refusal in `none` was reported. */
  reported: boolean;
  /** The node went (or its port changed) while it was bound: its bind lets the port go. */
  gone: boolean;
}

/** What the API says of a node's telnet console while its lab runs. */
export interface TelnetPortState {
  /** Its own port (reserved at once, listening moments later), or null. */
  port: number | null;
  /** Why it has none: 'cap' or 'range' (the pool's limits), or an error. */
  none: NoPortReason | string | null;
}

/**
 * A telnet server per node of a running lab, on ports reserved synchronously in the server's
 * pool (so a view built right after a start or an edit names the port that will answer), as long
 * as the pool's cap allows; the other nodes are reached through the shared port.
 */
export class TelnetConsoles {
  private readonly nodes = new Map<string, NodePort>();
  private readonly sockets = new Set<Socket>();
  private readonly pool: ConsolePortPool;
  private readonly target: ConsoleTarget;
  /** Binds run one after another: a lab edited twice quickly must not open a port twice. */
  private syncing: Promise<ConsoleListener[]> = Promise.resolve([]);
  /** A sync asked for and not planned yet, and the turn that will plan and bind it. */
  private dirty = false;
  private scheduled: Promise<ConsoleListener[]> | null = null;
  private closed = false;

  constructor(
    readonly hub: ConsoleHub,
    private readonly opts: TelnetConsolesOptions = {},
    private readonly owner = '',
  ) {
    this.pool = opts.pool ?? new ConsolePortPool();
    this.target = { node: null, attach: (node, client) => hub.attach(node, client) };
  }

  /** Listens for every node; a port that is taken is reported, not fatal. */
  async listen(): Promise<ConsoleListener[]> {
    return this.sync();
  }

  /**
   * Follows the lab: reserves ports for nodes added since the last call (and for nodes that had
   * none, when the pool has room again) and frees those of nodes removed (or whose lab-file port
   * changed), at once; then binds them. Answers the listeners opened or refused now.
   */
  sync(): Promise<ConsoleListener[]> {
    if (this.closed) return Promise.resolve([]);
    // Coalesced: a PUT that adds 25,000 nodes is one plan, not 25,000 (each over the whole lab).
    this.dirty = true;
    this.scheduled ??= Promise.resolve().then(() => {
      this.scheduled = null;
      this.planNow();
      this.syncing = this.syncing.then(
        () => this.bind(),
        () => this.bind(),
      );
      return this.syncing;
    });
    return this.scheduled;
  }

  /** Resolves once every port reserved so far listens (or was refused). */
  ready(): Promise<unknown> {
    return this.scheduled ?? this.syncing;
  }

  /** Reserves now what a sync asked for: whoever reads the ports sees them at once. */
  private planNow(): void {
    if (!this.dirty || this.closed) return;
    this.dirty = false;
    this.plan();
    this.opts.onPlanned?.();
  }

  /** The port a node's console listens on (or is about to), or null when it has none. */
  portOf(node: string): number | null {
    this.planNow();
    return this.nodes.get(node)?.port ?? null;
  }

  state(node: string): TelnetPortState | null {
    this.planNow();
    const n = this.nodes.get(node);
    return n ? { port: n.port, none: n.port === null ? n.none : null } : null;
  }

  /** Nodes without a port of their own because of the pool's cap or range. */
  withoutPort(): number {
    this.planNow();
    let count = 0;
    for (const n of this.nodes.values()) if (n.port === null && (n.none === 'cap' || n.none === 'range')) count++;
    return count;
  }

  /** Some node's explicit port was refused. */
  refusedAny(): boolean {
    for (const n of this.nodes.values()) if (n.port === null && n.none !== null && n.none !== 'cap' && n.none !== 'range') return true;
    return false;
  }

  private plan(): void {
    const wanted = new Map<string, { want: number; explicit: boolean }>();
    for (const p of this.hub.ports()) wanted.set(p.node, { want: (this.opts.ports?.[p.node] ?? p.port) + (this.opts.portOffset ?? 0), explicit: p.explicit || this.opts.ports?.[p.node] !== undefined });
    for (const [node, n] of this.nodes) {
      const w = wanted.get(node);
      if (n.port !== null && w && w.explicit === n.explicit && (!w.explicit || w.want === n.want)) continue;
      this.nodes.delete(node);
      this.free(n);
    }
    for (const [node, w] of wanted) {
      if (this.nodes.has(node)) continue;
      const n: NodePort = { ...w, port: null, server: null, binding: false, none: null, reported: false, gone: false };
      if (w.explicit) {
        if (this.pool.isHeld(w.want)) n.none = `port ${w.want} is another running lab's console`;
        else if (this.pool.full) n.none = 'cap';
        else {
          this.pool.hold(w.want, `${this.owner}${node}`);
          n.port = w.want;
        }
      } else {
        const r = this.pool.reserve(`${this.owner}${node}`, w.want);
        if (typeof r === 'number') n.port = r;
        else n.none = r;
      }
      this.nodes.set(node, n);
    }
  }

  private async bind(): Promise<ConsoleListener[]> {
    const out: ConsoleListener[] = [];
    const host = this.opts.host ?? '127.0.0.1';
    for (const [node, n] of this.nodes) {
      if (this.closed) break;
      if (n.port === null) {
        // Refusals are reported once, when they happen; the pool's limits are told per lab by its owner.
        if (n.none !== null && n.none !== 'cap' && n.none !== 'range' && !n.reported) {
          out.push({ node, port: n.want, error: n.none });
          n.reported = true;
        }
        continue;
      }
      if (n.server !== null || n.binding) continue;
      n.binding = true;
      const r = await listenReserved(this.pool, `${this.owner}${node}`, n.port, {
        host,
        explicit: n.explicit,
        onSocket: (socket) => this.connected(socket, node, n),
        moved: (port) => (n.port = port),
      });
      n.binding = false;
      if ('error' in r) {
        n.port = null;
        n.none = r.error;
        n.reported = true;
        if (!n.gone) out.push({ node, port: n.want, error: r.error });
        continue;
      }
      // The node went (or the consoles closed) while it bound: the server and the port go too.
      if (this.closed || n.gone) {
        this.pool.release(r.port);
        n.port = null;
        r.server.close();
        continue;
      }
      n.server = r.server;
      out.push({ node, port: r.port, error: null });
    }
    return out;
  }

  private connected(socket: Socket, node: string, n: NodePort): void {
    if (this.closed || n.gone) return void socket.destroy();
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    new TelnetSession(socket, { ...this.target, node }, this.opts.token ?? null);
  }

  private free(n: NodePort): void {
    n.gone = true;
    // A bind under way releases its port itself when it ends.
    if (n.binding) return;
    if (n.port !== null) this.pool.release(n.port);
    n.server?.close();
    n.port = null;
    n.server = null;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const s of this.sockets) s.destroy();
    const servers = [...this.nodes.values()].map((n) => n.server).filter((s): s is Server => s !== null);
    for (const n of this.nodes.values()) this.free(n);
    this.nodes.clear();
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => (s.listening ? s.close(() => resolve()) : resolve()))));
  }
}

/**
 * `wirelab run`: telnet consoles for a running lab, with `write memory` / `save` written into
 * the lab's lab.yaml (atomically: a temporary file renamed over it). Prints where each listens.
 */
export async function startRunConsoles(runtime: LabRuntime, labArg: string, labsDir: string, opts: TelnetConsolesOptions = {}): Promise<TelnetConsoles> {
  const located = locateLab(labArg, labsDir);
  const folderName = basename(located.file) === 'lab.yaml' ? basename(located.dir) : undefined;
  const hub = new ConsoleHub(runtime, {
    ...(folderName !== undefined ? { folderName } : {}),
    persist: async (file) => {
      const temp = `${located.file}.console-${process.pid}.tmp`;
      await writeFile(temp, formatLabFile(file), 'utf8');
      await rename(temp, located.file);
    },
  });
  const consoles = new TelnetConsoles(hub, opts);
  const host = opts.host ?? '127.0.0.1';
  for (const l of await consoles.listen()) {
    const kind = runtime.lab.nodes[l.node]?.kind ?? '';
    console.log(l.error ? `console ${l.node}: not available (${l.error})` : `console ${l.node} (${kind}): telnet ${host} ${l.port}`);
  }
  return consoles;
}
