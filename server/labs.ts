/**
 * The labs the server knows: each one's last valid model, what lab.yaml holds on disk, and its
 * runtime while it runs. Every change (from the API or from a hand edit of lab.yaml) goes the
 * same way: edit a copy of the lab file, validate the whole lab with the lab.yaml schemas (so
 * cross-references are checked too), write lab.yaml atomically, then let the running lab apply
 * the difference. A change that does not validate touches nothing, neither the disk nor the
 * running lab. Changes to one lab are serialized.
 */
import type { FSWatcher } from 'node:fs';
import type { Logger } from 'pino';
import { type LabError, formatLabError, loadLabText } from '../devices/lab/load.js';
import {
  type Lab,
  type LabLink,
  type LabNode,
  type PathSegment,
  LAB_NAME_RE,
  NODE_NAME_RE,
  validateLab,
} from '../devices/lab/schema.js';
import { macToString } from '../devices/wire/bytes.js';
import { formatCidr, formatDuration, formatPercent, formatRate } from '../devices/lab/units.js';
import { ApiError, type ErrorDetail, badField, conflict, issueDetails, notFound } from './errors.js';
import { formatLabFile } from './lab-yaml.js';
import { type CheckResult, type LabRuntimeApi, type RuntimeEvent, type RuntimeFactory, type RuntimeOptions, asLabState } from './runtime.js';
import { hostNetworking } from './host-sockets.js';
import { LabStore } from './store.js';
import { readLabFile, writeLabFile } from './snapshots-files.js';

export interface LabEvent {
  type: string;
  [key: string]: unknown;
}
export type LabEventListener = (lab: string, event: LabEvent) => void;
/** Told when a lab's runtime starts, stops (null) or changes its topology, so taps can follow. */
export type RuntimeListener = (lab: string, runtime: LabRuntimeApi | null) => void;

type JsonObject = Record<string, unknown>;
/** The lab file as plain data, edited in place by the change functions. */
type FileData = JsonObject;

interface Entry {
  name: string;
  /** The last valid lab (its `file` is what lab.yaml holds when `problems` is null). */
  lab: Lab | null;
  /** lab.yaml's text as last read or written by the server, to tell hand edits from our own saves. */
  text: string | null;
  /** Why lab.yaml on disk does not load (a hand edit); the lab keeps running as it was. */
  problems: LabError[] | null;
  runtime: LabRuntimeApi | null;
  runtimeListener: ((e: RuntimeEvent) => void) | null;
  watcher: FSWatcher | null;
  debounce: ReturnType<typeof setTimeout> | undefined;
  queue: Promise<unknown>;
}

export interface LabServiceOptions {
  log: Logger;
  /** Makes a lab's runtime at start. */
  runtimeFactory: RuntimeFactory;
  /** Quiet time after a change of lab.yaml on disk before it is read (editors write in bursts). */
  watchDebounceMs?: number;
  /** Watch lab.yaml files and the labs directory for hand edits (default true). */
  watch?: boolean;
  /** The host's sockets for NAT gateways and host adapters (default: this process's own, server/host-sockets.ts). */
  hostNetworking?: Pick<RuntimeOptions, 'hostSockets' | 'hostAdapterTap'>;
}

export interface LabSummary {
  name: string;
  description: string;
  status: LabStatus;
  nodeCount: number;
  linkCount: number;
}
export type LabStatus = 'stopped' | 'running' | 'invalid';

/** What the lab service needs of the running labs' consoles (server/console-channel.ts). */
export interface LabConsolesView {
  /** Where a node's telnet console really listens (it may differ from the lab model's port), or null. */
  telnetPort(lab: string, node: string): number | null;
  /** Command histories, for snapshots. */
  histories(lab: string): Record<string, string[]>;
  restoreHistories(lab: string, histories: Readonly<Record<string, readonly string[]>>): void;
}

const NO_CONSOLES: LabConsolesView = { telnetPort: () => null, histories: () => ({}), restoreHistories: () => undefined };

export class LabService {
  private readonly entries = new Map<string, Entry>();
  private readonly eventListeners = new Set<LabEventListener>();
  private readonly runtimeListeners = new Set<RuntimeListener>();
  /** Checks run before a lab is deleted (snapshots: linked clones still using it); one throws to refuse. */
  private readonly removeGuards = new Set<(lab: string) => Promise<void> | void>();
  private rootWatcher: FSWatcher | null = null;
  private rootDebounce: ReturnType<typeof setTimeout> | undefined;
  private closed = false;
  private readonly debounceMs: number;
  private readonly hostNet: Pick<RuntimeOptions, 'hostSockets' | 'hostAdapterTap'>;
  /** The running labs' consoles (set by the server; none in a service without consoles). */
  consoles: LabConsolesView = NO_CONSOLES;

  constructor(
    readonly store: LabStore,
    private readonly opts: LabServiceOptions,
  ) {
    this.debounceMs = opts.watchDebounceMs ?? 150;
    this.hostNet = opts.hostNetworking ?? hostNetworking({ onError: (network, message) => this.log.warn({ network }, message) });
  }

  private get log(): Logger {
    return this.opts.log;
  }

  async init(): Promise<void> {
    await this.store.init();
    await this.rescan();
    if (this.opts.watch !== false) this.rootWatcher = this.store.watchRoot(() => this.scheduleRescan());
  }

  /** Stops every running lab (saving its state) and stops watching the disk. */
  async close(): Promise<void> {
    this.closed = true;
    this.rootWatcher?.close();
    clearTimeout(this.rootDebounce);
    for (const e of this.entries.values()) {
      clearTimeout(e.debounce);
      e.watcher?.close();
      e.watcher = null;
    }
    await Promise.all([...this.entries.values()].map((e) => this.serialize(e, () => this.stopRuntime(e)).catch(() => undefined)));
  }

  onEvent(fn: LabEventListener): () => void {
    this.eventListeners.add(fn);
    return () => this.eventListeners.delete(fn);
  }

  onRuntime(fn: RuntimeListener): () => void {
    this.runtimeListeners.add(fn);
    return () => this.runtimeListeners.delete(fn);
  }

  /** An event about a lab from another service (its snapshots), for the lab channel's subscribers. */
  announce(lab: string, event: LabEvent): void {
    this.emit(lab, event);
  }

  private emit(lab: string, event: LabEvent): void {
    for (const fn of this.eventListeners) {
      try {
        fn(lab, event);
      } catch (e) {
        this.log.error({ err: e, lab }, 'event listener failed');
      }
    }
  }

  private runtimeChanged(entry: Entry): void {
    for (const fn of this.runtimeListeners) {
      try {
        fn(entry.name, entry.runtime);
      } catch (e) {
        this.log.error({ err: e, lab: entry.name }, 'runtime listener failed');
      }
    }
  }

  // ------------------------------------------------------------ reading

  names(): string[] {
    return [...this.entries.keys()].sort();
  }

  list(): LabSummary[] {
    return this.names().map((n) => this.summary(this.entries.get(n)!));
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  /** The lab named in a URL: 400 for a name that cannot be a lab (`../x`), 404 for one that does not exist. */
  private entry(name: string): Entry {
    if (!LAB_NAME_RE.test(name)) throw badField('lab', `${JSON.stringify(name)} is not a lab name (1..63 lowercase letters, digits, - or _)`);
    const e = this.entries.get(name);
    if (!e) throw notFound(`no lab named ${JSON.stringify(name)}`, [{ field: 'lab', message: 'no such lab' }]);
    return e;
  }

  /** The lab's valid model; 409 while lab.yaml on disk has errors (the API would overwrite the hand edit). */
  private validLab(e: Entry): Lab {
    if (e.problems || !e.lab) {
      throw new ApiError(409, `lab.yaml of ${e.name} has errors; fix the file or replace the whole lab (PUT)`, problemDetails(e.problems ?? []));
    }
    return e.lab;
  }

  runtime(name: string): LabRuntimeApi | null {
    return this.entries.get(name)?.runtime ?? null;
  }

  /** The running lab's runtime, or 409 when it is not running. */
  runningRuntime(name: string): LabRuntimeApi {
    const e = this.entry(name);
    if (!e.runtime) throw conflict(`lab ${name} is not running; start it first`);
    return e.runtime;
  }

  lab(name: string): Lab {
    return this.validLab(this.entry(name));
  }

  private summary(e: Entry): LabSummary {
    return {
      name: e.name,
      description: e.lab?.description ?? '',
      status: e.runtime ? 'running' : e.problems && !e.lab ? 'invalid' : 'stopped',
      nodeCount: e.lab ? Object.keys(e.lab.nodes).length : 0,
      linkCount: e.lab ? e.lab.links.length : 0,
    };
  }

  view(name: string): LabView {
    const e = this.entry(name);
    const lab = e.lab;
    return {
      ...this.summary(e),
      problems: e.problems ? e.problems.map((p) => ({ ...p, text: formatLabError(p) })) : null,
      file: lab ? (lab.file as unknown as JsonObject) : null,
      nodes: lab ? Object.values(lab.nodes).map((n) => nodeView(lab, n, e.runtime, this.consoles.telnetPort(name, n.name))) : [],
      networks: lab ? Object.keys(lab.networks).map((n) => networkView(lab, n)) : [],
      links: lab ? lab.links.map((l) => linkView(lab, l)) : [],
    };
  }

  nodeView(name: string, node: string): NodeView {
    const e = this.entry(name);
    const lab = this.validLab(e);
    const n = lab.nodes[node];
    if (!n) throw noNode(node);
    return nodeView(lab, n, e.runtime, this.consoles.telnetPort(name, node));
  }

  nodeViews(name: string): NodeView[] {
    const e = this.entry(name);
    const lab = this.validLab(e);
    return Object.values(lab.nodes).map((n) => nodeView(lab, n, e.runtime, this.consoles.telnetPort(name, n.name)));
  }

  networkView(name: string, network: string): NetworkView {
    const lab = this.lab(name);
    if (!lab.networks[network]) throw noNetwork(network);
    return networkView(lab, network);
  }

  networkViews(name: string): NetworkView[] {
    const lab = this.lab(name);
    return Object.keys(lab.networks).map((n) => networkView(lab, n));
  }

  linkView(name: string, id: string): LinkView {
    const lab = this.lab(name);
    return linkView(lab, findLink(lab, id));
  }

  linkViews(name: string): LinkView[] {
    const lab = this.lab(name);
    return lab.links.map((l) => linkView(lab, l));
  }

  // ------------------------------------------------------------ loading from disk

  private newEntry(name: string): Entry {
    return { name, lab: null, text: null, problems: null, runtime: null, runtimeListener: null, watcher: null, debounce: undefined, queue: Promise.resolve() };
  }

  private scheduleRescan(): void {
    if (this.closed) return;
    clearTimeout(this.rootDebounce);
    this.rootDebounce = setTimeout(() => {
      this.rescan().catch((err: unknown) => this.log.error({ err }, 'rescanning the labs directory failed'));
    }, this.debounceMs);
  }

  /** Adds a check run before a lab is deleted; it throws (an ApiError) to refuse. Returns the removal. */
  guardRemoval(fn: (lab: string) => Promise<void> | void): () => void {
    this.removeGuards.add(fn);
    return () => this.removeGuards.delete(fn);
  }

  /** Picks up lab folders written by someone else (an import) at once, without waiting for the watcher. */
  async refresh(): Promise<void> {
    await this.rescan();
  }

  /** Picks up lab folders that appeared on disk and forgets stopped labs whose folder went. */
  private async rescan(): Promise<void> {
    const names = new Set(await this.store.listNames());
    for (const name of names) {
      if (this.entries.has(name)) continue;
      const e = this.newEntry(name);
      this.entries.set(name, e);
      await this.serialize(e, () => this.loadFromDisk(e, true));
      this.watch(e);
      if (this.opts.watch !== false && this.rootWatcher) this.emit(name, { type: 'lab-created', source: 'disk' });
    }
    for (const [name, e] of this.entries) {
      if (names.has(name) || e.runtime) continue;
      // Checked again under the lab's lock: an API create may be writing it right now.
      await this.serialize(e, async () => {
        if (e.runtime || (await this.store.exists(name))) return;
        this.forget(e);
        this.emit(name, { type: 'lab-deleted', source: 'disk' });
      });
    }
  }

  private watch(e: Entry): void {
    if (this.opts.watch === false || this.closed || e.watcher) return;
    e.watcher = this.store.watchLab(e.name, () => {
      clearTimeout(e.debounce);
      e.debounce = setTimeout(() => {
        this.serialize(e, () => this.loadFromDisk(e, false)).catch((err: unknown) => this.log.error({ err, lab: e.name }, 'reading lab.yaml failed'));
      }, this.debounceMs);
    });
  }

  private forget(e: Entry): void {
    clearTimeout(e.debounce);
    e.watcher?.close();
    e.watcher = null;
    this.entries.delete(e.name);
  }

  /**
   * Reads lab.yaml. A hand edit that validates is applied (to the running lab too); one that
   * does not is reported as an event and changes nothing else.
   */
  private async loadFromDisk(e: Entry, initial: boolean): Promise<void> {
    if (this.entries.get(e.name) !== e) return;
    const text = await readLabFile(this.store, e.name);
    if (text === null || text === e.text) return;
    e.text = text;
    const r = loadLabText(text, `${e.name}/lab.yaml`, { folderName: e.name });
    if (!r.ok) {
      e.problems = r.errors;
      this.log.warn({ lab: e.name, errors: r.errors.map(formatLabError) }, 'lab.yaml has errors; the lab is left as it was');
      if (!initial) this.emit(e.name, { type: 'lab-file-error', errors: r.errors.map((p) => ({ ...p, text: formatLabError(p) })) });
      return;
    }
    const before = e.lab;
    const hadProblems = e.problems !== null;
    e.problems = null;
    e.lab = r.lab;
    if (initial) return;
    this.log.info({ lab: e.name }, 'lab.yaml changed on disk; applied');
    if (hadProblems) this.emit(e.name, { type: 'lab-file-ok' });
    this.applyToRuntime(e, r.lab);
    this.emitDiff(e.name, before, r.lab, 'disk');
  }

  // ------------------------------------------------------------ serialization

  private serialize<T>(e: Entry, fn: () => Promise<T> | T): Promise<T> {
    const run = e.queue.then(fn, fn);
    e.queue = run.catch(() => undefined);
    return run;
  }

  // ------------------------------------------------------------ whole labs

  async create(body: unknown): Promise<LabView> {
    const file = requireObject(body);
    if (file['wirelab'] === undefined) file['wirelab'] = 1;
    const name = file['name'];
    if (name === undefined) throw badField('name', 'missing: a lab needs a name');
    if (typeof name !== 'string' || !LAB_NAME_RE.test(name)) {
      throw badField('name', `${JSON.stringify(name)} is not a lab name: 1..63 lowercase letters, digits, - or _, starting with a letter or digit`);
    }
    if (this.entries.has(name) || (await this.store.exists(name))) throw badField('name', `a lab named ${name} already exists`, 409);
    const r = validateLab(file, { folderName: name });
    if (!r.ok) throw new ApiError(400, 'the lab is not valid', issueDetails(r.issues));
    const e = this.newEntry(name);
    this.entries.set(name, e);
    try {
      await this.serialize(e, async () => {
        const text = formatLabFile(r.lab.file);
        await writeLabFile(this.store, name, text);
        e.text = text;
        e.lab = r.lab;
      });
    } catch (err) {
      this.entries.delete(name);
      throw err;
    }
    this.watch(e);
    this.log.info({ lab: name }, 'lab created');
    this.emit(name, { type: 'lab-created', source: 'api' });
    return this.view(name);
  }

  /**
   * Replaces the whole lab file (also the way out of a broken hand edit). `restore` (snapshots)
   * brings a running lab to the new file itself, instead of the usual in-place apply.
   */
  async replace(name: string, body: unknown, how: { restore?: (rt: LabRuntimeApi) => void } = {}): Promise<LabView> {
    const e = this.entry(name);
    const file = requireObject(body);
    if (file['wirelab'] === undefined) file['wirelab'] = 1;
    if (file['name'] === undefined) file['name'] = name;
    else if (file['name'] !== name) throw badField('name', `the lab in the URL is ${name}; a lab is not renamed by replacing it`);
    await this.serialize(e, async () => {
      const r = validateLab(file, { folderName: name });
      if (!r.ok) throw new ApiError(400, 'the lab is not valid', issueDetails(r.issues));
      await this.commit(e, r.lab, 'api', how.restore);
    });
    return this.view(name);
  }

  async remove(name: string): Promise<void> {
    const e = this.entry(name);
    await this.serialize(e, async () => {
      if (e.runtime) throw conflict(`lab ${name} is running; stop it before deleting it`);
      for (const guard of this.removeGuards) await guard(name);
      await this.store.remove(name);
      this.forget(e);
    });
    this.log.info({ lab: name }, 'lab deleted');
    this.emit(name, { type: 'lab-deleted', source: 'api' });
  }

  async start(name: string): Promise<LabView> {
    const e = this.entry(name);
    await this.serialize(e, async () => {
      if (e.runtime) return;
      const lab = this.validLab(e);
      const state = asLabState(await this.store.readState(name));
      // An interactive server runs every lab against the wall clock; virtual time is for headless runs.
      let rt: LabRuntimeApi | undefined;
      try {
        rt = this.opts.runtimeFactory(lab, { time: 'real', seed: lab.seed, ...(state ? { state } : {}), ...this.hostNet });
        e.runtimeListener = (ev: RuntimeEvent) => this.emit(name, { ...ev });
        rt.onEvent(e.runtimeListener);
        rt.start();
      } catch (err) {
        // Whatever did start (timers, sockets of clouds) is stopped again.
        try {
          rt?.stop();
        } catch {
          // the first error is the one worth reporting
        }
        if (rt && e.runtimeListener) rt.offEvent(e.runtimeListener);
        e.runtimeListener = null;
        this.log.warn({ err, lab: name }, 'lab could not start');
        throw conflict(`lab ${name} could not start: ${(err as Error).message}`);
      }
      e.runtime = rt;
      this.log.info({ lab: name }, 'lab started');
      this.runtimeChanged(e);
    });
    return this.view(name);
  }

  async stop(name: string): Promise<LabView> {
    const e = this.entry(name);
    await this.serialize(e, () => this.stopRuntime(e));
    return this.view(name);
  }

  private async stopRuntime(e: Entry): Promise<void> {
    const rt = e.runtime;
    if (!rt) return;
    e.runtime = null;
    // Captures and traces let go of the engine's links before the devices power off.
    this.runtimeChanged(e);
    let state: unknown;
    try {
      state = rt.stop();
    } finally {
      if (e.runtimeListener) rt.offEvent(e.runtimeListener);
      e.runtimeListener = null;
    }
    if (state !== undefined && (await this.store.exists(e.name))) {
      await this.store.writeState(e.name, state).catch((err: unknown) => this.log.error({ err, lab: e.name }, 'saving the runtime state failed'));
    }
    this.log.info({ lab: e.name }, 'lab stopped');
  }

  /** Runs the lab's checks (`{only: [names]}` picks some) on the running lab. */
  async runChecks(name: string, body: unknown): Promise<CheckResult[]> {
    let only: string[] | undefined;
    if (body !== undefined) {
      const b = requireObject(body);
      for (const k of Object.keys(b)) if (k !== 'only') throw badField(k, `unknown key ${JSON.stringify(k)}; the key here is only`);
      if (b['only'] !== undefined) {
        if (!Array.isArray(b['only']) || !b['only'].every((x) => typeof x === 'string')) throw badField('only', 'only is a list of check names');
        only = b['only'] as string[];
        const names = new Set(this.lab(name).checks.map((c) => c.name));
        const missing = only.findIndex((n) => !names.has(n));
        if (missing >= 0) throw new ApiError(404, `no check named ${JSON.stringify(only[missing])}`, [{ field: `only[${missing}]`, message: 'no such check' }]);
      }
    }
    const rt = this.runningRuntime(name);
    return rt.runChecks(only ? { only } : {});
  }

  // ------------------------------------------------------------ changes

  /**
   * Edits a copy of the lab file with `edit`, validates it and commits it. `prefix` is where the
   * request body lands in the file, so field errors name the body's own fields. A change that
   * fails validation is a 400 for bad input (`status`), or a 409 when removing something others
   * still refer to.
   */
  private async change(
    name: string,
    how: { prefix: (file: FileData, lab: Lab) => PathSegment[]; status?: number; message: string },
    edit: (file: FileData, lab: Lab) => void,
  ): Promise<Lab> {
    const e = this.entry(name);
    return this.serialize(e, async () => {
      const lab = this.validLab(e);
      const file = structuredClone(lab.file) as unknown as FileData;
      edit(file, lab);
      const r = validateLab(file, { folderName: name });
      if (!r.ok) throw new ApiError(how.status ?? 400, how.message, issueDetails(r.issues, how.prefix(file, lab)));
      await this.commit(e, r.lab, 'api');
      return r.lab;
    });
  }

  /** Writes a validated lab and brings the running lab in line with it. */
  private async commit(e: Entry, lab: Lab, source: 'api' | 'disk', restore?: (rt: LabRuntimeApi) => void): Promise<void> {
    const text = formatLabFile(lab.file);
    await writeLabFile(this.store, e.name, text);
    e.text = text;
    e.problems = null;
    const before = e.lab;
    e.lab = lab;
    this.applyToRuntime(e, lab, restore);
    this.emitDiff(e.name, before, lab, source);
  }

  private applyToRuntime(e: Entry, lab: Lab, restore?: (rt: LabRuntimeApi) => void): void {
    if (!e.runtime) return;
    try {
      if (restore) restore(e.runtime);
      else e.runtime.apply(lab);
    } catch (err) {
      this.log.error({ err, lab: e.name }, 'the running lab could not apply a change');
      this.emit(e.name, { type: 'apply-error', error: (err as Error).message });
      throw new ApiError(500, `the change was saved to lab.yaml, but the running lab could not apply it: ${(err as Error).message}`);
    } finally {
      this.runtimeChanged(e);
    }
  }

  private emitDiff(name: string, before: Lab | null, after: Lab, source: 'api' | 'disk'): void {
    const diff = (kind: string, a: Record<string, unknown>, b: Record<string, unknown>) => {
      for (const k of Object.keys(b)) {
        if (!(k in a)) this.emit(name, { type: `${kind}-created`, [kind]: k, source });
        else if (JSON.stringify(a[k]) !== JSON.stringify(b[k])) this.emit(name, { type: `${kind}-updated`, [kind]: k, source });
      }
      for (const k of Object.keys(a)) if (!(k in b)) this.emit(name, { type: `${kind}-deleted`, [kind]: k, source });
    };
    const files = (lab: Lab | null, key: 'nodes' | 'networks') => ((lab?.file[key] ?? {}) as Record<string, unknown>);
    const links = (lab: Lab | null) =>
      Object.fromEntries((lab?.links ?? []).map((l) => [l.id, { a: l.a, b: l.b, impairments: l.impairments, suspended: l.suspended }]));
    diff('network', files(before, 'networks'), files(after, 'networks'));
    diff('node', files(before, 'nodes'), files(after, 'nodes'));
    diff('link', links(before), links(after));
    this.emit(name, { type: 'lab-changed', source });
  }

  // ------------------------------------------------------------ nodes

  async addNode(name: string, body: unknown): Promise<NodeView> {
    const { nodeName, spec } = namedBody(body, 'node');
    await this.change(name, { prefix: () => ['nodes', nodeName], message: `node ${nodeName} is not valid` }, (file, lab) => {
      if (lab.nodes[nodeName] || section(file, 'nodes')[nodeName] !== undefined) throw badField('name', `a node named ${nodeName} already exists`, 409);
      if (section(file, 'networks')[nodeName] !== undefined) throw badField('name', `${nodeName} is the name of a network; node and network names must differ`, 409);
      section(file, 'nodes', true)[nodeName] = spec;
    });
    return this.nodeView(name, nodeName);
  }

  async replaceNode(name: string, node: string, body: unknown): Promise<NodeView> {
    const spec = requireObject(body);
    await this.change(name, { prefix: () => ['nodes', node], message: `node ${node} is not valid` }, (file) => {
      const nodes = section(file, 'nodes');
      if (nodes[node] === undefined) throw noNode(node);
      nodes[node] = spec;
    });
    return this.nodeView(name, node);
  }

  async patchNode(name: string, node: string, body: unknown): Promise<NodeView> {
    const patch = requireObject(body);
    await this.change(name, { prefix: () => ['nodes', node], message: `node ${node} is not valid` }, (file) => {
      const nodes = section(file, 'nodes');
      if (nodes[node] === undefined) throw noNode(node);
      nodes[node] = mergePatch(nodes[node], patch);
    });
    return this.nodeView(name, node);
  }

  /** Deletes a node and the links to it; 409 when checks or reservations still name it. */
  async deleteNode(name: string, node: string): Promise<void> {
    await this.change(name, { prefix: () => [], status: 409, message: `node ${node} is still referred to; change those first` }, (file) => {
      const nodes = section(file, 'nodes');
      if (nodes[node] === undefined) throw noNode(node);
      delete nodes[node];
      removeLinks(file, (ends) => ends.some((t) => t.startsWith(`${node}:`)));
    });
  }

  async startNode(name: string, node: string): Promise<NodeView> {
    const rt = this.runningRuntime(name);
    if (!this.lab(name).nodes[node]) throw noNode(node);
    rt.startNode(node);
    return this.nodeView(name, node);
  }

  async stopNode(name: string, node: string): Promise<NodeView> {
    const rt = this.runningRuntime(name);
    if (!this.lab(name).nodes[node]) throw noNode(node);
    rt.stopNode(node);
    return this.nodeView(name, node);
  }

  // ------------------------------------------------------------ networks

  async addNetwork(name: string, body: unknown): Promise<NetworkView> {
    const { nodeName: net, spec } = namedBody(body, 'network');
    await this.change(name, { prefix: () => ['networks', net], message: `network ${net} is not valid` }, (file, lab) => {
      if (lab.networks[net] || section(file, 'networks')[net] !== undefined) throw badField('name', `a network named ${net} already exists`, 409);
      if (section(file, 'nodes')[net] !== undefined) throw badField('name', `${net} is the name of a node; node and network names must differ`, 409);
      section(file, 'networks', true)[net] = spec;
    });
    return this.networkView(name, net);
  }

  async replaceNetwork(name: string, net: string, body: unknown): Promise<NetworkView> {
    const spec = requireObject(body);
    await this.change(name, { prefix: () => ['networks', net], message: `network ${net} is not valid` }, (file) => {
      const nets = section(file, 'networks');
      if (nets[net] === undefined) throw noNetwork(net);
      nets[net] = spec;
    });
    return this.networkView(name, net);
  }

  async patchNetwork(name: string, net: string, body: unknown): Promise<NetworkView> {
    const patch = requireObject(body);
    await this.change(name, { prefix: () => ['networks', net], message: `network ${net} is not valid` }, (file) => {
      const nets = section(file, 'networks');
      if (nets[net] === undefined) throw noNetwork(net);
      nets[net] = mergePatch(nets[net], patch);
    });
    return this.networkView(name, net);
  }

  /** Deletes a network with everything cabled to it (links and interfaces' network: keys). */
  async deleteNetwork(name: string, net: string): Promise<void> {
    await this.change(name, { prefix: () => [], status: 409, message: `network ${net} is still referred to; change those first` }, (file) => {
      const nets = section(file, 'networks');
      if (nets[net] === undefined) throw noNetwork(net);
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
    });
    const made = lab.links.find((l) => l.origin.kind === 'link' && l.origin.index === index);
    return linkView(lab, made!);
  }

  async replaceLink(name: string, id: string, body: unknown): Promise<LinkView> {
    if (body === undefined) throw badField('(body)', 'a JSON body is required');
    let index = -1;
    const lab = await this.change(name, { prefix: () => ['links', index], message: 'the link is not valid' }, (file, current) => {
      index = longForm(file, findLink(current, id));
      listSection(file, 'links')[index] = body;
    });
    return linkView(lab, lab.links.find((l) => l.origin.kind === 'link' && l.origin.index === index)!);
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
    return linkView(lab, link);
  }

  // ------------------------------------------------------------ checks

  checks(name: string): JsonObject[] {
    const lab = this.lab(name);
    return ((lab.file.checks ?? []) as JsonObject[]).map((c, i) => ({ index: i, name: lab.checks.find((k) => k.index === i)?.name, ...c }));
  }

  async addCheck(name: string, body: unknown): Promise<JsonObject> {
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

// ---------------------------------------------------------------- views

export interface NodeView {
  name: string;
  kind: LabNode['kind'];
  status: 'running' | 'stopped';
  console: number;
  ui: { x: number; y: number } | null;
  interfaces: { name: string; mac: string; network: string | null; link: string | null }[];
  spec: JsonObject;
}
export interface NetworkView {
  name: string;
  type: string;
  subnet: string | null;
  attached: string[];
  spec: JsonObject;
}
export interface LinkView {
  id: string;
  endpoints: [string, string];
  suspended: boolean;
  impairments: { delay?: string; jitter?: string; loss?: string; duplicate?: string; corrupt?: string; rate?: string };
  /** `link`: written in links:; `network-key`: implied by an interface's network: key. */
  origin: 'link' | 'network-key';
}
export interface LabView extends LabSummary {
  problems: (LabError & { text: string })[] | null;
  file: JsonObject | null;
  nodes: NodeView[];
  networks: NetworkView[];
  links: LinkView[];
}

function linkEnds(l: LabLink): [string, string] {
  return [`${l.a.node}:${l.a.iface}`, l.b.kind === 'network' ? l.b.network : `${l.b.node}:${l.b.iface}`];
}

function nodeView(lab: Lab, n: LabNode, rt: LabRuntimeApi | null, telnetPort: number | null): NodeView {
  const cable = new Map<string, string>();
  for (const l of lab.links) {
    if (l.a.node === n.name) cable.set(l.a.iface, l.id);
    if (l.b.kind === 'iface' && l.b.node === n.name) cable.set(l.b.iface, l.id);
  }
  return {
    name: n.name,
    kind: n.kind,
    status: rt ? rt.nodeStatus(n.name) : 'stopped',
    console: rt && telnetPort !== null ? telnetPort : n.console,
    ui: n.ui ?? null,
    interfaces: n.interfaces.map((i) => ({ name: i.name, mac: macToString(i.mac), network: i.network ?? null, link: cable.get(i.name) ?? null })),
    spec: (lab.file.nodes?.[n.name] ?? {}) as JsonObject,
  };
}

function networkView(lab: Lab, name: string): NetworkView {
  const n = lab.networks[name]!;
  return {
    name,
    type: n.type,
    subnet: n.type === 'nat' || n.type === 'host-only' ? formatCidr({ ...n.subnet, ip: n.subnet.network }) : null,
    attached: n.attached.map((a) => `${a.node}:${a.iface}`),
    spec: (lab.file.networks?.[name] ?? {}) as JsonObject,
  };
}

function linkView(_lab: Lab, l: LabLink): LinkView {
  const imp: LinkView['impairments'] = {};
  const i = l.impairments;
  if (i.delayNs) imp.delay = formatDuration(i.delayNs);
  if (i.jitterNs) imp.jitter = formatDuration(i.jitterNs);
  if (i.loss) imp.loss = formatPercent(i.loss);
  if (i.duplicate) imp.duplicate = formatPercent(i.duplicate);
  if (i.corrupt) imp.corrupt = formatPercent(i.corrupt);
  if (i.rateBps) imp.rate = formatRate(i.rateBps);
  return { id: l.id, endpoints: linkEnds(l), suspended: l.suspended, impairments: imp, origin: l.origin.kind };
}

// ---------------------------------------------------------------- helpers

function problemDetails(problems: readonly LabError[]): ErrorDetail[] {
  return problems.map((p) => ({ field: p.field, message: formatLabError(p) }));
}

function noNode(node: string): ApiError {
  return notFound(`no node named ${JSON.stringify(node)}`, [{ field: 'node', message: 'no such node' }]);
}
function noNetwork(net: string): ApiError {
  return notFound(`no network named ${JSON.stringify(net)}`, [{ field: 'network', message: 'no such network' }]);
}

function findLink(lab: Lab, id: string): LabLink {
  const l = lab.links.find((x) => x.id === id);
  if (!l) throw notFound(`no link ${JSON.stringify(id)}`, [{ field: 'link', message: 'no such link; ids look like pc1:eth0--sw1:e1' }]);
  return l;
}

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The request body as a mapping, or a 400 naming the body. */
export function requireObject(body: unknown): JsonObject {
  if (body === undefined) throw badField('(body)', 'a JSON body is required');
  if (!isObject(body)) throw badField('(body)', `expected a JSON object, got ${Array.isArray(body) ? 'a list' : typeof body === 'string' ? 'text' : String(body)}`);
  return structuredClone(body);
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
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}
