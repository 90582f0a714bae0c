/**
 * ICMP errors of a stack: the ones it sends (RFC 1122 3.2.2 and RFC 1812 4.3.2: never about
 * errors, non-first fragments or broadcasts; rate-limited; sourced from the interface facing the
 * sender) and the reports it hands to the socket whose datagram an error quotes, whether the
 * error came from the network or from the stack itself.
 */
import { type Ip4, u16 } from '../wire/bytes.js';
import { DecodeError } from '../wire/errors.js';
import { ICMP_TYPE, UNREACH, decodeQuotedIpv4, icmpError, icmpErrorAllowed } from '../wire/icmp.js';
import { IPPROTO, ipv4Dst, ipv4Src } from '../wire/ipv4.js';
import type { IpStack } from './stack.js';
import type { IcmpErrorReport, IpInterface } from './types.js';

/**
 * ICMP error rate limit as a token bucket. Default like Linux's global limit
 * (net.ipv4.icmp_msgs_per_sec 1000, icmp_msgs_burst 50); it applies to errors only, never to echo replies.
 */
export interface IcmpRateLimit {
  perSecond: number;
  burst: number;
}

export class IcmpErrors {
  /** The bucket; filled when the stack starts (no error leaves a stopped stack). */
  private tokens = 0;
  private refillNs = 0;

  constructor(
    readonly stack: IpStack,
    readonly rate: IcmpRateLimit,
    /** Bytes of the offending datagram quoted: RFC 1812's 548 (Linux), or RFC 792's 28 (IOS). */
    public quoteBytes: number,
  ) {}

  /** The stack starts: a full bucket. */
  restart(): void {
    this.tokens = this.rate.burst;
    this.refillNs = this.stack.engine.now;
  }

  /**
   * Sends an ICMP error about `offending` (a whole datagram or its first bytes) unless RFC 1122
   * forbids it (errors about errors, non-first fragments, broadcasts) or the rate limit says no.
   * The source is the address the datagram was sent to when that is ours (port unreachable),
   * else the primary address of `ingress`, the interface facing the sender. Errors about our
   * own datagrams go straight to the socket that sent them.
   */
  send(type: number, code: number, offending: Uint8Array, ingress: IpInterface | null, rest: number): boolean {
    const stack = this.stack;
    if (!stack.running || !icmpErrorAllowed(offending, 0)) return false;
    const dst = ipv4Dst(offending, 0);
    const src = ipv4Src(offending, 0);
    if (stack.isDirectedBroadcastAnywhere(dst)) return false;
    if (stack.isLocalUnicast(src)) {
      const from = ingress !== null && ingress.addresses.length > 0 ? ingress.addresses[0]!.ip : src;
      const report = this.report(type, code, from, true, ingress, offending, 0, offending.length, stack.defaultTtl);
      if (report !== null) {
        if (type === ICMP_TYPE.DEST_UNREACHABLE && code === UNREACH.FRAG_NEEDED) report.nextHopMtu = rest & 0xffff;
        this.dispatch(report, offending, 0);
      }
      return true;
    }
    if (!this.takeToken()) {
      stack.stats.icmpRateLimited++;
      return false;
    }
    let errSrc: Ip4 | undefined;
    if (stack.isLocalUnicast(dst)) errSrc = dst;
    else if (ingress !== null && ingress.addresses.length > 0) errSrc = ingress.addresses[0]!.ip;
    const msg = icmpError(type, code, offending, { rest, maxQuote: this.quoteBytes });
    const route = stack.routeOutput(src, errSrc === undefined ? {} : { srcIp: errSrc });
    if (typeof route === 'string') return false;
    stack.transmit(route, IPPROTO.ICMP, msg, {});
    stack.stats.icmpErrorsSent++;
    return true;
  }

  private takeToken(): boolean {
    const now = this.stack.engine.now;
    const r = this.rate;
    this.tokens = Math.min(r.burst, this.tokens + ((now - this.refillNs) * r.perSecond) / 1e9);
    this.refillNs = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** What the socket learns from an error whose quote is buf[quoteOff, quoteOff+quoteLen); null when the quote is unreadable. */
  report(
    type: number,
    code: number,
    from: Ip4,
    local: boolean,
    iface: IpInterface | null,
    buf: Uint8Array,
    quoteOff: number,
    quoteLen: number,
    ttl: number,
  ): IcmpErrorReport | null {
    let q;
    try {
      q = decodeQuotedIpv4(buf, quoteOff, quoteLen);
    } catch (e) {
      if (e instanceof DecodeError) return null;
      throw e;
    }
    const t = q.transportOffset;
    const haveL4 = q.transportLength >= 8;
    let sp = 0;
    let dp = 0;
    if (haveL4) {
      if (q.protocol === IPPROTO.ICMP) {
        sp = u16(buf, t + 4);
        dp = u16(buf, t + 6);
      } else {
        sp = u16(buf, t);
        dp = u16(buf, t + 2);
      }
    }
    return {
      type,
      code,
      from,
      local,
      iface,
      quotedSrc: q.src,
      quotedDst: q.dst,
      quotedProtocol: q.protocol,
      quotedTtl: q.ttl,
      quotedId: q.id,
      quotedSrcPort: sp,
      quotedDstPort: dp,
      nextHopMtu: 0,
      ttl,
    };
  }

  /** Hands a report to the echo socket or the transport protocol whose datagram quote[quoteOff..] is. */
  dispatch(report: IcmpErrorReport, quote: Uint8Array, quoteOff: number): void {
    const p = report.quotedProtocol;
    const transport = quoteOff + ((quote[quoteOff]! & 0x0f) << 2);
    if (p === IPPROTO.ICMP) {
      if (transport < quote.length && quote[transport] === ICMP_TYPE.ECHO_REQUEST) this.stack.echo.error(report);
      return;
    }
    const h = this.stack.protocolHandler(p);
    if (h !== undefined && h.icmpError !== undefined) h.icmpError(report, quote, transport);
  }
}
