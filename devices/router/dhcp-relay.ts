/**
 * A DHCP/BOOTP relay agent (RFC 1542 section 4, RFC 2131 4.1; IOS `ip helper-address`) as pure
 * functions on the message bytes: the router calls them for client broadcasts arriving on an
 * interface with relay targets, and for server replies addressed to one of its giaddrs.
 */
import { type Ip4, type Mac, MAC_BROADCAST, macAt, put32, u16, u32 } from '../wire/bytes.js';
import { BOOTP_FIXED_LEN, BOOTREPLY, BOOTREQUEST, DHCP_BROADCAST_FLAG } from '../wire/dhcp.js';

/** RFC 1542 4.1.1: a relay MUST discard a BOOTREQUEST whose hops field exceeds 16. */
export const DHCP_RELAY_MAX_HOPS = 16;

const OFF_OP = 0;
const OFF_HOPS = 3;
const OFF_FLAGS = 10;
const OFF_CIADDR = 12;
const OFF_YIADDR = 16;
const OFF_GIADDR = 24;
const OFF_CHADDR = 28;

/**
 * The copy of a client's BOOTREQUEST (the UDP payload at buf[offset..offset+length)) to send to
 * the servers: hops plus one, and giaddr set to the receiving interface's primary address
 * unless an earlier relay set it already (RFC 1542 4.1.1). Null when it must be dropped: not a
 * BOOTREQUEST, too short, or too many hops.
 */
export function relayRequest(buf: Uint8Array, offset: number, length: number, ifaceAddress: Ip4): Uint8Array | null {
  if (length < BOOTP_FIXED_LEN || offset + length > buf.length) return null;
  if (buf[offset + OFF_OP] !== BOOTREQUEST) return null;
  const hops = buf[offset + OFF_HOPS]!;
  if (hops >= DHCP_RELAY_MAX_HOPS) return null;
  const out = buf.slice(offset, offset + length);
  out[OFF_HOPS] = hops + 1;
  if (u32(out, OFF_GIADDR) === 0) put32(out, OFF_GIADDR, ifaceAddress);
  return out;
}

/** Where a relayed reply goes on the client's link. */
export interface RelayDelivery {
  /** The interface address the server sent it to (giaddr): it names the client's interface. */
  giaddr: Ip4;
  dstIp: Ip4;
  /** The client's MAC, or broadcast: the client may have no address to ARP for yet. */
  dstMac: Mac;
}

/**
 * For a BOOTREPLY from a server: which giaddr it is for and how to reach the client (RFC 1542
 * 5.4, RFC 2131 4.1): broadcast when the client asked for it (a NAK comes with the bit set by
 * the server), else unicast to yiaddr, or to ciaddr for an INFORM's ACK, at chaddr.
 */
export function relayReplyTarget(buf: Uint8Array, offset: number, length: number): RelayDelivery | null {
  if (length < BOOTP_FIXED_LEN || offset + length > buf.length) return null;
  if (buf[offset + OFF_OP] !== BOOTREPLY) return null;
  const giaddr = u32(buf, offset + OFF_GIADDR);
  if (giaddr === 0) return null;
  const chaddr = macAt(buf, offset + OFF_CHADDR);
  const yiaddr = u32(buf, offset + OFF_YIADDR);
  const ciaddr = u32(buf, offset + OFF_CIADDR);
  if ((u16(buf, offset + OFF_FLAGS) & DHCP_BROADCAST_FLAG) !== 0) return { giaddr, dstIp: 0xffffffff, dstMac: MAC_BROADCAST };
  if (yiaddr !== 0) return { giaddr, dstIp: yiaddr, dstMac: chaddr };
  if (ciaddr !== 0) return { giaddr, dstIp: ciaddr, dstMac: chaddr };
  return { giaddr, dstIp: 0xffffffff, dstMac: MAC_BROADCAST };
}
