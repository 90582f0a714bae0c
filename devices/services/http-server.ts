/**
 * A small HTTP/1.0 and HTTP/1.1 server (RFC 9110, RFC 9112) on our TCP: GET and HEAD of fixed
 * bodies, Content-Length framing, persistent connections with an idle timeout, pipelined
 * requests answered in order. What a lab's `services: { http: { port, body } }` runs.
 *
 *   const web = new HttpServer(tcp, { port: 80, body: 'hello from pc1' });
 *   // GET / -> 200 "hello from pc1"; GET /other -> 404; paths: { '/x': { status: 503, body: '...' } }
 */
import type { TimerTarget } from '../engine/timers.js';
import type { TcpLayer, TcpListener, TcpSocket } from '../stack/tcp.js';
import type { TcpListenerOwner, TcpSocketOwner } from '../stack/tcp-types.js';
import { findHeaderEnd, httpDate, latin1, reasonPhrase, utf8 } from './http-common.js';

export interface HttpResource {
  /** Default 200. */
  status?: number;
  /** Default: the reason phrase of the status. */
  body?: string | Uint8Array;
  /** Default text/plain; charset=utf-8. */
  contentType?: string;
}

export interface HttpServerConfig {
  /** Default 80. */
  port?: number;
  /** Served at "/" (and "/index.html"). Default "wirelab\n". */
  body?: string | Uint8Array;
  /** Status of the "/" page. Default 200. */
  status?: number;
  contentType?: string;
  /** More resources by exact path; a path neither here nor "/" gets 404. */
  paths?: Record<string, HttpResource>;
  /** A persistent connection idle this long is closed (Apache's KeepAliveTimeout: 5 s). */
  keepAliveNs?: number;
  /** A request head longer than this is refused with 431 and the connection closed. */
  maxHeaderBytes?: number;
}

interface Conn {
  id: number;
  socket: TcpSocket;
  /** Bytes received and not yet parsed. */
  buf: Uint8Array;
  len: number;
  /** Request body bytes still to skip (a POST we answer with 405). */
  skip: number;
  /** Response bytes that did not fit in the send buffer yet. */
  out: Uint8Array[];
  outOff: number;
  /** Close once `out` is flushed. */
  closeAfter: boolean;
  idleDeadline: number;
  timer: number;
  requests: number;
}

const TIMER_IDLE = 1;

export class HttpServer implements TcpListenerOwner, TcpSocketOwner, TimerTarget {
  readonly listener: TcpListener;
  readonly port: number;
  private readonly resources = new Map<string, { status: number; body: Uint8Array; contentType: string }>();
  private readonly keepAliveNs: number;
  private readonly maxHeaderBytes: number;
  private readonly conns = new Map<TcpSocket, Conn>();
  private readonly byId = new Map<number, Conn>();
  private nextId = 1;
  /** Requests answered, by status code. */
  readonly served = new Map<number, number>();
  connections = 0;

  constructor(
    readonly tcp: TcpLayer,
    config: HttpServerConfig = {},
  ) {
    this.port = config.port ?? 80;
    this.keepAliveNs = config.keepAliveNs ?? 5e9;
    this.maxHeaderBytes = config.maxHeaderBytes ?? 8192;
    const root = {
      status: config.status ?? 200,
      body: toBytes(config.body ?? 'wirelab\n'),
      contentType: config.contentType ?? 'text/plain; charset=utf-8',
    };
    this.resources.set('/', root);
    this.resources.set('/index.html', root);
    for (const [path, r] of Object.entries(config.paths ?? {})) {
      const status = r.status ?? 200;
      this.resources.set(path, {
        status,
        body: toBytes(r.body ?? `${reasonPhrase(status)}\n`),
        contentType: r.contentType ?? 'text/plain; charset=utf-8',
      });
    }
    this.listener = tcp.listen(this.port, this);
  }

  /** Stops listening and closes every connection. */
  close(): void {
    this.listener.close();
    for (const c of [...this.conns.values()]) c.socket.close();
  }

  onAccept(_l: TcpListener, socket: TcpSocket): void {
    socket.owner = this;
    const c: Conn = {
      id: this.nextId++,
      socket,
      buf: new Uint8Array(1024),
      len: 0,
      skip: 0,
      out: [],
      outOff: 0,
      closeAfter: false,
      idleDeadline: 0,
      timer: -1,
      requests: 0,
    };
    this.conns.set(socket, c);
    this.byId.set(c.id, c);
    this.connections++;
    this.touch(c);
  }

  onData(socket: TcpSocket, data: Uint8Array): void {
    const c = this.conns.get(socket);
    if (c === undefined || c.closeAfter) return;
    let d = data;
    if (c.skip > 0) {
      const n = Math.min(c.skip, d.length);
      c.skip -= n;
      d = d.subarray(n);
    }
    if (d.length > 0) append(c, d);
    this.touch(c);
    this.parse(c);
  }

  onEnd(socket: TcpSocket): void {
    const c = this.conns.get(socket);
    // The client is done sending: finish what is queued, then close our side too.
    if (c !== undefined) {
      c.closeAfter = true;
      this.flush(c);
    }
  }

  onWritable(socket: TcpSocket): void {
    const c = this.conns.get(socket);
    if (c !== undefined) this.flush(c);
  }

  onClose(socket: TcpSocket): void {
    const c = this.conns.get(socket);
    if (c === undefined) return;
    if (c.timer !== -1) this.tcp.engine.cancel(c.timer);
    this.conns.delete(socket);
    this.byId.delete(c.id);
  }

  onTimer(tag: number, arg: unknown): void {
    if (tag !== TIMER_IDLE) return;
    const c = this.byId.get(arg as number);
    if (c === undefined) return;
    c.timer = -1;
    const now = this.tcp.engine.now;
    if (now < c.idleDeadline) {
      c.timer = this.tcp.engine.schedule(c.idleDeadline, this, TIMER_IDLE, c.id);
      return;
    }
    if (c.out.length === 0) c.socket.close();
  }

  private touch(c: Conn): void {
    c.idleDeadline = this.tcp.engine.now + this.keepAliveNs;
    if (c.timer === -1) c.timer = this.tcp.engine.schedule(c.idleDeadline, this, TIMER_IDLE, c.id);
  }

  /** Answers every complete request in the buffer, in order. */
  private parse(c: Conn): void {
    while (!c.closeAfter && c.skip === 0) {
      const end = findHeaderEnd(c.buf, c.len);
      if (end < 0) {
        if (c.len > this.maxHeaderBytes) this.respond(c, 'GET', 431, 'HTTP/1.1', false, null);
        return;
      }
      const head = latin1(c.buf, 0, end);
      const headLen = end + (c.buf[end] === 13 ? 4 : 2);
      c.buf.copyWithin(0, headLen, c.len);
      c.len -= headLen;
      this.request(c, head);
    }
  }

  private request(c: Conn, head: string): void {
    c.requests++;
    const lines = head.split(/\r?\n/);
    const m = /^([A-Z]+) (\S+) (HTTP\/1\.[01])$/.exec(lines[0] ?? '');
    if (m === null) {
      this.respond(c, 'GET', 400, 'HTTP/1.1', false, null);
      return;
    }
    const [, method, target, version] = m as unknown as [string, string, string, string];
    const headers = new Map<string, string>();
    for (const line of lines.slice(1)) {
      const i = line.indexOf(':');
      if (i <= 0) {
        this.respond(c, method, 400, version, false, null);
        return;
      }
      headers.set(line.slice(0, i).trim().toLowerCase(), line.slice(i + 1).trim());
    }
    const connection = (headers.get('connection') ?? '').toLowerCase();
    const keepAlive = version === 'HTTP/1.1' ? !connection.includes('close') : connection.includes('keep-alive');
    if (headers.has('transfer-encoding')) {
      // We cannot find the end of a chunked request body without decoding it; refuse and close.
      this.respond(c, method, 411, version, false, null);
      return;
    }
    const bodyLen = Number(headers.get('content-length') ?? '0');
    if (!Number.isInteger(bodyLen) || bodyLen < 0) {
      this.respond(c, method, 400, version, false, null);
      return;
    }
    // Skip a request body so the next request on the connection is read from the right place.
    const inBuf = Math.min(bodyLen, c.len);
    c.buf.copyWithin(0, inBuf, c.len);
    c.len -= inBuf;
    c.skip = bodyLen - inBuf;
    if (method !== 'GET' && method !== 'HEAD') {
      this.respond(c, method, 405, version, keepAlive, null);
      return;
    }
    const path = target.startsWith('http://') ? target.replace(/^http:\/\/[^/]*/, '') || '/' : target;
    const r = this.resources.get(path.split('?')[0]!);
    if (r === undefined) this.respond(c, method, 404, version, keepAlive, null);
    else this.respond(c, method, r.status, version, keepAlive, r);
  }

  private respond(
    c: Conn,
    method: string,
    status: number,
    version: string,
    keepAlive: boolean,
    r: { body: Uint8Array; contentType: string } | null,
  ): void {
    const body = r !== null ? r.body : utf8(`${reasonPhrase(status)}\n`);
    const lines = [
      `HTTP/1.1 ${status} ${reasonPhrase(status)}`,
      'Server: wirelab',
      `Date: ${httpDate(this.tcp.engine)}`,
      `Content-Type: ${r !== null ? r.contentType : 'text/plain; charset=utf-8'}`,
      `Content-Length: ${body.length}`,
    ];
    if (status === 405) lines.push('Allow: GET, HEAD');
    // HTTP/1.1 persists by default, so only "close" needs saying; a 1.0 client asked for keep-alive.
    if (!keepAlive) lines.push('Connection: close');
    else if (version === 'HTTP/1.0') lines.push('Connection: keep-alive');
    const head = utf8(lines.join('\r\n') + '\r\n\r\n');
    // One write for head and body: two would let Nagle hold the body back for an ACK.
    const msg = new Uint8Array(head.length + (method === 'HEAD' ? 0 : body.length));
    msg.set(head);
    if (method !== 'HEAD') msg.set(body, head.length);
    this.served.set(status, (this.served.get(status) ?? 0) + 1);
    c.out.push(msg);
    if (!keepAlive) c.closeAfter = true;
    this.flush(c);
  }

  private flush(c: Conn): void {
    const s = c.socket;
    while (c.out.length > 0 && s.writable) {
      const m = c.out[0]!;
      const n = s.send(m, c.outOff, m.length - c.outOff);
      c.outOff += n;
      if (c.outOff < m.length) return;
      c.out.shift();
      c.outOff = 0;
    }
    if (c.out.length === 0 && c.closeAfter) s.close();
  }
}

function append(c: Conn, d: Uint8Array): void {
  if (c.len + d.length > c.buf.length) {
    const bigger = new Uint8Array(Math.max(c.buf.length * 2, c.len + d.length));
    bigger.set(c.buf.subarray(0, c.len));
    c.buf = bigger;
  }
  c.buf.set(d, c.len);
  c.len += d.length;
}

function toBytes(b: string | Uint8Array): Uint8Array {
  return typeof b === 'string' ? utf8(b) : b;
}
