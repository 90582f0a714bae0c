/**
 * MD5 (RFC 1321), for the keyed-MD5 authentication of OSPFv2 (RFC 2328 D.3) and RIPv2 (RFC 2082 /
 * RFC 4822). devices/ may not import node:crypto, and these digests cover a packet followed by a
 * key, so the digest is fed span by span (md5Begin/md5Update/md5Finish) and needs no copy.
 * Not for security of our own: it authenticates the way those protocols define.
 */

// Per-round shift amounts and the sine-derived constants K[i] = floor(abs(sin(i + 1)) * 2^32).
const S = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21];
const K = new Int32Array(64);
for (let i = 0; i < 64; i++) K[i] = Math.floor(Math.abs(Math.sin(i + 1)) * 2 ** 32) | 0;

// Scratch shared by every call: one block and the state. Digests run to completion synchronously.
const block = new Uint8Array(64);
const X = new Int32Array(16);
const H = new Int32Array(4);

function compress(): void {
  for (let i = 0; i < 16; i++) X[i] = block[i * 4]! | (block[i * 4 + 1]! << 8) | (block[i * 4 + 2]! << 16) | (block[i * 4 + 3]! << 24);
  let a = H[0]!;
  let b = H[1]!;
  let c = H[2]!;
  let d = H[3]!;
  for (let i = 0; i < 64; i++) {
    let f: number;
    let g: number;
    const round = i >>> 4;
    if (round === 0) {
      f = (b & c) | (~b & d);
      g = i;
    } else if (round === 1) {
      f = (d & b) | (~d & c);
      g = (5 * i + 1) & 15;
    } else if (round === 2) {
      f = b ^ c ^ d;
      g = (3 * i + 5) & 15;
    } else {
      f = c ^ (b | ~d);
      g = (7 * i) & 15;
    }
    const s = S[(round << 2) | (i & 3)]!;
    const t = (a + f + K[i]! + X[g]!) | 0;
    a = d;
    d = c;
    c = b;
    b = (b + ((t << s) | (t >>> (32 - s)))) | 0;
  }
  H[0] = (H[0]! + a) | 0;
  H[1] = (H[1]! + b) | 0;
  H[2] = (H[2]! + c) | 0;
  H[3] = (H[3]! + d) | 0;
}

let fill = 0;
let total = 0;

/** Starts a digest. The state is shared: begin, update and finish run without interleaving another digest. */
export function md5Begin(): void {
  H[0] = 0x67452301;
  H[1] = 0xefcdab89;
  H[2] = 0x98badcfe;
  H[3] = 0x10325476;
  fill = 0;
  total = 0;
}

/** Adds buf[off..off+len) to the digest begun last. */
export function md5Update(buf: Uint8Array, off: number, len: number): void {
  for (let i = 0; i < len; i++) {
    block[fill++] = buf[off + i]!;
    if (fill === 64) {
      compress();
      fill = 0;
    }
  }
  total += len;
}

/** Adds n zero bytes (key padding). */
export function md5UpdateZeros(n: number): void {
  for (let i = 0; i < n; i++) {
    block[fill++] = 0;
    if (fill === 64) {
      compress();
      fill = 0;
    }
  }
  total += n;
}

/** Pads, and writes the 16-byte digest into out[outOffset..outOffset+16). */
export function md5Finish(out: Uint8Array, outOffset = 0): void {
  block[fill++] = 0x80;
  if (fill > 56) {
    block.fill(0, fill);
    compress();
    fill = 0;
  }
  block.fill(0, fill, 56);
  // The message length in bits, little-endian 64-bit (exact for anything under 2^53 bits).
  const bits = total * 8;
  const lo = bits >>> 0;
  const hi = Math.floor(bits / 2 ** 32) >>> 0;
  for (let i = 0; i < 4; i++) {
    block[56 + i] = (lo >>> (8 * i)) & 0xff;
    block[60 + i] = (hi >>> (8 * i)) & 0xff;
  }
  compress();
  for (let i = 0; i < 4; i++) {
    const w = H[i]!;
    out[outOffset + i * 4] = w & 0xff;
    out[outOffset + i * 4 + 1] = (w >>> 8) & 0xff;
    out[outOffset + i * 4 + 2] = (w >>> 16) & 0xff;
    out[outOffset + i * 4 + 3] = (w >>> 24) & 0xff;
  }
}

/**
 * The keyed digest OSPF (RFC 2328 D.4.3) and RIPv2 (RFC 2082) use: MD5 of buf[off..off+len)
 * followed by the key cut or zero-padded to 16 bytes, written into out at outOffset.
 */
export function md5WithKey(buf: Uint8Array, off: number, len: number, key: Uint8Array, out: Uint8Array, outOffset: number): void {
  const k = Math.min(16, key.length);
  md5Begin();
  md5Update(buf, off, len);
  md5Update(key, 0, k);
  md5UpdateZeros(16 - k);
  md5Finish(out, outOffset);
}

/** The digest of one buffer, as a new array (tests and tools). */
export function md5(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(16);
  md5Begin();
  md5Update(data, 0, data.length);
  md5Finish(out, 0);
  return out;
}
