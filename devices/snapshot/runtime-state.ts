/**
 * Live snapshots of a running lab: everything a LabRuntime holds (every device's state, the
 * engine's clock, pending timers and queued frames, frames in flight on links, the random
 * source) recorded with the object-graph recorder, and restored *into* a live runtime, so the
 * server's references to the runtime and its engine stay valid and nothing outside the lab
 * (consoles, captures, traces, the real-time driver, cloud endpoints' sockets) has to be rebuilt.
 *
 *   const state = captureRuntime(rt);                 // a running or stopped lab
 *   const bytes = encodeState(state);                 // one file: JSON + the bytes of its buffers
 *   ...
 *   restoreRuntime(rt, decodeState(bytes), lab);      // `lab`: the snapshot's lab model
 *
 * Cloud nodes and bridged networks' NIC endpoints talk to the real world through sockets: they
 * are not recorded. The restored lab keeps the live ones (made from the snapshot's lab.yaml when
 * they are missing), with their ports re-plugged into the restored cables.
 */
import type { Device } from '../device.js';
import type { Port } from '../engine/port.js';
import type { LabRuntime, RuntimeEvent } from '../lab/runtime.js';
import type { Lab } from '../lab/schema.js';
import { type EncodedGraph, type ExternalRef, type GraphData, SnapshotError, decodeGraph, encodeGraph, reachableFrom } from './graph.js';
import { labRegistry } from './registry.js';
import { upgradeRestoredDevice } from './upgrades.js';

export { SnapshotError } from './graph.js';

export interface RuntimeStateInfo {
  /** Engine time of the snapshot, ns. */
  nowNs: number;
  status: 'running' | 'stopped';
  /** Objects recorded. */
  objects: number;
  /** Timers left out because they belonged to something outside the lab (a console), by class. */
  droppedTimers: Record<string, number>;
}

export interface RuntimeState {
  graph: EncodedGraph;
  info: RuntimeStateInfo;
}

/** Objects the lab reaches that live outside it, by key: the runtime, its engine, and the real-world endpoints. */
function outsideObjects(rt: LabRuntime): Map<string, { obj: object; assignFields: boolean }> {
  const out = new Map<string, { obj: object; assignFields: boolean }>();
  out.set('runtime', { obj: rt, assignFields: true });
  out.set('engine', { obj: rt.engine, assignFields: true });
  for (const [key, d] of endpoints(rt)) {
    out.set(key, { obj: d, assignFields: false });
    d.ports.forEach((p: Port, i: number) => out.set(`${key}/port${i}`, { obj: p, assignFields: true }));
  }
  return out;
}

/**
 * The devices that talk to the real world through the server's sockets, by key: cloud nodes,
 * bridged networks' NIC endpoints, NAT gateways and host adapters. They are not recorded: a
 * restore keeps (or makes) live ones, plugs their ports into the restored cables and restarts
 * them, as a real NAT box or NIC would come back after the lab around it was reset.
 */
function endpoints(rt: LabRuntime): Map<string, Device> {
  const out = new Map<string, Device>();
  for (const name of rt.nodeNames()) {
    if (rt.lab.nodes[name]?.kind !== 'cloud') continue;
    const d = rt.node(name);
    if (d) out.set(`node:${name}`, d);
  }
  const nets = (rt as unknown as { networks: Map<string, { parts: { nat?: Device | null; hostAdapter?: Device | null; uplink?: Device | null } }> }).networks;
  for (const [net, e] of nets) {
    if (e.parts.uplink) out.set(`uplink:${net}`, e.parts.uplink);
    if (e.parts.nat) out.set(`nat:${net}`, e.parts.nat);
    if (e.parts.hostAdapter) out.set(`host:${net}`, e.parts.hostAdapter);
  }
  return out;
}

/** Instances (not plain containers) owned by the real-world endpoints: never recorded. */
function endpointInternals(rt: LabRuntime, outside: Map<string, { obj: object; assignFields: boolean }>): Set<object> {
  const stops = new Set<object>([...outside.values()].map((o) => o.obj));
  const devices = [...endpoints(rt).values()];
  const owned = reachableFrom(devices.flatMap((d) => Object.values(d as unknown as Record<string, unknown>).filter((v): v is object => typeof v === 'object' && v !== null)), stops);
  const out = new Set<object>();
  for (const o of owned) {
    const proto = Object.getPrototypeOf(o) as object | null;
    if (proto === null || proto === Object.prototype || proto === Array.prototype || proto === Map.prototype || proto === Set.prototype) continue;
    if (ArrayBuffer.isView(o) || o instanceof ArrayBuffer) continue;
    out.add(o);
  }
  return out;
}

/**
 * Records the whole runtime (running or stopped). `extra` names more objects of the lab to find
 * again after a restore (a test's transfer, an operation a caller follows): restoreRuntime
 * returns their restored counterparts under the same keys.
 */
export function captureRuntime(rt: LabRuntime, extra: Record<string, object> = {}): RuntimeState {
  // An idle real-time lab's clock stands at its last slice; the snapshot's time is now.
  rt.engine.sync();
  const externals = new Map<object, ExternalRef>();
  const outside = outsideObjects(rt);
  for (const [key, { obj, assignFields }] of outside) externals.set(obj, { key, assignFields });
  const roots: Record<string, unknown> = { runtime: rt };
  for (const [k, v] of Object.entries(extra)) roots[`extra:${k}`] = v;
  const graph = encodeGraph(roots, { registry: labRegistry(), externals, opaque: endpointInternals(rt, outside) });
  return {
    graph,
    info: {
      nowNs: rt.engine.now,
      status: rt.status,
      objects: graph.data.records.length,
      droppedTimers: graph.data.droppedTimers,
    },
  };
}

export interface RestoreReport {
  nowNs: number;
  status: 'running' | 'stopped';
  objects: number;
  /** The restored counterparts of captureRuntime's `extra` objects. */
  extra: Record<string, unknown>;
}

/**
 * Brings `rt` back to the recorded state, in place. `lab` is the snapshot's own lab model (from
 * its lab.yaml): when the live runtime lacks a cloud node or bridged network the snapshot has,
 * the runtime is first brought to that lab so that the live endpoint exists to plug back in.
 * Runtime listeners then hear every node rebuilt and the lab's state.
 */
export function restoreRuntime(rt: LabRuntime, state: RuntimeState, lab: Lab): RestoreReport {
  const wanted = externalKeys(state.graph.data);
  let live = outsideObjects(rt);
  if (wanted.some((k) => !live.has(k))) {
    rt.apply(lab);
    live = outsideObjects(rt);
  }
  const externals = new Map<string, object>();
  for (const k of wanted) {
    const o = live.get(k);
    if (!o) throw new SnapshotError(`snapshot: the lab has no ${k.replace(/\/port(\d+)$/, ' (port $1)')} to plug back in`);
    externals.set(k, o.obj);
  }

  const engine = rt.engine;
  const realTime = engine.mode === 'real';
  if (realTime) engine.stop();
  let decoded: ReturnType<typeof decodeGraph>;
  try {
    decoded = decodeGraph(state.graph, { registry: labRegistry(), externals });
  } catch (e) {
    // A failed decode may have assigned some fields already: the runtime cannot be trusted.
    if (realTime && rt.status === 'running') engine.start();
    throw e;
  }
  if (realTime) {
    // Captures stamp frames with epoch + engine time: keep the wall clock going forwards.
    (engine as { epochNs: bigint }).epochNs = BigInt(Date.now()) * 1_000_000n - BigInt(Math.round(engine.now));
    if (rt.status === 'running') engine.start();
  }
  for (const name of rt.nodeNames()) upgradeRestoredDevice(rt.node(name));
  // The real-world endpoints start over in the restored lab: their timers and flows were not recorded.
  for (const d of endpoints(rt).values()) {
    if (d.running) d.stop();
    if (rt.status === 'running') d.start();
  }
  const emit = (e: RuntimeEvent) => (rt as unknown as { emit(e: RuntimeEvent): void }).emit(e);
  for (const name of rt.nodeNames()) emit({ type: 'node-changed', node: name, change: 'rebuilt' });
  emit({ type: 'lab-state', status: rt.status });
  const extra: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(decoded.roots)) if (k.startsWith('extra:')) extra[k.slice(6)] = v;
  return { nowNs: engine.now, status: rt.status, objects: decoded.objects, extra };
}

function externalKeys(data: GraphData): string[] {
  const keys: string[] = [];
  for (const r of data.records) if (r[0] === 'X') keys.push(r[1] as string);
  return keys;
}

// ---------------------------------------------------------------- one file

/** The first bytes of a runtime state file (after gunzip). */
export const STATE_MAGIC = 'WLSTATE1';
const MAGIC = STATE_MAGIC;

/** The state as one byte string: magic, JSON length, JSON (info + graph), padding, the buffers' bytes. */
export function encodeState(state: RuntimeState): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify({ info: state.info, data: state.graph.data }));
  const head = 8 + 4;
  const blobAt = (head + json.length + 7) & ~7;
  const out = new Uint8Array(blobAt + state.graph.blob.length);
  out.set(new TextEncoder().encode(MAGIC), 0);
  new DataView(out.buffer).setUint32(8, json.length, true);
  out.set(json, head);
  out.set(state.graph.blob, blobAt);
  return out;
}

export function decodeState(bytes: Uint8Array): RuntimeState {
  if (bytes.length < 12 || new TextDecoder().decode(bytes.subarray(0, 8)) !== MAGIC) throw new SnapshotError('not a wirelab runtime state file');
  const len = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(8, true);
  if (12 + len > bytes.length) throw new SnapshotError('runtime state file is truncated');
  let parsed: { info: RuntimeStateInfo; data: GraphData };
  try {
    parsed = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + len))) as { info: RuntimeStateInfo; data: GraphData };
  } catch {
    throw new SnapshotError('runtime state file is damaged');
  }
  const blobAt = (12 + len + 7) & ~7;
  const blob = bytes.subarray(blobAt);
  if (blob.length !== parsed.data.blobBytes) throw new SnapshotError('runtime state file is truncated');
  return { info: parsed.info, graph: { data: parsed.data, blob } };
}
