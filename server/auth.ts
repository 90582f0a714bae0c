/**
 * Who may talk to the server. By default it listens on loopback only and answers requests whose
 * Host is a loopback name (so a web page cannot reach it through DNS rebinding) and whose Origin,
 * when a browser sends one, is a loopback page (so another site cannot drive it). Listening
 * beyond loopback requires a token on every HTTP request and WebSocket upgrade:
 * `Authorization: Bearer TOKEN`, or `?token=TOKEN` where headers cannot be set (a browser's
 * WebSocket, `curl URL | wireshark`).
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';

export interface AccessPolicy {
  /** Required on every request when set. */
  token: string | null;
}

export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || h.startsWith('::ffff:127.');
  return false;
}

export function generateToken(): string {
  return randomBytes(24).toString('base64url');
}

/** The hostname of a Host header (`localhost:8080`, `[::1]:8080`). */
function hostname(hostHeader: string): string {
  if (hostHeader.startsWith('[')) return hostHeader.slice(0, hostHeader.indexOf(']') + 1);
  const colon = hostHeader.lastIndexOf(':');
  return colon < 0 ? hostHeader : hostHeader.slice(0, colon);
}

/** Whether a token given by a client is the server's, compared in constant time (HTTP, WebSocket, telnet consoles). */
export function sameToken(given: string, token: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

export type AccessResult = { ok: true } | { ok: false; status: 401 | 403; error: string };

export function checkAccess(req: IncomingMessage, policy: AccessPolicy): AccessResult {
  if (policy.token !== null) {
    const auth = req.headers.authorization;
    let given: string | null = null;
    // The scheme is case-insensitive (RFC 7235): `bearer TOKEN` is the same as `Bearer TOKEN`.
    const bearer = auth !== undefined ? /^bearer[ \t]+(\S.*)$/i.exec(auth) : null;
    if (bearer) given = bearer[1]!.trim();
    else if (auth !== undefined && /^bearer\b/i.test(auth)) given = '';
    else {
      const q = new URL(req.url ?? '/', 'http://x').searchParams.get('token');
      if (q !== null) given = q;
    }
    if (given === null) return { ok: false, status: 401, error: 'a token is required: Authorization: Bearer TOKEN (printed when the server started)' };
    if (!sameToken(given, policy.token)) return { ok: false, status: 401, error: 'the token is wrong' };
    return { ok: true };
  }
  const host = req.headers.host;
  if (host === undefined || !isLoopbackHost(hostname(host))) {
    return { ok: false, status: 403, error: 'this server answers loopback names only (Host: localhost or 127.0.0.1); start it with --host to serve others' };
  }
  const origin = req.headers.origin;
  if (origin !== undefined) {
    let originHost: string;
    try {
      originHost = new URL(origin).hostname;
    } catch {
      return { ok: false, status: 403, error: 'the Origin header is not a URL' };
    }
    if (!isLoopbackHost(originHost)) return { ok: false, status: 403, error: `requests from pages of ${origin} are refused` };
  }
  return { ok: true };
}
