/**
 * A trace subscription's queue starts small and doubles while its client falls behind (so that
 * thousands of idle subscriptions cost little): frames come out in the order they went in across
 * every growth, also when the ring had wrapped, and beyond its full size frames are counted as
 * dropped, never queued.
 */
import { expect, it } from 'vitest';
import { JsonBytes } from '../../devices/trace/json.js';
import type { Link } from '../../devices/engine/index.js';
import { LinkTrace, TraceRecords, TraceSubscription } from '../../server/trace.js';

function frame(length: number): Uint8Array {
  const f = new Uint8Array(length);
  f.fill(0xff, 0, 6); // broadcast
  f.set([2, 0, 0, 0, 0, 1], 6);
  f[12] = 0x88; // an EtherType nobody decodes further
  f[13] = 0xb5;
  return f;
}

it('grows in order across a wrapped ring, up to its size, then counts drops', () => {
  const link = { ends: [{ owner: { name: 'a' }, name: 'eth0' }], engine: { now: 0 } } as unknown as Link;
  const tap = new LinkTrace(link, 'a:eth0--b:eth0', ['a:eth0', 'b:eth0']);
  let woken = 0;
  const sub = new TraceSubscription('t', 'lab', null, null, false, () => woken++, 64);
  expect(sub.capacity).toBe(16);
  const out = new JsonBytes(1 << 16);
  const records = new TraceRecords();
  const take = (n: number): number[] => {
    const lengths: number[] = [];
    for (let i = 0; i < n; i++) {
      out.length = 0;
      records.begin(out);
      sub.writeRecord(out, records);
      records.end();
      lengths.push(Number(/"length":(\d+)/.exec(Buffer.from(out.bytes.subarray(0, out.length)).toString('latin1'))![1]));
    }
    return lengths;
  };
  let next = 60;
  const offer = (n: number) => {
    for (let i = 0; i < n; i++) sub.offer(tap, frame(next++), 1, 0);
  };
  offer(10);
  expect(take(5)).toEqual([60, 61, 62, 63, 64]);
  offer(20); // wraps the 16-frame ring, then doubles it
  expect(sub.capacity).toBe(32);
  expect(sub.count).toBe(25);
  expect(take(25)).toEqual(Array.from({ length: 25 }, (_, i) => 65 + i));
  offer(70); // 64 fit, 6 are dropped
  expect(sub.capacity).toBe(64);
  expect(sub.count).toBe(64);
  expect(sub.dropped).toBe(6);
  expect(take(64)).toEqual(Array.from({ length: 64 }, (_, i) => 90 + i));
  expect(woken).toBe(2); // once per empty-to-not-empty
});
