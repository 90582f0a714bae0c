/**
 * An Ethernet hub (repeater): every frame that comes in on one port goes out of every other
 * port, unchanged. Frames are immutable once sent, so all ports share the one Uint8Array.
 */
import type { Engine } from '../engine/engine.js';
import { Port } from '../engine/port.js';
import type { Device, NodeKind } from '../device.js';

export interface HubOptions {
  name: string;
  /** How many ports (named p0..p{n-1}, default 4), or their names. */
  ports?: number | string[];
}

export class Hub implements Device {
  readonly kind: NodeKind = 'hub';
  readonly name: string;
  readonly ports: readonly Port[];
  running = false;
  /** Frames repeated (counted once per incoming frame). */
  repeated = 0;

  constructor(
    readonly engine: Engine,
    opts: HubOptions,
  ) {
    this.name = opts.name;
    const names = Array.isArray(opts.ports) ? opts.ports : Array.from({ length: opts.ports ?? 4 }, (_, i) => `p${i}`);
    if (names.length < 1) throw new Error(`${opts.name}: a hub needs at least one port`);
    if (new Set(names).size !== names.length) throw new Error(`${opts.name}: duplicate port names`);
    this.ports = names.map((name, i) => new Port(this, name, i));
  }

  start(): void {
    this.running = true;
  }

  stop(): void {
    this.running = false;
  }

  onFrame(port: Port, frame: Uint8Array): void {
    if (!this.running) return;
    this.repeated++;
    const ports = this.ports;
    for (let i = 0; i < ports.length; i++) {
      const out = ports[i]!;
      if (out !== port && out.link !== null && out.up) out.send(frame);
    }
  }

  onTimer(): void {
    // A hub keeps no timers.
  }
}

export function createHub(engine: Engine, opts: HubOptions): Hub {
  return new Hub(engine, opts);
}
