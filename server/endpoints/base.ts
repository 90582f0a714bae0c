/**
 * What every way out to real equipment shares: one port (`eth0`) towards the lab, counters kept as
 * plain data, and the policy for frames from outside, which are untrusted. A frame from outside is
 * - dropped as a `runt` when it cannot hold an Ethernet header (under 14 bytes);
 * - dropped as `oversized` beyond `maxFrame` (1514 + two VLAN tags by default, as a switch port
 *   with baby giants would); a TAP or NIC with segmentation offloads on shows up here;
 * - dropped as `badSource` when its source MAC is a group address (IEEE 802: never a sender);
 * - dropped as `congested` when the engine already has `maxBacklog` frames waiting, so a flood
 *   from outside costs bounded memory and never stalls the lab;
 * - padded to 60 bytes when shorter (a Linux TAP sends 42-byte ARP: the padding is what its NIC
 *   would have added), then sent into the lab. VLAN-tagged and stacked frames pass untouched:
 *   tags are the switch's business.
 * Frames the lab sends out are padded to 60 bytes too (VPCS and QEMU expect a legal minimum).
 */
import type { EndpointStatusView } from '../../contract/index.js';
import type { Device } from '../../devices/device.js';
import type { Engine } from '../../devices/engine/engine.js';
import { Port } from '../../devices/engine/port.js';

export const MIN_FRAME = 60;
/** 1514 bytes of untagged frame plus two 802.1Q/802.1ad tags. */
export const DEFAULT_MAX_FRAME = 1522;
export const DEFAULT_MAX_BACKLOG = 16_384;

/** What the API and the UI show about an endpoint (contract/networks.ts): plain data. */
export type EndpointStatus = EndpointStatusView;
/** Frames and bytes each way, and drops by reason (the contract describes each). */
export type EndpointCounters = EndpointStatus['counters'];
export type EndpointDrops = EndpointCounters['drops'];
export type EndpointState = EndpointStatus['state'];

export interface EndpointOptions {
  name: string;
  maxFrame?: number;
  maxBacklog?: number;
  /** Told whenever the endpoint fails (refused to start, socket error): the server logs it. */
  onError?: (endpoint: RealEndpoint, message: string) => void;
}

export function newCounters(): EndpointCounters {
  return {
    framesIn: 0,
    bytesIn: 0,
    framesOut: 0,
    bytesOut: 0,
    paddedIn: 0,
    drops: { runt: 0, oversized: 0, badSource: 0, congested: 0, down: 0, txErrors: 0, rxErrors: 0 },
  };
}

export function pad60(frame: Uint8Array): Uint8Array {
  const out = new Uint8Array(MIN_FRAME);
  out.set(frame);
  return out;
}

export abstract class RealEndpoint implements Device {
  readonly kind = 'cloud' as const;
  readonly name: string;
  readonly ports: readonly Port[];
  readonly port: Port;
  readonly counters: EndpointCounters = newCounters();
  state: EndpointState = 'stopped';
  error: string | null = null;
  readonly maxFrame: number;
  readonly maxBacklog: number;
  private readonly onError: EndpointOptions['onError'];

  constructor(
    readonly engine: Engine,
    opts: EndpointOptions,
  ) {
    this.name = opts.name;
    this.port = new Port(this, 'eth0', 0);
    this.ports = [this.port];
    this.maxFrame = opts.maxFrame ?? DEFAULT_MAX_FRAME;
    this.maxBacklog = opts.maxBacklog ?? DEFAULT_MAX_BACKLOG;
    this.onError = opts.onError;
  }

  abstract readonly type: EndpointStatus['type'];
  /** Human description of where frames go. */
  abstract describe(): string;
  /** Opens the socket or device; throws with a message a user can act on. */
  protected abstract open(): void;
  protected abstract close(): void;
  /** Hands one frame (at least 60 bytes) to the outside; false when the kernel refused it. */
  protected abstract transmit(frame: Uint8Array): boolean;

  get running(): boolean {
    return this.state === 'starting' || this.state === 'running';
  }

  start(): void {
    if (this.running) return;
    this.error = null;
    this.state = 'starting';
    this.port.up = true;
    try {
      this.open();
    } catch (e) {
      this.close();
      this.fail((e as Error).message);
    }
  }

  stop(): void {
    if (this.state === 'stopped') return;
    this.close();
    this.state = 'stopped';
  }

  /**
   * Marks the endpoint failed (it stops carrying frames) and tells the owner why. Its port goes
   * down, so the switch it is cabled to sees a cable with no carrier rather than a silent peer.
   */
  protected fail(message: string): void {
    this.state = 'failed';
    this.port.up = false;
    this.error = message;
    this.onError?.(this, message);
  }

  /** Brings counters kept elsewhere (a writer thread's) up to date; status() calls it. */
  protected refreshCounters(): void {}

  status(): EndpointStatus {
    this.refreshCounters();
    return { type: this.type, endpoint: this.describe(), state: this.state, error: this.error, counters: structuredClone(this.counters) };
  }

  /** A frame from outside: checked, counted, padded, sent into the lab. Returns whether it entered. */
  protected inject(frame: Uint8Array): boolean {
    const c = this.counters;
    const len = frame.length;
    if (this.state !== 'running') {
      c.drops.down++;
      return false;
    }
    if (len < 14) {
      c.drops.runt++;
      return false;
    }
    if (len > this.maxFrame) {
      c.drops.oversized++;
      return false;
    }
    if ((frame[6]! & 1) !== 0) {
      c.drops.badSource++;
      return false;
    }
    if (this.engine.queued >= this.maxBacklog) {
      c.drops.congested++;
      return false;
    }
    c.framesIn++;
    c.bytesIn += len;
    if (len < MIN_FRAME) {
      c.paddedIn++;
      frame = pad60(frame);
    }
    this.port.send(frame);
    return true;
  }

  /** A frame from the lab, out to the real world. */
  onFrame(_port: Port, frame: Uint8Array): void {
    const c = this.counters;
    if (this.state !== 'running') {
      c.drops.down++;
      return;
    }
    const out = frame.length < MIN_FRAME ? pad60(frame) : frame;
    if (this.transmit(out)) {
      c.framesOut++;
      c.bytesOut += out.length;
    } else c.drops.txErrors++;
  }

  onTimer(): void {}
}
