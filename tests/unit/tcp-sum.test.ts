/**
 * The data path's checksum and byte rings against simple models: the fast checksum must equal
 * wire/bytes.ts onesSum for every buffer, alignment and length; the ring must behave like a
 * plain byte queue through every wrap-around.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { onesSum } from '../../devices/wire/bytes.js';
import { tcpOnesSum, tcpPseudoSum, tcpSegmentChecksumOk, tcpSegmentFillChecksum } from '../../devices/stack/tcp-sum.js';
import { TcpByteRing } from '../../devices/stack/tcp-buffer.js';
import { pseudoHeaderSum } from '../../devices/wire/bytes.js';

describe('tcpOnesSum', () => {
  it('equals onesSum for any bytes, offset (any alignment, any view) and initial sum', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 0, maxLength: 3000 }),
        fc.nat(7),
        fc.nat(7),
        fc.integer({ min: 0, max: 0xffff }),
        (data, viewOffset, start, initial) => {
          const backing = new Uint8Array(data.length + 16);
          const view = backing.subarray(viewOffset, viewOffset + data.length + 8);
          view.set(data, Math.min(start, 8));
          const o = Math.min(start, 8);
          expect(tcpOnesSum(view, o, data.length, initial)).toBe(onesSum(view, o, data.length, initial));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('handles the edge values: all zeros, all ones, sums that are multiples of 0xffff', () => {
    for (const fill of [0, 0xff, 0x7f]) {
      for (const len of [64, 65, 66, 67, 1460, 1461]) {
        const b = new Uint8Array(len + 4).fill(fill);
        for (const init of [0, 1, 0xfffe, 0xffff]) expect(tcpOnesSum(b, 2, len, init)).toBe(onesSum(b, 2, len, init));
      }
    }
  });

  it('fills and verifies segment checksums the same way as the pseudo-header helpers of wire', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 20, maxLength: 2000 }), fc.nat(), fc.nat(), (seg, src, dst) => {
        src >>>= 0;
        dst >>>= 0;
        expect(tcpPseudoSum(src, dst, seg.length)).toBe(pseudoHeaderSum(src, dst, 6, seg.length));
        const b = seg.slice();
        b[16] = 0;
        b[17] = 0;
        tcpSegmentFillChecksum(b, 0, b.length, src, dst);
        expect(tcpSegmentChecksumOk(b, 0, b.length, src, dst)).toBe(true);
        b[b.length - 1] ^= 0x40;
        expect(tcpSegmentChecksumOk(b, 0, b.length, src, dst)).toBe(false);
      }),
      { numRuns: 500 },
    );
  });
});

describe('TcpByteRing', () => {
  it('behaves as a byte queue through wrap-arounds (append, copyOut at offsets, headRun, consume)', () => {
    type Op = { kind: 'append'; n: number } | { kind: 'consume'; n: number } | { kind: 'peek'; off: number; n: number };
    const op = fc.oneof(
      fc.record({ kind: fc.constant('append' as const), n: fc.nat(1500) }),
      fc.record({ kind: fc.constant('consume' as const), n: fc.nat(1500) }),
      fc.record({ kind: fc.constant('peek' as const), off: fc.nat(2048), n: fc.nat(1500) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops: Op[]) => {
        const ring = new TcpByteRing(2048);
        const model: number[] = [];
        let next = 0;
        for (const o of ops) {
          if (o.kind === 'append') {
            const src = new Uint8Array(o.n).map(() => next++ & 0xff);
            const took = ring.append(src, 0, o.n);
            expect(took).toBe(Math.min(o.n, 2048 - model.length));
            for (let i = 0; i < took; i++) model.push(src[i]!);
            next -= o.n - took;
          } else if (o.kind === 'consume') {
            const n = Math.min(o.n, model.length);
            const run = ring.headRun(n);
            expect([...run]).toEqual(model.slice(0, run.length));
            ring.consume(n);
            model.splice(0, n);
          } else {
            const off = Math.min(o.off, model.length);
            const n = Math.min(o.n, model.length - off);
            const dst = new Uint8Array(n + 3);
            ring.copyOut(off, n, dst, 3);
            expect([...dst.subarray(3)]).toEqual(model.slice(off, off + n));
          }
          expect(ring.length).toBe(model.length);
        }
      }),
      { numRuns: 300 },
    );
  });
});
