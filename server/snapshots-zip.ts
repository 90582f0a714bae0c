/**
 * Zip archives, read with suspicion. The central directory is parsed here (fflate's readers do
 * not show the entries' Unix modes, which is where a symlink hides), every entry is checked
 * before a byte is inflated (names, types, declared sizes, entry count), and each entry is then
 * inflated as a stream that stops at its declared size and at the caller's caps, with its CRC
 * checked: a zip bomb costs at most the cap. Deflate comes from fflate (small entries, at once)
 * or node:zlib (streamEntry: inflated on libuv's thread pool, so a big entry does not hold the
 * event loop), zstd (method 93, GNS3 3.x project exports) from fzstd. Archives are written with
 * fflate.
 */
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { createInflateRaw, crc32 as zlibCrc32 } from 'node:zlib';
import { Inflate, zipSync, type Zippable } from 'fflate';
import { Decompress as ZstdDecompress } from 'fzstd';

export class ArchiveError extends Error {
  constructor(
    message: string,
    /** The entry at fault, when one is. */
    readonly entry?: string,
  ) {
    super(entry === undefined ? message : `${entry}: ${message}`);
  }
}

export interface ZipLimits {
  /** Largest archive read at all. */
  maxArchiveBytes: number;
  maxEntries: number;
  /** Largest entry once inflated. */
  maxEntryBytes: number;
  /** Largest sum of the entries once inflated. */
  maxTotalBytes: number;
}

export const DEFAULT_LIMITS: ZipLimits = {
  maxArchiveBytes: 256 << 20,
  maxEntries: 10_000,
  maxEntryBytes: 128 << 20,
  maxTotalBytes: 512 << 20,
};

export interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  crc: number;
  dir: boolean;
  /** Where the entry's local header is. */
  offset: number;
}

const METHOD_STORED = 0;
const METHOD_DEFLATE = 8;
const METHOD_ZSTD = 93;

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;

function u16(b: Uint8Array, at: number): number {
  return b[at]! | (b[at + 1]! << 8);
}
function u32(b: Uint8Array, at: number): number {
  return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;
}

/**
 * A relative path with no way out: no leading /, no drive letter, no backslash, no `.` or `..`
 * segment, no empty segment, no control characters.
 */
export function checkEntryName(name: string): string | null {
  if (name.length === 0) return 'an empty name';
  if (name.length > 512) return 'a name longer than 512 characters';
  if (/[\u0000-\u001f\u007f]/.test(name)) return 'a name with control characters';
  if (name.includes('\\')) return 'a backslash in the name (not a portable path)';
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) return 'an absolute path';
  const parts = name.replace(/\/$/, '').split('/');
  if (parts.some((p) => p === '..')) return 'a path that climbs out with ..';
  if (parts.some((p) => p === '' || p === '.')) return 'an empty or . path segment';
  return null;
}

/** Lists and checks every entry of a zip archive without inflating anything. */
export function listZip(bytes: Uint8Array, limits: ZipLimits = DEFAULT_LIMITS): ZipEntry[] {
  if (bytes.length > limits.maxArchiveBytes) throw new ArchiveError(`the archive is ${bytes.length} bytes; at most ${limits.maxArchiveBytes} are read`);
  if (bytes.length < 22) throw new ArchiveError('not a zip archive (too short)');
  let eocd = -1;
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 22 - 65535); i--) {
    if (u32(bytes, i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new ArchiveError('not a zip archive (no end of central directory)');
  const disk = u16(bytes, eocd + 4);
  const cdDisk = u16(bytes, eocd + 6);
  const onDisk = u16(bytes, eocd + 8);
  const count = u16(bytes, eocd + 10);
  const cdSize = u32(bytes, eocd + 12);
  const cdOffset = u32(bytes, eocd + 16);
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) throw new ArchiveError('zip64 archives (over 4 GiB or 65535 entries) are not read');
  if (disk !== 0 || cdDisk !== 0 || onDisk !== count) throw new ArchiveError('multi-part zip archives are not read');
  if (count > limits.maxEntries) throw new ArchiveError(`the archive has ${count} entries; at most ${limits.maxEntries} are read`);
  if (cdOffset + cdSize > eocd) throw new ArchiveError('the central directory lies outside the archive');

  const entries: ZipEntry[] = [];
  const seen = new Set<string>();
  let at = cdOffset;
  let declaredTotal = 0;
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  for (let n = 0; n < count; n++) {
    if (at + 46 > eocd || u32(bytes, at) !== 0x02014b50) throw new ArchiveError('the central directory is damaged');
    const madeBy = u16(bytes, at + 4);
    const flags = u16(bytes, at + 8);
    const method = u16(bytes, at + 10);
    const crc = u32(bytes, at + 16);
    const compressedSize = u32(bytes, at + 20);
    const size = u32(bytes, at + 24);
    const nameLen = u16(bytes, at + 28);
    const extraLen = u16(bytes, at + 30);
    const commentLen = u16(bytes, at + 32);
    const external = u32(bytes, at + 38);
    const offset = u32(bytes, at + 42);
    if (at + 46 + nameLen > eocd) throw new ArchiveError('the central directory is damaged');
    let name: string;
    try {
      name = utf8.decode(bytes.subarray(at + 46, at + 46 + nameLen));
    } catch {
      throw new ArchiveError('an entry name is not UTF-8');
    }
    at += 46 + nameLen + extraLen + commentLen;

    const bad = checkEntryName(name);
    if (bad) throw new ArchiveError(`refused: ${bad}`, name);
    if (flags & 1) throw new ArchiveError('refused: the entry is encrypted', name);
    const host = madeBy >> 8;
    const mode = external >>> 16;
    let dir = name.endsWith('/');
    if (host === 3 && mode !== 0) {
      const type = mode & S_IFMT;
      if (type === S_IFLNK) throw new ArchiveError('refused: the entry is a symbolic link', name);
      if (type === S_IFDIR) dir = true;
      else if (type !== S_IFREG && type !== 0) throw new ArchiveError('refused: the entry is a device, socket or pipe, not a file', name);
    }
    // DOS attributes: 0x400 is a reparse point (a Windows link).
    if (host === 0 && external & 0x400) throw new ArchiveError('refused: the entry is a link (reparse point)', name);
    if (!dir && method !== METHOD_STORED && method !== METHOD_DEFLATE && method !== METHOD_ZSTD) {
      throw new ArchiveError(`refused: compression method ${method} (stored, deflate and zstd are read)`, name);
    }
    const key = name.replace(/\/$/, '');
    if (seen.has(key)) throw new ArchiveError('refused: the name appears twice', name);
    seen.add(key);
    if (!dir) {
      if (size > limits.maxEntryBytes) throw new ArchiveError(`refused: ${size} bytes once inflated; an entry may have at most ${limits.maxEntryBytes}`, name);
      declaredTotal += size;
      if (declaredTotal > limits.maxTotalBytes) throw new ArchiveError(`refused: the entries add up to more than ${limits.maxTotalBytes} bytes once inflated`);
    }
    if (offset + 30 > bytes.length) throw new ArchiveError('the entry lies outside the archive', name);
    entries.push({ name, method, compressedSize, size, crc, dir, offset });
  }
  return entries;
}

/** Where an entry's data lies, after its local header is checked against the central directory. */
function entryData(bytes: Uint8Array, e: ZipEntry): Uint8Array {
  if (e.dir) throw new ArchiveError('is a folder', e.name);
  if (e.offset + 30 > bytes.length || u32(bytes, e.offset) !== 0x04034b50) throw new ArchiveError('the local header is missing', e.name);
  const nameLen = u16(bytes, e.offset + 26);
  const extraLen = u16(bytes, e.offset + 28);
  const localName = new TextDecoder().decode(bytes.subarray(e.offset + 30, e.offset + 30 + nameLen));
  if (localName !== e.name) throw new ArchiveError(`the local header names ${JSON.stringify(localName)}`, e.name);
  const start = e.offset + 30 + nameLen + extraLen;
  if (start + e.compressedSize > bytes.length) throw new ArchiveError('the data runs past the end of the archive', e.name);
  return bytes.subarray(start, start + e.compressedSize);
}

/** The bytes of a file entry: inflated no further than its declared size, CRC checked. */
export function readZipEntry(bytes: Uint8Array, e: ZipEntry, limits: ZipLimits = DEFAULT_LIMITS): Uint8Array {
  const data = entryData(bytes, e);
  const cap = Math.min(e.size, limits.maxEntryBytes);
  const out = new Uint8Array(cap);
  let filled = 0;
  const take = (chunk: Uint8Array) => {
    if (filled + chunk.length > cap) throw new ArchiveError(`inflates to more than the ${e.size} bytes it declares`, e.name);
    out.set(chunk, filled);
    filled += chunk.length;
  };
  const feed = (push: (chunk: Uint8Array, final: boolean) => void) => {
    const step = 1 << 16;
    for (let i = 0; i < data.length; i += step) push(data.subarray(i, Math.min(data.length, i + step)), i + step >= data.length);
    if (data.length === 0) push(new Uint8Array(0), true);
  };
  try {
    if (e.method === METHOD_STORED) take(data);
    else if (e.method === METHOD_DEFLATE) {
      const inf = new Inflate((chunk) => take(chunk));
      feed((c, f) => inf.push(c, f));
    } else if (e.method === METHOD_ZSTD) {
      const z = new ZstdDecompress((chunk) => take(chunk));
      feed((c, f) => z.push(c, f));
    }
  } catch (err) {
    if (err instanceof ArchiveError) throw err;
    throw new ArchiveError(`cannot be inflated: ${(err as Error).message}`, e.name);
  }
  if (filled !== e.size) throw new ArchiveError(`inflates to ${filled} bytes, not the ${e.size} it declares`, e.name);
  if (crc32(out) !== e.crc) throw new ArchiveError('its CRC does not match: the archive is damaged', e.name);
  return out;
}

/** Input handed to an inflater at a time: small, so that no single step holds the event loop long. */
const STREAM_STEP = 1 << 16;

/**
 * A file entry inflated as a stream, chunk by chunk, into `sink` (awaited: it may write to disk),
 * without ever holding the whole entry. Deflate runs on libuv's thread pool (node:zlib); stored
 * and zstd entries are handed over in steps with a turn of the event loop between. The stream
 * is stopped as soon as it passes the entry's declared size (a central directory can lie), and
 * its CRC is checked at the end.
 */
export async function streamEntry(bytes: Uint8Array, e: ZipEntry, sink: (chunk: Uint8Array) => void | Promise<void>, limits: ZipLimits = DEFAULT_LIMITS): Promise<void> {
  const data = entryData(bytes, e);
  const cap = Math.min(e.size, limits.maxEntryBytes);
  let filled = 0;
  let crc = 0;
  const take = async (chunk: Uint8Array) => {
    if (filled + chunk.length > cap) throw new ArchiveError(`inflates to more than the ${e.size} bytes it declares`, e.name);
    filled += chunk.length;
    crc = zlibCrc32(chunk, crc);
    await sink(chunk);
  };
  try {
    if (e.method === METHOD_STORED) {
      for (let i = 0; i < data.length; i += STREAM_STEP) {
        await take(data.subarray(i, Math.min(data.length, i + STREAM_STEP)));
        await yieldToLoop();
      }
    } else if (e.method === METHOD_DEFLATE) {
      const inf = createInflateRaw({ chunkSize: STREAM_STEP });
      // 'close' too: a reader that gave up (cap reached) destroys the stream, and no drain comes.
      const drained = () =>
        new Promise<void>((r) => {
          const done = () => (inf.off('drain', done), inf.off('close', done), r());
          inf.on('drain', done);
          inf.on('close', done);
        });
      const fed = (async () => {
        for (let i = 0; i < data.length; i += STREAM_STEP) {
          if (inf.destroyed) return;
          if (!inf.write(data.subarray(i, Math.min(data.length, i + STREAM_STEP)))) await drained();
        }
        if (!inf.destroyed) inf.end();
      })();
      try {
        for await (const chunk of inf) await take(chunk as Buffer);
      } finally {
        inf.destroy();
        await fed.catch(() => undefined);
      }
    } else if (e.method === METHOD_ZSTD) {
      // fzstd is synchronous: small input steps bound each step's output, a cap check between.
      const pending: Uint8Array[] = [];
      const z = new ZstdDecompress((chunk) => {
        if (filled + pending.reduce((n, c) => n + c.length, 0) + chunk.length > cap) throw new ArchiveError(`inflates to more than the ${e.size} bytes it declares`, e.name);
        pending.push(chunk);
      });
      const step = 1 << 12;
      for (let i = 0; i < data.length || i === 0; i += step) {
        z.push(data.subarray(i, Math.min(data.length, i + step)), i + step >= data.length);
        for (const c of pending.splice(0)) await take(c);
        await yieldToLoop();
      }
    }
  } catch (err) {
    if (err instanceof ArchiveError) throw err;
    throw new ArchiveError(`cannot be inflated: ${(err as Error).message}`, e.name);
  }
  if (filled !== e.size) throw new ArchiveError(`inflates to ${filled} bytes, not the ${e.size} it declares`, e.name);
  if (crc >>> 0 !== e.crc) throw new ArchiveError('its CRC does not match: the archive is damaged', e.name);
}

/** Writes a zip (deflate) with the given files, in order. */
export function writeZip(files: { name: string; data: Uint8Array }[], mtime = new Date()): Uint8Array {
  const z: Zippable = {};
  for (const f of files) z[f.name] = [f.data, { level: 6, mtime }];
  return zipSync(z);
}

/** CRC-32 as zip has it (native, from zlib). */
export function crc32(b: Uint8Array): number {
  return zlibCrc32(b) >>> 0;
}
