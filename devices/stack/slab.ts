/**
 * Frames carved from large shared buffers. A `new Uint8Array(n)` past V8's on-heap limit (64
 * bytes) allocates an ArrayBuffer of its own, which costs more than building the frame. A carved
 * frame still owns its bytes for good (nothing is handed out twice), so sending it is as safe as
 * sending a fresh array; a slab is freed once its last frame is.
 */
const SLAB_BYTES = 1 << 18;
const LARGE = 16384;

export class FrameSlab {
  private buf = new ArrayBuffer(SLAB_BYTES);
  private pos = 0;

  /** n zeroed bytes. */
  alloc(n: number): Uint8Array {
    if (n > LARGE) return new Uint8Array(n);
    if (this.pos + n > SLAB_BYTES) {
      this.buf = new ArrayBuffer(SLAB_BYTES);
      this.pos = 0;
    }
    const out = new Uint8Array(this.buf, this.pos, n);
    this.pos += (n + 7) & ~7;
    return out;
  }
}
