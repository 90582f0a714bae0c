/**
 * A cloud node's way out to real equipment, live: its state (running, failed with the reason,
 * stopped), where its frames go and its counters (frames and bytes each way, drops by reason).
 *
 *   GET /api/v1/labs/{lab}/nodes/{node}/endpoint
 *
 * A stopped lab (or a stopped node) answers `state: stopped`; a stopped lab has no counters to
 * keep, so they read zero. A node that is not a cloud node has no endpoint: 404 saying so.
 * Bridged networks show the same view as the `uplink` of their network status (server/nat-api.ts).
 */
import { EndpointStatusSchema } from '../contract/index.js';
import type { Device } from '../devices/device.js';
import type { LabBridged, LabCloudEndpoint } from '../devices/lab/schema.js';
import { ip4ToString } from '../devices/wire/bytes.js';
import { type Route, jsonRoute } from './api.js';
import { newCounters } from './endpoints/base.js';
import { type EndpointStatus, endpointStatus } from './endpoints/index.js';
import { notFound } from './errors.js';
import type { LabService } from './labs.js';


/** The description the endpoint gives of itself (server/endpoints' describe()), from the lab model, for a lab that is not running. */
function describeCloud(e: LabCloudEndpoint): string {
  if (e.type === 'udp') return `udp ${ip4ToString(e.local.ip)}:${e.local.port} -> ${ip4ToString(e.remote.ip)}:${e.remote.port}`;
  if (e.type === 'tap') return `tap ${e.name}${e.netns ? ` (netns ${e.netns})` : ''}`;
  return `nic ${e.interface}`;
}

function stopped(type: EndpointStatus['type'], endpoint: string): EndpointStatus {
  return { type, endpoint, state: 'stopped', error: null, counters: newCounters() };
}

/**
 * What a running lab's device says of itself; the model's description when the lab is stopped.
 * A running lab whose runtime made no real endpoint (an embedder's runtime without the
 * real-world factories) says so rather than showing a quiet endpoint.
 */
function view(running: boolean, device: Device | undefined, type: EndpointStatus['type'], endpoint: string): EndpointStatus {
  if (!running) return stopped(type, endpoint);
  const s = endpointStatus(device);
  if (s) return s;
  return { ...stopped(type, endpoint), state: 'failed', error: 'this server runs labs without real-world endpoints, so nothing is connected here' };
}

export function nodeEndpointStatus(labs: LabService, labName: string, nodeName: string): EndpointStatus {
  const lab = labs.lab(labName);
  const node = lab.nodes[nodeName];
  if (!node) throw notFound(`no node named ${JSON.stringify(nodeName)}`, [{ field: 'node', message: 'no such node' }]);
  if (node.kind !== 'cloud') {
    throw notFound(`${nodeName} is a ${node.kind}: only cloud nodes have a real-world endpoint`, [{ field: 'node', message: 'not a cloud node' }]);
  }
  const rt = labs.runtime(labName);
  return view(rt !== null, rt?.node(nodeName), node.endpoint.type, describeCloud(node.endpoint));
}

/** A bridged network's NIC endpoint, for its network status. */
export function bridgedUplinkStatus(labs: LabService, labName: string, net: LabBridged): EndpointStatus {
  const rt = labs.runtime(labName);
  return view(rt !== null, rt?.networkUplink(net.name), 'nic', `nic ${net.interface}`);
}

/** The routes, for server/api.ts's table. */
export function endpointRoutes(labs: LabService): Route[] {
  return [
    jsonRoute({
      method: 'get',
      path: '/labs/{lab}/nodes/{node}/endpoint',
      tag: 'nodes',
      summary: 'A cloud node\'s real-world endpoint (UDP tunnel, TAP, NIC): state, error, frames and bytes in and out, drops by reason (live while the lab runs)',
      response: EndpointStatusSchema,
      errors: [404, 409],
      handler: (req) => nodeEndpointStatus(labs, String(req.params['lab']), String(req.params['node'])),
    }),
  ];
}
