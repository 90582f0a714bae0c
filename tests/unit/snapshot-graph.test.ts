/**
 * The object-graph recorder on its own: classes, shared references and cycles, Maps and Sets with
 * object keys, typed arrays sharing a buffer, sparse arrays, numbers JSON cannot hold; and the
 * registry knows every class the devices export.
 */
import { describe, expect, it } from 'vitest';
import { SnapshotError, SnapshotRegistry, decodeGraph, encodeGraph, labRegistry } from '../../devices/snapshot/index.js';
import * as engine from '../../devices/engine/index.js';
import * as host from '../../devices/host/index.js';
import * as hub from '../../devices/hub/index.js';
import * as router from '../../devices/router/index.js';
import * as services from '../../devices/services/index.js';
import * as stack from '../../devices/stack/index.js';
import * as tcp from '../../devices/stack/tcp.js';
import * as tcpBuffer from '../../devices/stack/tcp-buffer.js';
import * as tcpDirect from '../../devices/stack/tcp-direct.js';
import * as tcpIp from '../../devices/stack/tcp-ip.js';
import * as sw from '../../devices/switch/index.js';
import * as network from '../../devices/network/index.js';
import * as runtime from '../../devices/lab/runtime.js';
import * as ipv4 from '../../devices/wire/ipv4.js';
import * as reassembly from '../../devices/stack/reassembly.js';

class Node2 {
  next: Node2 | null = null;
  constructor(public value: number) {}
}

function roundTrip<T extends object>(root: T, registry = new SnapshotRegistry([{ name: 'Node2', proto: Node2.prototype }])): T {
  const enc = encodeGraph({ root }, { registry });
  const json = JSON.parse(JSON.stringify(enc.data));
  return decodeGraph({ data: json, blob: enc.blob }, { registry }).roots['root'] as T;
}

describe('the object-graph recorder', () => {
  it('keeps classes, shared references and cycles', () => {
    const a = new Node2(1);
    const b = new Node2(2);
    a.next = b;
    b.next = a;
    const out = roundTrip({ a, b, again: a });
    expect(out.a).toBeInstanceOf(Node2);
    expect(out.a.next).toBe(out.b);
    expect(out.b.next).toBe(out.a);
    expect(out.again).toBe(out.a);
    expect(out.a.value).toBe(1);
  });

  it('keeps Maps and Sets in order, with object keys', () => {
    const k = new Node2(7);
    const m = new Map<unknown, unknown>([['x', 1], [k, 'node'], [3, [k]]]);
    const out = roundTrip({ m, s: new Set([k, 'y']), k });
    expect([...out.m.keys()]).toEqual(['x', out.k, 3]);
    expect(out.m.get(out.k)).toBe('node');
    expect((out.m.get(3) as unknown[])[0]).toBe(out.k);
    expect([...out.s]).toEqual([out.k, 'y']);
  });

  it('keeps typed arrays, views sharing one buffer, and a DataView', () => {
    const buf = new ArrayBuffer(64);
    const whole = new Uint8Array(buf);
    whole.set([1, 2, 3, 4, 5, 6, 7, 8]);
    const view = new Uint8Array(buf, 2, 4);
    const f = new Float64Array([1.5, -0, NaN, Infinity]);
    const out = roundTrip({ whole, view, f, dv: new DataView(buf, 4, 8), big: new BigInt64Array([-5n]) });
    expect(out.view.buffer).toBe(out.whole.buffer);
    expect([...out.view]).toEqual([3, 4, 5, 6]);
    out.whole[3] = 99;
    expect(out.view[1]).toBe(99);
    expect(Object.is(out.f[1], -0)).toBe(true);
    expect(out.f[2]).toBeNaN();
    expect(out.f[3]).toBe(Infinity);
    expect(out.dv.getUint8(0)).toBe(5);
    expect(out.big[0]).toBe(-5n);
  });

  it('keeps numbers JSON cannot, undefined, bigint and sparse arrays', () => {
    const sparse: unknown[] = new Array(1000).fill(undefined);
    sparse[17] = 'a';
    sparse[999] = new Node2(3);
    const out = roundTrip({ n: [NaN, -0, Infinity, -Infinity, 2 ** 53], u: undefined, big: 2n ** 70n, sparse });
    expect(Object.is(out.n[1], -0)).toBe(true);
    expect(out.n.slice(2)).toEqual([Infinity, -Infinity, 2 ** 53]);
    expect('u' in out && out.u === undefined).toBe(true);
    expect(out.big).toBe(2n ** 70n);
    expect(out.sparse.length).toBe(1000);
    expect(out.sparse[17]).toBe('a');
    expect(out.sparse[999]).toBeInstanceOf(Node2);
  });

  it('stores a big mostly-zero buffer without its zeros', () => {
    const big = new Uint8Array(1 << 20);
    big[10] = 1;
    big[900_000] = 2;
    const enc = encodeGraph({ big }, { registry: new SnapshotRegistry([]) });
    expect(enc.blob.length).toBeLessThan(256);
    const out = decodeGraph(enc, { registry: new SnapshotRegistry([]) }).roots['big'] as Uint8Array;
    expect(out.length).toBe(1 << 20);
    expect([out[10], out[900_000], out[11]]).toEqual([1, 2, 0]);
  });

  it('refuses closures and unknown classes, naming the path', () => {
    class Stranger {}
    expect(() => encodeGraph({ root: { a: [{ f: () => 1 }] } }, { registry: new SnapshotRegistry([]) })).toThrow(/root\.a\[0\]\.f: a function/);
    expect(() => encodeGraph({ root: { m: new Map([['k', new Stranger()]]) } }, { registry: new SnapshotRegistry([]) })).toThrow(/root\.m\.get\("k"\): an instance of class Stranger/);
    expect(() => encodeGraph({ root: { p: Promise.resolve() } }, { registry: new SnapshotRegistry([]) })).toThrow(SnapshotError);
  });

  it('brings instances recorded with an earlier field layout up to date (ClassUpgrade)', () => {
    // Before: the limit was a field of its own; after: it lives in a part that points back.
    class Before {
      constructor(
        public name: string,
        public limit: number,
      ) {}
    }
    class Part {
      constructor(
        readonly owner: object,
        readonly limit: number,
      ) {}
    }
    class After {
      part: Part | null = null;
      constructor(public name: string) {}
    }
    const upgrade = {
      outdated: (fields: readonly string[]) => fields.includes('limit'),
      apply(fields: Record<string, unknown>, target: object) {
        fields['part'] = new Part(target, fields['limit'] as number);
        delete fields['limit'];
      },
    };
    const shared = { tag: 'shared' };
    const enc = encodeGraph({ root: { old: new Before('a', 5), shared } }, { registry: new SnapshotRegistry([{ name: 'Thing', proto: Before.prototype }]) });
    const now = new SnapshotRegistry([
      { name: 'Thing', proto: After.prototype, upgrade },
      { name: 'Part', proto: Part.prototype },
    ]);
    const out = decodeGraph({ data: JSON.parse(JSON.stringify(enc.data)), blob: enc.blob }, { registry: now }).roots['root'] as { old: After };
    expect(out.old).toBeInstanceOf(After);
    expect(Object.keys(out.old).sort()).toEqual(['name', 'part']);
    expect(out.old.part).toBeInstanceOf(Part);
    expect(out.old.part!.owner).toBe(out.old);
    expect(out.old.part!.limit).toBe(5);
    // An instance of the current layout goes through untouched, part and all.
    const again = encodeGraph({ root: out.old }, { registry: now });
    const back = decodeGraph(again, { registry: now }).roots['root'] as After;
    expect(back.part!.owner).toBe(back);
    expect(back.part!.limit).toBe(5);
  });

  it('refuses a snapshot naming a class this wirelab does not know', () => {
    const enc = encodeGraph({ root: new Node2(1) }, { registry: new SnapshotRegistry([{ name: 'Node2', proto: Node2.prototype }]) });
    expect(() => decodeGraph(enc, { registry: new SnapshotRegistry([]) })).toThrow(/class Node2 is unknown/);
  });
});

describe('the lab registry', () => {
  it('knows every class the device modules export (or leaves it out on purpose)', () => {
    const modules = { engine, host, hub, router, services, stack, tcp, tcpBuffer, tcpDirect, tcpIp, sw, network, runtime, ipv4, reassembly };
    // Errors and objects that never live in a running lab's state.
    const notState = new Set(['DecodeError', 'EncodeError', 'NetworkBuildError', 'SocketGateway', 'Capture', 'CaptureTap']);
    const registry = labRegistry();
    const missing: string[] = [];
    for (const [mod, exports] of Object.entries(modules)) {
      for (const [name, v] of Object.entries(exports)) {
        if (typeof v !== 'function' || !/^[A-Z]/.test(name) || !v.prototype || Object.getOwnPropertyNames(v.prototype).length <= 1) continue;
        if (v.prototype instanceof Error || notState.has(name)) continue;
        if (!registry.forProto(v.prototype as object)) missing.push(`${mod}.${name}`);
      }
    }
    expect(missing).toEqual([]);
  });
});
