/**
 * Trace records as the WebSocket sends them: every field of the record, a frame traced on
 * two links decoded once yet written whole on both, and a buffer rewound between runs never
 * answered from stale bytes.
 */
import { describe, expect, it } from 'vitest';
import { everyFrame } from '../../devices/demo/every-frame.js';
import { Engine, Link, Port, type FrameSink } from '../../devices/engine/index.js';
import { decodeFrame } from '../../devices/trace/decode.js';
import { JsonBytes } from '../../devices/trace/json.js';
import { LinkTrace, TraceRecords } from '../../server/trace.js';

const sink = (name: string): FrameSink & { name: string } => ({ name, onFrame: () => undefined });

function taps() {
  const engine = new Engine({ mode: 'virtual', seed: 1 });
  const pc = sink('pc1');
  const sw = sink('sw1');
  const pc2 = sink('pc2');
  const first = new LinkTrace(new Link(engine, 'a', new Port(pc, 'eth0', 0), new Port(sw, 'e1', 0)), 'pc1:eth0--sw1:e1', ['pc1:eth0', 'sw1:e1']);
  const second = new LinkTrace(new Link(engine, 'b', new Port(sw, 'e2', 1), new Port(pc2, 'eth0', 0)), 'sw1:e2--pc2:eth0 ü', ['sw1:e2', 'pc2:eth0']);
  return { first, second };
}

function parse(w: JsonBytes, from = 0): unknown[] {
  const text = new TextDecoder().decode(w.bytes.subarray(from, w.length));
  expect(/^[\x00-\x7f]*$/.test(text)).toBe(true);
  return JSON.parse(`[${text}]`) as unknown[];
}

describe('trace records', () => {
  const frames = everyFrame();

  it('carry time, link, ends, length, the decoded frame and its bytes', () => {
    const { first, second } = taps();
    const records = new TraceRecords();
    const w = new JsonBytes(64);
    records.begin(w);
    const ping = frames.find((f) => f.what === 'ICMP echo request')!.frame;
    records.write(w, ping, 1_500_000_000.4, first, 2, true);
    w.byte(0x2c);
    records.write(w, ping, 2 ** 40, second, 1, false);
    const d = decodeFrame(ping);
    const decoded = { protocol: d.protocol, src: d.src, dst: d.dst, info: d.info, layers: d.layers };
    expect(parse(w)).toEqual([
      { time: 1_500_000_000, link: 'pc1:eth0--sw1:e1', from: 'pc1:eth0', to: 'sw1:e1', length: ping.length, ...decoded, raw: Buffer.from(ping).toString('base64') },
      { time: 2 ** 40, link: 'sw1:e2--pc2:eth0 ü', from: 'pc2:eth0', to: 'sw1:e2', length: ping.length, ...decoded },
    ]);
  });

  it('write every frame the same on every link, however often it comes back', () => {
    const { first, second } = taps();
    const records = new TraceRecords();
    const w = new JsonBytes(256);
    records.begin(w);
    const order = [...frames, ...frames.slice().reverse(), ...frames];
    for (const [i, { frame }] of order.entries()) {
      if (i > 0) w.byte(0x2c);
      records.write(w, frame, i, i % 2 ? first : second, 1 + (i % 2), i % 3 === 0);
    }
    const parsed = parse(w) as { time: number; layers: unknown; info: string }[];
    for (const [i, { frame }] of order.entries()) {
      const d = decodeFrame(frame);
      expect(parsed[i]).toMatchObject({ time: i, length: frame.length, protocol: d.protocol, info: d.info, layers: d.layers });
    }
  });

  it('decode afresh once the buffer is rewound, even without begin', () => {
    const { first } = taps();
    const records = new TraceRecords();
    const w = new JsonBytes(64);
    records.begin(w);
    const [a, b] = [frames[0]!.frame, frames[5]!.frame];
    records.write(w, a, 1, first, 1, false);
    records.write(w, b, 2, first, 1, false);
    // Rewound: what was cached for `a` now lies under other bytes.
    w.length = 0;
    records.write(w, b, 3, first, 1, false);
    w.byte(0x2c);
    records.write(w, a, 4, first, 1, false);
    const [rb, ra] = parse(w) as { info: string; time: number }[];
    expect(rb).toMatchObject({ time: 3, info: decodeFrame(b).info });
    expect(ra).toMatchObject({ time: 4, info: decodeFrame(a).info });
    // Another buffer altogether.
    const other = new JsonBytes(64);
    records.write(other, a, 5, first, 1, false);
    expect(parse(other)).toMatchObject([{ time: 5, info: decodeFrame(a).info }]);
  });
});
