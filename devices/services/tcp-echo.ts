/**
 * RFC 862 echo over TCP: every byte received goes back. When the client sends faster than it
 * reads, our send buffer fills; then we stop reading (the socket is paused, so our receive
 * window closes and the client is flow-controlled) until the echo drains. A half-close from
 * the client is answered by a half-close once everything has been echoed.
 */
import type { TcpLayer, TcpListener, TcpSocket } from '../stack/tcp.js';
import type { TcpListenerOwner, TcpSocketOwner } from '../stack/tcp-types.js';

interface EchoConn {
  /** Bytes received that did not fit in the send buffer yet. */
  pending: Uint8Array[];
  ended: boolean;
}

export class TcpEchoServer implements TcpListenerOwner, TcpSocketOwner {
  readonly listener: TcpListener;
  private readonly conns = new Map<TcpSocket, EchoConn>();
  /** Bytes echoed so far, all connections. */
  echoedBytes = 0;
  connections = 0;

  constructor(
    readonly tcp: TcpLayer,
    readonly port = 7,
  ) {
    this.listener = tcp.listen(port, this);
  }

  close(): void {
    this.listener.close();
    for (const s of [...this.conns.keys()]) s.close();
  }

  onAccept(_l: TcpListener, socket: TcpSocket): void {
    socket.owner = this;
    this.conns.set(socket, { pending: [], ended: false });
    this.connections++;
  }

  onData(socket: TcpSocket, data: Uint8Array): void {
    const c = this.conns.get(socket);
    if (c === undefined) return;
    if (c.pending.length === 0) {
      const n = socket.send(data);
      this.echoedBytes += n;
      if (n === data.length) return;
      c.pending.push(data.slice(n));
    } else {
      c.pending.push(data.slice());
    }
    socket.pause();
  }

  onWritable(socket: TcpSocket): void {
    const c = this.conns.get(socket);
    if (c === undefined) return;
    while (c.pending.length > 0) {
      const d = c.pending[0]!;
      const n = socket.send(d);
      this.echoedBytes += n;
      if (n < d.length) {
        c.pending[0] = d.subarray(n);
        return;
      }
      c.pending.shift();
    }
    if (c.ended) socket.shutdown();
    else socket.resume();
  }

  onEnd(socket: TcpSocket): void {
    const c = this.conns.get(socket);
    if (c === undefined) return;
    c.ended = true;
    if (c.pending.length === 0) socket.shutdown();
  }

  onClose(socket: TcpSocket): void {
    this.conns.delete(socket);
  }
}
