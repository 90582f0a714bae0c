/**
 * Telnet consoles (the GNS3 convention): each node of a running lab listens on its console port
 * (the lab model's `console:`, from 5000 up), so `telnet 127.0.0.1 5001`, PuTTY, SecureCRT or
 * `nc` reach its console. Option negotiation as a console server does it (RFC 854/857/858/1073):
 * the server echoes and suppresses go-ahead, so clients switch to character mode, and it asks
 * for the window size (NAWS). Several clients may share one console; all see its output.
 */
import { writeFile, rename } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { basename } from 'node:path';
import { TextDecoder } from 'node:util';
import type { LabRuntime } from '../devices/lab/runtime.js';
import { sameToken } from './auth.js';
import { type ConsoleAttachment, ConsoleHub } from './console-hub.js';
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
}

/** How long a client may take to give the token, and the longest line taken as one. */
const TOKEN_WAIT_MS = 60_000;
const TOKEN_MAX = 256;

/**
 * The console ports one server holds, across its running labs. As on a GNS3 compute, a node
 * whose lab file names no port gets the lab model's (5000 up) when it is free and otherwise the
 * next free one, so two labs numbered from 5000 both get every console; a port the lab file
 * names is that port or an error. The range is GNS3's default console range.
 */
export class ConsolePortPool {
  private readonly held = new Set<number>();

  constructor(
    readonly first = 5000,
    readonly last = 10000,
  ) {}

  isHeld(port: number): boolean {
    return this.held.has(port);
  }
  hold(port: number): void {
    this.held.add(port);
  }
  release(port: number): void {
    this.held.delete(port);
  }

  /** Where a node without a port of its own may listen: its model port first, then free ones. */
  *candidates(preferred: number): Generator<number> {
    if (!this.held.has(preferred)) yield preferred;
    for (let p = this.first; p <= this.last; p++) if (p !== preferred && !this.held.has(p)) yield p;
  }
}

/** Ports the OS refuses before a node gives up looking (other programs holding a run of them). */
const MAX_PORT_TRIES = 64;

export interface ConsoleListener {
  node: string;
  port: number;
  /** Why it could not listen (port taken), or null. */
  error: string | null;
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
  /** The token's line being typed, while the client has not given it (null: not asked or given). */
  private tokenLine: string | null = null;
  private tokenTimer: NodeJS.Timeout | undefined;
  private skipLineEnd = false;

  constructor(
    readonly socket: Socket,
    private readonly hub: ConsoleHub,
    readonly node: string,
    private readonly token: string | null = null,
  ) {
    socket.setNoDelay(true);
    this.put(Buffer.from([IAC, WILL, OPT_ECHO, IAC, WILL, OPT_SGA, IAC, DO, OPT_SGA, IAC, DO, OPT_NAWS]));
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('close', () => this.close());
    socket.on('error', () => this.close());
    if (token === null) {
      this.attach();
      return;
    }
    // The server takes a token: the console is reached only with it (echo is off: WILL ECHO).
    this.tokenLine = '';
    this.put(Buffer.from('Token: '));
    this.tokenTimer = setTimeout(() => this.refuse('no token given'), TOKEN_WAIT_MS);
  }

  private refuse(why: string): void {
    this.tokenLine = null;
    if (!this.socket.destroyed) this.socket.end(`\r\n% ${why}; the console needs the server's token as its first line\r\n`);
  }

  /** Typed text while the token is asked for; what follows its line goes to the console. */
  private tokenInput(text: string): void {
    const end = text.search(/[\r\n]/);
    this.tokenLine += end < 0 ? text : text.slice(0, end);
    if (this.tokenLine!.length > TOKEN_MAX) return this.refuse('wrong token');
    if (end < 0) return;
    clearTimeout(this.tokenTimer);
    const given = this.tokenLine!;
    this.tokenLine = null;
    if (!sameToken(given, this.token!)) return this.refuse('wrong token');
    this.put(Buffer.from('\r\n'));
    this.attach();
    const rest = text.slice(end + 1);
    // CR LF or CR NUL ends the line; its second half may come in the next chunk.
    this.skipLineEnd = rest === '' && text[end] === '\r';
    const keys = rest.replace(/^[\n\0]/, '');
    if (keys) this.attachment?.write(keys);
  }

  private attach(): void {
    const socket = this.socket;
    const hub = this.hub;
    const node = this.node;
    try {
      this.attachment = hub.attach(node, {
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
    } catch (e) {
      socket.end(`% ${(e as Error).message}\r\n`);
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
    let data: number[] = [];
    const flush = () => {
      if (data.length === 0 || this.socket.destroyed) return;
      let text = this.decoder.decode(Uint8Array.from(data), { stream: true });
      data = [];
      if (this.skipLineEnd && text) {
        this.skipLineEnd = false;
        text = text.replace(/^[\n\0]/, '');
      }
      if (text && this.tokenLine !== null) this.tokenInput(text);
      // The console has much waiting: stop reading this client until it has taken it.
      else if (text && this.attachment && !this.attachment.write(text)) this.socket.pause();
    };
    for (const b of chunk) {
      if (this.socket.destroyed) return;
      switch (this.state) {
        case 'data':
          if (b === IAC) this.state = 'iac';
          else data.push(b);
          break;
        case 'iac':
          this.state = 'data';
          if (b === IAC) data.push(IAC);
          else if (b === DO || b === DONT || b === WILL || b === WONT) {
            this.verb = b;
            this.state = 'option';
          } else if (b === SB) {
            this.sb = [];
            this.state = 'sb';
          } else if (b === IP) data.push(0x03);
          else if (b === EC) data.push(0x7f);
          else if (b === EL) data.push(0x15);
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
    clearTimeout(this.tokenTimer);
    this.tokenLine = null;
    this.attachment?.detach();
    this.attachment = null;
  }
}

/** A telnet server per node of a running lab. */
export class TelnetConsoles {
  private readonly listening = new Map<string, { server: Server; port: number; explicit: boolean }>();
  private readonly sockets = new Set<Socket>();
  private readonly pool: ConsolePortPool;
  /** Syncs run one after another: a lab edited twice quickly must not open a port twice. */
  private syncing: Promise<ConsoleListener[]> = Promise.resolve([]);
  private closed = false;

  constructor(
    readonly hub: ConsoleHub,
    private readonly opts: TelnetConsolesOptions = {},
  ) {
    this.pool = opts.pool ?? new ConsolePortPool();
  }

  /** Listens for every node; a port that is taken is reported, not fatal. */
  async listen(): Promise<ConsoleListener[]> {
    return this.sync();
  }

  /**
   * Follows the lab: listens for nodes added since the last call, closes the ports of nodes
   * removed (or whose lab-file port changed). Answers what was opened now.
   */
  sync(): Promise<ConsoleListener[]> {
    this.syncing = this.syncing.then(
      () => this.syncNow(),
      () => this.syncNow(),
    );
    return this.syncing;
  }

  /** The port a node's console listens on, or null when it does not. */
  portOf(node: string): number | null {
    return this.listening.get(node)?.port ?? null;
  }

  private async syncNow(): Promise<ConsoleListener[]> {
    if (this.closed) return [];
    // Each node's port as it should be: where it is wanted, and whether only that port will do.
    const wanted = new Map(this.hub.ports().map((p) => [p.node, { port: this.preferredPort(p.node, p.port), explicit: p.explicit || this.opts.ports?.[p.node] !== undefined }]));
    for (const [node, l] of this.listening) {
      const w = wanted.get(node);
      if (w && (w.explicit ? l.explicit && l.port === w.port : !l.explicit)) continue;
      this.listening.delete(node);
      await this.closeServer(l.server, l.port);
    }
    const out: ConsoleListener[] = [];
    for (const [node, w] of wanted) {
      if (this.listening.has(node)) continue;
      out.push(await this.open(node, w.port, w.explicit));
      if (this.closed) break;
    }
    return out;
  }

  private preferredPort(node: string, modelPort: number): number {
    return (this.opts.ports?.[node] ?? modelPort) + (this.opts.portOffset ?? 0);
  }

  private async open(node: string, preferred: number, explicit: boolean): Promise<ConsoleListener> {
    const host = this.opts.host ?? '127.0.0.1';
    // A new server per attempt: one whose listen failed is not reused.
    const tryPort = (port: number) =>
      new Promise<Server | NodeJS.ErrnoException>((resolve) => {
        const server = createServer((socket) => {
          this.sockets.add(socket);
          socket.on('close', () => this.sockets.delete(socket));
          new TelnetSession(socket, this.hub, node, this.opts.token ?? null);
        });
        const onError = (e: NodeJS.ErrnoException) => resolve(e);
        server.once('error', onError);
        server.listen(port, host, () => {
          server.off('error', onError);
          resolve(server);
        });
      });
    if (explicit) {
      if (this.pool.isHeld(preferred)) return { node, port: preferred, error: `port ${preferred} is another running lab's console` };
      const r = await tryPort(preferred);
      if (r instanceof Error) return { node, port: preferred, error: r.code === 'EADDRINUSE' ? `port ${preferred} is in use` : r.message };
      return this.opened(node, r, preferred, true);
    }
    let tries = 0;
    let last: NodeJS.ErrnoException | null = null;
    for (const port of this.pool.candidates(preferred)) {
      if (tries++ >= MAX_PORT_TRIES) break;
      const r = await tryPort(port);
      if (!(r instanceof Error)) return this.opened(node, r, port, false);
      last = r;
      if (last.code !== 'EADDRINUSE') break;
    }
    return { node, port: preferred, error: last && last.code !== 'EADDRINUSE' ? last.message : `no free console port from ${preferred} (tried ${tries})` };
  }

  private opened(node: string, server: Server, port: number, explicit: boolean): ConsoleListener {
    if (this.closed) {
      server.close();
      return { node, port, error: 'the consoles were closed' };
    }
    this.pool.hold(port);
    this.listening.set(node, { server, port, explicit });
    return { node, port, error: null };
  }

  private closeServer(server: Server, port: number): Promise<void> {
    this.pool.release(port);
    return new Promise<void>((resolve) => server.close(() => resolve()));
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const s of this.sockets) s.destroy();
    const all = [...this.listening.values()];
    this.listening.clear();
    await Promise.all(all.map((l) => this.closeServer(l.server, l.port)));
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
