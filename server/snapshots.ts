/**
 * Snapshots and clones of the server's labs (docs/behaviour.md).
 *
 * A snapshot of a running lab records its whole runtime (devices/snapshot) beside lab.yaml; one
 * of a stopped lab records lab.yaml and the saved state (DHCP leases). Snapshots form a tree, as
 * VMware's do: each names the snapshot the lab was at when it was taken (`parent`), and restoring
 * one makes it the lab's current position. A folder is written in full under a temporary name
 * and renamed into place, so a crash never leaves half a snapshot.
 *
 * Clones: a full clone is an independent lab made from a snapshot's (or the current) lab.yaml; a
 * linked clone names its parent (`clone-of: {lab, snapshot}`) and stores only its differences
 * (snapshots-files.ts). The parent snapshot of a linked clone is locked: deleting it is a 409
 * naming the clones. Clones get their own name and MACs: derived MACs follow the lab's name by
 * themselves; explicit `mac:` keys (and DHCP reservations by those MACs) are rewritten.
 */
import { readFile, stat } from 'node:fs/promises';
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { stableMac } from '../devices/device.js';
import { loadLabText } from '../devices/lab/load.js';
import { LAB_NAME_RE, NODE_NAME_RE, type Lab } from '../devices/lab/schema.js';
import { captureRuntime, decodeState, encodeState, restoreRuntime } from '../devices/snapshot/runtime-state.js';
import { macToString, parseMac } from '../devices/wire/bytes.js';
import { ApiError, badField, notFound } from './errors.js';
import type { CloneRequest, CloneResult, NodeView, RestoreResult, SnapshotView } from '../contract/index.js';
import type { LabService } from './labs.js';
import { asLabState } from './runtime.js';
import {
  HERE_FILE,
  SNAPSHOT_LAB,
  SNAPSHOT_META,
  SNAPSHOT_SAVED_STATE,
  SNAPSHOT_STATE,
  cloneOfIn,
  isObject,
  isSnapshotName,
  listDir,
  publishDir,
  readJson,
  removeDir,
  replaceFile,
  snapshotDir,
  snapshotsDir,
  tempDirBeside,
  writeDurable,
} from './snapshots-files.js';

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

type Json = Record<string, unknown>;

/** snapshot.json */
export interface SnapshotMeta {
  format: 'wirelab-snapshot';
  version: 1;
  name: string;
  description: string;
  /** Wall-clock time taken, ISO 8601. */
  createdAt: string;
  /** The snapshot the lab was at when this one was taken. */
  parent: string | null;
  /** Taken while the lab ran: the runtime itself is in state.bin. */
  live: boolean;
  /** Taken by the lab's `snapshots: {every, keep}` schedule (pruned beyond `keep`). */
  auto: boolean;
  /** Lab time of a live snapshot, ns. */
  engineTimeNs: number | null;
  /** Timers of things outside the lab (a console's typing) left out of a live snapshot. */
  droppedTimers: Record<string, number>;
}

export interface SnapshotServiceOptions {
  /** Told when a scheduled snapshot fails (the schedule carries on). */
  onError?: (lab: string, error: Error) => void;
}

const AUTO_PREFIX = 'auto-';

export class SnapshotService {
  private readonly schedules = new Map<string, { everyNs: number; keep: number; timer: ReturnType<typeof setInterval> }>();
  private readonly unlisten: () => void;

  constructor(
    readonly labs: LabService,
    private readonly opts: SnapshotServiceOptions = {},
  ) {
    this.unlisten = labs.onRuntime((lab, rt) => this.reschedule(lab, rt !== null));
    this.unguard = labs.guardRemoval((lab) => this.refuseIfParent(lab));
  }

  private readonly unguard: () => void;

  /** A lab whose snapshots linked clones use cannot be deleted: the clones would lose their base. */
  private async refuseIfParent(lab: string): Promise<void> {
    const users: string[] = [];
    for (const [key, clones] of await this.linkedClones()) if (key.startsWith(`${lab}/`)) users.push(...clones.filter((c) => c !== lab));
    if (users.length > 0) {
      throw new ApiError(409, `lab ${lab} has snapshots that linked clone${users.length > 1 ? 's' : ''} ${users.join(', ')} ${users.length > 1 ? 'use' : 'uses'}; delete or fully clone ${users.length > 1 ? 'them' : 'it'} first`, users.map((u) => ({ field: 'lab', message: `linked clone ${u} uses its snapshot` })));
    }
  }

  close(): void {
    this.unlisten();
    this.unguard();
    for (const s of this.schedules.values()) clearInterval(s.timer);
    this.schedules.clear();
  }

  private get store() {
    return this.labs.store;
  }

  // ------------------------------------------------------------ reading

  private checkName(snap: string): void {
    if (!isSnapshotName(snap)) throw badField('snapshot', `${JSON.stringify(snap)} is not a snapshot name (1..63 lowercase letters, digits, - or _)`);
  }

  async names(lab: string): Promise<string[]> {
    this.labs.lab(lab);
    const dir = snapshotsDir(this.store, lab);
    const out: string[] = [];
    for (const n of await listDir(dir)) if (isSnapshotName(n) && (await readMeta(path.join(dir, n))) !== null) out.push(n);
    return out;
  }

  async meta(lab: string, snap: string): Promise<SnapshotMeta> {
    this.checkName(snap);
    this.labs.lab(lab);
    const m = await readMeta(snapshotDir(this.store, lab, snap));
    if (!m) throw notFound(`lab ${lab} has no snapshot ${JSON.stringify(snap)}`, [{ field: 'snapshot', message: 'no such snapshot' }]);
    return m;
  }

  async current(lab: string): Promise<string | null> {
    const here = await readJson(path.join(snapshotsDir(this.store, lab), HERE_FILE));
    return isObject(here) && typeof here['snapshot'] === 'string' && isSnapshotName(here['snapshot']) ? here['snapshot'] : null;
  }

  private async setCurrent(lab: string, snap: string | null): Promise<void> {
    await replaceFile(path.join(snapshotsDir(this.store, lab), HERE_FILE), JSON.stringify({ snapshot: snap }) + '\n');
  }

  async list(lab: string): Promise<SnapshotView[]> {
    const names = await this.names(lab);
    const metas = await Promise.all(names.map((n) => this.meta(lab, n)));
    metas.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.name.localeCompare(b.name));
    const locks = await this.linkedClones();
    const current = await this.current(lab);
    const views: SnapshotView[] = [];
    for (const m of metas) views.push(await this.toView(lab, m, metas, locks, current));
    return views;
  }

  async view(lab: string, snap: string): Promise<SnapshotView> {
    const m = await this.meta(lab, snap);
    const metas = await Promise.all((await this.names(lab)).map((n) => this.meta(lab, n)));
    return this.toView(lab, m, metas, await this.linkedClones(), await this.current(lab));
  }

  private async toView(lab: string, m: SnapshotMeta, all: SnapshotMeta[], locks: Map<string, string[]>, current: string | null): Promise<SnapshotView> {
    return {
      name: m.name,
      description: m.description,
      createdAt: m.createdAt,
      parent: m.parent,
      children: all.filter((x) => x.parent === m.name).map((x) => x.name),
      live: m.live,
      auto: m.auto,
      engineTimeNs: m.engineTimeNs,
      sizeBytes: await dirBytes(snapshotDir(this.store, lab, m.name)),
      lockedBy: locks.get(`${lab}/${m.name}`) ?? [],
      current: current === m.name,
    };
  }

  /** Linked clones by the `lab/snapshot` they depend on (read from every lab.yaml as stored). */
  async linkedClones(): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    for (const name of await this.store.listNames()) {
      const text = await this.store.read(name).catch(() => null);
      if (text === null || !text.includes('clone-of')) continue;
      let data: unknown;
      try {
        data = parseYaml(text);
      } catch {
        continue;
      }
      const c = cloneOfIn(data);
      if (!c) continue;
      const key = `${c.lab}/${c.snapshot}`;
      out.set(key, [...(out.get(key) ?? []), name]);
    }
    return out;
  }

  // ------------------------------------------------------------ taking

  /**
   * Takes a snapshot: the running lab's whole runtime, or a stopped lab's file and saved state.
   * A lab's snapshot operations run one at a time (labs.exclusive), so that each new snapshot's
   * parent is the one current before it and no two pick the same name.
   */
  take(lab: string, body: { name?: unknown; description?: unknown } = {}, auto = false): Promise<SnapshotView> {
    return this.labs.exclusive(lab, () => this.takeNow(lab, body, auto));
  }

  private async takeNow(lab: string, body: { name?: unknown; description?: unknown }, auto: boolean): Promise<SnapshotView> {
    const model = this.labs.lab(lab);
    for (const k of Object.keys(body)) if (k !== 'name' && k !== 'description') throw badField(k, `unknown key ${JSON.stringify(k)}; the keys here are name, description`);
    if (body.description !== undefined && typeof body.description !== 'string') throw badField('description', 'a description is text');
    let name: string;
    if (body.name !== undefined) {
      if (typeof body.name !== 'string') throw badField('name', 'a snapshot name is text');
      this.checkName(body.name);
      name = body.name;
    } else name = await this.freeName(lab, auto ? AUTO_PREFIX : 'snap-');
    const finalDir = snapshotDir(this.store, lab, name);
    if ((await readMeta(finalDir)) !== null) throw badField('name', `lab ${lab} already has a snapshot ${name}`, 409);

    // Everything about the lab is read in one synchronous step: the running lab cannot move meanwhile.
    const rt = this.labs.runtime(lab);
    const live = rt !== null;
    // The text already written to lab.yaml is reused when the file is the same (no second formatting).
    const labText = this.labs.labFileText(lab, live ? rt.lab.file : model.file);
    const state = live ? captureRuntime(rt, { consoles: this.labs.consoles.histories(lab) }) : null;
    const encoded = state ? encodeState(state) : null;
    const saved = live ? undefined : await this.store.readState(lab);
    const meta: SnapshotMeta = {
      format: 'wirelab-snapshot',
      version: 1,
      name,
      description: (body.description as string | undefined) ?? '',
      createdAt: new Date().toISOString(),
      parent: await this.current(lab),
      live,
      auto,
      engineTimeNs: state ? state.info.nowNs : null,
      droppedTimers: state ? state.info.droppedTimers : {},
    };
    // Compressed off the event loop: the lab runs on while the file is made.
    const stateFile = encoded ? await gzipAsync(encoded, { level: 1 }) : null;

    // A folder of its own; leftovers of a crash are swept at start (LabStore.init), never while others write.
    const temp = await tempDirBeside(finalDir);
    try {
      await writeDurable(path.join(temp, SNAPSHOT_LAB), labText);
      if (stateFile) await writeDurable(path.join(temp, SNAPSHOT_STATE), stateFile);
      if (saved !== undefined && asLabState(saved)) await writeDurable(path.join(temp, SNAPSHOT_SAVED_STATE), JSON.stringify(saved, null, 1) + '\n');
      await writeDurable(path.join(temp, SNAPSHOT_META), JSON.stringify(meta, null, 2) + '\n');
      if ((await readMeta(finalDir)) !== null) throw badField('name', `lab ${lab} already has a snapshot ${name}`, 409);
      await removeDir(finalDir);
      await publishDir(temp, finalDir);
    } catch (e) {
      await removeDir(temp);
      throw e;
    }
    await this.setCurrent(lab, name);
    this.changed(lab, 'taken', name);
    return this.view(lab, name);
  }

  /** Tells the lab channel, so that every open snapshot manager follows without polling. */
  private changed(lab: string, change: 'taken' | 'described' | 'deleted' | 'restored' | 'locked', snapshot: string): void {
    this.labs.announce(lab, { type: 'snapshots-changed', change, snapshot });
  }

  private async freeName(lab: string, prefix: string): Promise<string> {
    const d = new Date();
    const p2 = (n: number) => String(n).padStart(2, '0');
    const base = `${prefix}${d.getUTCFullYear()}${p2(d.getUTCMonth() + 1)}${p2(d.getUTCDate())}-${p2(d.getUTCHours())}${p2(d.getUTCMinutes())}${p2(d.getUTCSeconds())}`;
    const taken = new Set(await listDir(snapshotsDir(this.store, lab)));
    if (!taken.has(base)) return base;
    for (let i = 2; ; i++) if (!taken.has(`${base}-${i}`)) return `${base}-${i}`;
  }

  describe(lab: string, snap: string, body: unknown): Promise<SnapshotView> {
    return this.labs.exclusive(lab, () => this.describeNow(lab, snap, body));
  }

  private async describeNow(lab: string, snap: string, body: unknown): Promise<SnapshotView> {
    if (!isObject(body)) throw badField('(body)', 'expected a JSON object like {"description": "..."}');
    for (const k of Object.keys(body)) if (k !== 'description') throw badField(k, `unknown key ${JSON.stringify(k)}; a snapshot's description is what can change`);
    if (typeof body['description'] !== 'string') throw badField('description', 'a description is text');
    const m = await this.meta(lab, snap);
    m.description = body['description'];
    await replaceFile(path.join(snapshotDir(this.store, lab, snap), SNAPSHOT_META), JSON.stringify(m, null, 2) + '\n');
    this.changed(lab, 'described', snap);
    return this.view(lab, snap);
  }

  /** Deletes a snapshot; its children then hang from its parent. 409 while linked clones use it. */
  remove(lab: string, snap: string): Promise<void> {
    return this.labs.exclusive(lab, () => this.removeNow(lab, snap));
  }

  private async removeNow(lab: string, snap: string): Promise<void> {
    const m = await this.meta(lab, snap);
    const users = (await this.linkedClones()).get(`${lab}/${snap}`) ?? [];
    if (users.length > 0) {
      throw new ApiError(409, `snapshot ${snap} is locked: linked clone${users.length > 1 ? 's' : ''} ${users.join(', ')} ${users.length > 1 ? 'use' : 'uses'} it; delete or fully clone ${users.length > 1 ? 'them' : 'it'} first`, users.map((u) => ({ field: 'snapshot', message: `used by linked clone ${u}` })));
    }
    for (const n of await this.names(lab)) {
      const child = await this.meta(lab, n);
      if (child.parent !== snap) continue;
      child.parent = m.parent;
      await replaceFile(path.join(snapshotDir(this.store, lab, n), SNAPSHOT_META), JSON.stringify(child, null, 2) + '\n');
    }
    await removeDir(snapshotDir(this.store, lab, snap));
    if ((await this.current(lab)) === snap) await this.setCurrent(lab, m.parent);
    this.changed(lab, 'deleted', snap);
  }

  // ------------------------------------------------------------ restoring

  /** The snapshot's lab model, validated as this lab's file. */
  private async snapshotLab(lab: string, snap: string): Promise<Lab> {
    const dir = snapshotDir(this.store, lab, snap);
    const text = await readText(path.join(dir, SNAPSHOT_LAB));
    if (text === null) throw new ApiError(409, `snapshot ${snap} has no lab.yaml; it is damaged`);
    const r = loadLabText(text, `${lab}/snapshots/${snap}/lab.yaml`, { folderName: lab });
    if (!r.ok) throw new ApiError(409, `snapshot ${snap}'s lab.yaml does not load; it is damaged`, r.errors.map((e) => ({ field: e.field, message: e.message })));
    return r.lab;
  }

  /**
   * Brings the lab back to the snapshot: a live snapshot leaves the lab running exactly as it
   * was (started first if it is stopped); one of a stopped lab leaves it stopped with the saved
   * state it had.
   */
  restore(lab: string, snap: string): Promise<RestoreResult> {
    return this.labs.exclusive(lab, () => this.restoreNow(lab, snap));
  }

  private async restoreNow(lab: string, snap: string): Promise<RestoreResult> {
    const m = await this.meta(lab, snap);
    const dir = snapshotDir(this.store, lab, snap);
    // state.bin is read and gunzipped in the thread pool while lab.yaml is parsed; its errors still come second.
    const unzipped = m.live ? readBytes(path.join(dir, SNAPSHOT_STATE)).then((gz) => (gz === null ? null : gunzipAsync(gz))) : null;
    unzipped?.catch(() => undefined);
    const model = await this.snapshotLab(lab, snap);
    let objects: number | null = null;
    let histories: Record<string, string[]> = {};
    if (unzipped) {
      const raw = await unzipped;
      if (raw === null) throw new ApiError(409, `snapshot ${snap} has no state.bin; it is damaged`);
      const state = decodeState(new Uint8Array(raw));
      // `model` was validated as this lab's file by snapshotLab: it is not validated again.
      if (!this.labs.runtime(lab)) {
        await this.labs.replaceValidated(lab, model);
        await this.labs.start(lab);
      }
      await this.labs.replaceValidated(lab, model, {
        restore: (rt) => {
          const r = restoreRuntime(rt, state, model);
          objects = r.objects;
          const consoles = r.extra['consoles'];
          if (typeof consoles === 'object' && consoles !== null) histories = consoles as Record<string, string[]>;
        },
      });
      this.labs.consoles.restoreHistories(lab, histories);
    } else {
      if (this.labs.runtime(lab)) await this.labs.stop(lab);
      const saved = await readJson(path.join(dir, SNAPSHOT_SAVED_STATE));
      await this.store.writeState(lab, asLabState(saved) ?? { version: 1, dhcp: {} });
      await this.labs.replaceValidated(lab, model);
    }
    await this.setCurrent(lab, snap);
    this.changed(lab, 'restored', snap);
    return { lab: this.labs.view(lab), snapshot: await this.view(lab, snap), restoredObjects: objects };
  }

  // ------------------------------------------------------------ schedules

  private reschedule(lab: string, running: boolean): void {
    const prev = this.schedules.get(lab);
    let want: { everyNs: number; keep: number } | undefined;
    if (running) {
      try {
        want = this.labs.lab(lab).snapshots;
      } catch {
        want = undefined;
      }
    }
    if (prev && (!want || want.everyNs !== prev.everyNs || want.keep !== prev.keep)) {
      clearInterval(prev.timer);
      this.schedules.delete(lab);
    }
    if (!want || this.schedules.has(lab)) return;
    const { everyNs, keep } = want;
    const timer = setInterval(() => {
      this.scheduled(lab, keep).catch((e: unknown) => this.opts.onError?.(lab, e as Error));
    }, Math.max(1, everyNs / 1e6));
    timer.unref();
    this.schedules.set(lab, { everyNs, keep, timer });
  }

  /** One scheduled snapshot, then the oldest scheduled ones beyond `keep` go (never a locked one). */
  async scheduled(lab: string, keep: number): Promise<void> {
    if (!this.labs.runtime(lab)) return;
    await this.labs.exclusive(lab, () => this.scheduledNow(lab, keep));
  }

  private async scheduledNow(lab: string, keep: number): Promise<void> {
    await this.takeNow(lab, { description: 'scheduled' }, true);
    const metas = await Promise.all((await this.names(lab)).map((n) => this.meta(lab, n)));
    const autos = metas.filter((m) => m.auto).sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.name.localeCompare(b.name));
    const locks = await this.linkedClones();
    const current = await this.current(lab);
    let excess = autos.length - keep;
    for (const m of autos) {
      if (excess <= 0) break;
      if ((locks.get(`${lab}/${m.name}`) ?? []).length > 0 || m.name === current) continue;
      await this.removeNow(lab, m.name);
      excess--;
    }
  }

  /** Labs with a running snapshot schedule (for tests and diagnostics). */
  scheduledLabs(): string[] {
    return [...this.schedules.keys()];
  }

  // ------------------------------------------------------------ clones

  /**
   * Clones a lab: from one of its snapshots, or from its current file. A linked clone needs a
   * snapshot: without one named, one is taken first (a running lab is recorded live, but a
   * clone starts stopped, from the file).
   */
  cloneLab(lab: string, body: unknown): Promise<CloneResult> {
    return this.labs.exclusive(lab, () => this.cloneLabNow(lab, body));
  }

  private async cloneLabNow(lab: string, body: unknown): Promise<CloneResult> {
    const req = (body === undefined ? {} : body) as CloneRequest & Json;
    if (!isObject(req)) throw badField('(body)', 'expected a JSON object like {"name": "lab2", "linked": true}');
    for (const k of Object.keys(req)) if (!['name', 'linked', 'snapshot', 'description'].includes(k)) throw badField(k, `unknown key ${JSON.stringify(k)}; the keys here are name, linked, snapshot, description`);
    if (req.linked !== undefined && typeof req.linked !== 'boolean') throw badField('linked', 'linked is true or false');
    if (req.description !== undefined && typeof req.description !== 'string') throw badField('description', 'a description is text');
    const source = this.labs.lab(lab);
    let name: string;
    if (req.name !== undefined) {
      if (typeof req.name !== 'string' || !LAB_NAME_RE.test(req.name)) throw badField('name', `${JSON.stringify(req.name)} is not a lab name (1..63 lowercase letters, digits, - or _)`);
      name = req.name;
      if (this.labs.has(name) || (await this.store.exists(name))) throw badField('name', `a lab named ${name} already exists`, 409);
    } else name = await this.freeLabName(`${lab}-clone`);

    let snap = req.snapshot;
    if (snap !== undefined) {
      if (typeof snap !== 'string') throw badField('snapshot', 'a snapshot name is text');
      await this.meta(lab, snap);
    } else if (req.linked) snap = (await this.takeNow(lab, { description: `taken for linked clone ${name}` }, false)).name;

    let file: Json;
    if (snap !== undefined) file = structuredClone((await this.snapshotLab(lab, snap)).file) as unknown as Json;
    else file = structuredClone(source.file) as unknown as Json;

    const warnings = cloneWarnings(file);
    renameLabFile(file, lab, name);
    if (req.description !== undefined) file['description'] = req.description;
    if (req.linked) file['clone-of'] = { lab, snapshot: snap! };
    else delete file['clone-of'];
    const view = await this.labs.create(file);
    if (req.linked) this.changed(lab, 'locked', snap!);
    return { lab: view, warnings };
  }

  private async freeLabName(base: string): Promise<string> {
    const cut = base.slice(0, 56);
    const taken = (n: string) => this.labs.has(n) || this.store.exists(n);
    if (!(await taken(cut))) return cut;
    for (let i = 2; ; i++) if (!(await taken(`${cut}-${i}`))) return `${cut}-${i}`;
  }

  /**
   * Clones a node inside its lab (from a snapshot's lab.yaml when one is named): same settings
   * and networks, a new name (its MACs follow it), no cables, placed beside the original.
   */
  cloneNode(lab: string, node: string, body: unknown): Promise<NodeView> {
    return this.labs.exclusive(lab, () => this.cloneNodeNow(lab, node, body));
  }

  private async cloneNodeNow(lab: string, node: string, body: unknown): Promise<NodeView> {
    const req = (body === undefined ? {} : body) as Json;
    if (!isObject(req)) throw badField('(body)', 'expected a JSON object like {"name": "pc9"}');
    for (const k of Object.keys(req)) if (!['name', 'snapshot', 'ui'].includes(k)) throw badField(k, `unknown key ${JSON.stringify(k)}; the keys here are name, snapshot, ui`);
    const current = this.labs.lab(lab);
    let source: Lab = current;
    if (req['snapshot'] !== undefined) {
      if (typeof req['snapshot'] !== 'string') throw badField('snapshot', 'a snapshot name is text');
      await this.meta(lab, req['snapshot']);
      source = await this.snapshotLab(lab, req['snapshot']);
    }
    const spec = source.file.nodes?.[node];
    if (!spec) throw notFound(`no node named ${JSON.stringify(node)}${source === current ? '' : ` in snapshot ${String(req['snapshot'])}`}`, [{ field: 'node', message: 'no such node' }]);
    const taken = new Set([...Object.keys(current.file.nodes ?? {}), ...Object.keys(current.file.networks ?? {})]);
    let name: string;
    if (req['name'] !== undefined) {
      if (typeof req['name'] !== 'string' || !NODE_NAME_RE.test(req['name'])) throw badField('name', `${JSON.stringify(req['name'])} is not a node name`);
      name = req['name'];
      if (taken.has(name)) throw badField('name', `${name} is taken in lab ${lab}`, 409);
    } else {
      const base = node.replace(/-?\d+$/, '') || node;
      let i = 2;
      name = `${base}${i}`;
      while (taken.has(name)) name = `${base}${++i}`;
    }
    const copy = structuredClone(spec) as Json;
    // A new name gives new derived MACs; explicit ones would collide, and so would a fixed console port.
    if (isObject(copy['interfaces'])) for (const i of Object.values(copy['interfaces'])) if (isObject(i)) delete i['mac'];
    delete copy['console'];
    if (req['ui'] !== undefined) copy['ui'] = req['ui'];
    else if (isObject(copy['ui']) && typeof copy['ui']['x'] === 'number' && typeof copy['ui']['y'] === 'number') copy['ui'] = { x: copy['ui']['x'] + 60, y: copy['ui']['y'] + 60 };
    return this.labs.addNode(lab, { name, ...copy });
  }
}

/** Gives a lab file a new lab name; explicit MACs get the ones the new name derives (reservations follow). */
export function renameLabFile(file: Json, _from: string, to: string): void {
  file['name'] = to;
  const remap = new Map<number, string>();
  const nodes = isObject(file['nodes']) ? file['nodes'] : {};
  for (const [node, spec] of Object.entries(nodes)) {
    if (!isObject(spec) || !isObject(spec['interfaces'])) continue;
    for (const [iface, i] of Object.entries(spec['interfaces'])) {
      if (!isObject(i) || typeof i['mac'] !== 'string') continue;
      const old = parseMac(i['mac']);
      const next = macToString(stableMac(to, node, iface));
      if (old !== null) remap.set(old, next);
      i['mac'] = next;
    }
  }
  const fixReservations = (list: unknown) => {
    if (!Array.isArray(list)) return;
    for (const r of list) {
      if (!isObject(r) || typeof r['mac'] !== 'string') continue;
      const m = parseMac(r['mac']);
      const next = m === null ? undefined : remap.get(m);
      if (next) r['mac'] = next;
    }
  };
  for (const net of Object.values(isObject(file['networks']) ? file['networks'] : {})) {
    if (isObject(net) && isObject(net['dhcp'])) fixReservations(net['dhcp']['reservations']);
  }
  for (const spec of Object.values(nodes)) {
    if (!isObject(spec) || !isObject(spec['dhcp-server']) || !Array.isArray(spec['dhcp-server']['pools'])) continue;
    for (const p of spec['dhcp-server']['pools']) if (isObject(p)) fixReservations(p['reservations']);
  }
}

/** What a clone shares with its original that cannot be used by both at once. */
function cloneWarnings(file: Json): string[] {
  const out: string[] = [];
  for (const [name, spec] of Object.entries(isObject(file['nodes']) ? file['nodes'] : {})) {
    if (!isObject(spec)) continue;
    if (spec['kind'] === 'cloud' && isObject(spec['endpoint'])) {
      const ep = spec['endpoint'];
      const what = ep['type'] === 'udp' ? `UDP ${String(ep['local'])}` : ep['type'] === 'tap' ? `TAP ${String(ep['name'])}` : `NIC ${String(ep['interface'])}`;
      out.push(`cloud ${name} uses ${what}, as the original does: the two labs cannot run at the same time`);
    }
    if (typeof spec['console'] === 'number') out.push(`node ${name} has console port ${spec['console']}, as in the original`);
  }
  for (const [name, net] of Object.entries(isObject(file['networks']) ? file['networks'] : {})) {
    if (isObject(net) && net['type'] === 'bridged') out.push(`network ${name} is bridged to ${String(net['interface'])}, as the original is`);
    const pf = isObject(net) && isObject(net['nat']) ? net['nat']['port-forwards'] : undefined;
    if (Array.isArray(pf) && pf.length > 0) out.push(`network ${name} forwards host ports the original forwards too`);
  }
  return out;
}

export async function readMeta(dir: string): Promise<SnapshotMeta | null> {
  const m = await readJson(path.join(dir, SNAPSHOT_META));
  if (!isObject(m) || m['format'] !== 'wirelab-snapshot' || m['version'] !== 1 || typeof m['name'] !== 'string') return null;
  return m as unknown as SnapshotMeta;
}

async function readText(file: string): Promise<string | null> {
  const b = await readBytes(file);
  return b === null ? null : b.toString('utf8');
}

async function readBytes(file: string): Promise<Buffer | null> {
  try {
    return await readFile(file);
  } catch {
    return null;
  }
}

async function dirBytes(dir: string): Promise<number> {
  let total = 0;
  for (const f of await listDir(dir)) {
    const s = await stat(path.join(dir, f)).catch(() => null);
    if (s?.isFile()) total += s.size;
  }
  return total;
}

