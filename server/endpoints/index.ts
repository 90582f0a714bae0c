/**
 * The lab's ways out to real equipment, as the factories devices/lab's runtime takes:
 *
 *   const { cloudFactory, bridgeFactory } = realWorldFactories({ onError: (node, msg) => log.warn(msg) });
 *   new LabRuntime(lab, { cloudFactory, bridgeFactory });
 *
 * A cloud node (`kind: cloud`) becomes a UdpEndpoint, TapEndpoint or NicEndpoint; a bridged network
 * (`type: bridged, interface: X`) gets a NicEndpoint on X cabled to a port of its switch. An
 * endpoint that cannot open (no privilege, port in use, no such interface) refuses to start with
 * the reason in `error` (and `onError`), and the rest of the lab runs.
 */
import type { Device } from '../../devices/device.js';
import type { BridgeFactory, CloudFactory } from '../../devices/lab/build.js';
import { ip4ToString } from '../../devices/wire/bytes.js';
import { RealEndpoint, type EndpointStatus } from './base.js';
import { NicEndpoint, TapEndpoint } from './fd.js';
import { UdpEndpoint } from './udp.js';

export { RealEndpoint, DEFAULT_MAX_BACKLOG, DEFAULT_MAX_FRAME, MIN_FRAME } from './base.js';
export type { EndpointCounters, EndpointDrops, EndpointState, EndpointStatus, EndpointOptions } from './base.js';
export { UdpEndpoint, type UdpAddress, type UdpEndpointOptions } from './udp.js';
export { TapEndpoint, NicEndpoint, type TapEndpointOptions, type NicEndpointOptions } from './fd.js';
export { loadNetAddon } from './native.js';

export interface RealWorldOptions {
  /** Told when an endpoint refuses to start or fails later: `node` is the cloud node or bridged network. */
  onError?: (node: string, message: string) => void;
  /** Largest frame accepted from outside (default 1522: 1514 plus two VLAN tags). */
  maxFrame?: number;
  /** Inbound frames are dropped (counted as congested) while the engine has this many waiting. */
  maxBacklog?: number;
}

function common(name: string, opts: RealWorldOptions) {
  return {
    name,
    ...(opts.maxFrame !== undefined ? { maxFrame: opts.maxFrame } : {}),
    ...(opts.maxBacklog !== undefined ? { maxBacklog: opts.maxBacklog } : {}),
    ...(opts.onError ? { onError: (_e: RealEndpoint, message: string) => opts.onError!(name, message) } : {}),
  };
}

export function createCloudFactory(opts: RealWorldOptions = {}): CloudFactory {
  return (engine, _lab, node) => {
    const e = node.endpoint;
    switch (e.type) {
      case 'udp':
        return new UdpEndpoint(engine, {
          ...common(node.name, opts),
          local: { host: ip4ToString(e.local.ip), port: e.local.port },
          remote: { host: ip4ToString(e.remote.ip), port: e.remote.port },
        });
      case 'tap':
        return new TapEndpoint(engine, { ...common(node.name, opts), tap: e.name, netns: e.netns });
      case 'nic':
        return new NicEndpoint(engine, { ...common(node.name, opts), interface: e.interface });
    }
  };
}

export function createBridgeFactory(opts: RealWorldOptions = {}): BridgeFactory {
  return (engine, _lab, net) => new NicEndpoint(engine, { ...common(net.name, opts), interface: net.interface });
}

export function realWorldFactories(opts: RealWorldOptions = {}): { cloudFactory: CloudFactory; bridgeFactory: BridgeFactory } {
  return { cloudFactory: createCloudFactory(opts), bridgeFactory: createBridgeFactory(opts) };
}

/** The endpoint's state and counters when `device` is a real-world endpoint, else undefined. */
export function endpointStatus(device: Device | undefined): EndpointStatus | undefined {
  return device instanceof RealEndpoint ? device.status() : undefined;
}
