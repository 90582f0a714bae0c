/**
 * The lab's `tcp {from, to: "ip:port"}` check: does a connection open? Start it, run the engine
 * until `done`, read `result`:
 *
 *   const c = new TcpConnectCheck(tcp, ip, 80, { timeoutNs: 5e9 });
 *   engine.runUntilCondition(() => c.done, 10e9);
 *   c.result // { ok: false, outcome: 'refused', reason: 'connection refused (RST)', ... }
 *
 * A successful connection is closed gracefully right away.
 */
import type { TimerTarget } from '../engine/timers.js';
import type { Ip4 } from '../wire/bytes.js';
import type { TcpLayer, TcpSocket } from '../stack/tcp.js';
import type { TcpErrorCode, TcpSocketOwner } from '../stack/tcp-types.js';
import { tcpErrorText } from './http-client.js';

export type TcpCheckOutcome = 'connected' | 'refused' | 'timeout' | 'unreachable' | 'reset' | 'error';

export interface TcpCheckResult {
  done: boolean;
  ok: boolean;
  outcome: TcpCheckOutcome | null;
  /** For people: "connected in 2.1 ms", "connection refused (RST)", "no answer within 5 s". */
  reason: string;
  /** Time to the outcome, ns. */
  elapsedNs: number;
}

export interface TcpCheckOptions {
  /** Default 5 s: a SYN lost once is retried after 1 s and 3 s, as Linux does. */
  timeoutNs?: number;
  localIp?: Ip4;
}

const TIMER_TIMEOUT = 1;

function outcomeOf(e: TcpErrorCode): TcpCheckOutcome {
  switch (e) {
    case 'ECONNREFUSED':
      return 'refused';
    case 'ETIMEDOUT':
      return 'timeout';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EACCES':
      return 'unreachable';
    case 'ECONNRESET':
      return 'reset';
    default:
      return 'error';
  }
}

export class TcpConnectCheck implements TcpSocketOwner, TimerTarget {
  readonly result: TcpCheckResult = { done: false, ok: false, outcome: null, reason: '', elapsedNs: 0 };
  readonly socket: TcpSocket | null = null;
  private readonly started: number;
  private readonly timeoutNs: number;
  private timer: number;

  constructor(
    readonly tcp: TcpLayer,
    readonly dst: Ip4,
    readonly port: number,
    opts: TcpCheckOptions = {},
  ) {
    this.started = tcp.engine.now;
    this.timeoutNs = opts.timeoutNs ?? 5e9;
    this.timer = tcp.engine.after(this.timeoutNs, this, TIMER_TIMEOUT);
    try {
      this.socket = tcp.connect(dst, port, this, opts.localIp !== undefined ? { localIp: opts.localIp } : {});
    } catch (e) {
      // A bad port or no free source port: the check fails, it does not throw at the runner.
      this.finish(false, 'error', e instanceof Error ? e.message : String(e));
    }
  }

  get done(): boolean {
    return this.result.done;
  }

  onConnect(s: TcpSocket): void {
    const ms = (this.tcp.engine.now - this.started) / 1e6;
    this.finish(true, 'connected', `connected in ${Number(ms.toFixed(3))} ms`);
    s.close();
  }

  onError(_s: TcpSocket, e: TcpErrorCode): void {
    const text = tcpErrorText(e);
    this.finish(false, outcomeOf(e), e === 'ECONNREFUSED' ? `${text} (RST)` : text);
  }

  onTimer(tag: number): void {
    if (tag !== TIMER_TIMEOUT) return;
    this.timer = -1;
    if (this.result.done) return;
    this.finish(false, 'timeout', `no answer within ${this.timeoutNs / 1e9} s`);
    this.socket?.abort();
  }

  private finish(ok: boolean, outcome: TcpCheckOutcome, reason: string): void {
    const r = this.result;
    if (r.done) return;
    r.done = true;
    r.ok = ok;
    r.outcome = outcome;
    r.reason = reason;
    r.elapsedNs = this.tcp.engine.now - this.started;
    if (this.timer !== -1) this.tcp.engine.cancel(this.timer);
    this.timer = -1;
  }
}
