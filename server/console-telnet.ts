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

/** Most output a slow client may owe before it is dropped (a console never waits for a viewer). */
const MAX_BACKLOG = 1 << 20;

export interface TelnetConsolesOptions {
  /** Address to listen on; default 127.0.0.1 (consoles carry no authentication). */
  host?: string;
  /** Ports by node, over the lab model's. */
  ports?: Record<string, number>;
  /** Added to every node's port (several labs side by side). */
  portOffset?: number;
}

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

  constructor(
    readonly socket: Socket,
    hub: ConsoleHub,
    readonly node: string,
  ) {
    socket.setNoDelay(true);
    socket.write(Buffer.from([IAC, WILL, OPT_ECHO, IAC, WILL, OPT_SGA, IAC, DO, OPT_SGA, IAC, DO, OPT_NAWS]));
    try {
      this.attachment = hub.attach(node, {
        output: (text) => this.send(text),
        closed: (reason) => {
          this.attachment = null;
          socket.end(`\r\n% ${reason}\r\n`);
        },
      });
    } catch (e) {
      socket.end(`% ${(e as Error).message}\r\n`);
      return;
    }
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('close', () => this.close());
    socket.on('error', () => this.close());
  }

  private send(text: string): void {
    if (this.socket.destroyed) return;
    if (this.socket.writableLength > MAX_BACKLOG) {
      this.socket.destroy();
      return;
    }
    const bytes = Buffer.from(text, 'utf8');
    // 0xFF never occurs in UTF-8, but a telnet stream must double it if it did.
    this.socket.write(bytes.includes(IAC) ? Buffer.from([...bytes].flatMap((b) => (b === IAC ? [IAC, IAC] : [b]))) : bytes);
  }

  private negotiate(verb: number, opt: number): void {
    const reply = (v: number) => this.socket.write(Buffer.from([IAC, v, opt]));
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

  /** Telnet bytes in; console keystrokes out. */
  receive(chunk: Uint8Array): void {
    let data: number[] = [];
    const flush = () => {
      if (data.length === 0) return;
      const text = this.decoder.decode(Uint8Array.from(data), { stream: true });
      data = [];
      if (text) this.attachment?.write(text);
    };
    for (const b of chunk) {
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
            this.socket.write('\r\n[Yes]\r\n');
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
    this.attachment?.detach();
    this.attachment = null;
  }
}

/** A telnet server per node of a running lab. */
export class TelnetConsoles {
  private readonly servers: Server[] = [];
  private readonly sockets = new Set<Socket>();

  constructor(
    readonly hub: ConsoleHub,
    private readonly opts: TelnetConsolesOptions = {},
  ) {}

  /** Listens for every node; a port that is taken is reported, not fatal. */
  async listen(): Promise<ConsoleListener[]> {
    const host = this.opts.host ?? '127.0.0.1';
    const out: ConsoleListener[] = [];
    for (const { node, port: modelPort } of this.hub.ports()) {
      const port = (this.opts.ports?.[node] ?? modelPort) + (this.opts.portOffset ?? 0);
      const server = createServer((socket) => {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        new TelnetSession(socket, this.hub, node);
      });
      const error = await new Promise<string | null>((resolve) => {
        server.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'EADDRINUSE' ? `port ${port} is in use` : e.message));
        server.listen(port, host, () => resolve(null));
      });
      if (error === null) this.servers.push(server);
      out.push({ node, port, error });
    }
    return out;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await Promise.all(this.servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    this.servers.length = 0;
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
