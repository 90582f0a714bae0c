/**
 * Connection lifecycle between two of our own TCPs over a cable: half-close, the closing
 * states, TIME-WAIT and reuse of a 4-tuple, simultaneous close, resets, listen backlog, zero
 * window with window update, a host powering off; and a capture of it all that tshark reads
 * without a malformed segment or a bad checksum.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Capture, Engine } from '../../devices/engine/index.js';
import { tcpDirectPair } from '../../devices/stack/tcp-direct.js';
import type { TcpErrorCode, TcpListener, TcpSocket, TcpSocketOwner } from '../../devices/stack/tcp.js';
import { concat } from '../helpers/pcapng.js';
import { tsharkAvailable } from '../helpers/tshark.js';

const tshark = tsharkAvailable();

class App implements TcpSocketOwner {
  events: string[] = [];
  bytes = 0;
  socket: TcpSocket | null = null;
  onWritable?(s: TcpSocket): void;
  constructor(readonly onEndDo: 'nothing' | 'close' | 'shutdown' = 'nothing') {}
  onConnect(s: TcpSocket): void {
    this.socket = s;
    this.events.push('connect');
  }
  onData(_s: TcpSocket, d: Uint8Array): void {
    this.bytes += d.length;
    if (this.events.at(-1) !== 'data') this.events.push('data');
  }
  onEnd(s: TcpSocket): void {
    this.events.push(`end in ${s.stateName}`);
    if (this.onEndDo === 'close') s.close();
    if (this.onEndDo === 'shutdown') s.shutdown();
  }
  onError(_s: TcpSocket, e: TcpErrorCode): void {
    this.events.push(`error ${e}`);
  }
  onClose(s: TcpSocket): void {
    this.events.push(`close in ${s.stateName}`);
  }
}

/** A pair with a listener on b:80 whose accepted sockets are given to `server`. */
function pair(server: App, opts: { delayNs?: number; backlog?: number; capture?: Uint8Array[] } = {}) {
  const engine = new Engine({ seed: 17 });
  const p = tcpDirectPair(engine, { delayNs: opts.delayNs ?? 1e6 });
  const capture = opts.capture ? new Capture(engine, { sink: (c) => opts.capture!.push(c) }) : null;
  capture?.attachLink(p.link);
  const listener = p.b.tcp.listen(
    80,
    {
      onAccept(_l: TcpListener, s: TcpSocket) {
        server.socket = s;
        server.events.push('accept');
        s.owner = server;
      },
    },
    opts.backlog !== undefined ? { backlog: opts.backlog } : {},
  );
  return { engine, ...p, listener, capture };
}

describe('TCP closing', () => {
  it('half-closes: the client shuts down its side and keeps receiving until the server finishes', () => {
    const server = new App();
    const t = pair(server);
    const client = new App();
    const s = t.a.tcp.connect(t.b.ip, 80, client);
    t.engine.runFor(10e6);
    s.send(new TextEncoder().encode('request'));
    s.shutdown();
    t.engine.runFor(10e6);
    expect(s.stateName).toBe('FIN-WAIT-2');
    expect(server.events).toEqual(['accept', 'data', 'end in CLOSE-WAIT']);
    // The server answers after the client's FIN: a long reply, then its own FIN.
    server.socket!.send(new Uint8Array(100_000));
    t.engine.runFor(50e6);
    expect(client.bytes).toBe(100_000);
    expect(s.stateName).toBe('FIN-WAIT-2');
    server.socket!.close();
    expect(server.socket!.stateName).toBe('LAST-ACK');
    t.engine.runFor(10e6);
    expect(client.events).toEqual(['connect', 'data', 'end in TIME-WAIT', 'close in TIME-WAIT']);
    expect(server.events.at(-1)).toBe('close in CLOSED');
    expect(() => s.send(new Uint8Array(1))).toThrow(/EPIPE/);
  });

  it('goes through CLOSING when both sides close at the same moment, and both wait in TIME-WAIT', () => {
    const server = new App();
    const t = pair(server, { delayNs: 5e6 });
    const client = new App();
    const s = t.a.tcp.connect(t.b.ip, 80, client);
    t.engine.runFor(20e6);
    s.close();
    server.socket!.close();
    expect([s.stateName, server.socket!.stateName]).toEqual(['FIN-WAIT-1', 'FIN-WAIT-1']);
    t.engine.runFor(6e6);
    expect([s.stateName, server.socket!.stateName]).toEqual(['CLOSING', 'CLOSING']);
    t.engine.runFor(10e6);
    expect([s.stateName, server.socket!.stateName]).toEqual(['TIME-WAIT', 'TIME-WAIT']);
    t.engine.runFor(61e9);
    expect(t.a.tcp.connectionCount + t.b.tcp.connectionCount).toBe(0);
  });

  it('keeps the active closer in TIME-WAIT for 60 s (2 MSL), refusing to reuse the 4-tuple until then', () => {
    const server = new App('close');
    const t = pair(server);
    const client = new App();
    const s = t.a.tcp.connect(t.b.ip, 80, client, { localPort: 40000 });
    t.engine.runFor(10e6);
    s.close();
    t.engine.runFor(10e6);
    expect(s.stateName).toBe('TIME-WAIT');
    expect(server.socket!.stateName).toBe('CLOSED');
    t.engine.runFor(59e9);
    expect(s.stateName).toBe('TIME-WAIT');
    expect(() => t.a.tcp.connect(t.b.ip, 80, new App(), { localPort: 40000 })).toThrow(/EADDRINUSE/);
    t.engine.runFor(1.1e9);
    expect(s.stateName).toBe('CLOSED');
    const again = new App();
    t.a.tcp.connect(t.b.ip, 80, again, { localPort: 40000 });
    t.engine.runFor(10e6);
    expect(again.events).toEqual(['connect']);
  });

  it('lets a new SYN take over a server-side TIME-WAIT at once (RFC 6191, timestamps)', () => {
    const server = new App();
    const t = pair(server);
    const first = new App('close');
    t.a.tcp.connect(t.b.ip, 80, first, { localPort: 40001 });
    t.engine.runFor(10e6);
    server.socket!.close(); // the server closes first and keeps the TIME-WAIT
    t.engine.runFor(10e6);
    expect(server.socket!.stateName).toBe('TIME-WAIT');
    expect(first.events).toEqual(['connect', 'end in CLOSE-WAIT', 'close in CLOSED']);
    const second = new App();
    t.a.tcp.connect(t.b.ip, 80, second, { localPort: 40001 });
    t.engine.runFor(10e6);
    expect(second.events).toEqual(['connect']);
    expect(t.b.tcp.stats.timeWaitRecycled).toBe(1);
    expect(server.socket!.stateName).toBe('ESTABLISHED');
  });

  it('resets: abort() gives the peer ECONNRESET; data sent to a closed socket is answered with a reset', () => {
    const server = new App();
    const t = pair(server);
    const client = new App();
    const s = t.a.tcp.connect(t.b.ip, 80, client);
    t.engine.runFor(10e6);
    s.abort();
    expect(client.events).toEqual(['connect', 'close in CLOSED']);
    t.engine.runFor(10e6);
    expect(server.events).toEqual(['accept', 'error ECONNRESET', 'close in CLOSED']);
    expect(t.b.tcp.stats.estabResets).toBe(1);

    // The server close()s while the client still sends: Linux answers the late data with RST.
    const server2 = new App();
    const t2 = pair(server2);
    const c2 = new App();
    const s2 = t2.a.tcp.connect(t2.b.ip, 80, c2);
    t2.engine.runFor(10e6);
    server2.socket!.close();
    t2.engine.runFor(10e6);
    expect(s2.stateName).toBe('CLOSE-WAIT');
    s2.send(new Uint8Array(100));
    t2.engine.runFor(10e6);
    expect(c2.events).toEqual(['connect', 'end in CLOSE-WAIT', 'error ECONNRESET', 'close in CLOSED']);
  });

  it('forgets every connection silently when the host stops', () => {
    const server = new App();
    const t = pair(server);
    const client = new App();
    t.a.tcp.connect(t.b.ip, 80, client);
    t.engine.runFor(10e6);
    const sentBefore = t.a.port.txFrames;
    t.a.tcp.stop();
    expect(client.events).toEqual(['connect', 'error ECONNABORTED', 'close in CLOSED']);
    expect(t.a.port.txFrames).toBe(sentBefore);
    expect(t.a.tcp.connectionCount).toBe(0);
  });
});

describe('TCP listen backlog', () => {
  it('drops SYNs beyond the backlog; the dropped clients get in with their SYN retransmission', () => {
    const server = new App();
    const t = pair(server, { backlog: 2, delayNs: 5e6 });
    const clients = [0, 1, 2, 3, 4].map(() => new App());
    const socks = clients.map((c) => t.a.tcp.connect(t.b.ip, 80, c));
    t.engine.runFor(50e6);
    expect(clients.map((c) => c.events.length)).toEqual([1, 1, 0, 0, 0]);
    expect(t.listener.drops).toBe(3);
    expect(t.b.tcp.stats.listenDrops).toBe(3);
    // All three retransmit in the same instant after 1 s, so the backlog admits two of them;
    // the last one gets in with its second retransmission, 2 s later.
    t.engine.runFor(1.1e9);
    expect(clients.map((c) => c.events.length)).toEqual([1, 1, 1, 1, 0]);
    t.engine.runFor(2e9);
    expect(clients.map((c) => c.events[0])).toEqual(['connect', 'connect', 'connect', 'connect', 'connect']);
    expect(socks.map((s) => s.stats.retransmits)).toEqual([0, 0, 1, 1, 2]);
    expect(t.listener.drops).toBe(4);
    expect(t.listener.accepted).toBe(5);
  });

  it('resets half-open connections when the listener closes, and refuses new ones', () => {
    const server = new App();
    const t = pair(server, { delayNs: 5e6 });
    const c = new App();
    t.a.tcp.connect(t.b.ip, 80, c);
    t.engine.runFor(6e6); // the SYN is in, our SYN-ACK is on its way
    t.listener.close();
    t.engine.runFor(20e6);
    expect(c.events).toEqual(['connect', 'error ECONNRESET', 'close in CLOSED']);
    const late = new App();
    t.a.tcp.connect(t.b.ip, 80, late);
    t.engine.runFor(20e6);
    expect(late.events).toEqual(['error ECONNREFUSED', 'close in CLOSED']);
  });
});

describe('TCP flow control', () => {
  it('closes the window while the application does not read and reopens it with a window update', () => {
    const chunks: Uint8Array[] = [];
    const server = new App();
    const t = pair(server, { capture: chunks });
    const client = new App();
    const s = t.a.tcp.connect(t.b.ip, 80, client);
    t.engine.runFor(10e6);
    server.socket!.pause();
    const total = 1 << 20;
    let off = 0;
    const pump = () => {
      while (off < total) {
        const n = s.send(new Uint8Array(65536), 0, Math.min(65536, total - off));
        off += n;
        if (n === 0) break;
      }
    };
    client.onWritable = pump;
    pump();
    t.engine.runFor(3e9);
    const rcv = server.socket!;
    expect(rcv.readableLength).toBe(rcv.receiveBuffer.capacity);
    expect(rcv.info().rcvWnd).toBe(0);
    expect(s.info().sndWnd).toBe(0);
    expect(s.stats.zeroWindowProbes).toBeGreaterThan(2);
    expect(s.stats.timeouts).toBe(0);
    rcv.resume();
    t.engine.runFor(1e9);
    expect(server.bytes).toBe(total);
    expect(rcv.stats.windowUpdates).toBeGreaterThan(0);
    s.close();
    t.engine.runFor(1e9);
    t.capture!.close();

    if (!tshark.ok) {
      console.warn(`tshark checks skipped: ${tshark.reason}`);
      expect(process.env.CI, 'tshark must be installed in CI').not.toBe('true');
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), 'wirelab-tcp-'));
    try {
      const file = join(dir, 'zero-window.pcapng');
      writeFileSync(file, concat(chunks));
      const count = (filter: string) =>
        execFileSync('/usr/bin/tshark', ['-n', '-r', file, '-o', 'tcp.check_checksum:TRUE', '-Y', filter], { encoding: 'utf8' })
          .split('\n')
          .filter((l) => l.trim() !== '').length;
      expect(count('_ws.malformed || tcp.checksum.status == 0 || ip.checksum.status == 0')).toBe(0);
      expect(count('tcp.analysis.zero_window')).toBeGreaterThan(0);
      expect(count('tcp.analysis.zero_window_probe')).toBeGreaterThan(0);
      expect(count('tcp.analysis.window_update')).toBeGreaterThan(0);
      // Nothing a healthy stack would never do.
      expect(count('tcp.analysis.retransmission || tcp.analysis.ack_lost_segment || tcp.analysis.window_full && tcp.len == 0')).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
