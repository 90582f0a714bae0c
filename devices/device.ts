import type { Engine } from './engine/engine.js';
import type { FrameSink, Port } from './engine/port.js';
import type { TimerTarget } from './engine/timers.js';
import type { Mac } from './wire/bytes.js';

export type NodeKind = 'host' | 'switch' | 'router' | 'hub' | 'cloud' | 'network';

/**
 * What every emulated node is to the engine and to the lab: a frame sink with named ports
 * that can be powered on and off. Timers are set with `engine.schedule(at, this, TAG, arg)`
 * and arrive in `onTimer`: device state stays plain data (no closures, no sockets) so that a
 * running lab can be snapshotted.
 */
export interface Device extends FrameSink, TimerTarget {
  readonly name: string;
  readonly kind: NodeKind;
  readonly engine: Engine;
  readonly ports: readonly Port[];
  readonly running: boolean;
  /** Powers the node on: starts its protocols (spanning tree, DHCP clients, services). */
  start(): void;
  /** Powers the node off: cancels its timers and forgets learned state; configuration stays. */
  stop(): void;
}

/** Finds a port by interface name. */
export function portByName(device: Pick<Device, 'ports'>, name: string): Port | undefined {
  return device.ports.find((p) => p.name === name);
}

/**
 * A MAC that stays the same for a lab, node and interface across restarts: a locally
 * administered unicast address (02:...) derived from an FNV-1a hash of the three names.
 */
export function stableMac(lab: string, node: string, iface: string): Mac {
  const text = `${lab}\u0000${node}\u0000${iface}`;
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193) >>> 0;
    h2 = Math.imul(h2 ^ c, 0x5bd1e995) >>> 0;
  }
  // 0x02 in the first octet: locally administered, unicast; 40 bits of hash after it.
  return 0x02 * 2 ** 40 + (h1 & 0xff) * 2 ** 32 + h2;
}
