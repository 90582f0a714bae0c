/**
 * A DHCP client (RFC 2131) for one interface: INIT -> SELECTING -> REQUESTING -> BOUND, then
 * RENEWING at T1 (unicast to the server), REBINDING at T2 (broadcast), back to INIT when the
 * lease runs out or a NAK arrives; INIT-REBOOT when started with an address to ask for again.
 * Messages are shaped like ISC dhclient's on Linux: no broadcast flag, client id 61 = htype+MAC,
 * host name 12 = node name, parameter request list 1,3,6,15,51,58,59.
 */
import type { Engine, TimerTarget } from '../engine/engine.js';
import { type Ip4, ip4ToString, maskToPrefix, prefixToMask } from '../wire/bytes.js';
import {
  BOOTREPLY,
  BOOTREQUEST,
  DHCP_CLIENT_PORT,
  DHCP_SERVER_PORT,
  type DhcpFields,
  DhcpMessageType,
  type DhcpMessage,
  decodeDhcp,
  dhcpClientIdFromMac,
  dhcpEncodingLength,
  dhcpOptionsFrom,
  encodeDhcp,
  readDhcpFields,
} from '../wire/dhcp.js';
import { DecodeError } from '../wire/errors.js';
import type { IpStack } from '../stack/stack.js';
import type { UdpOwner, UdpSocket } from '../stack/sockets.js';
import type { IpInterface, RxInfo } from '../stack/types.js';

export type DhcpState =
  | 'stopped'
  | 'init'
  | 'selecting'
  | 'requesting'
  | 'init-reboot'
  | 'rebooting'
  | 'bound'
  | 'renewing'
  | 'rebinding'
  /** Retransmissions exhausted without a lease; stays here until started again. */
  | 'failed';

export interface DhcpLease {
  ip: Ip4;
  prefix: number;
  serverId: Ip4;
  routers: Ip4[];
  dns: Ip4[];
  domainName: string;
  /** Seconds, as the server gave them. */
  leaseSeconds: number;
  t1Seconds: number;
  t2Seconds: number;
  /** Engine time the lease started (when the REQUEST that earned the ACK was sent, RFC 2131 4.4.1). */
  startNs: number;
}

export interface DhcpClientOptions {
  /** Host name sent in option 12. */
  hostname: string;
  /** DISCOVER transmissions before giving up (REQUEST retransmissions count against it too). Default 5. */
  maxAttempts: number;
  /** First retransmission delay (RFC 2131 4.1: 4 s, doubled each time up to 64 s, +/- 1 s of jitter). */
  initialTimeoutNs: number;
  maxTimeoutNs: number;
  /** RFC 2131 4.4.5: RENEWING/REBINDING retransmit after half the time left, but not sooner than this. */
  minRenewRetransmitNs: number;
}

export const DEFAULT_DHCP_CLIENT: Omit<DhcpClientOptions, 'hostname'> = {
  maxAttempts: 5,
  initialTimeoutNs: 4e9,
  maxTimeoutNs: 64e9,
  minRenewRetransmitNs: 60e9,
};

export interface DhcpEvent {
  atNs: number;
  /** "DISCOVER", "OFFER 10.0.0.100 from 10.0.0.1", "BOUND 10.0.0.100/24", "NAK", "EXPIRED", "GAVE UP", ... */
  event: string;
}

export interface DhcpStatus {
  state: DhcpState;
  bound: boolean;
  gaveUp: boolean;
  lease: DhcpLease | null;
}

const PARAMETER_REQUEST_LIST = [1, 3, 6, 15, 51, 58, 59];
const TAG_RETRANSMIT = 1;
const TAG_T1 = 2;
const TAG_T2 = 3;
const TAG_EXPIRE = 4;
const MAX_HISTORY = 200;

function classfulPrefix(ip: Ip4): number {
  const a = ip >>> 24;
  return a < 128 ? 8 : a < 192 ? 16 : 24;
}

/**
 * Tells the owner (the host) what to configure; an object with methods, so the client keeps no
 * closures.
 */
export interface DhcpClientHost {
  dhcpBound(client: DhcpClient, lease: DhcpLease, previous: DhcpLease | null): void;
  dhcpUnbound(client: DhcpClient, lease: DhcpLease): void;
}

export class DhcpClient implements TimerTarget, UdpOwner {
  state: DhcpState = 'stopped';
  lease: DhcpLease | null = null;
  readonly history: DhcpEvent[] = [];
  readonly opts: DhcpClientOptions;
  /** Transmissions of the current acquisition (DISCOVERs and REQUESTs before BOUND). */
  attempts = 0;
  xid = 0;
  /** When the current acquisition began, for the `secs` field. */
  private beganNs = 0;
  /** Time of the last REQUEST: a lease counts from it. */
  private requestSentNs = 0;
  private offerIp: Ip4 = 0;
  private offerServer: Ip4 = 0;
  private requestedIp: Ip4 = 0;
  private timeoutNs = 0;
  private timer = -1;
  private leaseTimers: number[] = [];
  private socket: UdpSocket | null = null;

  constructor(
    readonly engine: Engine,
    readonly stack: IpStack,
    readonly iface: IpInterface,
    readonly host: DhcpClientHost,
    opts: Partial<DhcpClientOptions> & { hostname: string },
  ) {
    this.opts = { ...DEFAULT_DHCP_CLIENT, ...opts };
  }

  status(): DhcpStatus {
    const bound = this.state === 'bound' || this.state === 'renewing' || this.state === 'rebinding';
    return { state: this.state, bound, gaveUp: this.state === 'failed', lease: this.lease };
  }

  /** Still working towards a lease (neither bound nor given up nor stopped). */
  get busy(): boolean {
    return this.state === 'init' || this.state === 'selecting' || this.state === 'requesting' || this.state === 'init-reboot' || this.state === 'rebooting';
  }

  /**
   * Starts acquiring a lease: DISCOVER, or INIT-REBOOT (a REQUEST for `requestedIp` without a
   * server id, RFC 2131 3.2) when an address to ask for again is given.
   */
  start(requestedIp?: Ip4): void {
    this.stopTimers();
    if (this.socket === null) this.socket = this.stack.udp.bind(this, DHCP_CLIENT_PORT, { iface: this.iface });
    this.attempts = 0;
    this.timeoutNs = this.opts.initialTimeoutNs;
    this.beganNs = this.engine.now;
    this.requestedIp = requestedIp ?? 0;
    if (requestedIp !== undefined && requestedIp !== 0) {
      this.state = 'init-reboot';
      this.newXid();
      this.attempts++;
      this.sendRequest('rebooting');
      this.armRetransmit();
    } else {
      this.enterInit();
    }
  }

  /** Stops without telling the server (power off); forgets the lease. */
  stop(): void {
    this.stopTimers();
    this.dropLease();
    this.state = 'stopped';
    if (this.socket !== null) this.socket.close();
    this.socket = null;
  }

  /** RFC 2131 4.4.6: DHCPRELEASE to the server, then forget the address. */
  release(): boolean {
    const lease = this.lease;
    if (lease === null || !(this.state === 'bound' || this.state === 'renewing' || this.state === 'rebinding')) {
      this.stop();
      return false;
    }
    this.newXid();
    this.send(DhcpMessageType.RELEASE, lease.serverId, { ciaddr: lease.ip, srcIp: lease.ip }, { serverId: lease.serverId });
    this.log(`RELEASE ${ip4ToString(lease.ip)}`);
    this.stop();
    return true;
  }

  private stopTimers(): void {
    if (this.timer >= 0) this.engine.cancel(this.timer);
    this.timer = -1;
    for (const t of this.leaseTimers) this.engine.cancel(t);
    this.leaseTimers = [];
  }

  private dropLease(): void {
    const lease = this.lease;
    this.lease = null;
    if (lease !== null) this.host.dhcpUnbound(this, lease);
  }

  private log(event: string): void {
    this.history.push({ atNs: this.engine.now, event });
    if (this.history.length > MAX_HISTORY) this.history.splice(0, this.history.length - MAX_HISTORY);
  }

  private newXid(): void {
    this.xid = this.engine.rng.nextU32();
  }

  private enterInit(): void {
    this.state = 'selecting';
    this.newXid();
    this.sendDiscover();
  }

  /** RFC 2131 4.1: 4 s, 8 s, 16 s ... 64 s, each randomised by +/- 1 s. */
  private armRetransmit(): void {
    const jitter = (this.engine.rng.random() * 2 - 1) * 1e9;
    this.timer = this.engine.after(Math.max(0, this.timeoutNs + jitter), this, TAG_RETRANSMIT);
    this.timeoutNs = Math.min(this.timeoutNs * 2, this.opts.maxTimeoutNs);
  }

  private secs(): number {
    return Math.min(0xffff, Math.floor((this.engine.now - this.beganNs) / 1e9));
  }

  private sendDiscover(): void {
    this.attempts++;
    const fields: DhcpFields = { messageType: DhcpMessageType.DISCOVER, clientId: dhcpClientIdFromMac(this.iface.mac) };
    if (this.requestedIp !== 0) fields.requestedIp = this.requestedIp;
    fields.hostname = this.opts.hostname;
    fields.parameterRequestList = PARAMETER_REQUEST_LIST;
    this.sendMessage(fields, 0xffffffff, { ciaddr: 0, srcIp: 0 });
    this.log('DISCOVER');
    this.armRetransmit();
  }

  /** REQUEST in SELECTING (after an OFFER), INIT-REBOOT, RENEWING or REBINDING, per RFC 2131 4.3.2. */
  private sendRequest(kind: 'selecting' | 'rebooting' | 'renewing' | 'rebinding'): void {
    const fields: DhcpFields = { messageType: DhcpMessageType.REQUEST, clientId: dhcpClientIdFromMac(this.iface.mac) };
    let dst = 0xffffffff;
    let ciaddr = 0;
    let srcIp = 0;
    if (kind === 'selecting') {
      fields.requestedIp = this.offerIp;
      fields.serverId = this.offerServer;
    } else if (kind === 'rebooting') {
      fields.requestedIp = this.requestedIp;
    } else {
      const lease = this.lease!;
      ciaddr = lease.ip;
      srcIp = lease.ip;
      if (kind === 'renewing') dst = lease.serverId;
    }
    fields.hostname = this.opts.hostname;
    fields.parameterRequestList = PARAMETER_REQUEST_LIST;
    this.requestSentNs = this.engine.now;
    this.sendMessage(fields, dst, { ciaddr, srcIp });
    this.log(`REQUEST${kind === 'selecting' ? '' : ` (${kind})`}`);
  }

  private send(type: number, dst: Ip4, addr: { ciaddr: Ip4; srcIp: Ip4 }, extra: DhcpFields): void {
    this.sendMessage({ messageType: type, ...extra, clientId: dhcpClientIdFromMac(this.iface.mac) }, dst, addr);
  }

  private sendMessage(fields: DhcpFields, dst: Ip4, addr: { ciaddr: Ip4; srcIp: Ip4 }): void {
    if (this.socket === null) return;
    const msg = {
      op: BOOTREQUEST,
      xid: this.xid,
      secs: this.secs(),
      ciaddr: addr.ciaddr,
      chaddr: this.iface.mac,
      options: dhcpOptionsFrom(fields),
    };
    const buf = new Uint8Array(dhcpEncodingLength(msg));
    encodeDhcp(msg, buf, 0);
    // Broadcasts leave this interface with source 0.0.0.0 (or our address while renewing).
    this.socket.sendTo(dst, DHCP_SERVER_PORT, buf, { srcIp: addr.srcIp, iface: this.iface });
  }

  onDatagram(_socket: UdpSocket, _srcIp: Ip4, srcPort: number, payload: Uint8Array, _info: RxInfo): void {
    if (srcPort !== DHCP_SERVER_PORT) return;
    let msg: DhcpMessage;
    let f: DhcpFields;
    try {
      msg = decodeDhcp(payload);
      f = readDhcpFields(msg.options);
    } catch (e) {
      if (e instanceof DecodeError) return;
      throw e;
    }
    if (msg.op !== BOOTREPLY || msg.xid !== this.xid || msg.chaddr !== this.iface.mac) return;
    const type = f.messageType;
    switch (this.state) {
      case 'selecting':
        if (type === DhcpMessageType.OFFER && msg.yiaddr !== 0 && f.serverId !== undefined) {
          this.offerIp = msg.yiaddr;
          this.offerServer = f.serverId;
          this.log(`OFFER ${ip4ToString(msg.yiaddr)} from ${ip4ToString(f.serverId)}`);
          this.state = 'requesting';
          this.stopTimers();
          this.timeoutNs = this.opts.initialTimeoutNs;
          this.sendRequest('selecting');
          this.attempts++;
          this.armRetransmit();
        }
        return;
      case 'requesting':
      case 'rebooting':
      case 'init-reboot':
        if (type === DhcpMessageType.ACK && (this.state !== 'requesting' || f.serverId === undefined || f.serverId === this.offerServer)) {
          this.bind(msg, f);
        } else if (type === DhcpMessageType.NAK) {
          this.nak(f);
        }
        return;
      case 'renewing':
      case 'rebinding':
        if (type === DhcpMessageType.ACK) this.bind(msg, f);
        else if (type === DhcpMessageType.NAK) this.nak(f);
        return;
      default:
        return;
    }
  }

  private nak(f: DhcpFields): void {
    this.log(`NAK${f.message ? ` (${f.message})` : ''}`);
    this.stopTimers();
    this.dropLease();
    // RFC 2131 3.1 step 5 / 3.2 step 3: back to INIT and start over, but after the backoff delay
    // (as dhcpcd does): a server that NAKs everything must not make us spin at one instant.
    this.requestedIp = 0;
    if (this.attempts >= this.opts.maxAttempts) return this.giveUp();
    this.state = 'init';
    this.armRetransmit();
  }

  private bind(msg: DhcpMessage, f: DhcpFields): void {
    const ip = msg.yiaddr;
    if (ip === 0) return;
    const leaseSeconds = f.leaseTime ?? 0xffffffff;
    const infinite = leaseSeconds === 0xffffffff;
    let prefix = f.subnetMask !== undefined ? maskToPrefix(f.subnetMask) : classfulPrefix(ip);
    if (prefix < 0) prefix = classfulPrefix(ip);
    const t1 = f.renewalTime ?? Math.floor(leaseSeconds * 0.5);
    const t2 = f.rebindingTime ?? Math.floor(leaseSeconds * 0.875);
    const previous = this.lease;
    const lease: DhcpLease = {
      ip,
      prefix,
      serverId: f.serverId ?? previous?.serverId ?? this.offerServer,
      routers: f.routers ?? [],
      dns: f.dns ?? [],
      domainName: f.domainName ?? '',
      leaseSeconds,
      t1Seconds: t1,
      t2Seconds: t2,
      startNs: this.requestSentNs,
    };
    this.stopTimers();
    this.lease = lease;
    this.state = 'bound';
    this.attempts = 0;
    this.log(`ACK ${ip4ToString(ip)}/${prefix}${lease.routers.length ? ` gw ${ip4ToString(lease.routers[0]!)}` : ''} lease ${infinite ? 'infinite' : `${leaseSeconds}s`}`);
    this.host.dhcpBound(this, lease, previous);
    if (!infinite) {
      const start = lease.startNs;
      this.leaseTimers = [
        this.engine.schedule(start + t1 * 1e9, this, TAG_T1),
        this.engine.schedule(start + t2 * 1e9, this, TAG_T2),
        this.engine.schedule(start + leaseSeconds * 1e9, this, TAG_EXPIRE),
      ];
    }
  }

  onTimer(tag: number): void {
    const now = this.engine.now;
    if (tag === TAG_RETRANSMIT) {
      this.timer = -1;
      this.retransmit();
      return;
    }
    const lease = this.lease;
    if (lease === null) return;
    if (tag === TAG_T1 && this.state === 'bound') {
      this.state = 'renewing';
      this.newXid();
      this.beganNs = now;
      this.log('RENEWING');
      this.sendRequest('renewing');
      this.armRenewRetransmit(lease.startNs + lease.t2Seconds * 1e9);
    } else if (tag === TAG_T2 && (this.state === 'bound' || this.state === 'renewing')) {
      this.state = 'rebinding';
      this.newXid();
      if (this.timer >= 0) this.engine.cancel(this.timer);
      this.timer = -1;
      this.log('REBINDING');
      this.sendRequest('rebinding');
      this.armRenewRetransmit(lease.startNs + lease.leaseSeconds * 1e9);
    } else if (tag === TAG_EXPIRE) {
      this.log(`EXPIRED ${ip4ToString(lease.ip)}`);
      this.stopTimers();
      this.dropLease();
      this.requestedIp = 0;
      this.attempts = 0;
      this.timeoutNs = this.opts.initialTimeoutNs;
      this.beganNs = now;
      this.enterInit();
    }
  }

  /** RFC 2131 4.4.5: half the time left until `deadline`, at least a minute, never past the deadline. */
  private armRenewRetransmit(deadlineNs: number): void {
    const left = deadlineNs - this.engine.now;
    const wait = Math.max(left / 2, this.opts.minRenewRetransmitNs);
    if (wait >= left) return;
    this.timer = this.engine.after(wait, this, TAG_RETRANSMIT);
  }

  private retransmit(): void {
    switch (this.state) {
      case 'init':
        this.beganNs = this.engine.now;
        this.enterInit();
        return;
      case 'selecting':
        if (this.attempts >= this.opts.maxAttempts) return this.giveUp();
        this.sendDiscover();
        return;
      case 'requesting':
        if (this.attempts >= this.opts.maxAttempts) return this.giveUp();
        // RFC 2131 3.1 step 5: no answer to the REQUEST after the retransmissions -> INIT.
        if (this.timeoutNs > this.opts.initialTimeoutNs * 4) {
          this.log('no ACK: back to INIT');
          this.timeoutNs = this.opts.initialTimeoutNs;
          this.enterInit();
          return;
        }
        this.attempts++;
        this.sendRequest('selecting');
        this.armRetransmit();
        return;
      case 'init-reboot':
      case 'rebooting':
        this.state = 'rebooting';
        if (this.attempts >= 2) {
          // RFC 2131 3.2 step 5: no answer to INIT-REBOOT: fall back to a plain DISCOVER.
          this.requestedIp = 0;
          this.enterInit();
          return;
        }
        this.attempts++;
        this.sendRequest('rebooting');
        this.armRetransmit();
        return;
      case 'renewing': {
        const lease = this.lease!;
        this.sendRequest('renewing');
        this.armRenewRetransmit(lease.startNs + lease.t2Seconds * 1e9);
        return;
      }
      case 'rebinding': {
        const lease = this.lease!;
        this.sendRequest('rebinding');
        this.armRenewRetransmit(lease.startNs + lease.leaseSeconds * 1e9);
        return;
      }
      default:
        return;
    }
  }

  private giveUp(): void {
    this.stopTimers();
    this.state = 'failed';
    this.log('GAVE UP');
  }
}

/** The mask of a lease, for display. */
export function leaseMask(lease: DhcpLease): Ip4 {
  return prefixToMask(lease.prefix);
}
