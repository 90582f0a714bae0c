/**
 * The labs the server knows: each one's last valid model, what lab.yaml holds on disk (watched
 * for hand edits), and its runtime while it runs (start, stop, checks). Every change (from the
 * API or from a hand edit of lab.yaml) goes the same way: edit a copy of the lab file, validate
 * the whole lab with the lab.yaml schemas (so cross-references are checked too), write lab.yaml
 * atomically, then let the running lab apply the difference. A change that does not validate
 * touches nothing, neither the disk nor the running lab. Changes to one lab are serialized.
 * The edits themselves are in server/labs.ts, the views the API answers in server/lab-views.ts.
 */
import type { FSWatcher } from 'node:fs';
import type { Logger } from 'pino';
import { type LabError, formatLabError, loadLabText } from '../devices/lab/load.js';
import type { CheckResult, LabEvent, LabSummary, LabView, LinkView, NetworkView, NodeView } from '../contract/index.js';
import { type Lab, type LabFile, type LabLink, type PathSegment, LAB_NAME_RE, validateLab } from '../devices/lab/schema.js';
import { ApiError, type ErrorDetail, badField, conflict, issueDetails, notFound } from './errors.js';
import { type NodeConsoleInfo, type TelnetPortOf, labSummary, labView, linkView, networkView, networkViews, nodeView, nodeViews } from './lab-views.js';
import { type FormattedLabFile, formatLabFileReusing, formatLabFileYielding } from './lab-yaml.js';
import { type LabRuntimeApi, type RuntimeEvent, type RuntimeFactory, type RuntimeOptions, asLabState } from './runtime.js';
import { hostNetworking } from './host-sockets.js';
import { LabStore } from './store.js';
import { readLabFile, writeLabFile } from './snapshots-files.js';

export type { LabEvent };
export type LabEventListener = (lab: string, event: LabEvent) => void;
/** Told when a lab's runtime starts, stops (null) or changes its topology, so taps can follow. */
export type RuntimeListener = (lab: string, runtime: LabRuntimeApi | null) => void;

export type JsonObject = Record<string, unknown>;
/** The lab file as plain data, edited in place by the change functions. */
export type FileData = JsonObject;

export interface Entry {
  name: string;
  /** The last valid lab (its `file` is what lab.yaml holds when `problems` is null). */
  lab: Lab | null;
  /** lab.yaml's text as last read or written by the server, to tell hand edits from our own saves. */
  text: string | null;
  /** The text the server last wrote, with the file it formatted: reused to write or snapshot the same file again. */
  formatted: FormattedLabFile | null;
  /** Why lab.yaml on disk does not load (a hand edit); the lab keeps running as it was. */
  problems: LabError[] | null;
  runtime: LabRuntimeApi | null;
  runtimeListener: ((e: RuntimeEvent) => void) | null;
  watcher: FSWatcher | null;
  debounce: ReturnType<typeof setTimeout> | undefined;
  queue: Promise<unknown>;
  /** Multi-step work that makes changes itself (snapshots): one at a time; its changes take `queue` inside it. */
  outer: Promise<unknown>;
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

/** What the lab service needs of the running labs' consoles (server/console-channel.ts). */
export interface LabConsolesView {
  /** Where a running lab's node's telnet console is (it may differ from the lab model's port), or null. */
  consoleOf(lab: string, node: string): NodeConsoleInfo | null;
  /** Resolves when the lab's telnet consoles listen where its views say. */
  ready(lab: string): Promise<void>;
  /** Command histories, for snapshots. */
  histories(lab: string): Record<string, string[]>;
  restoreHistories(lab: string, histories: Readonly<Record<string, readonly string[]>>): void;
}

const NO_CONSOLES: LabConsolesView = { consoleOf: () => null, ready: async () => undefined, histories: () => ({}), restoreHistories: () => undefined };

/** The registry and lifecycle of labs; server/labs.ts's LabService adds the edits of lab files. */
export class LabRegistry {
  protected readonly entries = new Map<string, Entry>();
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
    return this.names().map((n) => labSummary(this.entries.get(n)!));
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  /** The lab named in a URL: 400 for a name that cannot be a lab (`../x`), 404 for one that does not exist. */
  protected entry(name: string): Entry {
    if (!LAB_NAME_RE.test(name)) throw badField('lab', `${JSON.stringify(name)} is not a lab name (1..63 lowercase letters, digits, - or _)`);
    const e = this.entries.get(name);
    if (!e) throw notFound(`no lab named ${JSON.stringify(name)}`, [{ field: 'lab', message: 'no such lab' }]);
    return e;
  }

  /** The lab's valid model; 409 while lab.yaml on disk has errors (the API would overwrite the hand edit). */
  protected validLab(e: Entry): Lab {
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

  private telnetPorts(name: string): TelnetPortOf {
    return (node) => this.consoles.consoleOf(name, node);
  }

  view(name: string): LabView {
    return labView(this.entry(name), this.telnetPorts(name));
  }

  nodeView(name: string, node: string): NodeView {
    const e = this.entry(name);
    const lab = this.validLab(e);
    const n = Object.hasOwn(lab.nodes, node) ? lab.nodes[node] : undefined;
    if (!n) throw noNode(node);
    return nodeView(lab, n, e.runtime, this.consoles.consoleOf(name, node));
  }

  nodeViews(name: string): NodeView[] {
    const e = this.entry(name);
    return nodeViews(this.validLab(e), e.runtime, this.telnetPorts(name));
  }

  networkView(name: string, network: string): NetworkView {
    const lab = this.lab(name);
    if (!Object.hasOwn(lab.networks, network)) throw noNetwork(network);
    return networkView(lab, network);
  }

  networkViews(name: string): NetworkView[] {
    return networkViews(this.lab(name));
  }

  linkView(name: string, id: string): LinkView {
    return linkView(findLink(this.lab(name), id));
  }

  linkViews(name: string): LinkView[] {
    return this.lab(name).links.map((l) => linkView(l));
  }

  // ------------------------------------------------------------ loading from disk

  private newEntry(name: string): Entry {
    return { name, lab: null, text: null, formatted: null, problems: null, runtime: null, runtimeListener: null, watcher: null, debounce: undefined, queue: Promise.resolve(), outer: Promise.resolve() };
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
    this.prewarm(e);
    if (initial) return;
    this.log.info({ lab: e.name }, 'lab.yaml changed on disk; applied');
    if (hadProblems) this.emit(e.name, { type: 'lab-file-ok' });
    this.applyToRuntime(e, r.lab);
    this.emitDiff(e.name, before, r.lab, 'disk');
  }

  /**
   * A big lab read from disk has its nodes formatted in slices between other work, so that its
   * first edit formats one node rather than all of them (a cache only: texts are reused by data).
   */
  private prewarm(e: Entry): void {
    const lab = e.lab;
    if (!lab || e.formatted || Object.keys(lab.nodes).length < PREWARM_NODES) return;
    const ahead = formatLabFileYielding(lab.file, null).then(
      (f) => {
        e.formatted ??= f;
      },
      (err: unknown) => this.log.warn({ err, lab: e.name }, 'formatting lab.yaml ahead failed'),
    );
    this.formattingAhead.set(e, ahead);
    void ahead.finally(() => this.formattingAhead.delete(e));
  }

  /** prewarm()'s work under way, which an edit waits for rather than doing it a second time. */
  private readonly formattingAhead = new WeakMap<Entry, Promise<void>>();

  // ------------------------------------------------------------ serialization

  protected serialize<T>(e: Entry, fn: () => Promise<T> | T, which: 'queue' | 'outer' = 'queue'): Promise<T> {
    const run = e[which].then(fn, fn);
    e[which] = run.catch(() => undefined);
    return run;
  }

  /**
   * Runs `fn` after every earlier exclusive() of the lab has finished (404 for an unknown lab).
   * Edits still run meanwhile, one at a time as always; `fn`'s own changes queue like them.
   */
  exclusive<T>(name: string, fn: () => Promise<T>): Promise<T> {
    return this.serialize(this.entry(name), fn, 'outer');
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
        const f = formatLabFileReusing(r.lab.file, null);
        await writeLabFile(this.store, name, f.text);
        e.text = f.text;
        e.formatted = f;
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

  /**
   * replace() with a lab already validated as this lab's file (a snapshot's lab.yaml, loaded with
   * folderName: name): the same write, apply and events, without validating it a second time.
   */
  async replaceValidated(name: string, lab: Lab, how: { restore?: (rt: LabRuntimeApi) => void } = {}): Promise<LabView> {
    // replace() would refuse or fill in these; a lab validated for this folder has them right.
    if (lab.file.name !== name) return this.replace(name, lab.file, how);
    const e = this.entry(name);
    await this.serialize(e, () => this.commit(e, lab, 'api', how.restore));
    return this.view(name);
  }

  /** lab.yaml's text for `file` (formatLabFile's), reusing the text last written for this lab when the file is the same. */
  labFileText(name: string, file: LabFile): string {
    return formatLabFileReusing(file, this.entries.get(name)?.formatted ?? null).text;
  }

  async remove(name: string): Promise<void> {
    const e = this.entry(name);
    // After any snapshot in progress: it would write into the folder being deleted.
    await this.serialize(
      e,
      () =>
        this.serialize(e, async () => {
          if (e.runtime) throw conflict(`lab ${name} is running; stop it before deleting it`);
          for (const guard of this.removeGuards) await guard(name);
          await this.store.remove(name);
          this.forget(e);
        }),
      'outer',
    );
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
    // The answer names the ports the consoles listen on, not ones they are still trying.
    await this.consoles.ready(name);
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
  protected async change(
    name: string,
    how: { prefix: (file: FileData, lab: Lab) => PathSegment[]; status?: number; message: string },
    edit: (file: FileData, lab: Lab) => void,
  ): Promise<Lab> {
    const e = this.entry(name);
    return this.serialize(e, async () => {
      const lab = this.validLab(e);
      const file = structuredClone(lab.file) as unknown as FileData;
      edit(file, lab);
      // Copying and validating a big lab take a few hundred ms each: other clients are served between them.
      await turn();
      const r = validateLab(file, { folderName: name });
      await turn();
      if (!r.ok) throw new ApiError(how.status ?? 400, how.message, issueDetails(r.issues, how.prefix(file, lab)));
      await this.commit(e, r.lab, 'api');
      return r.lab;
    });
  }

  /** Writes a validated lab and brings the running lab in line with it. */
  private async commit(e: Entry, lab: Lab, source: 'api' | 'disk', restore?: (rt: LabRuntimeApi) => void): Promise<void> {
    // Yields while it formats nodes it has not formatted before (the first edit of a big lab from disk).
    await this.formattingAhead.get(e);
    const f = await formatLabFileYielding(lab.file, e.formatted);
    await writeLabFile(this.store, e.name, f.text);
    e.text = f.text;
    e.formatted = f;
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
        if (!Object.hasOwn(a, k)) this.emit(name, { type: `${kind}-created`, [kind]: k, source });
        else if (JSON.stringify(a[k]) !== JSON.stringify(b[k])) this.emit(name, { type: `${kind}-updated`, [kind]: k, source });
      }
      for (const k of Object.keys(a)) if (!Object.hasOwn(b, k)) this.emit(name, { type: `${kind}-deleted`, [kind]: k, source });
    };
    const files = (lab: Lab | null, key: 'nodes' | 'networks') => ((lab?.file[key] ?? {}) as Record<string, unknown>);
    const links = (lab: Lab | null) =>
      Object.fromEntries((lab?.links ?? []).map((l) => [l.id, { a: l.a, b: l.b, impairments: l.impairments, suspended: l.suspended }]));
    diff('network', files(before, 'networks'), files(after, 'networks'));
    diff('node', files(before, 'nodes'), files(after, 'nodes'));
    diff('link', links(before), links(after));
    this.emit(name, { type: 'lab-changed', source });
  }
}

// ---------------------------------------------------------------- helpers

function problemDetails(problems: readonly LabError[]): ErrorDetail[] {
  return problems.map((p) => ({ field: p.field, message: formatLabError(p) }));
}

export function noNode(node: string): ApiError {
  return notFound(`no node named ${JSON.stringify(node)}`, [{ field: 'node', message: 'no such node' }]);
}
export function noNetwork(net: string): ApiError {
  return notFound(`no network named ${JSON.stringify(net)}`, [{ field: 'network', message: 'no such network' }]);
}

export function findLink(lab: Lab, id: string): LabLink {
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

/** Labs of this many nodes have their text formatted ahead, after they are read from disk. */
const PREWARM_NODES = 5000;

/** Lets the event loop serve what waits (I/O, timers) before going on. */
function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
