/**
 * TAP and NIC endpoints: a file descriptor from the native addon (a TAP device, or an AF_PACKET
 * socket on a real interface) watched by libuv on Node's own thread. Each time it is readable the
 * addon reads a batch of frames in C and hands them over in one call; frames out are written one
 * by one without blocking (the kernel takes them or says why not, counted as txErrors).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Engine } from '../../devices/engine/engine.js';
import { RealEndpoint, type EndpointOptions } from './base.js';
import { effectiveCapabilities, loadNetAddon, type NetAddon, type ReaderHandle, type WriterHandle } from './native.js';

const BATCH = 64;
/** Frames waiting for the writer thread: 4 MiB is about 2,700 full frames, a few ms at line rate. */
const WRITER_RING_BYTES = 4 << 20;
/**
 * Read errors after which the fd is of no more use: the TAP or the interface was deleted under us
 * (EBADFD, EBADF, ENODEV, ENXIO, EIO; the addon stops watching on these). Others (ENETDOWN while the interface is down) pass and are counted.
 */
const FATAL_ERRNOS: Record<number, string> = { 5: 'EIO', 6: 'ENXIO', 9: 'EBADF', 19: 'ENODEV', 77: 'EBADFD' };

function capabilities(): { netAdmin: boolean; netRaw: boolean } | undefined {
  try {
    return effectiveCapabilities(readFileSync('/proc/self/status', 'utf8'));
  } catch {
    return undefined;
  }
}

function permissionProblem(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException).code;
  return code === 'EPERM' || code === 'EACCES';
}

export interface FdEndpointOptions extends EndpointOptions {
  /**
   * Write frames from a thread of the addon (default true). Writing into a TAP or veth runs the
   * receiving kernel stack inside write(); a thread moves that work off Node's thread.
   */
  threadedWrites?: boolean;
}

abstract class FdEndpoint extends RealEndpoint {
  protected addon: NetAddon | null = null;
  protected fd = -1;
  private reader: ReaderHandle | null = null;
  private writer: WriterHandle | null = null;
  private readonly lengths = new Int32Array(BATCH);
  private readonly writerStats = new Float64Array(3);
  /** Writer-thread refusals already added to counters.drops.txErrors. */
  private writerErrorsSeen = 0;
  protected abstract readonly packet: boolean;
  private readonly threadedWrites: boolean;

  constructor(engine: Engine, opts: FdEndpointOptions) {
    super(engine, opts);
    this.threadedWrites = opts.threadedWrites ?? true;
  }

  protected needAddon(): NetAddon {
    const load = loadNetAddon();
    if (!load.ok) throw new Error(`${this.describe()}: ${load.reason}`);
    this.addon = load.addon;
    return load.addon;
  }

  /** Starts reading once the fd is open; the endpoint is running from then on. */
  protected watch(): void {
    this.reader = this.addon!.startReader(this.fd, this.packet, BATCH, this.lengths, this.onBatch);
    if (this.threadedWrites) {
      this.writer = this.addon!.startWriter(this.fd, this.packet, WRITER_RING_BYTES);
      this.writerErrorsSeen = 0;
    }
    this.state = 'running';
  }

  protected close(): void {
    if (this.writer) {
      this.addon!.stopWriter(this.writer);
      this.refreshCounters();
    }
    this.writer = null;
    if (this.reader) this.addon!.stopReader(this.reader);
    this.reader = null;
    if (this.fd >= 0) this.addon!.close(this.fd);
    this.fd = -1;
  }

  protected override refreshCounters(): void {
    if (!this.writer) return;
    this.addon!.writerStats(this.writer, this.writerStats);
    const errors = this.writerStats[1]!;
    if (errors > this.writerErrorsSeen) {
      // Frames the kernel refused after they were queued: move them from framesOut to txErrors.
      const n = errors - this.writerErrorsSeen;
      this.counters.drops.txErrors += n;
      this.counters.framesOut -= n;
      this.writerErrorsSeen = errors;
    }
  }

  private readonly onBatch = (frames: ArrayBuffer, count: number, errno: number): void => {
    const lengths = this.lengths;
    let offset = 0;
    let entered = false;
    for (let i = 0; i < count; i++) {
      const len = lengths[i]!;
      if (this.inject(new Uint8Array(frames, offset, len))) entered = true;
      offset += len;
    }
    if (entered) this.engine.poke();
    this.refreshCounters();
    if (errno !== 0) {
      this.counters.drops.rxErrors++;
      const fatal = FATAL_ERRNOS[errno];
      if (fatal !== undefined) {
        // The device is gone; polling its fd would only report the same error again and again.
        this.close();
        this.fail(`${this.describe()}: the device went away (${fatal}); restart the node to make it again`);
      }
    }
  };

  protected transmit(frame: Uint8Array): boolean {
    if (this.fd < 0) return false;
    if (this.writer) return this.addon!.writerPush(this.writer, frame);
    return this.addon!.write(this.fd, frame) >= 0;
  }
}

export interface TapEndpointOptions extends FdEndpointOptions {
  /** The TAP device's name on the host (created if absent, attached to if it exists and is ours). */
  tap: string;
  /** A named network namespace (`ip netns add NAME`) to move the TAP into once made. */
  netns?: string | undefined;
  /** Brings the TAP up (in its namespace) once made; default true. */
  up?: boolean;
}

/**
 * A TAP device on the host: the host's (or a namespace's) kernel sees the lab as a NIC. Needs
 * CAP_NET_ADMIN, unless the TAP was made beforehand for this user (`ip tuntap add dev NAME mode tap
 * user USER`) and stays in the host namespace.
 */
export class TapEndpoint extends FdEndpoint {
  readonly type = 'tap' as const;
  protected readonly packet = false;
  readonly tap: string;
  readonly netns: string | undefined;
  private readonly up: boolean;

  constructor(engine: Engine, opts: TapEndpointOptions) {
    super(engine, opts);
    this.tap = opts.tap;
    this.netns = opts.netns;
    this.up = opts.up ?? true;
  }

  describe(): string {
    return `tap ${this.tap}${this.netns ? ` (netns ${this.netns})` : ''}`;
  }

  protected open(): void {
    const addon = this.needAddon();
    try {
      this.fd = addon.openTap(this.tap).fd;
    } catch (e) {
      if (permissionProblem(e)) {
        const caps = capabilities();
        throw new Error(
          `${this.describe()}: creating a TAP device needs CAP_NET_ADMIN${caps && !caps.netAdmin ? ', which this process does not have' : ''} ` +
            `(run wirelab as root, grant it with \`setcap cap_net_admin,cap_net_raw+ep\` on the node binary, ` +
            `or make the TAP beforehand for this user: \`ip tuntap add dev ${this.tap} mode tap user $USER\`)`,
        );
      }
      throw new Error(`${this.describe()}: ${(e as Error).message}`);
    }
    try {
      if (this.netns) {
        ip(['link', 'set', 'dev', this.tap, 'netns', this.netns]);
        if (this.up) ip(['-n', this.netns, 'link', 'set', 'dev', this.tap, 'up']);
      } else if (this.up) ip(['link', 'set', 'dev', this.tap, 'up']);
    } catch (e) {
      const text = (e as Error).message;
      const hint = /Operation not permitted/.test(text) ? ' (moving or bringing up a TAP needs CAP_NET_ADMIN)' : '';
      throw new Error(`${this.describe()}: ${text}${hint}`);
    }
    this.watch();
  }
}

function ip(args: string[]): void {
  try {
    execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', timeout: 10_000 });
  } catch (e) {
    const err = e as { stderr?: string; code?: string; message: string };
    if (err.code === 'ENOENT') throw new Error('the `ip` command (iproute2) is not installed');
    throw new Error(`ip ${args.join(' ')}: ${(err.stderr ?? err.message).trim()}`);
  }
}

export interface NicEndpointOptions extends FdEndpointOptions {
  /** The real interface (`eth1`, a veth end, a bridge port...). */
  interface: string;
  /**
   * Turn GRO, TSO and GSO off on the interface (default true): with them on, the kernel hands
   * packet sockets frames of up to 64 KiB that no Ethernet wire carries, and the lab would drop them.
   */
  disableOffloads?: boolean;
}

/** Raw frames on a real interface (AF_PACKET, promiscuous). Needs CAP_NET_RAW. */
export class NicEndpoint extends FdEndpoint {
  readonly type = 'nic' as const;
  protected readonly packet = true;
  readonly interface: string;
  private readonly disableOffloads: boolean;

  constructor(engine: Engine, opts: NicEndpointOptions) {
    super(engine, opts);
    this.interface = opts.interface;
    this.disableOffloads = opts.disableOffloads ?? true;
  }

  describe(): string {
    return `nic ${this.interface}`;
  }

  protected open(): void {
    const addon = this.needAddon();
    try {
      this.fd = addon.openPacket(this.interface, true).fd;
    } catch (e) {
      if (permissionProblem(e)) {
        const caps = capabilities();
        throw new Error(
          `${this.describe()}: raw frames on a real interface need CAP_NET_RAW${caps && !caps.netRaw ? ', which this process does not have' : ''} ` +
            '(run wirelab as root or grant it with `setcap cap_net_admin,cap_net_raw+ep` on the node binary)',
        );
      }
      if ((e as NodeJS.ErrnoException).code === 'ENODEV') throw new Error(`${this.describe()}: there is no interface ${this.interface} on this machine`);
      throw new Error(`${this.describe()}: ${(e as Error).message}`);
    }
    if (this.disableOffloads) addon.setOffloads(this.interface, false);
    this.watch();
  }
}
