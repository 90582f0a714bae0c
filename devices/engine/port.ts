import type { Link } from './link.js';
import type { FrameTap } from './tap.js';

/** What owns ports: a device, a network, an endpoint to the real world, or a test harness. */
export interface FrameSink {
  onFrame(port: Port, frame: Uint8Array): void;
}

/**
 * An Ethernet interface's attachment point. Frames handed to `send` belong to the wire from
 * then on: nobody mutates a frame after sending it, so a receiver that wants to change one
 * copies it first.
 */
export class Port {
  link: Link | null = null;
  /** Which end of `link` this port is (0 or 1). */
  side = 0;
  /** Administrative state: a port that is down neither sends nor receives. */
  up = true;
  rxFrames = 0;
  rxBytes = 0;
  txFrames = 0;
  txBytes = 0;
  /** Frames not sent because the port was down or had no cable. */
  txDrops = 0;
  /** Frames that arrived while the port was down. */
  rxDrops = 0;
  /** Capture taps on this port, null when none (the common case costs one comparison). */
  taps: FrameTap[] | null = null;

  constructor(
    readonly owner: FrameSink,
    /** Interface name as users write it: `eth0`, `g0/1`, `e7`. */
    readonly name: string,
    /** Index among the owner's ports, so owners can keep per-port state in arrays. */
    readonly index = 0,
  ) {}

  send(frame: Uint8Array): void {
    const link = this.link;
    if (link === null || !this.up) {
      this.txDrops++;
      return;
    }
    this.txFrames++;
    this.txBytes += frame.length;
    if (this.taps !== null) this.tap(frame, 2);
    link.transmit(this.side, frame);
  }

  /** Called by the engine when a frame arrives from the link. */
  receive(frame: Uint8Array): void {
    if (!this.up) {
      this.rxDrops++;
      return;
    }
    this.rxFrames++;
    this.rxBytes += frame.length;
    if (this.taps !== null) this.tap(frame, 1);
    this.owner.onFrame(this, frame);
  }

  private tap(frame: Uint8Array, direction: 1 | 2): void {
    for (const t of this.taps!) t.record(frame, direction);
  }

  get peer(): Port | null {
    return this.link === null ? null : this.link.ends[1 - this.side]!;
  }
}
