/**
 * IPv4 fragment reassembly (RFC 791 3.2, with RFC 815's hole descriptors): the state a stack (or
 * the network's gateway) keeps for datagrams arriving in pieces. The codec it reads with is
 * wire/ipv4.ts; this is here because it is state, as smoltcp keeps it in iface/fragmentation.rs.
 */
import type { Ip4 } from '../wire/bytes.js';
import { IPV4_HEADER_LENGTH, IPV4_MAX_LENGTH, decodeIpv4, ipv4SetWhole } from '../wire/ipv4.js';

/** A hole's last byte when the datagram's end is not known yet; beyond any real offset. */
const OPEN_END = IPV4_MAX_LENGTH;

/** One datagram being put together. Plain data so that a lab snapshot can copy it. */
export interface ReassemblyEntry {
  src: Ip4;
  dst: Ip4;
  protocol: number;
  id: number;
  /** When the first fragment arrived; the timer does not restart on later ones (as Linux). */
  firstNs: number;
  /** Header of fragment zero (with its options), once it came. */
  header: Uint8Array | null;
  /** Payload bytes at their offsets; grows as later offsets arrive. */
  data: Uint8Array;
  /** Flat [first, last] inclusive pairs of missing payload bytes. */
  holes: number[];
  /** Payload length once the fragment with MF clear came, else -1. */
  end: number;
}

export interface ReassemblerOptions {
  /** Default 30 s, the Linux ipfrag_time. */
  timeoutNs?: number;
  /** Default 64; the oldest reassembly is dropped to make room. */
  maxDatagrams?: number;
}

export interface ReassemblerStats {
  reassembled: number;
  /** Reassemblies abandoned: overlaps, inconsistent ends, oversize, evicted. */
  dropped: number;
  timedOut: number;
  /** Single fragments ignored: bad checksum, exact or contained duplicates, bad sizes. */
  ignored: number;
}

export class Reassembler {
  readonly timeoutNs: number;
  readonly maxDatagrams: number;
  /** Keyed by src/dst/protocol/id; Map order is arrival order, so the first key is the oldest. */
  readonly entries = new Map<string, ReassemblyEntry>();
  readonly stats: ReassemblerStats = { reassembled: 0, dropped: 0, timedOut: 0, ignored: 0 };

  constructor(opts: ReassemblerOptions = {}) {
    this.timeoutNs = opts.timeoutNs ?? 30e9;
    this.maxDatagrams = Math.max(1, opts.maxDatagrams ?? 64);
  }

  /**
   * Takes the IPv4 packet at `offset` of `bytes`. Returns the whole datagram (a new buffer) when
   * this fragment completes one, the packet itself (a view) when it was not a fragment, else null
   * (incomplete, or dropped: a bad header checksum, a bad size, an overlap; see `stats`).
   * Throws DecodeError only for a malformed header.
   *
   * Overlaps are how fragment attacks slip past filters (RFC 1858, RFC 3128), so, like Linux
   * since 2018, one that partly overlaps data we hold kills the whole datagram. A fragment lying
   * entirely inside data we hold is taken for a duplicate and ignored: first data wins, so
   * nothing already received is ever overwritten.
   */
  add(bytes: Uint8Array, offset: number, nowNs: number): Uint8Array | null {
    const h = decodeIpv4(bytes, offset);
    if (!h.checksumOk) {
      this.stats.ignored++;
      return null;
    }
    if (!h.mf && h.fragmentOffset === 0) return bytes.subarray(offset, offset + h.totalLength);
    const first = h.fragmentOffset;
    const len = h.payloadLength;
    const last = first + len - 1;
    // Every fragment but the last carries a multiple of 8 bytes (RFC 791); empty ones say nothing.
    if (len === 0 || (h.mf && (len & 7) !== 0)) {
      this.stats.ignored++;
      return null;
    }
    const key = `${h.src}/${h.dst}/${h.protocol}/${h.id}`;
    let e = this.entries.get(key);
    if (e && nowNs - e.firstNs >= this.timeoutNs) {
      this.entries.delete(key);
      this.stats.timedOut++;
      e = undefined;
    }
    // The smallest header is 20 bytes, so no payload byte may sit past 65515 (ping of death).
    if (first + len > IPV4_MAX_LENGTH - IPV4_HEADER_LENGTH) {
      if (e) this.kill(key);
      else this.stats.ignored++;
      return null;
    }
    if (!e) {
      while (this.entries.size >= this.maxDatagrams) this.kill(this.entries.keys().next().value as string);
      e = {
        src: h.src,
        dst: h.dst,
        protocol: h.protocol,
        id: h.id,
        firstNs: nowNs,
        header: null,
        data: new Uint8Array(0),
        holes: [0, OPEN_END],
        end: -1,
      };
      this.entries.set(key, e);
    }
    const holes = e.holes;
    let at = -1;
    for (let i = 0; i < holes.length; i += 2) {
      const hf = holes[i]!;
      const hlast = holes[i + 1]!;
      if (first >= hf && last <= hlast) {
        at = i;
        break;
      }
      if (first <= hlast && last >= hf) return this.kill(key);
    }
    if (at < 0) {
      // Entirely inside data we hold: a duplicate, unless it contradicts the known end.
      if ((e.end >= 0 && last >= e.end) || (!h.mf && last + 1 !== e.end)) return this.kill(key);
      this.stats.ignored++;
      return null;
    }
    const hf = holes[at]!;
    const hlast = holes[at + 1]!;
    // A last fragment cannot end before data we already hold.
    if (!h.mf && hlast !== OPEN_END) return this.kill(key);
    const pieces: number[] = [];
    if (first > hf) pieces.push(hf, first - 1);
    if (h.mf && last < hlast) pieces.push(last + 1, hlast);
    holes.splice(at, 2, ...pieces);
    if (!h.mf) e.end = last + 1;
    if (e.data.length < last + 1) {
      let cap = Math.max(e.data.length, 2048);
      while (cap < last + 1) cap *= 2;
      const grown = new Uint8Array(Math.min(cap, IPV4_MAX_LENGTH));
      grown.set(e.data);
      e.data = grown;
    }
    e.data.set(bytes.subarray(h.payloadOffset, h.payloadOffset + len), first);
    if (first === 0) e.header = bytes.slice(offset, offset + h.headerLength);
    if (holes.length > 0) return null;

    const header = e.header!;
    const total = header.length + e.end;
    if (total > IPV4_MAX_LENGTH) return this.kill(key);
    const out = new Uint8Array(total);
    out.set(header, 0);
    out.set(e.data.subarray(0, e.end), header.length);
    ipv4SetWhole(out, 0, total);
    this.entries.delete(key);
    this.stats.reassembled++;
    return out;
  }

  /**
   * Drops reassemblies older than the timeout. For each one whose fragment zero had arrived it
   * returns that fragment's header plus 8 data bytes: the quote for the ICMP time-exceeded
   * (code 1) that RFC 792 says to send only in that case.
   */
  expire(nowNs: number): Uint8Array[] {
    const quotes: Uint8Array[] = [];
    for (const [key, e] of this.entries) {
      if (nowNs - e.firstNs < this.timeoutNs) continue;
      this.entries.delete(key);
      this.stats.timedOut++;
      if (e.header) {
        const q = new Uint8Array(e.header.length + 8);
        q.set(e.header, 0);
        q.set(e.data.subarray(0, 8), e.header.length);
        quotes.push(q);
      }
    }
    return quotes;
  }

  get size(): number {
    return this.entries.size;
  }

  private kill(key: string): null {
    this.entries.delete(key);
    this.stats.dropped++;
    return null;
  }
}
