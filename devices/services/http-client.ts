/**
 * One HTTP/1.1 GET (or HEAD) over our TCP, for the lab's `http {from, url, status, contains}`
 * check and for consoles. Start it, run the engine until `done`, read `result`:
 *
 *   const get = new HttpGet(tcp, 'http://10.0.0.2/', { timeoutNs: 10e9 });
 *   engine.runUntilCondition(() => get.done, 15e9);
 *   get.result // { ok, status, body, error, ... }
 *   httpCheckVerdict(get.result, { status: 200, contains: 'hello' }) // { ok, reason }
 *
 * The response body is framed by Content-Length, chunked transfer coding, or the end of the
 * connection (RFC 9112 6.3). A URL naming a host (not an address) needs `ip` from a resolver.
 */
import type { TimerTarget } from '../engine/timers.js';
import type { Ip4 } from '../wire/bytes.js';
import type { TcpLayer, TcpSocket } from '../stack/tcp.js';
import type { TcpErrorCode, TcpSocketOwner } from '../stack/tcp-types.js';
import { findHeaderEnd, latin1, parseHttpUrl, utf8, utf8Decode } from './http-common.js';

export interface HttpGetOptions {
  method?: 'GET' | 'HEAD';
  /** Give up after this long (connect included). Default 10 s. */
  timeoutNs?: number;
  /** Address to connect to when the URL names a host. */
  ip?: Ip4;
  /** Bodies longer than this are cut (the result says so). Default 1 MiB. */
  maxBodyBytes?: number;
}

export interface HttpGetResult {
  done: boolean;
  /** A complete response arrived (whatever its status). */
  ok: boolean;
  status: number;
  statusText: string;
  /** Lower-case names. */
  headers: Record<string, string>;
  /** Decoded as UTF-8. */
  body: string;
  bodyBytes: number;
  truncated: boolean;
  /** Why there is no complete response: "connection refused", "timed out after 10 s", ... */
  error: string | null;
  /** From the start to the end of the response (or the failure), ns. */
  elapsedNs: number;
}

const TIMER_TIMEOUT = 1;

const ERROR_TEXT: Record<TcpErrorCode, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset by peer',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'no route to host',
  ENETUNREACH: 'network unreachable',
  ENOPROTOOPT: 'protocol not available',
  EACCES: 'administratively prohibited',
  EPIPE: 'broken pipe',
  ECONNABORTED: 'connection aborted',
};

export function tcpErrorText(e: TcpErrorCode): string {
  return ERROR_TEXT[e];
}

export class HttpGet implements TcpSocketOwner, TimerTarget {
  readonly result: HttpGetResult = {
    done: false,
    ok: false,
    status: 0,
    statusText: '',
    headers: {},
    body: '',
    bodyBytes: 0,
    truncated: false,
    error: null,
    elapsedNs: 0,
  };
  readonly socket: TcpSocket | null = null;
  private readonly started: number;
  private readonly method: 'GET' | 'HEAD';
  private readonly maxBody: number;
  private readonly request: Uint8Array;
  private timer = -1;
  private buf = new Uint8Array(4096);
  private len = 0;
  /** Offset in `buf` where the body starts, -1 before the head has arrived. */
  private bodyStart = -1;
  private framing: 'length' | 'chunked' | 'close' | 'none' = 'close';
  private contentLength = 0;

  constructor(
    readonly tcp: TcpLayer,
    url: string,
    opts: HttpGetOptions = {},
  ) {
    this.started = tcp.engine.now;
    this.method = opts.method ?? 'GET';
    this.maxBody = opts.maxBodyBytes ?? 1 << 20;
    const u = parseHttpUrl(url);
    if (typeof u === 'string') {
      this.request = new Uint8Array(0);
      this.finish(u);
      return;
    }
    const ip = opts.ip ?? u.ip;
    if (ip === null) {
      this.request = new Uint8Array(0);
      this.finish(`cannot resolve "${u.host}"`);
      return;
    }
    const hostHeader = u.port === 80 ? u.host : `${u.host}:${u.port}`;
    this.request = utf8(`${this.method} ${u.path} HTTP/1.1\r\nHost: ${hostHeader}\r\nUser-Agent: wirelab\r\nAccept: */*\r\nConnection: close\r\n\r\n`);
    this.timer = tcp.engine.after(opts.timeoutNs ?? 10e9, this, TIMER_TIMEOUT);
    try {
      this.socket = tcp.connect(ip, u.port, this);
    } catch (e) {
      this.finish(e instanceof Error ? e.message : String(e));
    }
  }

  get done(): boolean {
    return this.result.done;
  }

  /** Stops waiting (the result says "cancelled"). */
  cancel(): void {
    if (this.result.done) return;
    this.socket?.abort();
    this.finish('cancelled');
  }

  onConnect(s: TcpSocket): void {
    s.send(this.request);
  }

  onData(s: TcpSocket, d: Uint8Array): void {
    if (this.result.done) return;
    if (this.len + d.length > this.buf.length) {
      const limit = (this.bodyStart < 0 ? 65536 : this.bodyStart) + this.maxBody + 64;
      if (this.len + d.length > limit && this.framing !== 'chunked') {
        // Keep what fits and stop: a check only needs the beginning of a huge body.
        const room = Math.max(0, limit - this.len);
        d = d.subarray(0, room);
        this.result.truncated = true;
      }
      const bigger = new Uint8Array(Math.max(this.buf.length * 2, this.len + d.length));
      bigger.set(this.buf.subarray(0, this.len));
      this.buf = bigger;
    }
    this.buf.set(d, this.len);
    this.len += d.length;
    if (this.bodyStart < 0 && !this.parseHead()) return;
    if (this.result.done) return;
    if (this.result.truncated) {
      this.complete(s);
      return;
    }
    if (this.framing === 'length' && this.len - this.bodyStart >= this.contentLength) this.complete(s);
    else if (this.framing === 'chunked' && this.dechunk() !== null) this.complete(s);
    else if (this.framing === 'none') this.complete(s);
  }

  onEnd(s: TcpSocket): void {
    if (this.result.done) {
      s.close();
      return;
    }
    if (this.bodyStart >= 0 && this.framing === 'close') this.complete(s);
    else this.fail(s, this.bodyStart < 0 ? 'connection closed before a response' : 'connection closed in the middle of the body');
  }

  onError(_s: TcpSocket, e: TcpErrorCode): void {
    if (!this.result.done) this.finish(tcpErrorText(e));
  }

  onClose(): void {
    if (!this.result.done) this.finish('connection closed');
  }

  onTimer(tag: number): void {
    if (tag !== TIMER_TIMEOUT) return;
    this.timer = -1;
    if (this.result.done) return;
    const secs = (this.tcp.engine.now - this.started) / 1e9;
    this.finish(`timed out after ${Number(secs.toFixed(3))} s`);
    this.socket?.abort();
  }

  /** Parses the status line and headers once they are in; false until then. */
  private parseHead(): boolean {
    const end = findHeaderEnd(this.buf, this.len);
    if (end < 0) {
      if (this.len > 65536) this.fail(this.socket!, 'response head too long');
      return false;
    }
    const lines = latin1(this.buf, 0, end).split(/\r?\n/);
    const m = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/.exec(lines[0] ?? '');
    if (m === null) {
      this.fail(this.socket!, `not an HTTP response: "${(lines[0] ?? '').slice(0, 60)}"`);
      return false;
    }
    const r = this.result;
    r.status = Number(m[1]);
    r.statusText = m[2] ?? '';
    for (const line of lines.slice(1)) {
      const i = line.indexOf(':');
      if (i > 0) r.headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
    }
    this.bodyStart = end + (this.buf[end] === 13 ? 4 : 2);
    const te = (r.headers['transfer-encoding'] ?? '').toLowerCase();
    if (this.method === 'HEAD' || r.status === 204 || r.status === 304 || (r.status >= 100 && r.status < 200)) this.framing = 'none';
    else if (te.includes('chunked')) this.framing = 'chunked';
    else if (r.headers['content-length'] !== undefined && /^\d+$/.test(r.headers['content-length'])) {
      this.framing = 'length';
      this.contentLength = Number(r.headers['content-length']);
    } else this.framing = 'close';
    return true;
  }

  /** The decoded body of a complete chunked message, or null while more is needed. */
  private dechunk(): Uint8Array | null {
    const b = this.buf;
    let p = this.bodyStart;
    const parts: Uint8Array[] = [];
    for (;;) {
      let eol = -1;
      for (let i = p; i + 1 < this.len; i++) {
        if (b[i] === 13 && b[i + 1] === 10) {
          eol = i;
          break;
        }
      }
      if (eol < 0) return null;
      const size = parseInt(latin1(b, p, eol).split(';')[0]!.trim(), 16);
      if (!Number.isFinite(size) || size < 0) return null;
      p = eol + 2;
      if (size === 0) {
        // Trailer section ends with an empty line.
        const t = findHeaderEnd(b.subarray(p - 2), this.len - (p - 2));
        if (t < 0) return null;
        const out = new Uint8Array(parts.reduce((a, x) => a + x.length, 0));
        let o = 0;
        for (const x of parts) {
          out.set(x, o);
          o += x.length;
        }
        return out;
      }
      if (p + size + 2 > this.len) return null;
      parts.push(b.subarray(p, p + size));
      p += size + 2;
    }
  }

  private complete(s: TcpSocket): void {
    const r = this.result;
    let body: Uint8Array;
    if (this.framing === 'chunked') body = this.dechunk() ?? new Uint8Array(0);
    else if (this.framing === 'none') body = new Uint8Array(0);
    else {
      const end = this.framing === 'length' ? Math.min(this.len, this.bodyStart + this.contentLength) : this.len;
      body = this.buf.subarray(this.bodyStart, end);
    }
    if (body.length > this.maxBody) {
      body = body.subarray(0, this.maxBody);
      r.truncated = true;
    }
    r.bodyBytes = body.length;
    r.body = utf8Decode(body);
    r.ok = true;
    this.finish(null);
    // A server that said it closes gets to close first (so it, not we, keeps the TIME-WAIT).
    const serverCloses = (r.headers['connection'] ?? '').toLowerCase().includes('close');
    if (!serverCloses || this.framing === 'close' || s.stateName === 'CLOSE-WAIT') s.close();
  }

  private fail(s: TcpSocket, why: string): void {
    this.finish(why);
    s.abort();
  }

  private finish(error: string | null): void {
    const r = this.result;
    if (r.done) return;
    r.done = true;
    r.error = error;
    r.elapsedNs = this.tcp.engine.now - this.started;
    if (this.timer !== -1) this.tcp.engine.cancel(this.timer);
    this.timer = -1;
  }
}

export interface HttpExpectation {
  /** Expected status; default: any 2xx. */
  status?: number;
  /** Text the body must contain. */
  contains?: string;
}

/** Whether a GET's outcome meets a check's expectation, with the reason in words. */
export function httpCheckVerdict(r: HttpGetResult, want: HttpExpectation = {}): { ok: boolean; reason: string } {
  if (!r.done) return { ok: false, reason: 'no answer yet' };
  if (!r.ok) return { ok: false, reason: r.error ?? 'failed' };
  if (want.status !== undefined ? r.status !== want.status : r.status < 200 || r.status > 299) {
    return { ok: false, reason: `status ${r.status} ${r.statusText}, expected ${want.status ?? '2xx'}` };
  }
  if (want.contains !== undefined && !r.body.includes(want.contains)) {
    return { ok: false, reason: `body does not contain ${JSON.stringify(want.contains)}` };
  }
  return { ok: true, reason: `status ${r.status}${want.contains !== undefined ? `, body contains ${JSON.stringify(want.contains)}` : ''}` };
}
