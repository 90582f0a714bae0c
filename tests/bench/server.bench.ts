/**
 * Trace streaming: how many trace records one WebSocket client receives per second while a lab
 * forwards as fast as it can, and how much slower the lab forwards while it streams.
 *
 * The lab is pc1 -- sw1 -- pc2 (real time, as the server runs labs). A generator sends distinct
 * UDP frames out of pc1's port (each a new frame, as a busy host would) to pc2's MAC but another
 * IP, so pc2 drops them without answering; every frame crosses two links, so a lab-wide trace has
 * two records per frame. The client runs in a worker thread and parses every message, so the
 * figures include the client's JSON work without charging it to the server's thread.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Port } from '../../devices/engine/port.js';
import { checksum, putMac, put16, put32, type Mac } from '../../devices/wire/bytes.js';
import { startServer } from '../../server/app.js';
import type { Figure } from './run.js';

const BATCH = 512;

/** Distinct 64-byte IPv4/UDP frames, sent in batches between turns of the event loop. */
class Generator {
  running = false;
  sent = 0;
  private seq = 0;
  private readonly template = new Uint8Array(64);

  constructor(
    private readonly port: Port,
    src: Mac,
    dst: Mac,
  ) {
    const f = this.template;
    putMac(f, 0, dst);
    putMac(f, 6, src);
    put16(f, 12, 0x0800);
    f[14] = 0x45;
    put16(f, 16, 46); // total length: 20 + 8 + 18
    f[22] = 64;
    f[23] = 17;
    put32(f, 26, 0x0a000001);
    put32(f, 30, 0x0a000063); // 10.0.0.99: nobody, so pc2 drops it quietly
    put16(f, 38, 9);
    put16(f, 40, 26);
  }

  start(): void {
    this.running = true;
    const tick = () => {
      if (!this.running) return;
      for (let i = 0; i < BATCH; i++) {
        const f = this.template.slice();
        const s = ++this.seq & 0xffff;
        put16(f, 18, s);
        put16(f, 34, 1024 + (s & 0x3fff));
        put16(f, 24, checksum(f, 14, 20));
        this.port.send(f);
      }
      this.sent += BATCH;
      setImmediate(tick);
    };
    setImmediate(tick);
  }

  stop(): void {
    this.running = false;
  }
}

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const WebSocket = require(workerData.ws);
let records = 0;
let subscribed = false;
const ws = new WebSocket(workerData.url);
ws.on('open', () => ws.send(JSON.stringify({ op: 'subscribe', id: 't', channel: 'trace', lab: 'bench' })));
ws.on('message', (data) => {
  const m = JSON.parse(data.toString());
  if (m.type === 'subscribed') parentPort.postMessage({ subscribed: true });
  if (m.type === 'trace') records += m.records.length;
});
parentPort.on('message', (m) => {
  if (m === 'count') parentPort.postMessage({ records });
  if (m === 'close') { ws.close(); parentPort.close(); }
});
`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function serverBench(): Promise<Figure[]> {
  const dir = mkdtempSync(join(tmpdir(), 'wirelab-bench-'));
  const server = await startServer({ port: 0, labsDir: dir, logLevel: 'silent', watch: false });
  try {
    const post = async (path: string, body?: unknown) => {
      const r = await fetch(`${server.url}/api/v1${path}`, {
        method: 'POST',
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      if (!r.ok) throw new Error(`POST ${path}: ${r.status} ${await r.text()}`);
    };
    await post('/labs', {
      name: 'bench',
      nodes: {
        pc1: { kind: 'host', interfaces: { eth0: { ip: '10.0.0.1/24' } } },
        pc2: { kind: 'host', interfaces: { eth0: { ip: '10.0.0.2/24' } } },
        sw1: { kind: 'switch', stp: false },
      },
      links: [['pc1:eth0', 'sw1:e1'], ['pc2:eth0', 'sw1:e2']],
    });
    await post('/labs/bench/start');
    const rt = server.labs.runtime('bench')!;
    const sink = rt.port('pc2', 'eth0')!;
    const mac = (node: string) => rt.lab.nodes[node]!.interfaces[0]!.mac;
    const gen = new Generator(rt.port('pc1', 'eth0')!, mac('pc1'), mac('pc2'));

    const forwardingRate = async (ms: number) => {
      const f0 = sink.rxFrames;
      const t0 = performance.now();
      await sleep(ms);
      return ((sink.rxFrames - f0) * 1000) / (performance.now() - t0);
    };

    gen.start();
    await sleep(1500);
    const alone = await forwardingRate(4000);

    const worker = new Worker(WORKER, { eval: true, workerData: { url: server.url.replace(/^http/, 'ws') + '/api/v1/ws', ws: createRequire(import.meta.url).resolve('ws') } });
    const replies: ((m: { records?: number; subscribed?: boolean }) => void)[] = [];
    worker.on('message', (m) => replies.shift()?.(m));
    await new Promise<void>((resolve) => replies.push(() => resolve()));
    const count = () => new Promise<number>((resolve) => {
      replies.push((m) => resolve(m.records ?? 0));
      worker.postMessage('count');
    });
    await sleep(1500);
    const r0 = await count();
    const t0 = performance.now();
    const streaming = await forwardingRate(4000);
    const r1 = await count();
    const recordsPerS = ((r1 - r0) * 1000) / (performance.now() - t0);

    gen.stop();
    worker.postMessage('close');
    await worker.terminate();
    await post('/labs/bench/stop');
    return [
      { name: 'server.trace_records_per_s', value: Math.round(recordsPerS), unit: 'records/s', target: 100_000 },
      { name: 'server.trace_slowdown_x', value: Number((alone / streaming).toFixed(2)), unit: 'x', target: 2 },
    ];
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
