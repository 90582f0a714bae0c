/**
 * Plugs TCP into an IpStack as protocol 6, beside UDP:
 *
 *   const tcp = attachTcp(host.stack);          // once, when the stack is built
 *   tcp.listen(80, owner); tcp.connect(ip, 80, owner);
 *
 * The stack hands us datagrams addressed to us (reassembled) and ICMP errors quoting our
 * segments; we send through routeOutput + transmit with DF set (path MTU discovery).
 */
import type { Ip4 } from '../wire/bytes.js';
import { IPPROTO } from '../wire/ipv4.js';
import type { IpStack } from './stack.js';
import { TcpLayer } from './tcp.js';
import type { TcpConfig, TcpIpLayer } from './tcp-types.js';
import type { IcmpErrorReport, ProtocolHandler, RxInfo } from './types.js';

export class TcpIpStackAdapter implements TcpIpLayer, ProtocolHandler {
  readonly tcp: TcpLayer;
  /** stack.transmit builds its own frame and copies the segment in, so no headroom helps. */
  readonly headroom = 0;
  /** Segments that could not be sent: no route, interface down, stack stopped, filtered. */
  sendFailures = 0;

  constructor(
    readonly stack: IpStack,
    config: Partial<TcpConfig> = {},
  ) {
    this.tcp = new TcpLayer(this, config);
    stack.registerProtocol(IPPROTO.TCP, this);
  }

  get engine(): IpStack['engine'] {
    return this.stack.engine;
  }

  // ---- TcpIpLayer

  sendSegment(src: Ip4, dst: Ip4, buf: Uint8Array, offset: number, length: number): void {
    const route = this.stack.routeOutput(dst, { srcIp: src });
    if (typeof route === 'string') {
      this.sendFailures++;
      return;
    }
    const status = this.stack.transmit(route, IPPROTO.TCP, buf.subarray(offset, offset + length), { df: true });
    if (status !== 'sent' && status !== 'queued') this.sendFailures++;
  }

  localAddressFor(dst: Ip4): Ip4 | null {
    const route = this.stack.routeOutput(dst);
    return typeof route === 'string' ? null : route.src;
  }

  mtuFor(dst: Ip4): number {
    const route = this.stack.routeOutput(dst);
    return typeof route === 'string' ? 1500 : route.iface.mtu;
  }

  // ---- ProtocolHandler

  input(packet: Uint8Array, offset: number, length: number, info: RxInfo): boolean {
    // TCP is unicast only (RFC 9293 3.9.1): never answer a broadcast, not even with a reset.
    if (!info.broadcast) this.tcp.receive(info.srcIp, info.dstIp, packet, offset, length);
    return true;
  }

  icmpError(report: IcmpErrorReport, quote: Uint8Array, transportOffset: number): void {
    // RFC 792 quotes at least 8 bytes of the transport header: the ports and our sequence number.
    if (quote.length < transportOffset + 8) return;
    const seq = ((quote[transportOffset + 4]! << 24) | (quote[transportOffset + 5]! << 16) | (quote[transportOffset + 6]! << 8) | quote[transportOffset + 7]!) >>> 0;
    this.tcp.icmpError({
      type: report.type,
      code: report.code,
      nextHopMtu: report.nextHopMtu,
      localIp: report.quotedSrc,
      remoteIp: report.quotedDst,
      localPort: report.quotedSrcPort,
      remotePort: report.quotedDstPort,
      seq,
    });
  }
}

/** Creates the TCP layer of `stack` and registers it as protocol 6. */
export function attachTcp(stack: IpStack, config: Partial<TcpConfig> = {}): TcpLayer {
  return new TcpIpStackAdapter(stack, config).tcp;
}
