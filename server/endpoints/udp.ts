/**
 * The UDP tunnel of GNS3, VPCS, QEMU (`-netdev dgram`, `-netdev socket,udp=`) and Dynamips: one
 * Ethernet frame per datagram, no header, no FCS. The socket is bound to `local` and connected to
 * `remote`, so the kernel itself discards datagrams from anyone else, and a peer that goes away
 * (ICMP port unreachable, counted as errors) is talked to again as soon as it is back: a UDP
 * tunnel has no session to re-establish.
 */
import dgram from 'node:dgram';
import type { Engine } from '../../devices/engine/engine.js';
import { RealEndpoint, type EndpointOptions } from './base.js';

export interface UdpAddress {
  host: string;
  port: number;
}

export interface UdpEndpointOptions extends EndpointOptions {
  local: UdpAddress;
  remote: UdpAddress;
  /** Kernel receive buffer: absorbs bursts while the lab is busy (default 4 MiB, capped by net.core.rmem_max). */
  recvBufferBytes?: number;
  sendBufferBytes?: number;
}

export class UdpEndpoint extends RealEndpoint {
  readonly type = 'udp' as const;
  readonly local: UdpAddress;
  readonly remote: UdpAddress;
  private socket: dgram.Socket | null = null;
  private readonly recvBufferBytes: number;
  private readonly sendBufferBytes: number;

  constructor(engine: Engine, opts: UdpEndpointOptions) {
    super(engine, opts);
    this.local = opts.local;
    this.remote = opts.remote;
    this.recvBufferBytes = opts.recvBufferBytes ?? 4 << 20;
    this.sendBufferBytes = opts.sendBufferBytes ?? 4 << 20;
  }

  describe(): string {
    return `udp ${this.local.host}:${this.local.port} -> ${this.remote.host}:${this.remote.port}`;
  }

  /** The port the socket is bound to (useful when `local.port` was 0). */
  boundPort(): number | null {
    try {
      return this.socket?.address().port ?? null;
    } catch {
      return null;
    }
  }

  protected open(): void {
    const s = dgram.createSocket({ type: 'udp4', reuseAddr: false });
    this.socket = s;
    s.on('error', this.onSocketError);
    s.on('message', this.onMessage);
    s.bind({ address: this.local.host, port: this.local.port, exclusive: true }, () => {
      if (this.socket !== s) return;
      try {
        s.setRecvBufferSize(this.recvBufferBytes);
        s.setSendBufferSize(this.sendBufferBytes);
      } catch {
        // The kernel caps buffers at net.core.rmem_max/wmem_max; a smaller buffer still works.
      }
      s.connect(this.remote.port, this.remote.host, () => {
        if (this.socket === s && this.state === 'starting') this.state = 'running';
      });
    });
  }

  protected close(): void {
    const s = this.socket;
    this.socket = null;
    if (s) {
      s.removeAllListeners('message');
      s.removeAllListeners('error');
      s.on('error', () => {});
      try {
        s.close();
      } catch {
        // already closed
      }
    }
  }

  private readonly onMessage = (msg: Buffer): void => {
    // A Buffer's slice() shares memory; the lab expects plain Uint8Arrays whose slice() copies.
    if (this.inject(new Uint8Array(msg.buffer, msg.byteOffset, msg.length))) this.engine.poke();
  };

  private readonly onSocketError = (err: NodeJS.ErrnoException): void => {
    if (this.state === 'starting') {
      const why =
        err.code === 'EADDRINUSE'
          ? `${this.local.host}:${this.local.port} is already in use`
          : err.code === 'EADDRNOTAVAIL'
            ? `${this.local.host} is not an address of this machine`
            : err.code === 'EACCES'
              ? `binding ${this.local.host}:${this.local.port} is not permitted`
              : err.message;
      this.close();
      this.fail(`UDP endpoint ${this.describe()}: ${why}`);
      return;
    }
    // A connected UDP socket hears of a vanished peer (ICMP port unreachable) as ECONNREFUSED on
    // its next receive: count it and carry on, the peer may come back.
    this.counters.drops.rxErrors++;
  };

  private readonly onSent = (err: Error | null): void => {
    if (err) {
      this.counters.drops.txErrors++;
      this.counters.framesOut--;
    }
  };

  protected transmit(frame: Uint8Array): boolean {
    const s = this.socket;
    if (!s || this.state !== 'running') return false;
    try {
      s.send(frame, this.onSent);
      return true;
    } catch {
      return false;
    }
  }
}
