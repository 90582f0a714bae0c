/**
 * The HTTP API under /api/v1, as one table: each route's method, path, body and answer schemas
 * and handler. The express router and the OpenAPI document are both made from this table, so
 * the document cannot drift from what the server does.
 */
import express, { type Request, type Response, type Router } from 'express';
import type { Logger } from 'pino';
import { z } from 'zod';
import {
  CaptureRequestSchema,
  CaptureViewSchema,
  CheckResultSchema,
  CheckViewSchema,
  ImpairmentsSchema,
  LabSummarySchema,
  LabViewSchema,
  LinkPatchSchema,
  LinkViewSchema,
  MergePatchSchema,
  NetworkCreateSchema,
  NetworkViewSchema,
  NodeCreateSchema,
  NodeAddressesSchema,
  NodeViewSchema,
  RunChecksSchema,
  CheckSchema,
  LabFileSchema,
  LinkSchema,
  NetworkSchema,
  NodeSchema,
} from '../contract/index.js';
import type { CaptureManager } from './captures.js';
import type { LabService } from './labs.js';
import { snapshotRoutes } from './api-snapshots.js';
import { networkStatusRoutes } from './nat-api.js';
import { endpointRoutes } from './endpoint-api.js';
import { noNode } from './lab-registry.js';
import { nodeAddresses } from './lab-views.js';

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface Route {
  method: Method;
  /** OpenAPI form: /labs/{lab}/nodes/{node}. */
  path: string;
  summary: string;
  tag: string;
  body?: { schema: z.ZodType; optional?: boolean };
  response?: z.ZodType;
  /** Success status: 200 unless said; 204 answers have no body. */
  status?: number;
  /** When the route may also answer 204 (no body) instead: what that means. */
  noContent?: string;
  /** Error statuses the route can answer besides 400/401/403/413/415. */
  errors?: number[];
  /** A non-JSON answer (the pcapng download). */
  produces?: string;
  handler: (req: Request, res: Response) => unknown;
}

/**
 * A route whose answer is `response` (a contract schema): the handler must return that view's
 * type, so a server answer that drifts from the contract does not compile. `undefined` is for a
 * handler that answered by itself (a 204 it chose).
 */
export function jsonRoute<S extends z.ZodType>(
  r: Omit<Route, 'response' | 'handler'> & { response: S; handler: (req: Request, res: Response) => NoInfer<z.output<S>> | undefined | Promise<NoInfer<z.output<S>> | undefined> },
): Route {
  return r;
}

export interface ApiContext {
  labs: LabService;
  captures: CaptureManager;
  /** Where imports are logged (info), like the labs' own events. */
  log?: Logger;
}

const p = (req: Request, name: string): string => String(req.params[name]);

export function routes({ labs, captures, log }: ApiContext): Route[] {
  const R: Route[] = [];
  const add = (r: Route) => R.push(r);

  // ---------------------------------------------------------------- labs
  add(jsonRoute({ method: 'get', path: '/labs', tag: 'labs', summary: 'List the labs', response: arrayOf(LabSummarySchema), handler: () => labs.list() }));
  add(jsonRoute({
    method: 'post', path: '/labs', tag: 'labs', summary: 'Create a lab (the body is a lab file; wirelab: 1 may be left out)',
    body: { schema: LabFileSchema }, response: LabViewSchema, status: 201, errors: [409],
    handler: (req) => labs.create(req.body),
  }));
  add(jsonRoute({ method: 'get', path: '/labs/{lab}', tag: 'labs', summary: 'A lab: its file, nodes, networks, links and status', response: LabViewSchema, errors: [404], handler: (req) => labs.view(p(req, 'lab')) }));
  add(jsonRoute({
    method: 'put', path: '/labs/{lab}', tag: 'labs', summary: 'Replace the whole lab file (applied to the running lab at once)',
    body: { schema: LabFileSchema }, response: LabViewSchema, errors: [404],
    handler: (req) => labs.replace(p(req, 'lab'), req.body),
  }));
  add({
    method: 'delete', path: '/labs/{lab}', tag: 'labs', summary: 'Delete a stopped lab and its folder', status: 204, errors: [404, 409],
    handler: async (req) => {
      await labs.remove(p(req, 'lab'));
      captures.forgetLab(p(req, 'lab'));
    },
  });
  add(jsonRoute({ method: 'post', path: '/labs/{lab}/start', tag: 'labs', summary: 'Start the lab (real time)', response: LabViewSchema, errors: [404, 409], handler: (req) => labs.start(p(req, 'lab')) }));
  add(jsonRoute({ method: 'post', path: '/labs/{lab}/stop', tag: 'labs', summary: 'Stop the lab; its runtime state is saved in state/', response: LabViewSchema, errors: [404], handler: (req) => labs.stop(p(req, 'lab')) }));

  // ---------------------------------------------------------------- nodes
  add(jsonRoute({ method: 'get', path: '/labs/{lab}/nodes', tag: 'nodes', summary: 'List the nodes', response: arrayOf(NodeViewSchema), errors: [404, 409], handler: (req) => labs.nodeViews(p(req, 'lab')) }));
  add(jsonRoute({
    method: 'post', path: '/labs/{lab}/nodes', tag: 'nodes', summary: 'Add a node (also to the running lab)',
    body: { schema: NodeCreateSchema }, response: NodeViewSchema, status: 201, errors: [404, 409],
    handler: (req) => labs.addNode(p(req, 'lab'), req.body),
  }));
  add(jsonRoute({ method: 'get', path: '/labs/{lab}/nodes/{node}', tag: 'nodes', summary: 'A node', response: NodeViewSchema, errors: [404, 409], handler: (req) => labs.nodeView(p(req, 'lab'), p(req, 'node')) }));
  add(jsonRoute({
    method: 'put', path: '/labs/{lab}/nodes/{node}', tag: 'nodes', summary: 'Replace a node (the running lab rebuilds only that node)',
    body: { schema: NodeSchema }, response: NodeViewSchema, errors: [404, 409],
    handler: (req) => labs.replaceNode(p(req, 'lab'), p(req, 'node'), req.body),
  }));
  add(jsonRoute({
    method: 'patch', path: '/labs/{lab}/nodes/{node}', tag: 'nodes', summary: 'Change some of a node\'s settings (JSON merge patch; e.g. {"ui":{"x":10,"y":20}})',
    body: { schema: MergePatchSchema }, response: NodeViewSchema, errors: [404, 409],
    handler: (req) => labs.patchNode(p(req, 'lab'), p(req, 'node'), req.body),
  }));
  add({
    method: 'delete', path: '/labs/{lab}/nodes/{node}', tag: 'nodes', summary: 'Delete a node and its links (409 while checks or reservations name it)', status: 204, errors: [404, 409],
    handler: (req) => labs.deleteNode(p(req, 'lab'), p(req, 'node')),
  });
  add(jsonRoute({ method: 'post', path: '/labs/{lab}/nodes/{node}/start', tag: 'nodes', summary: 'Power a node on', response: NodeViewSchema, errors: [404, 409], handler: (req) => labs.startNode(p(req, 'lab'), p(req, 'node')) }));
  add(jsonRoute({ method: 'post', path: '/labs/{lab}/nodes/{node}/stop', tag: 'nodes', summary: 'Power a node off', response: NodeViewSchema, errors: [404, 409], handler: (req) => labs.stopNode(p(req, 'lab'), p(req, 'node')) }));

  add(jsonRoute({
    method: 'get', path: '/labs/{lab}/nodes/{node}/addresses', tag: 'nodes',
    summary: 'A node\'s addresses per interface: live while it runs (static or DHCP with the lease, a router\'s interfaces as IOS shows them), as lab.yaml configures them while stopped',
    response: NodeAddressesSchema, errors: [404, 409],
    handler: (req) => addressesOf(labs, p(req, 'lab'), p(req, 'node')),
  }));

  // ---------------------------------------------------------------- networks
  add(jsonRoute({ method: 'get', path: '/labs/{lab}/networks', tag: 'networks', summary: 'List the networks', response: arrayOf(NetworkViewSchema), errors: [404, 409], handler: (req) => labs.networkViews(p(req, 'lab')) }));
  add(jsonRoute({
    method: 'post', path: '/labs/{lab}/networks', tag: 'networks', summary: 'Add a network',
    body: { schema: NetworkCreateSchema }, response: NetworkViewSchema, status: 201, errors: [404, 409],
    handler: (req) => labs.addNetwork(p(req, 'lab'), req.body),
  }));
  add(jsonRoute({ method: 'get', path: '/labs/{lab}/networks/{network}', tag: 'networks', summary: 'A network', response: NetworkViewSchema, errors: [404, 409], handler: (req) => labs.networkView(p(req, 'lab'), p(req, 'network')) }));
  add(jsonRoute({
    method: 'put', path: '/labs/{lab}/networks/{network}', tag: 'networks', summary: 'Replace a network',
    body: { schema: NetworkSchema }, response: NetworkViewSchema, errors: [404, 409],
    handler: (req) => labs.replaceNetwork(p(req, 'lab'), p(req, 'network'), req.body),
  }));
  add(jsonRoute({
    method: 'patch', path: '/labs/{lab}/networks/{network}', tag: 'networks', summary: 'Change some of a network\'s settings (JSON merge patch)',
    body: { schema: MergePatchSchema }, response: NetworkViewSchema, errors: [404, 409],
    handler: (req) => labs.patchNetwork(p(req, 'lab'), p(req, 'network'), req.body),
  }));
  add({
    method: 'delete', path: '/labs/{lab}/networks/{network}', tag: 'networks', summary: 'Delete a network and unplug everything from it', status: 204, errors: [404, 409],
    handler: (req) => labs.deleteNetwork(p(req, 'lab'), p(req, 'network')),
  });

  // ---------------------------------------------------------------- links
  add(jsonRoute({ method: 'get', path: '/labs/{lab}/links', tag: 'links', summary: 'List the links', response: arrayOf(LinkViewSchema), errors: [404, 409], handler: (req) => labs.linkViews(p(req, 'lab')) }));
  add(jsonRoute({
    method: 'post', path: '/labs/{lab}/links', tag: 'links', summary: 'Cable two interfaces, or an interface and a network: ["pc1:eth0","sw1:e1"] or {"endpoints":[...],"delay":"5ms"}',
    body: { schema: LinkSchema }, response: LinkViewSchema, status: 201, errors: [404, 409],
    handler: (req) => labs.addLink(p(req, 'lab'), req.body),
  }));
  add(jsonRoute({ method: 'get', path: '/labs/{lab}/links/{link}', tag: 'links', summary: 'A link (ids like pc1:eth0--sw1:e1; encode / in router interfaces as %2F)', response: LinkViewSchema, errors: [404, 409], handler: (req) => labs.linkView(p(req, 'lab'), p(req, 'link')) }));
  add(jsonRoute({
    method: 'put', path: '/labs/{lab}/links/{link}', tag: 'links', summary: 'Replace a link', body: { schema: LinkSchema }, response: LinkViewSchema, errors: [404, 409],
    handler: (req) => labs.replaceLink(p(req, 'lab'), p(req, 'link'), req.body),
  }));
  add(jsonRoute({
    method: 'patch', path: '/labs/{lab}/links/{link}', tag: 'links', summary: 'Change some of a link\'s settings (JSON merge patch of its long form)',
    body: { schema: LinkPatchSchema }, response: LinkViewSchema, errors: [404, 409],
    handler: (req) => labs.patchLink(p(req, 'lab'), p(req, 'link'), req.body),
  }));
  add({ method: 'delete', path: '/labs/{lab}/links/{link}', tag: 'links', summary: 'Unplug a link', status: 204, errors: [404, 409], handler: (req) => labs.deleteLink(p(req, 'lab'), p(req, 'link')) });
  add(jsonRoute({ method: 'post', path: '/labs/{lab}/links/{link}/suspend', tag: 'links', summary: 'Pull the cable: frames are dropped until resumed', response: LinkViewSchema, errors: [404, 409], handler: (req) => labs.suspendLink(p(req, 'lab'), p(req, 'link'), true) }));
  add(jsonRoute({ method: 'post', path: '/labs/{lab}/links/{link}/resume', tag: 'links', summary: 'Plug the cable back in', response: LinkViewSchema, errors: [404, 409], handler: (req) => labs.suspendLink(p(req, 'lab'), p(req, 'link'), false) }));
  add(jsonRoute({
    method: 'put', path: '/labs/{lab}/links/{link}/impairments', tag: 'links', summary: 'Set the link\'s impairments ({} clears them), in place on the running lab',
    body: { schema: ImpairmentsSchema }, response: LinkViewSchema, errors: [404, 409],
    handler: (req) => labs.setImpairments(p(req, 'lab'), p(req, 'link'), req.body),
  }));

  // ---------------------------------------------------------------- checks
  add(jsonRoute({ method: 'get', path: '/labs/{lab}/checks', tag: 'checks', summary: 'List the checks', response: arrayOf(CheckViewSchema), errors: [404, 409], handler: (req) => labs.checks(p(req, 'lab')) }));
  add(jsonRoute({
    method: 'post', path: '/labs/{lab}/checks', tag: 'checks', summary: 'Add a check', body: { schema: CheckSchema }, response: CheckViewSchema, status: 201, errors: [404, 409],
    handler: (req) => labs.addCheck(p(req, 'lab'), req.body),
  }));
  add(jsonRoute({
    method: 'post', path: '/labs/{lab}/checks/run', tag: 'checks', summary: 'Run the checks on the running lab (every one, or {"only": [names]})',
    body: { schema: RunChecksSchema, optional: true }, response: arrayOf(CheckResultSchema), errors: [404, 409],
    handler: (req) => labs.runChecks(p(req, 'lab'), req.body),
  }));
  add({ method: 'delete', path: '/labs/{lab}/checks/{check}', tag: 'checks', summary: 'Delete a check by its index', status: 204, errors: [404, 409], handler: (req) => labs.deleteCheck(p(req, 'lab'), p(req, 'check')) });

  // ---------------------------------------------------------------- captures
  add(jsonRoute({ method: 'get', path: '/labs/{lab}/captures', tag: 'captures', summary: 'List the captures', response: arrayOf(CaptureViewSchema), errors: [404, 409], handler: (req) => captures.list(p(req, 'lab')) }));
  add(jsonRoute({
    method: 'post', path: '/labs/{lab}/captures', tag: 'captures', summary: 'Start capturing a link, or a node\'s interface, on the running lab',
    body: { schema: CaptureRequestSchema }, response: CaptureViewSchema, status: 201, errors: [404, 409],
    handler: (req) => captures.start(p(req, 'lab'), req.body),
  }));
  add({
    method: 'get', path: '/labs/{lab}/captures/{capture}.pcapng', tag: 'captures',
    summary: 'Download the capture as pcapng; while it runs the download follows it (curl -N URL | wireshark -k -i -)',
    produces: 'application/x-pcapng', errors: [404],
    handler: (req, res) => captures.download(p(req, 'lab'), `${p(req, 'capture')}.pcapng`, res),
  });
  add(jsonRoute({ method: 'get', path: '/labs/{lab}/captures/{capture}', tag: 'captures', summary: 'A capture', response: CaptureViewSchema, errors: [404, 409], handler: (req) => captures.get(p(req, 'lab'), p(req, 'capture')) }));
  add(jsonRoute({
    method: 'delete', path: '/labs/{lab}/captures/{capture}', tag: 'captures', summary: 'Stop a running capture (it stays downloadable); delete a stopped one (204)',
    response: CaptureViewSchema, noContent: 'The capture had stopped already and is now deleted', errors: [404, 409],
    handler: (req, res) => {
      const r = captures.stopOrDelete(p(req, 'lab'), p(req, 'capture'));
      if (r.deleted) {
        res.status(204).end();
        return undefined;
      }
      return r.view;
    },
  }));
  R.push(...endpointRoutes(labs));
  R.push(...networkStatusRoutes(labs));
  R.push(...snapshotRoutes({ labs, ...(log ? { log } : {}) }));
  return R;
}

function addressesOf(labs: LabService, lab: string, node: string): z.output<typeof NodeAddressesSchema> {
  const nodes = labs.lab(lab).nodes;
  const n = Object.hasOwn(nodes, node) ? nodes[node] : undefined;
  if (!n) throw noNode(node);
  return nodeAddresses(n, labs.runtime(lab));
}

function arrayOf<S extends z.ZodType>(s: S): z.ZodArray<S> {
  return z.array(s);
}

/** The express router for a route table. */
export function router(table: Route[]): Router {
  const r = express.Router({ strict: false, mergeParams: true });
  for (const route of table) {
    const path = route.path.replace(/\{(\w+)\}/g, ':$1');
    r[route.method](path, async (req, res) => {
      res.locals['route'] = route.path; // the request log names the route, not the URL
      const result = await route.handler(req, res);
      if (route.produces || res.headersSent) return;
      if (route.status === 204) res.status(204).end();
      else res.status(route.status ?? 200).json(result);
    });
  }
  return r;
}
