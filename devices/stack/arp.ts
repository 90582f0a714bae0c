/**
 * The IPv4 neighbours of a stack: ARP (RFC 826) and the neighbour cache it fills, with Linux's
 * neighbour states (net/core/neighbour.c). Entries live in each interface's `arp` map (the
 * router's fast path reads them there); this part owns how they are learnt, used, re-checked and
 * forgotten. IPv6 neighbour discovery is meant to arrive as a sibling of the same shape.
 */
import { ARP_LENGTH, ARP_REPLY, ARP_REQUEST, encodeArp } from '../wire/arp.js';
import { type Ip4, type Mac, MAC_BROADCAST, isGroupMac, macAt, u16, u32 } from '../wire/bytes.js';
import { ETHERTYPE, ETH_MIN_FRAME, putEthernetHeader } from '../wire/ethernet.js';
import { ICMP_TYPE, UNREACH } from '../wire/icmp.js';
import type { IpStack } from './stack.js';
import { type ArpEntry, type ArpState, type IpInterface, STACK_TIMER } from './types.js';

/**
 * Neighbour timing. The defaults are Linux's (net.ipv4.neigh.default.*): base_reachable_time
 * 30 s (not randomised, so runs read easily), retrans_time 1 s, 3 broadcast requests
 * (mcast_probes) before giving up, delay_first_probe_time 5 s and 3 unicast probes for a stale
 * entry in use, a queue of 3 datagrams per unresolved address (the historical unres_qlen), and
 * stale entries forgotten after 60 s unused (gc_stale_time). A router may set reachableNs to
 * 4 h, IOS's ARP timeout.
 */
export interface ArpConfig {
  reachableNs: number;
  staleNs: number;
  retransNs: number;
  requests: number;
  delayNs: number;
  unicastProbes: number;
  queueLength: number;
}

export const LINUX_ARP: ArpConfig = {
  reachableNs: 30e9,
  staleNs: 60e9,
  retransNs: 1e9,
  requests: 3,
  delayNs: 5e9,
  unicastProbes: 3,
  queueLength: 3,
};

export interface ArpTableRow {
  iface: string;
  ip: Ip4;
  /** -1 while incomplete. */
  mac: Mac;
  state: ArpState;
  /** Since the neighbour last confirmed it is there. */
  ageNs: number;
}

/** A timer's argument names the entry: interface index * 2^32 + address. */
const TWO32 = 4294967296;
/** RFC 5227 2.4 DEFEND_INTERVAL: one defence (and one report) of an address per 10 s. */
export const DEFEND_INTERVAL_NS = 10e9;

/**
 * Told when another station claims one of our addresses (an ARP whose sender address is ours,
 * from another MAC): the lab runtime, which reports it as a device would log it. A plain object
 * reference, not a closure, so snapshots keep it.
 */
export interface AddressConflictSink {
  addressConflict(stack: IpStack, iface: IpInterface, ip: Ip4, mac: Mac): void;
}

export class ArpNeighbours {
  /** Whom to tell of address conflicts; null: they are only counted (stats.arpConflicts). */
  conflictSink: AddressConflictSink | null = null;
  /** Before this time a conflict is counted but neither defended nor reported (DEFEND_INTERVAL). */
  private quietUntilNs = 0;

  constructor(
    readonly stack: IpStack,
    readonly config: ArpConfig,
  ) {}

  // ---------------------------------------------------------------- queries and configuration

  /** Neighbour cache rows, expired entries pruned. */
  table(iface?: IpInterface): ArpTableRow[] {
    const now = this.stack.engine.now;
    const out: ArpTableRow[] = [];
    for (const i of iface ? [iface] : this.stack.interfaces) {
      for (const e of i.arp.values()) {
        if (this.expired(e, now)) {
          this.deleteEntry(i, e);
          continue;
        }
        let state = e.state;
        if (state === 'reachable' && now - e.confirmedNs >= this.config.reachableNs) state = 'stale';
        out.push({ iface: i.name, ip: e.ip, mac: e.mac, state, ageNs: now - e.confirmedNs });
      }
    }
    return out;
  }

  /** The MAC known for `ip` on `iface` (any state but incomplete), or null. */
  lookup(iface: IpInterface, ip: Ip4): Mac | null {
    const e = iface.arp.get(ip >>> 0);
    if (e === undefined || e.mac < 0 || this.expired(e, this.stack.engine.now)) return null;
    return e.mac;
  }

  /** A permanent neighbour (`arp` static entry). */
  addStatic(iface: IpInterface, ip: Ip4, mac: Mac): void {
    const e = this.newEntry(iface, ip >>> 0, 'permanent');
    e.mac = mac;
  }

  /** Forgets the interface's neighbours (not permanent ones) and stops their timers. */
  flush(iface: IpInterface): void {
    for (const [ip, e] of iface.arp) {
      if (e.timer >= 0) this.stack.engine.cancel(e.timer);
      e.timer = -1;
      if (e.state !== 'permanent') iface.arp.delete(ip);
    }
  }

  // ---------------------------------------------------------------- receive

  input(iface: IpInterface, frame: Uint8Array, off: number): void {
    const stack = this.stack;
    if (frame.length - off < ARP_LENGTH) {
      stack.stats.rxIgnored++;
      return;
    }
    if (u16(frame, off) !== 1 || u16(frame, off + 2) !== ETHERTYPE.IPV4 || frame[off + 4] !== 6 || frame[off + 5] !== 4) {
      stack.stats.rxIgnored++;
      return;
    }
    const op = u16(frame, off + 6);
    const senderMac = macAt(frame, off + 8);
    const senderIp = u32(frame, off + 14);
    const targetIp = u32(frame, off + 24);
    if (isGroupMac(senderMac)) return;
    if (op !== ARP_REQUEST && op !== ARP_REPLY) return;
    const mine = stack.holds(iface, targetIp);
    const conflict = senderIp !== 0 && stack.holds(iface, senderIp);
    const e = senderIp !== 0 && !conflict && iface.arp.size > 0 ? iface.arp.get(senderIp) : undefined;
    // Most requests a host hears (gratuitous ARP of its neighbours, requests for others) change
    // nothing here: they are dropped before anything else of the host is read.
    if (!mine && !conflict && e === undefined) return;
    if (senderMac === iface.mac) return;
    if (senderIp !== 0) {
      if (conflict) {
        // Someone else claims our address; keep it and do not learn the impostor.
        stack.stats.arpConflicts++;
        this.conflict(iface, senderIp, senderMac);
        return;
      }
      // RFC 826 merge: update a neighbour we know; learn a new one only when the packet is for us.
      if (e !== undefined) this.update(iface, e, senderMac, op === ARP_REPLY && mine);
      else if (mine) {
        const n = this.newEntry(iface, senderIp, op === ARP_REPLY ? 'reachable' : 'stale');
        n.mac = senderMac;
        if (op !== ARP_REPLY) n.confirmedNs = stack.engine.now - this.config.reachableNs;
      }
    }
    if (op === ARP_REQUEST && mine) {
      this.send(iface, ARP_REPLY, senderMac, targetIp, senderMac, senderIp);
      stack.stats.arpRepliesSent++;
    }
  }

  /**
   * RFC 5227 2.4 (b), as IOS does: report the conflict and defend the address with one
   * announcement, so the other station (which announced it) hears of the conflict too; then stay
   * quiet for DEFEND_INTERVAL, so two stations do not defend against each other forever.
   */
  private conflict(iface: IpInterface, ip: Ip4, mac: Mac): void {
    const now = this.stack.engine.now;
    // Undefined in a stack restored from a snapshot taken before this field existed: compares false.
    if (now < this.quietUntilNs) return;
    this.quietUntilNs = now + DEFEND_INTERVAL_NS;
    this.announce(iface, ip);
    this.conflictSink?.addressConflict(this.stack, iface, ip, mac);
  }

  private update(iface: IpInterface, e: ArpEntry, mac: Mac, confirmed: boolean): void {
    if (e.state === 'permanent') return;
    const now = this.stack.engine.now;
    const changed = e.mac !== mac;
    e.mac = mac;
    e.touchedNs = now;
    if (confirmed) {
      e.state = 'reachable';
      e.confirmedNs = now;
      this.cancelEntryTimer(e);
    } else if (e.state === 'incomplete' || changed) {
      e.state = 'stale';
      e.confirmedNs = now - this.config.reachableNs;
      this.cancelEntryTimer(e);
    }
    if (e.queue.length > 0) {
      const q = e.queue.splice(0);
      e.queueIngress.length = 0;
      for (const p of q) this.stack.sendFrame(iface, mac, p, null);
    }
  }

  // ---------------------------------------------------------------- entries

  private newEntry(iface: IpInterface, ip: Ip4, state: ArpState): ArpEntry {
    const old = iface.arp.get(ip);
    if (old !== undefined) this.cancelEntryTimer(old);
    const now = this.stack.engine.now;
    const e: ArpEntry = { ip, mac: -1, state, confirmedNs: now, touchedNs: now, probes: 0, timer: -1, queue: [], queueIngress: [] };
    iface.arp.set(ip, e);
    return e;
  }

  private cancelEntryTimer(e: ArpEntry): void {
    if (e.timer >= 0) this.stack.engine.cancel(e.timer);
    e.timer = -1;
  }

  private deleteEntry(iface: IpInterface, e: ArpEntry): void {
    this.cancelEntryTimer(e);
    if (iface.arp.get(e.ip) === e) iface.arp.delete(e.ip);
  }

  /** A stale entry nobody used for staleNs is gone, as Linux's garbage collector would have it. */
  private expired(e: ArpEntry, now: number): boolean {
    if (e.state !== 'reachable' && e.state !== 'stale') return false;
    const staleSince = Math.max(e.confirmedNs + this.config.reachableNs, e.touchedNs);
    return now - staleSince >= this.config.staleNs;
  }

  // ---------------------------------------------------------------- send

  /** The MAC for `ip` on `iface`, or -1 after starting (or continuing) resolution. */
  resolve(iface: IpInterface, ip: Ip4): Mac {
    const engine = this.stack.engine;
    const now = engine.now;
    let e = iface.arp.get(ip);
    if (e !== undefined && this.expired(e, now)) {
      this.deleteEntry(iface, e);
      e = undefined;
    }
    if (e === undefined) {
      e = this.newEntry(iface, ip, 'incomplete');
      this.sendRequest(iface, e, MAC_BROADCAST);
      e.probes = 1;
      e.timer = engine.after(this.config.retransNs, this.stack, STACK_TIMER.ARP, iface.index * TWO32 + ip);
      return -1;
    }
    if (e.state === 'incomplete') return -1;
    if (e.state === 'reachable' && now - e.confirmedNs < this.config.reachableNs) return e.mac;
    if (e.state === 'reachable' || e.state === 'stale') {
      // Stale, and now in use: keep sending to it, and check it unless confirmed within delayNs (Linux's DELAY state).
      e.state = 'delay';
      e.touchedNs = now;
      this.cancelEntryTimer(e);
      e.timer = engine.after(this.config.delayNs, this.stack, STACK_TIMER.ARP, iface.index * TWO32 + ip);
    }
    return e.mac;
  }

  /** Queues a datagram for `ip` while it resolves (after resolve() said -1); the oldest goes when full. */
  enqueue(iface: IpInterface, ip: Ip4, packet: Uint8Array, ingress: number): void {
    const e = iface.arp.get(ip)!;
    e.queue.push(packet);
    e.queueIngress.push(ingress);
    if (e.queue.length > this.config.queueLength) {
      e.queue.shift();
      e.queueIngress.shift();
      this.stack.stats.arpDrops++;
    }
  }

  /** The stack's timer with tag STACK_TIMER.ARP. */
  onTimer(key: number): void {
    const stack = this.stack;
    const iface = stack.interfaces[Math.floor(key / TWO32)];
    if (iface === undefined) return;
    const e = iface.arp.get(key % TWO32);
    if (e === undefined) return;
    e.timer = -1;
    const cfg = this.config;
    const engine = stack.engine;
    switch (e.state) {
      case 'incomplete':
        if (e.probes < cfg.requests) {
          this.sendRequest(iface, e, MAC_BROADCAST);
          e.probes++;
          e.timer = engine.after(cfg.retransNs, stack, STACK_TIMER.ARP, key);
          return;
        }
        this.failed(iface, e);
        return;
      case 'delay':
      case 'probe':
        if (e.state === 'delay') {
          if (engine.now - e.confirmedNs < cfg.reachableNs) {
            e.state = 'reachable';
            return;
          }
          e.state = 'probe';
          e.probes = 0;
        }
        if (e.probes < cfg.unicastProbes) {
          this.sendRequest(iface, e, e.mac);
          e.probes++;
          e.timer = engine.after(cfg.retransNs, stack, STACK_TIMER.ARP, key);
          return;
        }
        this.deleteEntry(iface, e);
        return;
      default:
        return;
    }
  }

  /** Resolution gave up: every waiting datagram earns its sender a host unreachable (Linux's arp_error_report). */
  private failed(iface: IpInterface, e: ArpEntry): void {
    const stack = this.stack;
    this.deleteEntry(iface, e);
    const q = e.queue.splice(0);
    const ingress = e.queueIngress.splice(0);
    stack.stats.arpDrops += q.length;
    for (let i = 0; i < q.length; i++) {
      const from = ingress[i]! >= 0 ? stack.interfaces[ingress[i]!]! : iface;
      stack.sendIcmpError(ICMP_TYPE.DEST_UNREACHABLE, UNREACH.HOST, q[i]!, from);
    }
  }

  private sendRequest(iface: IpInterface, e: ArpEntry, dstMac: Mac): void {
    this.send(iface, ARP_REQUEST, dstMac, this.stack.sourceFor(iface, e.ip), 0, e.ip);
    this.stack.stats.arpRequestsSent++;
  }

  /** Gratuitous ARP (RFC 5227 announcement): a broadcast request for our own address. */
  announce(iface: IpInterface, ip: Ip4): void {
    if (!this.stack.running || !iface.up) return;
    this.send(iface, ARP_REQUEST, MAC_BROADCAST, ip, 0, ip);
  }

  private send(iface: IpInterface, op: number, dstMac: Mac, senderIp: Ip4, targetMac: Mac, targetIp: Ip4): void {
    const hdr = iface.vlan < 0 ? 14 : 18;
    const frame = this.stack.alloc(Math.max(ETH_MIN_FRAME, hdr + ARP_LENGTH));
    putEthernetHeader(frame, 0, dstMac, iface.mac, iface.vlan, ETHERTYPE.ARP);
    encodeArp({ op, senderMac: iface.mac, senderIp, targetMac, targetIp }, frame, hdr);
    iface.port.send(frame);
  }
}
