/**
 * The native addon (native/wirelab_net.cc, built by `npm ci` through native/build.mjs): TAP and
 * AF_PACKET fds watched by libuv, frames read in batches. Loaded lazily, once; when it is missing,
 * TAP and NIC endpoints refuse to start with the reason, and UDP endpoints need none of it.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type ReaderHandle = { readonly __reader: unique symbol };
export type WriterHandle = { readonly __writer: unique symbol };

export interface NetAddon {
  /** Creates (or attaches to a persistent) TAP device; the fd is non-blocking. */
  openTap(name: string): { fd: number; name: string };
  /** A raw AF_PACKET socket bound to `ifname`, promiscuous, blind to its own transmissions. */
  openPacket(ifname: string, promiscuous: boolean): { fd: number; ifindex: number };
  /** Turns GRO, TSO and GSO on or off; returns how many of the three the driver accepted. */
  setOffloads(ifname: string, enabled: boolean): number;
  /**
   * An ICMP socket (non-blocking) for echo requests, or -errno: `raw` false an unprivileged ping
   * socket (EACCES unless net.ipv4.ping_group_range takes our group; read() gives the ICMP message,
   * with the identifier the kernel chose), true a raw socket (EPERM without CAP_NET_RAW; read()
   * gives the IP header too, and only echo replies pass its filter).
   */
  openIcmp(raw: boolean): number;
  /** One datagram to an IPv4 address (a uint32): bytes sent, or -errno. */
  sendTo(fd: number, bytes: Uint8Array, ipv4: number): number;
  /**
   * Watches `fd`; whenever it is readable, up to `batch` frames are read and `cb` gets them as one
   * ArrayBuffer, back to back, with their lengths in `lengths[0..count)`. `errno` is non-zero when
   * reading failed (the fd stays watched).
   */
  startReader(fd: number, packet: boolean, batch: number, lengths: Int32Array, cb: (frames: ArrayBuffer, count: number, errno: number) => void): ReaderHandle;
  stopReader(handle: ReaderHandle): void;
  /** Bytes written, or -errno. */
  write(fd: number, frame: Uint8Array): number;
  /** Frames written in order; errOut[0] gets the errno of the first failure, 0 when none. */
  writeBatch(fd: number, packet: boolean, frames: Uint8Array[], count: number, errOut: Int32Array): number;
  close(fd: number): number;
  /** A thread that writes queued frames to `fd` in order (the kernel's receive work then runs there). */
  startWriter(fd: number, packet: boolean, ringBytes: number): WriterHandle;
  /** Copies the frame into the writer's ring; false when the ring is full (frame dropped). */
  writerPush(handle: WriterHandle, frame: Uint8Array): boolean;
  /** out = [frames written, frames the kernel refused, errno of the last refusal]. */
  writerStats(handle: WriterHandle, out: Float64Array): void;
  /** Writes out what is queued and ends the thread; call before closing the fd. */
  stopWriter(handle: WriterHandle): void;
}

export type AddonLoad = { ok: true; addon: NetAddon; path: string } | { ok: false; reason: string };

let loaded: AddonLoad | null = null;

/** Where node-gyp leaves the addon, looked for from this file up (source tree and dist/ alike). */
function findAddon(): string | null {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const p = join(dir, 'build', 'Release', 'wirelab_net.node');
    if (existsSync(p)) return p;
    dir = dirname(dir);
  }
  return null;
}

export function loadNetAddon(): AddonLoad {
  if (loaded) return loaded;
  if (process.platform !== 'linux') return (loaded = { ok: false, reason: `TAP and NIC endpoints need Linux (this is ${process.platform})` });
  const path = findAddon();
  if (!path) return (loaded = { ok: false, reason: 'the native addon build/Release/wirelab_net.node is missing: run `npm ci` (or `node native/build.mjs`) on a machine with g++, make and python3' });
  try {
    const addon = createRequire(import.meta.url)(path) as NetAddon;
    loaded = { ok: true, addon, path };
  } catch (e) {
    loaded = { ok: false, reason: `the native addon ${path} does not load: ${(e as Error).message}` };
  }
  return loaded;
}

const CAP_NET_ADMIN = 12;
const CAP_NET_RAW = 13;

/** The effective capabilities of this process, from /proc (undefined where there is no /proc). */
export function effectiveCapabilities(statusText: string): { netAdmin: boolean; netRaw: boolean } | undefined {
  const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(statusText);
  if (!m) return undefined;
  const caps = BigInt(`0x${m[1]}`);
  return { netAdmin: ((caps >> BigInt(CAP_NET_ADMIN)) & 1n) === 1n, netRaw: ((caps >> BigInt(CAP_NET_RAW)) & 1n) === 1n };
}
