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
  // Slabs start small and double: a lab of a few quiet hosts keeps a few KiB.
  private buf = new ArrayBuffer(0);
  private pos = 0;
  private next = FIRST_SLAB_BYTES;

  /** n zeroed bytes. */
  alloc(n: number): Uint8Array {
    // The common case only, kept short: the router's fast path inlines it into its frame loop.
    const pos = this.pos;
    if (n > LARGE || pos + n > this.buf.byteLength) return this.allocSlow(n);
    this.pos = pos + ((n + 7) & ~7);
    return new Uint8Array(this.buf, pos, n);
  }

  /** A large frame on its own, or the first frame of a fresh slab. */
  private allocSlow(n: number): Uint8Array {
    if (n > LARGE) return new Uint8Array(n);
    this.buf = new ArrayBuffer(this.next);
    this.next = Math.min(SLAB_BYTES, this.next * 2);
    const out = new Uint8Array(this.buf, 0, n);
    this.pos = (n + 7) & ~7;
    return out;
  }
}

const byEngine = new WeakMap<object, FrameSlab>();

/**
 * The slab every stack driven by `engine` carves its frames from. One per stack would leave each
 * of ten thousand hosts holding a partly used buffer of its own for a handful of frames; shared,
 * the frames of a lab fill whole slabs in the order they are sent.
 */
export function engineSlab(engine: object): FrameSlab {
  let slab = byEngine.get(engine);
  if (slab === undefined) {
    slab = new FrameSlab();
    byEngine.set(engine, slab);
  }
  return slab;
}
