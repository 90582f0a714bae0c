/**
 * The lab service the API calls: the edits of a lab's file (nodes, networks, links and checks
 * added, replaced, patched or removed) on top of the registry and lifecycle of
 * server/lab-registry.ts. Each edit changes a copy of the lab file, which the registry validates
 * as a whole lab and writes atomically before the running lab applies it.
 */
import type { CheckView, LinkView, NetworkView, NodeView } from '../contract/index.js';
import { type LabLink, NODE_NAME_RE } from '../devices/lab/schema.js';
import { ApiError, badField, notFound } from './errors.js';
import { type FileData, type JsonObject, LabRegistry, findLink, isObject, noNetwork, noNode, requireObject } from './lab-registry.js';
import { checkViews, linkEnds, linkView } from './lab-views.js';

export { type LabConsolesView, type LabEvent, type LabEventListener, type LabServiceOptions, type RuntimeListener, isObject, requireObject } from './lab-registry.js';

export class LabService extends LabRegistry {
  // ------------------------------------------------------------ nodes

  async addNode(name: string, body: unknown): Promise<NodeView> {
    const { nodeName, spec } = namedBody(body, 'node');
    await this.change(name, { prefix: () => ['nodes', nodeName], message: `node ${nodeName} is not valid` }, (file, lab) => {
      if (Object.hasOwn(lab.nodes, nodeName) || Object.hasOwn(section(file, 'nodes'), nodeName)) throw badField('name', `a node named ${nodeName} already exists`, 409);
      if (Object.hasOwn(section(file, 'networks'), nodeName)) throw badField('name', `${nodeName} is the name of a network; node and network names must differ`, 409);
      section(file, 'nodes', true)[nodeName] = spec;
      dhcpOnNewNetworkKeys(file, nodeName, lab);
    });
    return this.nodeView(name, nodeName);
  }

  async replaceNode(name: string, node: string, body: unknown): Promise<NodeView> {
    const spec = requireObject(body);
    await this.change(name, { prefix: () => ['nodes', node], message: `node ${node} is not valid` }, (file, lab) => {
      const nodes = section(file, 'nodes');
      if (!Object.hasOwn(nodes, node)) throw noNode(node);
      nodes[node] = spec;
      dhcpOnNewNetworkKeys(file, node, lab);
    });
    return this.nodeView(name, node);
  }

  async patchNode(name: string, node: string, body: unknown): Promise<NodeView> {
    const patch = requireObject(body);
    await this.change(name, { prefix: () => ['nodes', node], message: `node ${node} is not valid` }, (file, lab) => {
      const nodes = section(file, 'nodes');
      if (!Object.hasOwn(nodes, node)) throw noNode(node);
      nodes[node] = mergePatch(nodes[node], patch);
      dhcpOnNewNetworkKeys(file, node, lab);
    });
    return this.nodeView(name, node);
  }

  /** Deletes a node and the links to it; 409 when checks or reservations still name it. */
  async deleteNode(name: string, node: string): Promise<void> {
    await this.change(name, { prefix: () => [], status: 409, message: `node ${node} is still referred to; change those first` }, (file) => {
      const nodes = section(file, 'nodes');
      if (!Object.hasOwn(nodes, node)) throw noNode(node);
      delete nodes[node];
      removeLinks(file, (ends) => ends.some((t) => t.startsWith(`${node}:`)));
    });
  }

  async startNode(name: string, node: string): Promise<NodeView> {
    const rt = this.runningRuntime(name);
    if (!Object.hasOwn(this.lab(name).nodes, node)) throw noNode(node);
    rt.startNode(node);
    return this.nodeView(name, node);
  }

  async stopNode(name: string, node: string): Promise<NodeView> {
    const rt = this.runningRuntime(name);
    if (!Object.hasOwn(this.lab(name).nodes, node)) throw noNode(node);
    rt.stopNode(node);
    return this.nodeView(name, node);
  }

  // ------------------------------------------------------------ networks

  async addNetwork(name: string, body: unknown): Promise<NetworkView> {
    const { nodeName: net, spec } = namedBody(body, 'network');
    await this.change(name, { prefix: () => ['networks', net], message: `network ${net} is not valid` }, (file, lab) => {
      if (Object.hasOwn(lab.networks, net) || Object.hasOwn(section(file, 'networks'), net)) throw badField('name', `a network named ${net} already exists`, 409);
      if (Object.hasOwn(section(file, 'nodes'), net)) throw badField('name', `${net} is the name of a node; node and network names must differ`, 409);
      section(file, 'networks', true)[net] = spec;
    });
    return this.networkView(name, net);
  }

  async replaceNetwork(name: string, net: string, body: unknown): Promise<NetworkView> {
    const spec = requireObject(body);
    await this.change(name, { prefix: () => ['networks', net], message: `network ${net} is not valid` }, (file) => {
      const nets = section(file, 'networks');
      if (!Object.hasOwn(nets, net)) throw noNetwork(net);
      nets[net] = spec;
    });
    return this.networkView(name, net);
  }

  async patchNetwork(name: string, net: string, body: unknown): Promise<NetworkView> {
    const patch = requireObject(body);
    await this.change(name, { prefix: () => ['networks', net], message: `network ${net} is not valid` }, (file) => {
      const nets = section(file, 'networks');
      if (!Object.hasOwn(nets, net)) throw noNetwork(net);
      nets[net] = mergePatch(nets[net], patch);
    });
    return this.networkView(name, net);
  }

  /** Deletes a network with everything cabled to it (links and interfaces' network: keys). */
  async deleteNetwork(name: string, net: string): Promise<void> {
    await this.change(name, { prefix: () => [], status: 409, message: `network ${net} is still referred to; change those first` }, (file) => {
      const nets = section(file, 'networks');
      if (!Object.hasOwn(nets, net)) throw noNetwork(net);
      delete nets[net];
      removeLinks(file, (ends) => ends.includes(net));
      for (const spec of Object.values(section(file, 'nodes'))) {
        if (!isObject(spec) || !isObject(spec['interfaces'])) continue;
        for (const [ifn, i] of Object.entries(spec['interfaces'])) if (isObject(i) && i['network'] === net) dropNetworkKey(spec, ifn);
      }
    });
  }

  // ------------------------------------------------------------ links

  async addLink(name: string, body: unknown): Promise<LinkView> {
    if (body === undefined) throw badField('(body)', 'a JSON body is required: [a:eth0, b:e1] or { endpoints: [a:eth0, b:e1], ... }');
    let index = -1;
    const lab = await this.change(name, { prefix: () => ['links', index], message: 'the link is not valid' }, (file, current) => {
      const ends = endpointsOf(body);
      ends?.forEach((t, side) => {
        const cabled = current.links.find((l) => linkEnds(l).includes(t) && t.includes(':'));
        if (cabled) {
          const field = Array.isArray(body) ? `[${side}]` : `endpoints[${side}]`;
          throw new ApiError(409, `${t} is already cabled (link ${cabled.id}); an interface takes one cable`, [{ field, message: `already cabled by ${cabled.id}` }]);
        }
      });
      const links = listSection(file, 'links');
      index = links.length;
      links.push(body);
      if (ends?.length === 2) for (const [a, b] of [ends, [ends[1]!, ends[0]!]]) if (a!.includes(':') && !b!.includes(':')) dhcpOnVmnet(file, a!, b!);
    });
    const made = lab.links.find((l) => l.origin.kind === 'link' && l.origin.index === index);
    return linkView(made!);
  }

  async replaceLink(name: string, id: string, body: unknown): Promise<LinkView> {
    if (body === undefined) throw badField('(body)', 'a JSON body is required');
    let index = -1;
    const lab = await this.change(name, { prefix: () => ['links', index], message: 'the link is not valid' }, (file, current) => {
      index = longForm(file, findLink(current, id));
      listSection(file, 'links')[index] = body;
    });
    return linkView(lab.links.find((l) => l.origin.kind === 'link' && l.origin.index === index)!);
  }

  /** Merges fields into the link (impairments, suspended, endpoints); null removes one. */
  async patchLink(name: string, id: string, body: unknown): Promise<LinkView> {
    const patch = requireObject(body);
    return this.editLink(name, id, (item) => mergePatch(item, patch) as JsonObject);
  }

  /** Sets the link's impairments to exactly those given (an empty body clears them). */
  async setImpairments(name: string, id: string, body: unknown): Promise<LinkView> {
    const imp = requireObject(body);
    return this.editLink(name, id, (item) => {
      const next: JsonObject = { endpoints: item['endpoints'], ...imp };
      if (item['suspended'] !== undefined && !('suspended' in imp)) next['suspended'] = item['suspended'];
      return next;
    });
  }

  async suspendLink(name: string, id: string, suspended: boolean): Promise<LinkView> {
    return this.editLink(name, id, (item) => {
      const next = { ...item };
      if (suspended) next['suspended'] = true;
      else delete next['suspended'];
      return next;
    });
  }

  async deleteLink(name: string, id: string): Promise<void> {
    await this.change(name, { prefix: () => [], status: 409, message: `link ${id} is still referred to; change those first` }, (file, lab) => {
      const link = findLink(lab, id);
      if (link.origin.kind === 'link') listSection(file, 'links').splice(link.origin.index, 1);
      else dropNetworkKey(section(file, 'nodes')[link.a.node] as JsonObject, link.a.iface);
    });
  }

  /** Edits a link in its long form; written back short when only the endpoints are left. */
  private async editLink(name: string, id: string, edit: (item: JsonObject) => JsonObject): Promise<LinkView> {
    let index = -1;
    const lab = await this.change(name, { prefix: () => ['links', index], message: `link ${id} is not valid` }, (file, current) => {
      index = longForm(file, findLink(current, id));
      const links = listSection(file, 'links');
      const next = edit(links[index] as JsonObject);
      links[index] = isObject(next) && Object.keys(next).length === 1 && Array.isArray(next['endpoints']) ? next['endpoints'] : next;
    });
    const link = lab.links.find((l) => l.origin.kind === 'link' && l.origin.index === index);
    if (!link) throw notFound(`link ${id} is gone`);
    return linkView(link);
  }

  // ------------------------------------------------------------ checks

  checks(name: string): CheckView[] {
    return checkViews(this.lab(name));
  }

  async addCheck(name: string, body: unknown): Promise<CheckView> {
    const spec = requireObject(body);
    let index = -1;
    await this.change(name, { prefix: () => ['checks', index], message: 'the check is not valid' }, (file) => {
      const checks = listSection(file, 'checks');
      index = checks.length;
      checks.push(spec);
    });
    return this.checks(name)[index]!;
  }

  async deleteCheck(name: string, indexText: string): Promise<void> {
    const index = Number(indexText);
    await this.change(name, { prefix: () => [], message: 'the lab is not valid without that check' }, (file) => {
      const checks = listSection(file, 'checks');
      if (!/^\d+$/.test(indexText) || index >= checks.length) throw notFound(`no check ${indexText}; checks are numbered from 0`, [{ field: 'check', message: 'no such check' }]);
      checks.splice(index, 1);
    });
  }
}

// ---------------------------------------------------------------- lab file helpers

/**
 * A host interface newly cabled to a NAT or host-only network, with no address of its own, takes
 * DHCP, as a VMware guest does. Done here, when the cable is made, rather than as a default of
 * the lab model: lab.yaml then says `ip: dhcp`, the inspector shows it, and a host written by
 * hand with no address keeps none.
 */
function dhcpOnVmnet(file: FileData, end: string, network: string): void {
  const [node, iface] = [end.slice(0, end.indexOf(':')), end.slice(end.indexOf(':') + 1)];
  const net = section(file, 'networks')[network];
  const spec = section(file, 'nodes')[node];
  if (!isObject(net) || (net['type'] !== 'nat' && net['type'] !== 'host-only') || !isObject(spec) || spec['kind'] !== 'host') return;
  if (spec['interfaces'] !== undefined && !isObject(spec['interfaces'])) return;
  const ifaces = (spec['interfaces'] as JsonObject | undefined) ?? {};
  const i = ifaces[iface] ?? {};
  if (!isObject(i) || i['ip'] !== undefined) return;
  spec['interfaces'] = { ...ifaces, [iface]: { ...i, ip: 'dhcp' } };
}

/** dhcpOnVmnet for the network: keys a node's edit adds (`before`: the lab before it). */
function dhcpOnNewNetworkKeys(file: FileData, node: string, before: { nodes: Record<string, { interfaces: { name: string; network: string | undefined }[] }> }): void {
  const spec = section(file, 'nodes')[node];
  if (!isObject(spec) || !isObject(spec['interfaces'])) return;
  for (const [ifn, i] of Object.entries(spec['interfaces'])) {
    if (!isObject(i) || typeof i['network'] !== 'string') continue;
    if (before.nodes[node]?.interfaces.find((x) => x.name === ifn)?.network === i['network']) continue;
    dhcpOnVmnet(file, `${node}:${ifn}`, i['network']);
  }
}

/** `{name, ...spec}`: the name checked on its own (it becomes a key), the rest validated in the lab. */
function namedBody(body: unknown, what: string): { nodeName: string; spec: JsonObject } {
  const obj = requireObject(body);
  const name = obj['name'];
  if (name === undefined) throw badField('name', `missing: a ${what} needs a name`);
  if (typeof name !== 'string' || !NODE_NAME_RE.test(name)) {
    throw badField('name', `${JSON.stringify(name)} is not a ${what} name: 1..63 letters, digits, - or _, starting with a letter or digit`);
  }
  delete obj['name'];
  return { nodeName: name, spec: obj };
}

function section(file: FileData, key: 'nodes' | 'networks', create = false): JsonObject {
  let s = file[key];
  if (!isObject(s)) {
    s = {};
    if (create) file[key] = s;
  }
  return s as JsonObject;
}

function listSection(file: FileData, key: 'links' | 'checks'): unknown[] {
  let s = file[key];
  if (!Array.isArray(s)) {
    s = [];
    file[key] = s;
  }
  return s as unknown[];
}

/** The two endpoint texts of a link body, when it has that shape. */
function endpointsOf(item: unknown): string[] | undefined {
  const ends = Array.isArray(item) ? item : isObject(item) ? item['endpoints'] : undefined;
  if (Array.isArray(ends) && ends.every((t) => typeof t === 'string')) return ends as string[];
  return undefined;
}

function removeLinks(file: FileData, match: (ends: string[]) => boolean): void {
  const links = file['links'];
  if (!Array.isArray(links)) return;
  file['links'] = links.filter((item) => {
    const ends = endpointsOf(item);
    return !(ends && match(ends));
  });
}

/** Removes an interface's network: key, and the interface entry when nothing else is left in it. */
function dropNetworkKey(nodeSpec: JsonObject | undefined, iface: string): void {
  const ifaces = nodeSpec && isObject(nodeSpec['interfaces']) ? nodeSpec['interfaces'] : null;
  const i = ifaces?.[iface];
  if (!ifaces || !isObject(i)) return;
  delete i['network'];
  if (Object.keys(i).length === 0) delete ifaces[iface];
  if (Object.keys(ifaces).length === 0) delete nodeSpec!['interfaces'];
}

/**
 * Makes the link a long-form entry of links: and returns its index: a short `[a, b]` becomes
 * `{endpoints: [a, b]}`; a link implied by a network: key becomes a links: entry (same id), so it
 * can carry impairments or be suspended.
 */
function longForm(file: FileData, link: LabLink): number {
  const links = listSection(file, 'links');
  if (link.origin.kind === 'link') {
    const item = links[link.origin.index];
    if (Array.isArray(item)) links[link.origin.index] = { endpoints: item };
    return link.origin.index;
  }
  dropNetworkKey(section(file, 'nodes')[link.a.node] as JsonObject, link.a.iface);
  links.push({ endpoints: linkEnds(link) });
  return links.length - 1;
}

/** RFC 7386 JSON merge patch: objects merge, null deletes, anything else replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return structuredClone(patch);
  const out: JsonObject = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    // Assigning `__proto__` would replace the prototype: the key would vanish without a word.
    if (k === '__proto__') throw badField(k, '"__proto__" cannot be a name or key in a lab file');
    if (v === null) delete out[k];
    else out[k] = mergePatch(Object.hasOwn(out, k) ? out[k] : undefined, v);
  }
  return out;
}