/**
 * Hand-made zip archives for the archive tests: written byte by byte, so that an entry can lie
 * about its size, its CRC or its type, and .wlab archives around such entries.
 */
import { createHash } from 'node:crypto';
import { deflateRawSync } from 'node:zlib';
import { crc32 } from '../../server/snapshots-zip.js';

export interface Entry {
  name: string;
  data?: Uint8Array;
  /** Unix mode for the central directory (made by Unix). */
  mode?: number;
  /** Size to declare instead of the real one. */
  declare?: number;
  deflate?: boolean;
  /** Already deflated bytes (raw deflate) standing for `data`; saves deflating big entries twice. */
  deflated?: Uint8Array;
  /** Zstandard bytes standing for `data` (method 93, as GNS3 3.x writes). */
  zstd?: Uint8Array;
  /** CRC of the inflated bytes, when `data` is left out for a pre-deflated entry. */
  crc?: number;
  badCrc?: boolean;
}

/** A zip written byte by byte, so that it can lie. */
export function zip(entries: Entry[]): Uint8Array {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const data = Buffer.from(e.data ?? new Uint8Array(0));
    const deflate = e.deflate === true || e.deflated !== undefined;
    const method = e.zstd ? 93 : deflate ? 8 : 0;
    const body = e.zstd ? Buffer.from(e.zstd) : e.deflated ? Buffer.from(e.deflated) : e.deflate ? deflateRawSync(data) : data;
    const name = Buffer.from(e.name, 'utf8');
    const real = e.crc ?? crc32(data);
    const crc = e.badCrc ? real ^ 1 : real;
    const size = e.declare ?? data.length;
    // [offset, bytes, value] of each header field (APPNOTE 4.3.7 and 4.3.12); version 2.0, UTF-8 names.
    const common = (at: number): Field[] => [[at, 2, 20], [at + 2, 2, 0x800], [at + 4, 2, method], [at + 10, 4, crc >>> 0], [at + 14, 4, body.length], [at + 18, 4, size], [at + 22, 2, name.length]];
    locals.push(header(30, [[0, 4, 0x04034b50], ...common(4)]), name, body);
    centrals.push(header(46, [[0, 4, 0x02014b50], [4, 2, (3 << 8) | 20], ...common(6), [38, 4, ((e.mode ?? 0o100644) << 16) >>> 0], [42, 4, offset]]), name);
    offset += 30 + name.length + body.length;
  }
  const cd = Buffer.concat(centrals);
  const end = header(22, [[0, 4, 0x06054b50], [8, 2, entries.length], [10, 2, entries.length], [12, 4, cd.length], [16, 4, offset]]);
  return new Uint8Array(Buffer.concat([...locals, cd, end]));
}

type Field = [at: number, bytes: 2 | 4, value: number];

function header(size: number, fields: Field[]): Buffer {
  const b = Buffer.alloc(size);
  for (const [at, bytes, value] of fields) bytes === 2 ? b.writeUInt16LE(value, at) : b.writeUInt32LE(value, at);
  return b;
}

export const text = (s: string) => new TextEncoder().encode(s);
export const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
export const LAB_YAML = 'wirelab: 1\nname: evil\nnodes:\n  pc1: { kind: host }\n';

/** A manifest entry: the real size and SHA-256 unless given. */
export interface Listed {
  size?: number;
  sha256?: string;
}

/** A well-formed archive around the given files (the manifest lists them all). */
export function archive(files: (Entry & { listed?: Listed })[], manifest: Record<string, unknown> = {}): Uint8Array {
  const m = {
    format: 'wirelab-archive',
    version: 1,
    wirelab: 1,
    lab: 'evil',
    exportedAt: '2026-01-01T00:00:00Z',
    withSnapshots: false,
    current: null,
    files: files.map((f) => ({
      path: f.name,
      size: f.listed?.size ?? f.declare ?? (f.data ?? new Uint8Array(0)).length,
      sha256: f.listed?.sha256 ?? sha(f.data ?? new Uint8Array(0)),
    })),
    ...manifest,
  };
  return zip([{ name: 'manifest.json', data: text(JSON.stringify(m)) }, ...files]);
}

/**
 * A zero-filled entry of `size` bytes, deflated once (about 1000:1), with what a manifest and a
 * central directory say of it.
 */
export function zeros(size: number): { deflated: Uint8Array; crc: number; sha256: string } {
  const data = new Uint8Array(size);
  return { deflated: new Uint8Array(deflateRawSync(data, { level: 9 })), crc: crc32(data), sha256: sha(data) };
}

/**
 * A Zstandard frame of `size` copies of `byte`, as RLE blocks (4 bytes a 128 KiB block: a
 * zstd bomb packs about 32,000:1).
 */
export function zstdRle(byte: number, size: number): Uint8Array {
  const BLOCK = 1 << 17;
  // Magic; frame header: no content size, a 128 KiB window (exponent 7).
  const out = [0x28, 0xb5, 0x2f, 0xfd, 0x00, 7 << 3];
  for (let left = size; left > 0 || out.length === 6; left -= BLOCK) {
    const n = Math.min(left, BLOCK);
    const last = left <= BLOCK ? 1 : 0;
    const header = last | (1 << 1) | (n << 3);
    out.push(header & 0xff, (header >> 8) & 0xff, (header >> 16) & 0xff, byte);
  }
  return new Uint8Array(out);
}
