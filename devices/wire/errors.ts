/**
 * The one error every codec throws for malformed input. Callers that take frames from outside
 * catch exactly this type, count the frame and drop it; anything else escaping a codec is a bug.
 */
export class DecodeError extends Error {
  override readonly name = 'DecodeError';
  constructor(
    /** Which codec refused the bytes, e.g. "ipv4". */
    readonly layer: string,
    message: string,
    /** Byte offset in the buffer where the problem was found. */
    readonly offset = 0,
  ) {
    super(`${layer}: ${message} (at byte ${offset})`);
  }
}

/** Throws a DecodeError unless `len` bytes are available at `offset`. */
export function need(layer: string, buf: Uint8Array, offset: number, len: number): void {
  if (offset < 0 || len < 0 || offset + len > buf.length) {
    throw new DecodeError(layer, `truncated: need ${len} bytes, have ${Math.max(0, buf.length - offset)}`, offset);
  }
}

/** Thrown by encoders when the caller's buffer is too small; a programming error, not bad input. */
export class EncodeError extends Error {
  override readonly name = 'EncodeError';
}

export function room(layer: string, buf: Uint8Array, offset: number, len: number): void {
  if (offset < 0 || offset + len > buf.length) {
    throw new EncodeError(`${layer}: buffer too small: need ${len} bytes at ${offset}, have ${buf.length - offset}`);
  }
}
