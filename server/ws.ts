/**
 * The WebSocket endpoint (/api/v1/ws). One connection carries any number of subscriptions,
 * each named by an id the client chooses:
 *
 *   -> {"op":"subscribe","id":"ev","channel":"lab","lab":"office"}           (lab omitted: every lab)
 *   -> {"op":"subscribe","id":"t1","channel":"trace","lab":"office","link":"pc1:eth0--sw1:e1",
 *       "filter":{"protocol":"icmp","address":"10.0.0.1","port":53},"raw":false}   (link omitted: every link)
 *   -> {"op":"subscribe","id":"c1","channel":"console","lab":"office","node":"r1","cols":80,"rows":24}
 *   -> {"op":"input","id":"c1","data":"show ip route\r"}    -> {"op":"resize","id":"c1","cols":120,"rows":40}
 *   <- {"type":"console","id":"c1","data":"..."}           <- {"type":"closed","id":"c1","reason":"..."}
 *   -> {"op":"unsubscribe","id":"t1"}
 *   <- {"type":"subscribed","id":"t1",...}
 *   <- {"type":"event","id":"ev","lab":"office","event":{"type":"node-state",...}}
 *   <- {"type":"trace","id":"t1","dropped":0,"droppedTotal":0,"records":[{time,link,from,to,length,protocol,src,dst,info,layers}]}
 *   <- {"type":"error","id":"t1","error":"...","details":[{field,message}]}
 *
 * Lab events: `lab-created`, `lab-deleted`, `lab-changed` and `node-|network-|link-created`,
 * `-updated`, `-deleted` (each with `source: api|disk`) when the lab file changes;
 * `lab-file-error` (with `file:line:column: field: message` errors) and `lab-file-ok` for hand
 * edits of lab.yaml; `apply-error`; and the running lab's own `lab-state`, `node-state`,
 * `link-state`, `node-changed`, `network-changed`.
 *
 * Trace messages are written as JSON bytes and sent as text frames; they are pure ASCII (other
 * characters as \u escapes), and parse to exactly the records described above.
 *
 * Limits (docs/api.md): a connection holds at most 64 subscriptions of any channel; one more is
 * refused with an error message (field `id`) and the connection stays open. The server takes at
 * most 256 connections, 64 of them from one client address; one more is closed at once with
 * code 1013 (try again later) and a reason that says which limit.
 *
 * Each client has a bounded send budget: trace records are only produced while its socket has
 * less than `maxBufferedBytes` waiting; beyond that frames are counted as dropped and the next
 * message says how many. A client that lets even lab events pile up past a hard limit is
 * disconnected. Either way the server's memory does not grow with a slow reader.
 */
import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import { type RawData, WebSocket, WebSocketServer } from 'ws';
import { type WsClientMessage, WsClientMessageSchema, type WsServerMessage } from '../contract/index.js';
import { describeZodIssues, formatPath } from '../devices/lab/schema.js';
import type { LabEvent, LabService } from './labs.js';
import { JsonBytes, ascii } from '../devices/trace/json.js';
import { CpuShare, type TraceHub, TraceRecords, TraceSubscription, compileFilter, DEFAULT_RING } from './trace.js';
import type { LabConsoles } from './console-channel.js';
import type { ConsoleAttachment } from './console-hub.js';

type ClientMessage = WsClientMessage;

export interface WsOptions {
  log: Logger;
  labs: LabService;
  traces: TraceHub;
  /** Node consoles of running labs; without it the console channel is refused. */
  consoles?: LabConsoles;
  /** Trace records stop while this many bytes wait in a client's socket (default 1 MiB). */
  maxBufferedBytes?: number;
  /** A client with this much waiting is disconnected (default 16 MiB). */
  hardLimitBytes?: number;
  /** Frames each trace subscription may hold for its client (default 8192). */
  ringSize?: number;
  /** Fraction of the process a trace may use turning frames into records (default 0.4). */
  cpuShare?: number;
  /** Seconds between keep-alive pings; a client that misses one is dropped (default 30). */
  heartbeatSeconds?: number;
  /** Subscriptions one connection may hold (default 64). */
  maxSubscriptions?: number;
  /** Connections the server takes (default 256). */
  maxConnections?: number;
  /** Connections from one client address (default 64). */
  maxConnectionsPerAddress?: number;
}

export const WS_LIMITS = { subscriptions: 64, connections: 256, connectionsPerAddress: 64 } as const;
/** The close code for a connection over a limit: 1013, "try again later" (RFC 6455 registry). */
export const CLOSE_TRY_LATER = 1013;

type Sub = { kind: 'lab'; lab: string | null } | { kind: 'trace'; trace: TraceSubscription } | { kind: 'console'; console: ConsoleAttachment };

/** Records per trace message at most, so one message stays small enough to parse quickly. */
const BATCH_RECORDS = 512;
const TRACE_HEAD = ascii('{"type":"trace","id":');
const DROPPED = ascii(',"dropped":');
const DROPPED_TOTAL = ascii(',"droppedTotal":');
const RECORDS = ascii(',"records":[');
const TRACE_TAIL = ascii(']}');

export class WsHub {
  readonly wss: WebSocketServer;
  private readonly clients = new Set<Client>();
  /** Open connections per client address. */
  private readonly perAddress = new Map<string, number>();
  readonly share: CpuShare;
  readonly maxBuffered: number;
  readonly hardLimit: number;
  readonly ringSize: number;
  /** Trace records into JSON bytes, shared by every client (a frame traced twice is decoded once). */
  readonly records = new TraceRecords();
  /** Where a trace message is written before it is copied out to its socket. */
  readonly scratch = new JsonBytes(1 << 20);
  private readonly heartbeat: ReturnType<typeof setInterval>;
  private readonly unlisten: () => void;

  constructor(readonly opts: WsOptions) {
    // One message per connection per turn of the event loop: a client flooding small messages
    // (2 MB of them arrive in one turn) held the loop for 10 s; now it is read as fast as it is
    // handled, and every other socket gets its turn in between.
    this.wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024, perMessageDeflate: false, allowSynchronousEvents: false });
    this.share = new CpuShare(opts.cpuShare ?? 0.4);
    this.maxBuffered = opts.maxBufferedBytes ?? 1 << 20;
    this.hardLimit = opts.hardLimitBytes ?? 16 << 20;
    this.ringSize = opts.ringSize ?? DEFAULT_RING;
    this.unlisten = opts.labs.onEvent((lab, event) => {
      for (const c of this.clients) c.labEvent(lab, event);
    });
    this.heartbeat = setInterval(() => {
      for (const c of this.clients) c.heartbeat();
    }, (opts.heartbeatSeconds ?? 30) * 1000);
    this.heartbeat.unref();
  }

  /** Takes over an HTTP upgrade that has already been authorised. */
  accept(req: IncomingMessage, socket: import('node:stream').Duplex, head: Buffer): void {
    const address = req.socket.remoteAddress ?? '';
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      // Refused after the handshake, so that a browser's client sees the code and reason.
      const max = this.opts.maxConnections ?? WS_LIMITS.connections;
      const maxHere = this.opts.maxConnectionsPerAddress ?? WS_LIMITS.connectionsPerAddress;
      const here = this.perAddress.get(address) ?? 0;
      const refusal =
        this.clients.size >= max ? `too many WebSocket connections: the server takes ${max}` : here >= maxHere ? `too many WebSocket connections from ${address}: ${maxHere} at most` : null;
      if (refusal !== null) {
        this.opts.log.warn({ address, connections: this.clients.size }, refusal);
        ws.close(CLOSE_TRY_LATER, refusal);
        return;
      }
      this.perAddress.set(address, here + 1);
      const client = new Client(ws, this);
      this.clients.add(client);
      ws.on('close', () => {
        client.closed();
        this.clients.delete(client);
        const n = (this.perAddress.get(address) ?? 1) - 1;
        if (n > 0) this.perAddress.set(address, n);
        else this.perAddress.delete(address);
      });
    });
  }

  get clientCount(): number {
    return this.clients.size;
  }

  close(): void {
    clearInterval(this.heartbeat);
    this.unlisten();
    for (const c of this.clients) c.ws.terminate();
    this.wss.close();
  }
}

class Client {
  private readonly subs = new Map<string, Sub>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private flushAt = Infinity;
  /** The subscription a flush starts with, turning so that none starves the others. */
  private turn = 0;
  private alive = true;
  private readonly flushBound = () => this.flush();

  constructor(
    readonly ws: WebSocket,
    private readonly hub: WsHub,
  ) {
    ws.on('message', (data, isBinary) => {
      try {
        this.onMessage(data, isBinary);
      } catch (err) {
        // A message must never take the server down; the client hears that it failed.
        hub.opts.log.error({ err }, 'handling a WebSocket message failed');
        this.error(undefined, 'internal error handling the message');
      }
    });
    ws.on('pong', () => (this.alive = true));
    ws.on('error', () => undefined);
    this.send({ type: 'hello', version: 1, labs: hub.opts.labs.names() });
  }

  heartbeat(): void {
    if (!this.alive) {
      this.ws.terminate();
      return;
    }
    this.alive = false;
    this.ws.ping();
  }

  closed(): void {
    clearTimeout(this.timer);
    for (const s of this.subs.values()) this.drop(s);
    this.subs.clear();
  }

  private drop(s: Sub): void {
    if (s.kind === 'trace') this.hub.opts.traces.remove(s.trace);
    else if (s.kind === 'console') s.console.detach();
  }

  /** Control messages and lab events: small, never dropped; a client that lets them pile up is cut off. */
  private send(msg: WsServerMessage): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    if (this.ws.bufferedAmount > this.hub.hardLimit) {
      this.hub.opts.log.warn('a WebSocket client stopped reading; disconnected');
      this.ws.terminate();
      return;
    }
    this.ws.send(JSON.stringify(msg));
  }

  private error(id: string | undefined, error: string, details: { field?: string; message: string }[] = []): void {
    this.send({ type: 'error', ...(id !== undefined ? { id } : {}), error, details });
  }

  labEvent(lab: string, event: LabEvent): void {
    for (const [id, s] of this.subs) if (s.kind === 'lab' && (s.lab === null || s.lab === lab)) this.send({ type: 'event', id, lab, event });
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    if (isBinary) return this.error(undefined, 'messages are JSON text');
    let msg: unknown;
    try {
      msg = JSON.parse(data.toString());
    } catch {
      return this.error(undefined, 'the message is not valid JSON', [{ field: '(message)', message: 'not JSON' }]);
    }
    const parsed = WsClientMessageSchema.safeParse(msg, { reportInput: true });
    if (!parsed.success) {
      const id = typeof (msg as { id?: unknown })?.id === 'string' ? (msg as { id: string }).id : undefined;
      const details = describeZodIssues(parsed.error.issues).map((i) => ({ field: formatPath(i.path), message: i.message }));
      return this.error(id, 'the message is not valid', details);
    }
    this.handle(parsed.data);
  }

  private handle(m: ClientMessage): void {
    if (m.op === 'input' || m.op === 'resize') {
      const s = this.subs.get(m.id);
      if (!s || s.kind !== 'console') return this.error(m.id, `no console subscription ${JSON.stringify(m.id)}`);
      if (m.op === 'input') s.console.write(m.data);
      else s.console.resize(m.cols, m.rows);
      return;
    }
    if (m.op === 'unsubscribe') {
      const s = this.subs.get(m.id);
      if (!s) return this.error(m.id, `no subscription ${JSON.stringify(m.id)}`);
      this.drop(s);
      this.subs.delete(m.id);
      return this.send({ type: 'unsubscribed', id: m.id });
    }
    if (this.subs.has(m.id)) return this.error(m.id, `subscription ${JSON.stringify(m.id)} exists already`, [{ field: 'id', message: 'already in use' }]);
    const most = this.hub.opts.maxSubscriptions ?? WS_LIMITS.subscriptions;
    if (this.subs.size >= most) {
      return this.error(m.id, `this connection has ${most} subscriptions, the most one connection may hold; unsubscribe one first`, [
        { field: 'id', message: `more than ${most} subscriptions on one connection` },
      ]);
    }
    const labs = this.hub.opts.labs;
    if (m.lab !== undefined && !labs.has(m.lab)) return this.error(m.id, `no lab named ${JSON.stringify(m.lab)}`, [{ field: 'lab', message: 'no such lab' }]);
    if (m.channel === 'lab') {
      this.subs.set(m.id, { kind: 'lab', lab: m.lab ?? null });
      return this.send({ type: 'subscribed', id: m.id, channel: 'lab', lab: m.lab ?? null });
    }
    if (m.channel === 'console') {
      const consoles = this.hub.opts.consoles;
      if (!consoles) return this.error(m.id, 'consoles are not available on this server');
      const id = m.id;
      let attachment: ConsoleAttachment;
      try {
        attachment = consoles.attach(m.lab, m.node, {
          output: (data) => this.send({ type: 'console', id, data }),
          closed: (reason) => {
            this.subs.delete(id);
            this.send({ type: 'closed', id, reason });
          },
        });
      } catch (e) {
        return this.error(id, (e as Error).message, [{ field: 'node', message: (e as Error).message }]);
      }
      this.subs.set(id, { kind: 'console', console: attachment });
      if (m.cols !== undefined && m.rows !== undefined) attachment.resize(m.cols, m.rows);
      return this.send({ type: 'subscribed', id, channel: 'console', lab: m.lab, node: m.node });
    }
    const f = compileFilter(m.filter);
    if (!f.ok) return this.error(m.id, f.message, [{ field: f.field, message: f.message }]);
    if (m.link !== undefined) {
      let known = false;
      try {
        known = labs.lab(m.lab).links.some((l) => l.id === m.link);
      } catch {
        known = false;
      }
      if (!known) return this.error(m.id, `lab ${m.lab} has no link ${JSON.stringify(m.link)}`, [{ field: 'link', message: 'no such link' }]);
    }
    const trace = new TraceSubscription(m.id, m.lab, m.link ?? null, f.filter, m.raw ?? false, () => this.schedule(2), this.hub.ringSize);
    this.subs.set(m.id, { kind: 'trace', trace });
    this.hub.opts.traces.add(trace);
    this.send({ type: 'subscribed', id: m.id, channel: 'trace', lab: m.lab, link: m.link ?? null, running: labs.runtime(m.lab) !== null });
  }

  private schedule(delayMs: number): void {
    const at = performance.now() + delayMs;
    if (this.timer !== undefined && this.flushAt <= at) return;
    clearTimeout(this.timer);
    this.flushAt = at;
    this.timer = setTimeout(this.flushBound, delayMs);
  }

  /**
   * Turns queued frames into trace messages, taking the subscriptions in turn, until the queues
   * are empty, the socket's budget is used or the CPU share is spent.
   */
  private flush(): void {
    this.timer = undefined;
    this.flushAt = Infinity;
    if (this.ws.readyState !== WebSocket.OPEN) return;
    const traces: TraceSubscription[] = [];
    for (const s of this.subs.values()) if (s.kind === 'trace') traces.push(s.trace);
    const pending = () => traces.some((t) => t.count > 0 || t.dropped > 0);
    if (!pending()) return;
    let room = this.hub.maxBuffered - this.ws.bufferedAmount;
    if (room <= 0) return this.schedule(10);
    const share = this.hub.share;
    const allowed = share.available();
    if (allowed < 0.5) return this.schedule(share.waitFor(2));
    const start = performance.now();
    // Every message of this flush is written after the previous one in the scratch buffer, so
    // that a frame traced on several links is decoded once (see TraceRecords).
    const out = this.hub.scratch;
    out.length = 0;
    const records = this.hub.records;
    records.begin(out);
    let outOfTime = false;
    while (!outOfTime && room > 0) {
      let sent = false;
      for (let k = 0; k < traces.length && !outOfTime && room > 0; k++) {
        const t = traces[(this.turn + k) % traces.length]!;
        if (t.count === 0 && t.dropped === 0) continue;
        // The message is JSON written as ASCII bytes (see devices/trace/json.ts), sent as text.
        const first = out.length;
        out.chunk(TRACE_HEAD);
        out.string(t.id);
        out.chunk(DROPPED);
        out.uint(t.dropped);
        out.chunk(DROPPED_TOTAL);
        out.uint(t.droppedTotal);
        out.chunk(RECORDS);
        const head = out.length;
        let n = 0;
        while (t.count > 0 && n < BATCH_RECORDS && out.length - head < room) {
          if (n > 0) out.byte(0x2c);
          t.writeRecord(out, records);
          n++;
          if ((n & 31) === 0 && performance.now() - start >= allowed) {
            outOfTime = true;
            break;
          }
        }
        out.chunk(TRACE_TAIL);
        t.dropped = 0;
        // A copy: the socket keeps the message until it is written, and the scratch is reused.
        const msg = Buffer.from(out.bytes.subarray(first, out.length));
        this.ws.send(msg, { binary: false });
        room -= msg.length;
        sent = true;
      }
      this.turn = (this.turn + 1) % Math.max(1, traces.length);
      if (!sent) break;
    }
    records.end();
    share.spend(performance.now() - start);
    if (pending()) this.schedule(outOfTime ? share.waitFor(2) : room <= 0 ? 10 : 1);
  }
}
