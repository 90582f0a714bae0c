/**
 * Frames carved from large shared buffers. A `new Uint8Array(n)` past V8's on-heap limit (64
 * bytes) allocates an ArrayBuffer of its own, which costs more than building the frame. A carved
 * frame still owns its bytes for good (nothing is handed out twice), so sending it is as safe as
 * sending a fresh array; a slab is freed once its last frame is.
 */
const SLAB_BYTES = 1 << 18;
const LARGE = 16384;

const FIRST_SLAB_BYTES = 4096;

export class FrameSlab {
  // Slabs start small and double: most of ten thousand hosts send a handful of frames.
  private buf = new ArrayBuffer(0);
  private pos = 0;
  private next = FIRST_SLAB_BYTES;

  /** n zeroed bytes. */
  alloc(n: number): Uint8Array {
    if (n > LARGE) return new Uint8Array(n);
    if (this.pos + n > this.buf.byteLength) {
      this.buf = new ArrayBuffer(this.next);
      this.next = Math.min(SLAB_BYTES, this.next * 2);
      this.pos = 0;
    }
    const out = new Uint8Array(this.buf, this.pos, n);
    this.pos += (n + 7) & ~7;
    return out;
  }
}
