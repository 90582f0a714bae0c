/**
 * The telnet console ports of one server, across all its running labs, and the file descriptors
 * they may take. A port is reserved synchronously (so an API answer names the port the console
 * will listen on, never one it merely hoped for) and only then bound. Every listener and every
 * telnet connection holds a descriptor: both are capped from the process's open-file limit
 * (RLIMIT_NOFILE), so that however large the labs, the API, snapshots and endpoints keep theirs.
 * Nodes beyond the cap keep their consoles through the browser and the one shared telnet port.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { type Server, type Socket, createServer } from 'node:net';

/** The process's soft limit on open files (Infinity: unlimited; 1024 when it cannot be read). */
export function openFileLimit(): number {
  try {
    // Linux: "Max open files  <soft>  <hard>  files" (Node raised the soft limit to the hard one at start).
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const soft = line?.split(/\s{2,}/)[1];
    if (soft === 'unlimited') return Infinity;
    if (soft && /^\d+$/.test(soft)) return Number(soft);
  } catch {
    // not Linux: ask a shell, which inherits this process's limits
  }
  try {
    const out = execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8', timeout: 2_000 }).trim();
    if (out === 'unlimited') return Infinity;
    if (/^\d+$/.test(out)) return Number(out);
  } catch {
    // fall through to the usual default
  }
  return 1024;
}

export interface ConsoleBudget {
  /** Telnet listeners (one per node that has a port of its own, plus the shared port). */
  listeners: number;
  /** Telnet connections at once, over all consoles. */
  connections: number;
  /** The open-file limit it was taken from. */
  fileLimit: number;
}

/**
 * Half the descriptors (at least 512) stay for the API, WebSockets, snapshots, imports and
 * endpoints; consoles' listeners get the rest, and their connections one sixteenth.
 */
export function consoleBudget(fileLimit = openFileLimit(), listeners?: number): ConsoleBudget {
  const limit = Number.isFinite(fileLimit) ? fileLimit : 1 << 20;
  const reserve = Math.max(512, Math.ceil(limit / 2));
  return { listeners: listeners ?? Math.max(0, limit - reserve), connections: Math.max(16, Math.floor(limit / 16)), fileLimit };
}

/** Why a node has no telnet port of its own. */
export type NoPortReason = 'cap' | 'range';

/**
 * The console ports one server holds, across its running labs. As on a GNS3 compute, a node
 * whose lab file names no port gets the lab model's (5000 up) when it is free and otherwise the
 * next free one, so two labs numbered from 5000 both get every console; a port the lab file
 * names is that port or an error. The range is GNS3's default console range.
 */
export class ConsolePortPool {
  /** Reserved or listening ports, with who holds them (`lab/node`, or the shared port). */
  private readonly held = new Map<number, string>();
  /** Ports another program held when we tried them: not tried again. */
  private readonly foreign = new Set<number>();
  private connections = 0;
  /** Where the next search for a free port starts: ports below it were all held. */
  private cursor: number;
  readonly budget: ConsoleBudget;

  constructor(
    readonly first = 5000,
    readonly last = 10000,
    budget: Partial<ConsoleBudget> = {},
  ) {
    this.cursor = first;
    const b = consoleBudget(budget.fileLimit ?? Infinity);
    this.budget = { ...b, ...budget };
  }

  isHeld(port: number): boolean {
    return this.held.has(port);
  }
  /** True when another listener would pass the cap. */
  get full(): boolean {
    return this.held.size >= this.budget.listeners;
  }
  get listeners(): number {
    return this.held.size;
  }

  /** Reserves `port` (free, as isHeld says) for `owner`. */
  hold(port: number, owner: string): void {
    this.held.set(port, owner);
  }
  release(port: number): void {
    this.held.delete(port);
    if (port >= this.first && port < this.cursor) this.cursor = port;
  }
  /** The OS refused `port` (another program listens there): released and skipped from now on. */
  refused(port: number): void {
    this.release(port);
    this.foreign.add(port);
  }

  /**
   * Reserves a port for a node without one of its own in the lab file: `preferred` when free,
   * else the next free one in the range; the reason instead when the cap or the range is used up.
   */
  reserve(owner: string, preferred: number, capped = true): number | NoPortReason {
    if (capped && this.full) return 'cap';
    const free = (p: number) => !this.held.has(p) && !this.foreign.has(p);
    let port: number | null = free(preferred) ? preferred : null;
    for (let p = this.cursor; port === null && p <= this.last; p++) {
      if (free(p)) port = p;
      else if (p === this.cursor) this.cursor = p + 1;
    }
    if (port === null) return 'range';
    this.hold(port, owner);
    return port;
  }

  /** Takes a new telnet connection into account; false (and it is closed) beyond the cap. */
  admit(socket: Socket): boolean {
    if (this.connections >= this.budget.connections) {
      socket.on('error', () => undefined);
      socket.end(`% too many telnet console connections (${this.budget.connections}); try again later or use the browser's console\r\n`);
      socket.destroySoon();
      return false;
    }
    this.connections++;
    socket.once('close', () => this.connections--);
    return true;
  }
}

/** Ports the OS refuses before a console gives up looking (other programs holding a run of them). */
const MAX_PORT_TRIES = 64;

/**
 * Binds a TCP server on a port already reserved for `owner`. When another program holds it and
 * the port is not one the lab file names, the next free port is reserved and tried (`moved`
 * tells the caller at once). Answers the server and its port, or why there is none.
 */
export async function listenReserved(
  pool: ConsolePortPool,
  owner: string,
  port: number,
  opts: { host: string; explicit: boolean; onSocket: (socket: Socket) => void; moved?: (port: number) => void },
): Promise<{ server: Server; port: number } | { error: string }> {
  for (let tries = 1; ; tries++) {
    const r = await new Promise<Server | NodeJS.ErrnoException>((resolve) => {
      // A new server per attempt: one whose listen failed is not reused.
      const server = createServer((socket) => {
        if (pool.admit(socket)) opts.onSocket(socket);
      });
      const onError = (e: NodeJS.ErrnoException) => resolve(e);
      server.once('error', onError);
      server.listen(port, opts.host, () => {
        server.off('error', onError);
        resolve(server);
      });
    });
    if (!(r instanceof Error)) return { server: r, port };
    if (r.code !== 'EADDRINUSE') {
      pool.release(port);
      return { error: r.message };
    }
    pool.refused(port);
    if (opts.explicit) return { error: `port ${port} is in use` };
    // Not capped: the console moves, it does not add a listener (it had its place under the cap).
    const next = pool.reserve(owner, port + 1, false);
    if (typeof next !== 'number' || tries >= MAX_PORT_TRIES) {
      if (typeof next === 'number') pool.release(next);
      return { error: `no free console port from ${port - tries + 1} (tried ${tries})` };
    }
    port = next;
    opts.moved?.(port);
  }
}
