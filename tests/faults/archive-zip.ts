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
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x800, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt32LE(crc >>> 0, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(name.length, 26);
    locals.push(local, name, body);
    const c = Buffer.alloc(46);
    c.writeUInt32LE(0x02014b50, 0);
    c.writeUInt16LE((3 << 8) | 20, 4);
    c.writeUInt16LE(20, 6);
    c.writeUInt16LE(0x800, 8);
    c.writeUInt16LE(method, 10);
    c.writeUInt32LE(crc >>> 0, 16);
    c.writeUInt32LE(body.length, 20);
    c.writeUInt32LE(size, 24);
    c.writeUInt16LE(name.length, 28);
    c.writeUInt32LE(((e.mode ?? 0o100644) << 16) >>> 0, 38);
    c.writeUInt32LE(offset, 42);
    centrals.push(c, name);
    offset += 30 + name.length + body.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return new Uint8Array(Buffer.concat([...locals, cd, end]));
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
