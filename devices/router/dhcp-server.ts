/**
 * A DHCP server (RFC 2131, options of RFC 2132) as pure logic: it takes a received message and
 * the interface it came in on and says what to send back and where; the router frames and sends
 * it. Its whole state (pools, leases, counters) is plain data, and the lease database can be
 * exported and imported so that leases survive a node restart.
 *
 * Choices where the RFC leaves room (documented because users will see them):
 * - A client is identified by its client identifier (option 61) when it sends one, else by
 *   chaddr (RFC 2131 4.2).
 * - Reservations match by MAC (chaddr), by client identifier, or by node name. A node name is
 *   matched against the client's host name option 12 (case-insensitive), the way dnsmasq's
 *   `dhcp-host=name,ip` works; a lab loader that knows the node's MAC may give `mac` instead.
 *   A reserved address is never offered to anyone else; it need not lie inside the range.
 * - Address choice for a DISCOVER: the client's reservation, else its current or previous
 *   address when still free, else the requested address (option 50) when valid, else the lowest
 *   address never leased, else the lowest whose old lease has ended.
 * - An OFFER holds its address for `offerHoldS` (60 s). A DECLINE puts the address out of use
 *   for `declineHoldS` (10 min) and a RELEASE frees it at once (the record stays so the client
 *   gets the same address next time if nobody took it).
 * - INIT-REBOOT from a client we have no record of gets no answer (RFC 2131 4.3.2, "MUST remain
 *   silent"); a renewing client we have no record of keeps its address when it is free and in
 *   the range (a router that lost its database does not knock clients off), else gets a NAK.
 * - Lease expiry is computed on demand from the record's end time, so there is no timer.
 */
import { type Ip4, type Mac, MAC_BROADCAST, ip4ToString, macToString, parseIp4, parseMac, prefixToMask, toHex } from '../wire/bytes.js';
import {
  BOOTREPLY,
  BOOTREQUEST,
  DHCP_BROADCAST_FLAG,
  DHCP_CLIENT_PORT,
  DHCP_SERVER_PORT,
  type DhcpFields,
  type DhcpMessage,
  DhcpMessageType,
  decodeDhcp,
  dhcpEncodingLength,
  dhcpOptionsFrom,
  encodeDhcp,
  readDhcpFields,
} from '../wire/dhcp.js';
import { DecodeError } from '../wire/errors.js';

export interface DhcpReservation {
  ip: Ip4;
  mac?: Mac;
  /** Node name, matched against the client's host name (option 12), case-insensitive. */
  node?: string;
  /** Client identifier (option 61) as hex, e.g. "01020000000001". */
  clientId?: string;
}

export interface DhcpPoolConfig {
  /** Shown in bindings and statistics; unique per server. */
  name: string;
  /** The interface whose directly attached clients this pool serves (giaddr 0). */
  interface?: string;
  /** The subnet the pool's addresses belong to; a relayed request picks the pool whose subnet contains giaddr. */
  network: Ip4;
  prefix: number;
  /** Inclusive range of addresses to lease. */
  rangeStart: Ip4;
  rangeEnd: Ip4;
  /** Inclusive [first, last] address ranges never leased. */
  excluded?: ReadonlyArray<readonly [Ip4, Ip4]>;
  /** Option 3. */
  gateway?: Ip4;
  /** Option 6. */
  dns?: readonly Ip4[];
  /** Option 15. */
  domain?: string;
  /** Option 51; default 86400 (one day, as IOS). */
  leaseSeconds?: number;
  /**
   * A lease time the client asks for (its option 51) is granted up to this, as ISC dhcpd's
   * max-lease-time (VMware's vmnetdhcp: 2 h). Absent: the client's wish is ignored, as IOS does.
   */
  maxLeaseSeconds?: number;
  /** Option 58; default half the lease (RFC 2131 4.4.5). */
  renewalSeconds?: number;
  /** Option 59; default 7/8 of the lease. */
  rebindingSeconds?: number;
  reservations?: readonly DhcpReservation[];
}

export interface DhcpServerOptions {
  offerHoldS?: number;
  declineHoldS?: number;
}

export type DhcpLeaseState = 'offered' | 'bound' | 'declined' | 'released';

/** One address the server has handed out or been told about. Plain data. */
export interface DhcpLease {
  ip: Ip4;
  pool: string;
  /** "id:<hex>" for a client identifier, "mac:<hex>" otherwise; empty for a declined address. */
  client: string;
  mac: Mac;
  hostname: string;
  state: DhcpLeaseState;
  /** Engine time (ns) when the lease (or offer, or decline hold) ends. */
  expiresNs: number;
}

/** A row of `show ip dhcp binding`. */
export interface DhcpBinding {
  ip: string;
  /** Client identifier or hardware address, as IOS shows it. */
  client: string;
  mac: string;
  hostname: string;
  pool: string;
  /** Seconds until the lease ends. */
  expiresInS: number;
  type: 'automatic' | 'manual';
}

/** The saved lease database: JSON-safe. Times are relative, so a restart with a fresh clock works. */
export interface DhcpLeaseDatabase {
  version: 1;
  leases: {
    ip: string;
    pool: string;
    client: string;
    mac: string;
    hostname: string;
    state: 'bound' | 'declined' | 'released';
    /** Seconds of the lease left when saved; the time a node stays stopped does not count. */
    remainingS: number;
  }[];
}

export interface DhcpServerStats {
  discovers: number;
  offers: number;
  requests: number;
  acks: number;
  naks: number;
  declines: number;
  releases: number;
  informs: number;
  /** DISCOVERs left without an OFFER because the pool had no free address. */
  exhausted: number;
  /** Messages that did not decode, were not requests, or had no pool to serve them. */
  ignored: number;
}

/** Where the ingress message came from, as the router saw it. */
export interface DhcpRequestContext {
  nowNs: number;
  /** Name of the interface the message arrived on. */
  iface: string;
  /** That interface's primary address: the server identifier (option 54) of the reply. */
  ifaceAddress: Ip4;
  /** Whether a server identifier in a REQUEST is one of ours (any interface); default: equals ifaceAddress. */
  isOwnAddress?: (ip: Ip4) => boolean;
}

/** What to send: a DHCP message and its UDP/IP destination. */
export interface DhcpReply {
  /** The DHCP message: the UDP payload. */
  payload: Uint8Array;
  /** Interface to send on when `dstMac` is set; otherwise the reply is routed normally. */
  iface: string;
  srcIp: Ip4;
  dstIp: Ip4;
  srcPort: number;
  dstPort: number;
  /**
   * The link-layer destination when ARP must not be used: broadcast, or chaddr for a client
   * that has no address yet (RFC 2131 4.1). Undefined: route and resolve `dstIp` as usual.
   */
  dstMac?: Mac;
  /** The message type sent, for logs and tests. */
  type: number;
}

interface PoolState {
  config: DhcpPoolConfig;
  mask: Ip4;
  leaseS: number;
  t1S: number;
  t2S: number;
  /** 0: the client's requested lease time is ignored. */
  maxLeaseS: number;
}

const NS = 1e9;

function inSubnet(ip: Ip4, network: Ip4, mask: Ip4): boolean {
  return ((ip & mask) >>> 0) === ((network & mask) >>> 0);
}

export class DhcpServer {
  readonly pools: PoolState[] = [];
  /** Every address with a record, by address. */
  readonly leases = new Map<Ip4, DhcpLease>();
  /** The address most recently given to a client, by `${pool}\n${client}`. */
  readonly lastAddress = new Map<string, Ip4>();
  readonly stats: DhcpServerStats = {
    discovers: 0,
    offers: 0,
    requests: 0,
    acks: 0,
    naks: 0,
    declines: 0,
    releases: 0,
    informs: 0,
    exhausted: 0,
    ignored: 0,
  };
  /** DISCOVERs left without an OFFER, by pool. */
  readonly exhaustedByPool: Record<string, number> = {};
  readonly offerHoldS: number;
  readonly declineHoldS: number;

  constructor(pools: readonly DhcpPoolConfig[] = [], opts: DhcpServerOptions = {}) {
    this.offerHoldS = opts.offerHoldS ?? 60;
    this.declineHoldS = opts.declineHoldS ?? 600;
    for (const p of pools) this.addPool(p);
  }

  /** Adds a pool; throws on a configuration that cannot work (a user's error, reported by the caller). */
  addPool(config: DhcpPoolConfig): void {
    if (this.pools.some((p) => p.config.name === config.name)) throw new Error(`dhcp pool ${config.name}: duplicate name`);
    if (config.prefix < 0 || config.prefix > 30) throw new Error(`dhcp pool ${config.name}: prefix /${config.prefix} leaves no hosts`);
    const mask = prefixToMask(config.prefix);
    const net = (config.network & mask) >>> 0;
    const bcast = (net | ~mask) >>> 0;
    if (config.rangeStart > config.rangeEnd) throw new Error(`dhcp pool ${config.name}: range start after range end`);
    if (!inSubnet(config.rangeStart, net, mask) || !inSubnet(config.rangeEnd, net, mask)) {
      throw new Error(`dhcp pool ${config.name}: range ${ip4ToString(config.rangeStart)}-${ip4ToString(config.rangeEnd)} is outside ${ip4ToString(net)}/${config.prefix}`);
    }
    for (const r of config.reservations ?? []) {
      if (!inSubnet(r.ip, net, mask) || r.ip === net || r.ip === bcast) {
        throw new Error(`dhcp pool ${config.name}: reservation ${ip4ToString(r.ip)} is not a host of ${ip4ToString(net)}/${config.prefix}`);
      }
      if (r.mac === undefined && r.node === undefined && r.clientId === undefined) {
        throw new Error(`dhcp pool ${config.name}: reservation ${ip4ToString(r.ip)} names no client`);
      }
    }
    const leaseS = Math.max(1, Math.floor(config.leaseSeconds ?? 86400));
    this.pools.push({
      config: { ...config, network: net },
      mask,
      leaseS,
      t1S: config.renewalSeconds ?? Math.floor(leaseS / 2),
      t2S: config.rebindingSeconds ?? Math.floor((leaseS * 7) / 8),
      maxLeaseS: config.maxLeaseSeconds === undefined ? 0 : Math.max(1, Math.floor(config.maxLeaseSeconds)),
    });
  }

  /**
   * Handles one DHCP message (the UDP payload received on port 67). Returns the reply to send,
   * or null when the RFC says to stay silent (DECLINE, RELEASE, a REQUEST for another server,
   * an exhausted pool, a message that is not ours).
   */
  handle(buf: Uint8Array, offset: number, length: number, ctx: DhcpRequestContext): DhcpReply | null {
    let msg: DhcpMessage;
    let fields: DhcpFields;
    try {
      msg = decodeDhcp(buf, offset, length);
      fields = readDhcpFields(msg.options);
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      this.stats.ignored++;
      return null;
    }
    if (msg.op !== BOOTREQUEST || msg.htype !== 1 || msg.hlen !== 6 || fields.messageType === undefined) {
      this.stats.ignored++;
      return null;
    }
    switch (fields.messageType) {
      case DhcpMessageType.DISCOVER:
        this.stats.discovers++;
        return this.onDiscover(msg, fields, ctx);
      case DhcpMessageType.REQUEST:
        this.stats.requests++;
        return this.onRequest(msg, fields, ctx);
      case DhcpMessageType.DECLINE:
        this.stats.declines++;
        this.onDecline(msg, fields, ctx);
        return null;
      case DhcpMessageType.RELEASE:
        this.stats.releases++;
        this.onRelease(msg, fields, ctx);
        return null;
      case DhcpMessageType.INFORM:
        this.stats.informs++;
        return this.onInform(msg, fields, ctx);
      default:
        this.stats.ignored++;
        return null;
    }
  }

  // ---- pool and client lookup ----

  /** RFC 2131 4.3: giaddr picks the pool for relayed messages, the ingress interface otherwise. */
  private poolFor(msg: DhcpMessage, ctx: DhcpRequestContext, ciaddr: Ip4 = 0): PoolState | undefined {
    if (msg.giaddr !== 0) return this.pools.find((p) => inSubnet(msg.giaddr, p.config.network, p.mask));
    // A renewing client unicasts to the server identifier, so it may arrive on another
    // interface than the one facing it: its own address names its subnet.
    if (ciaddr !== 0) {
      const byAddr = this.pools.find((p) => inSubnet(ciaddr, p.config.network, p.mask));
      if (byAddr) return byAddr;
    }
    return this.pools.find((p) => p.config.interface === ctx.iface);
  }

  private clientKey(msg: DhcpMessage, fields: DhcpFields): string {
    return fields.clientId && fields.clientId.length > 0 ? `id:${toHex(fields.clientId)}` : `mac:${toHex(macBytes(msg.chaddr))}`;
  }

  private reservationFor(pool: PoolState, msg: DhcpMessage, fields: DhcpFields): DhcpReservation | undefined {
    const host = fields.hostname?.toLowerCase();
    const cid = fields.clientId ? toHex(fields.clientId) : undefined;
    return pool.config.reservations?.find(
      (r) =>
        (r.mac !== undefined && r.mac === msg.chaddr) ||
        (r.clientId !== undefined && cid !== undefined && r.clientId.toLowerCase() === cid) ||
        (r.node !== undefined && host !== undefined && r.node.toLowerCase() === host),
    );
  }

  private reservedForOther(pool: PoolState, ip: Ip4, mine: DhcpReservation | undefined): boolean {
    const rs = pool.config.reservations;
    if (!rs) return false;
    for (const r of rs) if (r.ip === ip && r !== mine) return true;
    return false;
  }

  private isActive(l: DhcpLease, nowNs: number): boolean {
    return l.state !== 'released' && l.expiresNs > nowNs;
  }

  /** Addresses a pool never leases: network, broadcast, the gateway, the server, exclusions. */
  private isSpecial(pool: PoolState, ip: Ip4, ctx: DhcpRequestContext): boolean {
    const c = pool.config;
    const net = c.network;
    const bcast = (net | ~pool.mask) >>> 0;
    if (ip === net || ip === bcast || ip === c.gateway || ip === ctx.ifaceAddress) return true;
    if (ctx.isOwnAddress?.(ip)) return true;
    if (c.excluded) for (const [a, b] of c.excluded) if (ip >= a && ip <= b) return true;
    return false;
  }

  /** May `ip` be given to `client` now? Range is the caller's concern. */
  private freeFor(pool: PoolState, ip: Ip4, client: string, mine: DhcpReservation | undefined, ctx: DhcpRequestContext): boolean {
    if (!inSubnet(ip, pool.config.network, pool.mask)) return false;
    if (mine !== undefined && ip === mine.ip) {
      // A reservation overrides exclusions and the range, not another client's live lease.
      const l = this.leases.get(ip);
      return !l || l.client === client || !this.isActive(l, ctx.nowNs);
    }
    if (this.isSpecial(pool, ip, ctx) || this.reservedForOther(pool, ip, mine)) return false;
    const l = this.leases.get(ip);
    if (!l) return true;
    if (l.pool !== pool.config.name && this.isActive(l, ctx.nowNs)) return false;
    // Declined records belong to nobody, so they block every client until the hold ends.
    return l.client === client || !this.isActive(l, ctx.nowNs);
  }

  private inRange(pool: PoolState, ip: Ip4): boolean {
    return ip >= pool.config.rangeStart && ip <= pool.config.rangeEnd;
  }

  /** RFC 2131 4.3.1's order of preference; null when nothing is free. */
  private chooseAddress(pool: PoolState, msg: DhcpMessage, fields: DhcpFields, client: string, ctx: DhcpRequestContext): Ip4 | null {
    const mine = this.reservationFor(pool, msg, fields);
    if (mine) return this.freeFor(pool, mine.ip, client, mine, ctx) ? mine.ip : null;
    const prev = this.lastAddress.get(`${pool.config.name}\n${client}`);
    if (prev !== undefined && this.inRange(pool, prev) && this.freeFor(pool, prev, client, undefined, ctx)) return prev;
    const req = fields.requestedIp;
    if (req !== undefined && this.inRange(pool, req) && this.freeFor(pool, req, client, undefined, ctx)) return req;
    let reused: Ip4 | null = null;
    for (let ip = pool.config.rangeStart; ip <= pool.config.rangeEnd; ip++) {
      if (!this.freeFor(pool, ip, client, undefined, ctx)) continue;
      if (!this.leases.has(ip)) return ip;
      reused ??= ip;
    }
    return reused;
  }

  private record(pool: PoolState, ip: Ip4, msg: DhcpMessage, fields: DhcpFields, client: string, state: DhcpLeaseState, expiresNs: number): void {
    const old = this.leases.get(ip);
    const hostname = fields.hostname ?? (old && old.client === client ? old.hostname : '');
    this.leases.set(ip, { ip, pool: pool.config.name, client, mac: msg.chaddr, hostname, state, expiresNs });
    const key = `${pool.config.name}\n${client}`;
    const prev = this.lastAddress.get(key);
    // One client holds one address per pool: moving it frees the old one.
    if (prev !== undefined && prev !== ip) {
      const l = this.leases.get(prev);
      if (l && l.client === client && l.state !== 'declined') {
        l.state = 'released';
        l.expiresNs = Math.min(l.expiresNs, expiresNs - 1);
      }
    }
    this.lastAddress.set(key, ip);
  }

  // ---- messages ----

  private onDiscover(msg: DhcpMessage, fields: DhcpFields, ctx: DhcpRequestContext): DhcpReply | null {
    const pool = this.poolFor(msg, ctx);
    if (!pool) {
      this.stats.ignored++;
      return null;
    }
    const client = this.clientKey(msg, fields);
    const ip = this.chooseAddress(pool, msg, fields, client, ctx);
    if (ip === null) {
      this.stats.exhausted++;
      this.exhaustedByPool[pool.config.name] = (this.exhaustedByPool[pool.config.name] ?? 0) + 1;
      return null;
    }
    const existing = this.leases.get(ip);
    // An address the client already holds stays bound; a new one is held for the offer only.
    if (existing && existing.client === client && existing.state === 'bound' && this.isActive(existing, ctx.nowNs)) {
      existing.mac = msg.chaddr;
    } else {
      this.record(pool, ip, msg, fields, client, 'offered', ctx.nowNs + this.offerHoldS * NS);
    }
    this.stats.offers++;
    return this.reply(msg, DhcpMessageType.OFFER, ip, 0, pool, ctx, this.leaseFor(pool, fields));
  }

  private onRequest(msg: DhcpMessage, fields: DhcpFields, ctx: DhcpRequestContext): DhcpReply | null {
    const client = this.clientKey(msg, fields);
    const serverId = fields.serverId;
    if (serverId !== undefined) {
      // SELECTING: the client answers an OFFER, ours or another server's.
      const ours = serverId === ctx.ifaceAddress || (ctx.isOwnAddress?.(serverId) ?? false);
      const pool = this.poolFor(msg, ctx);
      if (!ours) {
        this.dropOffer(client, ctx.nowNs);
        return null;
      }
      if (!pool) {
        this.stats.ignored++;
        return null;
      }
      const ip = fields.requestedIp ?? msg.ciaddr;
      if (ip === 0) return this.nak(msg, ctx, 'no address requested');
      const l = this.leases.get(ip);
      const offered = l !== undefined && l.client === client && l.pool === pool.config.name && (l.state === 'offered' || l.state === 'bound') && this.isActive(l, ctx.nowNs);
      // An offer that timed out is still good when nobody took the address meanwhile.
      const mine = this.reservationFor(pool, msg, fields);
      const stillFree = (mine ? mine.ip === ip : this.inRange(pool, ip)) && this.freeFor(pool, ip, client, mine, ctx);
      if (offered || stillFree) return this.ack(pool, ip, msg, fields, client, ctx, 0);
      return this.nak(msg, ctx, 'address not offered to you');
    }
    if (fields.requestedIp !== undefined && msg.ciaddr === 0) {
      // INIT-REBOOT: the client wants its remembered address confirmed.
      const ip = fields.requestedIp;
      const pool = this.poolFor(msg, ctx);
      if (!pool) {
        this.stats.ignored++;
        return null;
      }
      if (!inSubnet(ip, pool.config.network, pool.mask)) return this.nak(msg, ctx, 'wrong network');
      const verdict = this.confirm(pool, ip, msg, fields, client, ctx);
      if (verdict === 'ack') return this.ack(pool, ip, msg, fields, client, ctx, 0);
      if (verdict === 'nak') return this.nak(msg, ctx, 'address not yours');
      return null;
    }
    if (msg.ciaddr !== 0) {
      // RENEWING (unicast) or REBINDING (broadcast): extend the lease on ciaddr.
      const ip = msg.ciaddr;
      const pool = this.poolFor(msg, ctx, ip);
      if (!pool) {
        this.stats.ignored++;
        return null;
      }
      if (!inSubnet(ip, pool.config.network, pool.mask)) return this.nak(msg, ctx, 'wrong network');
      const verdict = this.confirm(pool, ip, msg, fields, client, ctx, true);
      if (verdict === 'nak') return this.nak(msg, ctx, 'address not yours');
      return this.ack(pool, ip, msg, fields, client, ctx, ip);
    }
    this.stats.ignored++;
    return null;
  }

  /** Whether a client may keep `ip`: 'ack', 'nak', or 'silent' when we know nothing of it. */
  private confirm(pool: PoolState, ip: Ip4, msg: DhcpMessage, fields: DhcpFields, client: string, ctx: DhcpRequestContext, renewing = false): 'ack' | 'nak' | 'silent' {
    const mine = this.reservationFor(pool, msg, fields);
    if (mine && mine.ip !== ip) return 'nak';
    const l = this.leases.get(ip);
    const known = l !== undefined && l.client === client && l.state !== 'declined';
    if (known) return this.freeFor(pool, ip, client, mine, ctx) ? 'ack' : 'nak';
    if (!this.freeFor(pool, ip, client, mine, ctx)) return 'nak';
    if (mine) return 'ack';
    if (!this.inRange(pool, ip)) return 'nak';
    return renewing ? 'ack' : 'silent';
  }

  private dropOffer(client: string, nowNs: number): void {
    for (const l of this.leases.values()) {
      if (l.client === client && l.state === 'offered' && this.isActive(l, nowNs)) l.expiresNs = nowNs;
    }
  }

  private onDecline(msg: DhcpMessage, fields: DhcpFields, ctx: DhcpRequestContext): void {
    const ip = fields.requestedIp;
    if (ip === undefined) return;
    const client = this.clientKey(msg, fields);
    const l = this.leases.get(ip);
    if (!l || l.client !== client) return;
    // Someone else answers ARP for it: keep it out of use for a while, owned by nobody.
    l.state = 'declined';
    l.client = '';
    l.mac = 0;
    l.hostname = '';
    l.expiresNs = ctx.nowNs + this.declineHoldS * NS;
    this.lastAddress.delete(`${l.pool}\n${client}`);
  }

  private onRelease(msg: DhcpMessage, fields: DhcpFields, ctx: DhcpRequestContext): void {
    const client = this.clientKey(msg, fields);
    const l = this.leases.get(msg.ciaddr);
    if (!l || l.client !== client || l.state !== 'bound') return;
    l.state = 'released';
    l.expiresNs = ctx.nowNs;
  }

  private onInform(msg: DhcpMessage, _fields: DhcpFields, ctx: DhcpRequestContext): DhcpReply | null {
    const pool = this.poolFor(msg, ctx, msg.ciaddr);
    if (!pool || msg.ciaddr === 0) {
      this.stats.ignored++;
      return null;
    }
    this.stats.acks++;
    return this.reply(msg, DhcpMessageType.ACK, 0, msg.ciaddr, pool, ctx, 0);
  }

  private ack(pool: PoolState, ip: Ip4, msg: DhcpMessage, fields: DhcpFields, client: string, ctx: DhcpRequestContext, ciaddr: Ip4): DhcpReply {
    const leaseS = this.leaseFor(pool, fields);
    this.record(pool, ip, msg, fields, client, 'bound', ctx.nowNs + leaseS * NS);
    this.stats.acks++;
    return this.reply(msg, DhcpMessageType.ACK, ip, ciaddr, pool, ctx, leaseS);
  }

  /** The lease to grant: the pool's, or what the client asked for up to the pool's maximum. */
  private leaseFor(pool: PoolState, fields: DhcpFields): number {
    const asked = fields.leaseTime;
    if (pool.maxLeaseS === 0 || asked === undefined || asked <= 0) return pool.leaseS;
    return Math.min(asked, pool.maxLeaseS);
  }

  private nak(msg: DhcpMessage, ctx: DhcpRequestContext, why: string): DhcpReply {
    this.stats.naks++;
    const options = dhcpOptionsFrom({ messageType: DhcpMessageType.NAK, serverId: ctx.ifaceAddress, message: why });
    // RFC 2131 4.3.2: a NAK through a relay asks it to broadcast, since the client has no address.
    const flags = msg.giaddr !== 0 ? msg.flags | DHCP_BROADCAST_FLAG : msg.flags;
    const payload = this.encode(msg, 0, 0, flags, options);
    return this.address(msg, payload, DhcpMessageType.NAK, 0, 0, ctx, true);
  }

  /** `leaseS` 0: no lease options (an ACK to an INFORM). */
  private reply(msg: DhcpMessage, type: number, yiaddr: Ip4, ciaddr: Ip4, pool: PoolState, ctx: DhcpRequestContext, leaseS: number): DhcpReply {
    const c = pool.config;
    const f: DhcpFields = { messageType: type, serverId: ctx.ifaceAddress };
    if (leaseS > 0) {
      const ownLease = leaseS === pool.leaseS;
      f.leaseTime = leaseS;
      f.renewalTime = ownLease ? pool.t1S : Math.floor(leaseS / 2);
      f.rebindingTime = ownLease ? pool.t2S : Math.floor((leaseS * 7) / 8);
    }
    f.subnetMask = pool.mask;
    if (c.gateway !== undefined) f.routers = [c.gateway];
    if (c.dns && c.dns.length > 0) f.dns = [...c.dns];
    if (c.domain) f.domainName = c.domain;
    const payload = this.encode(msg, yiaddr, ciaddr, msg.flags, dhcpOptionsFrom(f));
    return this.address(msg, payload, type, yiaddr, ciaddr, ctx, false);
  }

  private encode(msg: DhcpMessage, yiaddr: Ip4, ciaddr: Ip4, flags: number, options: ReturnType<typeof dhcpOptionsFrom>): Uint8Array {
    const input = {
      op: BOOTREPLY,
      htype: msg.htype,
      hlen: msg.hlen,
      hops: 0,
      xid: msg.xid,
      secs: 0,
      flags,
      ciaddr,
      yiaddr,
      siaddr: 0,
      giaddr: msg.giaddr,
      chaddr: msg.chaddr,
      options,
      ...(msg.chaddrRaw ? { chaddrRaw: msg.chaddrRaw } : {}),
    };
    const out = new Uint8Array(dhcpEncodingLength(input));
    encodeDhcp(input, out, 0);
    return out;
  }

  /** RFC 2131 4.1, "the server's reply": relay, ciaddr, broadcast or chaddr unicast. */
  private address(msg: DhcpMessage, payload: Uint8Array, type: number, yiaddr: Ip4, ciaddr: Ip4, ctx: DhcpRequestContext, nak: boolean): DhcpReply {
    const base = { payload, iface: ctx.iface, srcIp: ctx.ifaceAddress, srcPort: DHCP_SERVER_PORT, type };
    if (msg.giaddr !== 0) return { ...base, dstIp: msg.giaddr, dstPort: DHCP_SERVER_PORT };
    if (nak) return { ...base, dstIp: 0xffffffff, dstPort: DHCP_CLIENT_PORT, dstMac: MAC_BROADCAST };
    if (ciaddr !== 0) return { ...base, dstIp: ciaddr, dstPort: DHCP_CLIENT_PORT };
    if ((msg.flags & DHCP_BROADCAST_FLAG) !== 0 || yiaddr === 0) {
      return { ...base, dstIp: 0xffffffff, dstPort: DHCP_CLIENT_PORT, dstMac: MAC_BROADCAST };
    }
    return { ...base, dstIp: yiaddr, dstPort: DHCP_CLIENT_PORT, dstMac: msg.chaddr };
  }

  // ---- state for show commands and persistence ----

  /** Live leases (`show ip dhcp binding`), by address. */
  bindings(nowNs: number): DhcpBinding[] {
    const out: DhcpBinding[] = [];
    const ips = [...this.leases.keys()].sort((a, b) => a - b);
    for (const ip of ips) {
      const l = this.leases.get(ip)!;
      if (l.state !== 'bound' || !this.isActive(l, nowNs)) continue;
      const pool = this.pools.find((p) => p.config.name === l.pool);
      const manual = pool?.config.reservations?.some((r) => r.ip === ip) ?? false;
      out.push({
        ip: ip4ToString(ip),
        client: l.client.startsWith('id:') ? dottedHex(l.client.slice(3)) : macToString(l.mac),
        mac: macToString(l.mac),
        hostname: l.hostname,
        pool: l.pool,
        expiresInS: Math.ceil((l.expiresNs - nowNs) / NS),
        type: manual ? 'manual' : 'automatic',
      });
    }
    return out;
  }

  /** Per pool: addresses in the range, leased, held by offers or declines, and DISCOVERs left unanswered. */
  poolUsage(nowNs: number): { pool: string; network: string; size: number; leased: number; held: number; exhausted: number }[] {
    return this.pools.map((p) => {
      let leased = 0;
      let held = 0;
      for (const l of this.leases.values()) {
        if (l.pool !== p.config.name || !this.isActive(l, nowNs)) continue;
        if (l.state === 'bound') leased++;
        else held++;
      }
      return {
        pool: p.config.name,
        network: `${ip4ToString(p.config.network)}/${p.config.prefix}`,
        size: p.config.rangeEnd - p.config.rangeStart + 1,
        leased,
        held,
        exhausted: this.exhaustedByPool[p.config.name] ?? 0,
      };
    });
  }

  /** The lease database to save when the node stops. Offers in flight are not worth keeping. */
  exportLeases(nowNs: number): DhcpLeaseDatabase {
    const leases: DhcpLeaseDatabase['leases'] = [];
    for (const l of this.leases.values()) {
      if (l.state === 'offered') continue;
      leases.push({
        ip: ip4ToString(l.ip),
        pool: l.pool,
        client: l.client,
        mac: macToString(l.mac),
        hostname: l.hostname,
        state: l.state,
        remainingS: Math.max(0, Math.ceil((l.expiresNs - nowNs) / NS)),
      });
    }
    return { version: 1, leases };
  }

  /**
   * Restores a saved database (replacing what is held). Records for pools or addresses the
   * configuration no longer has are dropped; the count of records kept is returned.
   */
  importLeases(db: DhcpLeaseDatabase, nowNs: number): number {
    if (!db || db.version !== 1 || !Array.isArray(db.leases)) throw new Error('dhcp lease database: unknown format');
    this.leases.clear();
    this.lastAddress.clear();
    let kept = 0;
    for (const r of db.leases) {
      const ip = parseIp4(String(r.ip));
      const mac = parseMac(String(r.mac));
      const pool = this.pools.find((p) => p.config.name === r.pool);
      if (ip === null || mac === null || !pool || !inSubnet(ip, pool.config.network, pool.mask)) continue;
      if (r.state !== 'bound' && r.state !== 'declined' && r.state !== 'released') continue;
      const remaining = Number(r.remainingS);
      if (!Number.isFinite(remaining) || remaining < 0) continue;
      const client = String(r.client);
      this.leases.set(ip, { ip, pool: pool.config.name, client, mac, hostname: String(r.hostname ?? ''), state: r.state, expiresNs: nowNs + remaining * NS });
      if (client !== '') this.lastAddress.set(`${pool.config.name}\n${client}`, ip);
      kept++;
    }
    return kept;
  }
}

function macBytes(mac: Mac): Uint8Array {
  const b = new Uint8Array(6);
  for (let i = 5; i >= 0; i--) b[5 - i] = Math.floor(mac / 2 ** (8 * i)) & 0xff;
  return b;
}

/** IOS prints client identifiers as dotted groups of four hex digits: 0100.5079.6668.00 */
function dottedHex(hex: string): string {
  const groups: string[] = [];
  for (let i = 0; i < hex.length; i += 4) groups.push(hex.slice(i, i + 4));
  return groups.join('.');
}
