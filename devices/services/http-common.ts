/** Bits of HTTP/1.x (RFC 9110, RFC 9112) shared by the server and the client. */
import type { Engine } from '../engine/engine.js';
import { type Ip4, parseIp4 } from '../wire/bytes.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function utf8(s: string): Uint8Array {
  return encoder.encode(s);
}

export function utf8Decode(b: Uint8Array): string {
  return decoder.decode(b);
}

/** Header bytes are ISO-8859-1 (RFC 9110 5.5): one char per byte, never a decoding error. */
export function latin1(b: Uint8Array, from: number, to: number): string {
  let s = '';
  for (let i = from; i < to; i++) s += String.fromCharCode(b[i]!);
  return s;
}

/**
 * Index where the header section ends (the CR of CRLF CRLF, or the LF of a bare LF LF, which
 * RFC 9112 2.2 lets a recipient accept), or -1 when it has not fully arrived.
 */
export function findHeaderEnd(b: Uint8Array, len: number): number {
  for (let i = 0; i + 1 < len; i++) {
    if (b[i] !== 10 && b[i] !== 13) continue;
    if (b[i] === 13 && i + 3 < len && b[i + 1] === 10 && b[i + 2] === 13 && b[i + 3] === 10) return i;
    if (b[i] === 10 && b[i + 1] === 10) return i;
  }
  return -1;
}

const REASONS: Record<number, string> = {
  200: 'OK',
  201: 'Created',
  204: 'No Content',
  301: 'Moved Permanently',
  302: 'Found',
  304: 'Not Modified',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  411: 'Length Required',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
};

export function reasonPhrase(status: number): string {
  return REASONS[status] ?? (status < 300 ? 'OK' : status < 400 ? 'Redirection' : status < 500 ? 'Client Error' : 'Server Error');
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** IMF-fixdate (RFC 9110 5.6.7) of the engine's current wall time (epoch + now). */
export function httpDate(engine: Engine): string {
  const ms = Number(engine.epochNs / 1_000_000n) + Math.floor(engine.now / 1e6);
  const d = new Date(ms);
  const two = (n: number) => (n < 10 ? '0' : '') + n;
  return `${DAYS[d.getUTCDay()]}, ${two(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} GMT`;
}

export interface HttpUrl {
  /** As written in the URL (an address or a name), for the Host header. */
  host: string;
  /** The address when the host is a dotted quad, else null (a name: resolve it first). */
  ip: Ip4 | null;
  port: number;
  /** Path and query, at least "/". */
  path: string;
}

/** Parses `http://host[:port][/path]`; returns a message when it is not such a URL. */
export function parseHttpUrl(url: string): HttpUrl | string {
  const m = /^http:\/\/([^/:?#\s]+)(?::(\d{1,5}))?([/?][^#\s]*)?(#.*)?$/i.exec(url.trim());
  if (m === null) return `"${url}" is not an http:// URL`;
  const host = m[1]!;
  const port = m[2] !== undefined ? Number(m[2]) : 80;
  if (port < 1 || port > 65535) return `"${url}": port ${port} is out of range`;
  let path = m[3] ?? '/';
  if (path.startsWith('?')) path = '/' + path;
  return { host, ip: parseIp4(host), port, path };
}
