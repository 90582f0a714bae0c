/**
 * Byte rings for TCP's send and receive queues. Bytes go in with one copy and come out with one
 * copy (or as views), whatever the segment boundaries were; the capacity is a power of two so
 * positions wrap with a mask. Plain data: a Uint8Array and three numbers.
 */

function powerOfTwoAtLeast(n: number): number {
  let c = 1024;
  while (c < n) c *= 2;
  return c;
}

export class TcpByteRing {
  readonly data: Uint8Array;
  readonly capacity: number;
  readonly mask: number;
  /** Position of the first byte. */
  head = 0;
  /** Bytes held from `head` on. */
  length = 0;

  /** The capacity is `size` rounded up to a power of two (at least 1 KiB). */
  constructor(size: number) {
    this.capacity = powerOfTwoAtLeast(size);
    this.mask = this.capacity - 1;
    this.data = new Uint8Array(this.capacity);
  }

  get free(): number {
    return this.capacity - this.length;
  }

  /** Appends up to `len` bytes of src[srcOff..]; returns how many fit. */
  append(src: Uint8Array, srcOff: number, len: number): number {
    const n = len < this.free ? len : this.free;
    this.writeAt(this.length, src, srcOff, n);
    this.length += n;
    return n;
  }

  /** Writes src[srcOff, srcOff+len) at `offset` bytes past the head (within capacity), not changing `length`. */
  writeAt(offset: number, src: Uint8Array, srcOff: number, len: number): void {
    if (len <= 0) return;
    const start = (this.head + offset) & this.mask;
    const first = this.capacity - start;
    if (len <= first) {
      this.data.set(len === src.length && srcOff === 0 ? src : src.subarray(srcOff, srcOff + len), start);
    } else {
      this.data.set(src.subarray(srcOff, srcOff + first), start);
      this.data.set(src.subarray(srcOff + first, srcOff + len), 0);
    }
  }

  /** Copies `len` bytes starting `offset` past the head into dst[dstOff..]. */
  copyOut(offset: number, len: number, dst: Uint8Array, dstOff: number): void {
    if (len <= 0) return;
    const start = (this.head + offset) & this.mask;
    const first = this.capacity - start;
    if (len <= first) {
      dst.set(this.data.subarray(start, start + len), dstOff);
    } else {
      dst.set(this.data.subarray(start, this.capacity), dstOff);
      dst.set(this.data.subarray(0, len - first), dstOff + first);
    }
  }

  /** The longest run of held bytes from the head that does not wrap, as a view (for delivery). */
  headRun(max: number): Uint8Array {
    const first = this.capacity - this.head;
    let n = this.length < first ? this.length : first;
    if (n > max) n = max;
    return this.data.subarray(this.head, this.head + n);
  }

  /**
   * Drops `n` bytes from the head. `rewind`: when that empties the ring, start again at
   * position 0 so that later appends stay in one piece; not when bytes were parked past
   * `length` with writeAt (out-of-order data).
   */
  consume(n: number, rewind = true): void {
    if (n >= this.length && rewind) {
      // Rewinding an empty ring keeps later appends in one piece.
      this.head = 0;
      this.length = 0;
      return;
    }
    this.head = (this.head + n) & this.mask;
    this.length -= n;
  }
}
