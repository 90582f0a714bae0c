/**
 * The consoles of running labs for the WebSocket: one ConsoleHub per running lab, made when a
 * browser first opens a console there and closed when the lab stops or is restarted. `write
 * memory` goes through the lab service like any other edit, so lab.yaml is validated and
 * written atomically. Each running lab also gets its telnet consoles (the GNS3 convention: ports
 * from 5000 up as the lab model numbers them, or the next free one when another lab holds it), on
 * loopback only; on a server with a token a telnet client must give it first. The ports follow
 * live edits: a node added to a running lab gets its console, a removed one frees its port.
 * Ports come from one pool for the whole server, capped from its open-file limit; nodes beyond
 * the cap are reached through one shared telnet port that asks for `lab/node`.
 */
import type { Server, Socket } from 'node:net';
import type { LabRuntime, RuntimeListener } from '../devices/lab/runtime.js';
import type { LabFile } from '../devices/lab/schema.js';
import { ConsoleHub, type ConsoleAttachment, type ConsoleClient } from './console-hub.js';
import { type ConsoleBudget, ConsolePortPool, consoleBudget, listenReserved } from './console-ports.js';
import { type ConsoleTarget, TelnetConsoles, TelnetSession } from './console-telnet.js';
import type { NodeConsoleInfo } from './lab-views.js';
import type { LabConsolesView, LabService } from './labs.js';

export interface LabConsolesOptions {
  /** The server's token: telnet clients must give it first (null: consoles are open on loopback). */
  token?: string | null;
  /** Listeners and connections the consoles may hold (default: from this process's open-file limit). */
  budget?: ConsoleBudget;
  /** A node's explicit port could not be opened. */
  onTelnetError?(lab: string, node: string, port: number, error: string): void;
  /** Said once per lab run when some of its nodes get no telnet port of their own. */
  onNotice?(fields: Record<string, unknown>, message: string): void;
}

interface SharedPort {
  port: number | null;
  server: Server | null;
  bound: Promise<unknown>;
  sockets: Set<Socket>;
}

/** Where the shared telnet port listens when free: just below GNS3's console range. */
const SHARED_PORT = 4999;
/** Names `?` lists at the shared port, at most (a lab may have 25,000 nodes). */
const LIST_MAX = 200;

export class LabConsoles implements LabConsolesView {
  private readonly hubs = new Map<string, { runtime: LabRuntime; hub: ConsoleHub; telnet: TelnetConsoles; onEvent: RuntimeListener; sync: () => void; told: boolean }>();
  private readonly unlisten: () => void;
  private readonly ports: ConsolePortPool;
  /** The one telnet port where a client names `lab/node`: made when a node first has no port of its own. */
  private shared: SharedPort | null = null;
  private closed = false;

  constructor(
    private readonly labs: LabService,
    private readonly opts: LabConsolesOptions = {},
  ) {
    this.ports = new ConsolePortPool(5000, 10000, opts.budget ?? consoleBudget());
    this.unlisten = labs.onRuntime((lab, runtime) => {
      const h = this.hubs.get(lab);
      if (h && h.runtime !== runtime) this.drop(lab);
      if (runtime && !this.hubs.has(lab)) this.hubFor(lab, runtime);
    });
  }

  get budget(): ConsoleBudget {
    return this.ports.budget;
  }

  private drop(lab: string): void {
    const h = this.hubs.get(lab);
    if (!h) return;
    h.runtime.offEvent(h.onEvent);
    void h.telnet.close();
    h.hub.close();
    this.hubs.delete(lab);
    // Its ports are free: nodes of other labs that had none may get one now.
    if (!this.closed) for (const other of this.hubs.values()) other.sync();
  }

  private hubFor(lab: string, runtime: LabRuntime): ConsoleHub {
    const hub = new ConsoleHub(runtime, {
      folderName: lab,
      persist: async (file: LabFile) => {
        await this.labs.replace(lab, file);
      },
    });
    // Once ports are reserved: nodes without one are reached through the shared port, and the log says so once.
    const planned = () => {
      const without = telnet.withoutPort();
      if (without > 0 || telnet.refusedAny()) this.openShared();
      const h = this.hubs.get(lab);
      if (without > 0 && h && !h.told) {
        h.told = true;
        void telnet.ready().then(() => this.tellNoPorts(lab, without));
      }
    };
    const telnet = new TelnetConsoles(hub, { host: '127.0.0.1', pool: this.ports, token: this.opts.token ?? null, onPlanned: planned }, `${lab}/`);
    const sync = () =>
      void telnet.sync().then((listeners) => {
        for (const l of listeners) if (l.error) this.opts.onTelnetError?.(lab, l.node, l.port, l.error);
      });
    const onEvent: RuntimeListener = (e) => {
      if (e.type === 'node-changed') sync();
    };
    runtime.onEvent(onEvent);
    this.hubs.set(lab, { runtime, hub, telnet, onEvent, sync, told: false });
    sync();
    return hub;
  }

  private tellNoPorts(lab: string, count: number): void {
    const b = this.ports.budget;
    const why = this.ports.full
      ? `the cap of ${b.listeners} telnet console listeners is reached (from this process's limit of ${b.fileLimit} open files; --console-listeners sets it)`
      : `every telnet console port ${this.ports.first}-${this.ports.last} is taken`;
    const where = this.shared?.port != null ? `the shared telnet port ${this.shared.port} (type ${lab}/NODE) and the browser` : 'the browser';
    this.opts.onNotice?.({ lab, nodes: count, cap: b.listeners, fileLimit: b.fileLimit, shared: this.shared?.port ?? null }, `lab ${lab}: ${count} nodes have no telnet port of their own: ${why}; their consoles are on ${where}`);
  }

  /** Reserves the shared port at once (so views name it) and binds it. */
  private openShared(): void {
    if (this.shared || this.closed) return;
    const preferred = this.ports.isHeld(SHARED_PORT) ? this.ports.last + 1 : SHARED_PORT;
    const r = this.ports.reserve('shared', preferred, false);
    const shared: SharedPort = { port: typeof r === 'number' ? r : null, server: null, bound: Promise.resolve(), sockets: new Set() };
    this.shared = shared;
    if (shared.port === null) return;
    const target: ConsoleTarget = {
      node: null,
      attach: (name, client) => {
        const slash = name.indexOf('/');
        if (slash < 0) throw new Error(`${JSON.stringify(name)} names no console: type lab/node (? lists them)`);
        return this.attach(name.slice(0, slash), name.slice(slash + 1), client);
      },
      greeting: () => 'wirelab consoles: type a node as lab/node and Enter (? lists the running labs\' nodes)\r\n',
      list: () => this.listing(),
    };
    shared.bound = listenReserved(this.ports, 'shared', shared.port, {
      host: '127.0.0.1',
      explicit: false,
      moved: (port) => (shared.port = port),
      onSocket: (socket) => {
        if (this.closed) return void socket.destroy();
        shared.sockets.add(socket);
        socket.on('close', () => shared.sockets.delete(socket));
        new TelnetSession(socket, target, this.opts.token ?? null);
      },
    }).then((r) => {
      if ('error' in r) {
        shared.port = null;
        this.opts.onNotice?.({ error: r.error }, `the shared telnet console port could not be opened: ${r.error}`);
      } else if (this.closed) {
        this.ports.release(r.port);
        r.server.close();
      } else shared.server = r.server;
    });
  }

  /** `?` at the shared port: the running labs' nodes, as many as fit. */
  private listing(): string {
    const lines: string[] = [];
    let shown = 0;
    for (const [lab, h] of [...this.hubs].sort(([a], [b]) => a.localeCompare(b))) {
      const nodes = Object.keys(h.runtime.lab.nodes);
      const names = nodes.slice(0, Math.max(0, LIST_MAX - shown));
      shown += names.length;
      lines.push(`${lab}: ${names.map((n) => `${lab}/${n}`).join(' ')}${names.length < nodes.length ? ` ... and ${nodes.length - names.length} more` : ''}`);
    }
    return lines.length > 0 ? `${lines.join('\r\n')}\r\n` : 'no lab is running\r\n';
  }

  /** Where a running lab's node's telnet console is, or null when the lab does not run. */
  consoleOf(lab: string, node: string): NodeConsoleInfo | null {
    const h = this.hubs.get(lab);
    const st = h?.telnet.state(node);
    if (!h || !st) return null;
    if (st.port !== null) return { port: st.port, shared: null, note: null };
    this.openShared();
    const shared = this.shared?.port ?? null;
    const b = this.ports.budget;
    const why =
      st.none === 'cap'
        ? `the server's cap of ${b.listeners} telnet console listeners is reached (from its limit of ${b.fileLimit} open files)`
        : st.none === 'range'
          ? `every console port ${this.ports.first}-${this.ports.last} is taken`
          : (st.none ?? 'its port is not open');
    const where = shared !== null ? `telnet 127.0.0.1 ${shared} and type ${lab}/${node}, or open its console in the browser` : 'open its console in the browser';
    return { port: null, shared, note: `no telnet port of its own: ${why}; ${where}` };
  }

  /** Resolves when the lab's consoles listen where its views say (after a start). */
  async ready(lab: string): Promise<void> {
    await this.hubs.get(lab)?.telnet.ready();
    await this.shared?.bound;
  }

  /** Command histories of a running lab's consoles (for snapshots). */
  histories(lab: string): Record<string, string[]> {
    return this.hubs.get(lab)?.hub.histories() ?? {};
  }

  /** After a restore: the consoles of the running lab get the snapshot's histories. */
  restoreHistories(lab: string, histories: Readonly<Record<string, readonly string[]>>): void {
    const runtime = this.labs.runtime(lab);
    if (runtime) this.hubOf(lab, runtime).restoreHistories(histories);
  }

  /** The running lab's hub: made on first use, made again when the lab was restarted. */
  private hubOf(lab: string, runtime: LabRuntime): ConsoleHub {
    const h = this.hubs.get(lab);
    if (h && h.runtime === runtime) return h.hub;
    if (h) this.drop(lab);
    return this.hubFor(lab, runtime);
  }

  /** Attaches a viewer to a node's console; throws with a message for the client when it cannot. */
  attach(lab: string, node: string, client: ConsoleClient): ConsoleAttachment {
    const runtime = this.labs.runtime(lab);
    if (!runtime) throw new Error(`lab ${lab} is not running; start it to use its consoles`);
    if (!Object.hasOwn(runtime.lab.nodes, node)) throw new Error(`lab ${lab} has no node ${JSON.stringify(node)}`);
    return this.hubOf(lab, runtime).attach(node, client);
  }

  close(): void {
    this.closed = true;
    this.unlisten();
    for (const lab of [...this.hubs.keys()]) this.drop(lab);
    const shared = this.shared;
    if (shared) {
      for (const s of shared.sockets) s.destroy();
      shared.server?.close();
      if (shared.port !== null && shared.server) this.ports.release(shared.port);
    }
  }
}
