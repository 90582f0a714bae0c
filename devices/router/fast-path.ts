/**
 * The router's fast path, in the spirit of IOS CEF: a transit IPv4 datagram whose next hop is
 * already resolved is forwarded straight from the received bytes, with no object decoded and no
 * view made of the received frame: offsets, a longest-prefix-match scan of the stack's own route
 * table, the stack's own ARP cache, one new frame carved from a slab with new MACs and TTL, and
 * the header checksum patched incrementally (RFC 1624).
 *
 * It handles only the plain case and says no to everything else, which then goes to the stack
 * (devices/stack) unchanged: frames not unicast to the interface, ARP, IP options, bad checksums,
 * TTL about to expire, datagrams for the router or for any broadcast or multicast address, no
 * route, a route out of a down interface, a datagram bigger than the egress MTU, a next hop not
 * in the REACHABLE or PERMANENT state, and any router with hooks (ACL, NAT) installed. So ICMP
 * errors, ARP resolution and queueing, fragmentation and filtering all stay the stack's job, and
 * the result on the wire is the same bytes the stack would send.
 *
 * The route is the stack's own lookup (RouteTable.lookup) over the stack's own table, so
 * configuration changes apply at once and there is no cache to invalidate.
 */
import type { IpInterface, IpStack } from '../stack/index.js';
import { macAt } from '../wire/bytes.js';
import { ETHERTYPE, ETH_MIN_FRAME, putEthernetHeader } from '../wire/ethernet.js';
import { FrameSlab } from '../stack/slab.js';

export class FastPath {
  /** Untagged (or priority-tagged) interface of each port index. */
  private readonly untagged: (IpInterface | null)[] = [];
  /** 802.1Q sub-interfaces of each port index. */
  private readonly tagged: IpInterface[][] = [];
  private readonly slab = new FrameSlab();
  /** Datagrams forwarded here rather than by the stack. */
  forwarded = 0;

  constructor(readonly stack: IpStack) {
    for (const i of stack.interfaces) {
      const p = i.port.index;
      while (this.untagged.length <= p) {
        this.untagged.push(null);
        this.tagged.push([]);
      }
      if (i.vlan < 0) this.untagged[p] = i;
      else this.tagged[p]!.push(i);
    }
  }

  /** Padding is sent as zeros, whatever the sender put there. */
  private zeroPadded(frame: Uint8Array, from: number): boolean {
    for (let i = from; i < frame.length; i++) if (frame[i] !== 0) return false;
    return true;
  }

  /** Forwards `frame` and returns true, or returns false and leaves it to the stack. */
  forward(portIndex: number, frame: Uint8Array): boolean {
    const stack = this.stack;
    if (stack.hooks !== null || !stack.running) return false;
    const len = frame.length;
    if (len < 34 || portIndex >= this.untagged.length) return false;
    let off = 14;
    let iface: IpInterface | null = null;
    const type = (frame[12]! << 8) | frame[13]!;
    if (type === ETHERTYPE.IPV4) iface = this.untagged[portIndex]!;
    else if (type === ETHERTYPE.VLAN) {
      if (len < 38 || frame[16] !== 0x08 || frame[17] !== 0x00) return false;
      const vid = ((frame[14]! & 0x0f) << 8) | frame[15]!;
      off = 18;
      if (vid === 0) iface = this.untagged[portIndex]!;
      else {
        const subs = this.tagged[portIndex]!;
        for (let i = 0; i < subs.length; i++) {
          if (subs[i]!.vlan === vid) {
            iface = subs[i]!;
            break;
          }
        }
      }
    } else return false;
    if (iface === null || !iface.up || macAt(frame, 0) !== iface.mac) return false;

    // IPv4 without options, whole, with a good checksum and TTL to spare.
    if (frame[off] !== 0x45) return false;
    const total = (frame[off + 2]! << 8) | frame[off + 3]!;
    if (total < 20 || off + total > len) return false;
    let sum = 0;
    for (let i = off; i < off + 20; i += 2) sum += (frame[i]! << 8) | frame[i + 1]!;
    sum = (sum & 0xffff) + (sum >>> 16);
    sum = (sum & 0xffff) + (sum >>> 16);
    if (sum !== 0xffff) return false;
    const ttl = frame[off + 8]!;
    if (ttl <= 1) return false;
    const src = ((frame[off + 12]! << 24) | (frame[off + 13]! << 16) | (frame[off + 14]! << 8) | frame[off + 15]!) >>> 0;
    const dst = ((frame[off + 16]! << 24) | (frame[off + 17]! << 16) | (frame[off + 18]! << 8) | frame[off + 19]!) >>> 0;
    // Multicast, class E and the limited broadcast, as source or destination, are the stack's.
    if (src === 0 || src >>> 28 >= 0xe || dst >>> 28 >= 0xe) return false;
    const ifs = stack.interfaces;
    for (let i = 0; i < ifs.length; i++) {
      const as = ifs[i]!.addresses;
      for (let k = 0; k < as.length; k++) {
        const a = as[k]!;
        if (a.ip === dst || a.broadcast === dst) return false;
      }
    }

    const routes = stack.routes;
    if (routes.lookup(dst, ifs) === null) return false;
    const egress = routes.egress!;
    const nextHop = routes.nextHop;
    if (total > egress.mtu || !egress.port.up) return false;

    // A next hop the stack has resolved and trusts; anything else it handles (and refreshes).
    const n = egress.arp.get(nextHop);
    if (n === undefined) return false;
    if (n.state !== 'permanent' && (n.state !== 'reachable' || stack.engine.now - n.confirmedNs >= stack.arp.config.reachableNs)) return false;

    const hdr = egress.vlan < 0 ? 14 : 18;
    const outLen = hdr + total < ETH_MIN_FRAME ? ETH_MIN_FRAME : hdr + total;
    const out = this.slab.alloc(outLen);
    // Same framing in and out, and no trailer beyond the datagram (or padding within 60 bytes):
    // one copy of the whole frame, then the new header over it.
    if (hdr === off && len === outLen && (outLen > ETH_MIN_FRAME || this.zeroPadded(frame, off + total))) out.set(frame);
    else if (total <= 64) for (let i = 0; i < total; i++) out[hdr + i] = frame[off + i]!;
    else out.set(frame.subarray(off, off + total), hdr);
    putEthernetHeader(out, 0, n.mac, egress.mac, egress.vlan, ETHERTYPE.IPV4);
    // TTL shares a checksum word with the protocol: HC' = ~(~HC + ~m + m') with m' = m - 0x100.
    const ip = hdr;
    out[ip + 8] = ttl - 1;
    const oldWord = (ttl << 8) | out[ip + 9]!;
    let c = (~((out[ip + 10]! << 8) | out[ip + 11]!) & 0xffff) + (~oldWord & 0xffff) + (oldWord - 0x100);
    c = (c & 0xffff) + (c >>> 16);
    c = (c & 0xffff) + (c >>> 16);
    c = ~c & 0xffff;
    out[ip + 10] = c >>> 8;
    out[ip + 11] = c & 0xff;

    const st = stack.stats;
    st.rxFrames++;
    st.ipInReceives++;
    st.ipForwarded++;
    this.forwarded++;
    egress.port.send(out);
    return true;
  }
}
