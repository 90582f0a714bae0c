/**
 * Telnet and WebSocket abuse against a running server, while GET /api/v1/labs is timed and the
 * server's RSS sampled: the standing abuse test (abuse.test.ts) and `npm run bench -- faults`
 * both run this. Every abuser loops until the deadline and starts over when the server cuts it
 * off, so the whole run is bounded by its duration.
 *
 * - telnet: a never-reading client storming IAC AYT; one storming option negotiation (DO, DONT,
 *   WILL, WONT for every option); one typing a line without end; connection churn.
 * - WebSocket: a never-reading client with a lab-wide trace, a console and lab events that keeps
 *   typing; a flood of invalid and unknown messages; console input lines of 16,000 characters;
 *   subscribe and unsubscribe churn past the 64-subscription limit; connection churn.
 * - traffic: the lab's ping check runs in a loop, so traces and consoles have something to send.
 */
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { Worker } from 'node:worker_threads';
import WebSocket from 'ws';
import { percentile } from './spawned.js';

export interface AbuseTarget {
  /** http://127.0.0.1:PORT */
  url: string;
  lab: string;
  /** A node with a console. */
  node: string;
  telnetPort: number;
  /** The server's RSS now, MB. */
  rssMb(): number;
}

export interface AbuseResult {
  /** GET /labs latencies, ms. */
  latencies: number[];
  p99: number;
  worst: number;
  /** GETs that failed or did not answer 200. */
  failures: number;
  rssBefore: number;
  rssMax: number;
  /** RSS once the abuse stopped and the server settled (2 s). */
  rssAfter: number;
  /** How often each abuser was cut off or started over. */
  rounds: Record<string, number>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One GET with a timeout; answers its status (0 on failure) and time in ms. */
export function timedGet(url: string, timeoutMs = 30_000): Promise<{ status: number; ms: number }> {
  const start = performance.now();
  return new Promise((resolve) => {
    const req = request(url, { method: 'GET', timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - start }));
      res.on('error', () => resolve({ status: 0, ms: performance.now() - start }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve({ status: 0, ms: performance.now() - start }));
    req.end();
  });
}

function post(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request(url, { method: 'POST', timeout: 60_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(0));
    req.end();
  });
}

function telnet(port: number): Promise<Socket | null> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1', () => resolve(s));
    s.on('error', () => resolve(null));
  });
}

function wsOpen(url: string): Promise<WebSocket | null> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url.replace(/^http/, 'ws') + '/api/v1/ws');
    ws.on('error', () => resolve(null));
    ws.once('open', () => resolve(ws));
    ws.once('close', () => resolve(null));
  });
}

/** Writes and waits until the socket takes more (or is gone). */
function write(s: Socket, data: Buffer | string): Promise<void> {
  return new Promise((resolve) => {
    if (s.destroyed) return resolve();
    if (s.write(data)) return resolve();
    const done = () => {
      s.off('drain', done);
      s.off('close', done);
      resolve();
    };
    s.once('drain', done);
    s.once('close', done);
  });
}

export async function runAbuse(t: AbuseTarget, durationMs: number): Promise<AbuseResult> {
  const until = Date.now() + durationMs;
  const rounds: Record<string, number> = {};
  const count = (name: string) => () => (rounds[name] = (rounds[name] ?? 0) + 1);
  const rssBefore = t.rssMb();
  let rssMax = rssBefore;
  const latencies: number[] = [];
  let failures = 0;

  const ayt = Buffer.alloc(64_000);
  for (let i = 0; i < ayt.length; i += 2) ayt.set([0xff, 0xf6], i);
  const options: number[] = [];
  for (let o = 0; o < 256; o++) for (const verb of [0xfd, 0xfe, 0xfb, 0xfc]) options.push(0xff, verb, o);
  const optionStorm = Buffer.from(options);
  const line = Buffer.alloc(64 * 1024, 'a');
  const wsLine = 'b'.repeat(16_000);

  // The GETs are timed in a thread of their own, so that the abusers' work in this process does not count.
  const probe = probeInWorker(`${t.url}/api/v1/labs`, durationMs);
  const only = process.env['WIRELAB_ABUSE_ONLY']?.split(',');
  const abuser = (name: string, run: (count: () => void) => Promise<void>): Promise<void> => (only && !only.includes(name) ? Promise.resolve() : run(count(name)));
  /** Opens a connection, uses it until it is cut off or time is up, and starts over. */
  const sessions = <C>(name: string, open: () => Promise<C | null>, use: (c: C) => Promise<void>, end: (c: C) => void): Promise<void> =>
    abuser(name, async (hit) => {
      while (Date.now() < until) {
        const c = await open();
        hit();
        if (!c) {
          await sleep(100);
          continue;
        }
        await use(c);
        end(c);
      }
    });
  const tel = () => telnet(t.telnetPort);
  const ws = () => wsOpen(t.url);
  const destroy = (s: Socket) => s.destroy();
  const terminate = (w: WebSocket) => w.terminate();
  const live = (w: WebSocket) => w.readyState === WebSocket.OPEN && Date.now() < until;
  /** Reads nothing: what the server answers piles up on its side. Writes at most 4 MiB ahead here. */
  const neverReading = (payload: Buffer) => async (s: Socket) => {
    s.pause();
    while (!s.destroyed && Date.now() < until) {
      if (s.writableLength < 4 << 20) s.write(payload);
      await sleep(20);
    }
  };
  /** Opens `n` connections at once and closes them at once. */
  const churn = <C>(name: string, n: number, open: () => Promise<C | null>, end: (c: C) => void) =>
    abuser(name, async (hit) => {
      while (Date.now() < until) {
        const batch = await Promise.all(Array.from({ length: n }, open));
        hit();
        for (const c of batch) if (c) end(c);
        await sleep(50);
      }
    });
  // Invalid JSON, invalid messages, unknown ids, prototype names.
  const junk = [
    '{',
    'null',
    '[]',
    JSON.stringify({ op: 'subscribe' }),
    JSON.stringify({ op: 'subscribe', id: 'x', channel: 'console', lab: t.lab, node: '__proto__' }),
    JSON.stringify({ op: 'subscribe', id: 'y', channel: 'trace', lab: t.lab, link: 'constructor' }),
    JSON.stringify({ op: 'input', id: 'nope', data: 'x' }),
    JSON.stringify({ op: 'subscribe', id: 'z', channel: 'trace', lab: t.lab, filter: { protocol: 'valueOf' } }),
  ];
  const sent = (w: WebSocket, text: string) => new Promise<void>((r) => w.send(text, () => r()));

  const abusers: Promise<void>[] = [
    sessions('telnet-ayt', tel, neverReading(ayt), destroy),
    sessions('telnet-options', tel, neverReading(optionStorm), destroy),
    sessions(
      'telnet-long-line',
      tel,
      async (s) => {
        // A line without end, read as it echoes.
        s.on('data', () => undefined);
        while (!s.destroyed && Date.now() < until) await write(s, line);
      },
      destroy,
    ),
    churn('telnet-churn', 10, tel, destroy),
    sessions(
      'ws-never-reading',
      ws,
      async (w) => {
        // Subscribes to everything, then reads nothing and keeps typing.
        w.send(JSON.stringify({ op: 'subscribe', id: 'ev', channel: 'lab' }));
        w.send(JSON.stringify({ op: 'subscribe', id: 'tr', channel: 'trace', lab: t.lab, raw: true }));
        w.send(JSON.stringify({ op: 'subscribe', id: 'c', channel: 'console', lab: t.lab, node: t.node }));
        await sleep(200);
        (w as unknown as { _socket: Socket })._socket.pause();
        while (live(w)) {
          if (w.bufferedAmount < 1 << 20) w.send(JSON.stringify({ op: 'input', id: 'c', data: 'show running-config\r' }));
          await sleep(5);
        }
      },
      terminate,
    ),
    sessions(
      'ws-junk',
      ws,
      async (w) => {
        w.on('message', () => undefined);
        for (let i = 0; live(w); i++) {
          await sent(w, junk[i % junk.length]!);
          if (i % 200 === 199) await sleep(10);
        }
      },
      terminate,
    ),
    sessions(
      'ws-long-input',
      ws,
      async (w) => {
        w.on('message', () => undefined);
        w.send(JSON.stringify({ op: 'subscribe', id: 'c', channel: 'console', lab: t.lab, node: t.node }));
        while (live(w)) {
          await sent(w, JSON.stringify({ op: 'input', id: 'c', data: wsLine }));
          await sleep(2);
        }
      },
      terminate,
    ),
    sessions(
      'ws-subscriptions',
      ws,
      async (w) => {
        // 100 trace subscribes (64 are taken), all unsubscribed, again.
        w.on('message', () => undefined);
        for (let round = 0; live(w) && round < 20; round++) {
          for (let i = 0; i < 100; i++) w.send(JSON.stringify({ op: 'subscribe', id: `t${i}`, channel: 'trace', lab: t.lab }));
          for (let i = 0; i < 100; i++) w.send(JSON.stringify({ op: 'unsubscribe', id: `t${i}` }));
          await sleep(50);
        }
      },
      terminate,
    ),
    churn('ws-churn', 20, ws, terminate),
    abuser('traffic', async (hit) => {
      while (Date.now() < until) {
        hit();
        if ((await post(`${t.url}/api/v1/labs/${t.lab}/checks/run`)) === 0) await sleep(100);
      }
    }),
    (async () => {
      while (Date.now() < until) {
        rssMax = Math.max(rssMax, t.rssMb());
        await sleep(100);
      }
    })(),
  ];
  await Promise.all(abusers);
  const probed = await probe;
  latencies.push(...probed.latencies);
  failures += probed.failures;
  await sleep(2_000);
  const rssAfter = t.rssMb();
  return { latencies, p99: percentile(latencies, 99), worst: Math.max(...latencies), failures, rssBefore, rssMax: Math.max(rssMax, rssAfter), rssAfter, rounds };
}

/** The lab the abuse runs on: a router with a console, two hosts on a switch and a ping check between them. */
export function abuseLab(name: string): Record<string, unknown> {
  return {
    name,
    nodes: {
      r1: { kind: 'router', interfaces: { 'g0/0': { ip: '10.9.0.1/24' } } },
      pc1: { kind: 'host', interfaces: { eth0: { ip: '10.9.0.11/24' } } },
      pc2: { kind: 'host', interfaces: { eth0: { ip: '10.9.0.12/24' } } },
      sw1: { kind: 'switch', ports: 8 },
    },
    links: [
      ['r1:g0/0', 'sw1:e0'],
      ['pc1:eth0', 'sw1:e1'],
      ['pc2:eth0', 'sw1:e2'],
    ],
    checks: [{ name: 'ping', ping: { from: 'pc1', to: '10.9.0.12', count: 5 } }],
  };
}

/** GETs `url` every 25 ms for `ms` in a worker thread: latencies (ms) and failures. */
function probeInWorker(url: string, ms: number): Promise<{ latencies: number[]; failures: number }> {
  const code = `
const { parentPort, workerData } = require('node:worker_threads');
const { request } = require('node:http');
const until = Date.now() + workerData.ms;
const latencies = [];
let failures = 0;
const get = () => new Promise((resolve) => {
  const start = performance.now();
  const req = request(workerData.url, { method: 'GET', timeout: 30000 }, (res) => {
    res.resume();
    res.on('end', () => resolve({ status: res.statusCode, ms: performance.now() - start }));
  });
  req.on('timeout', () => req.destroy(new Error('timeout')));
  req.on('error', () => resolve({ status: 0, ms: performance.now() - start }));
  req.end();
});
(async () => {
  while (Date.now() < until) {
    const r = await get();
    latencies.push(r.ms);
    if (r.status !== 200) failures++;
    await new Promise((r) => setTimeout(r, 25));
  }
  parentPort.postMessage({ latencies, failures });
})();
`;
  const w = new Worker(code, { eval: true, workerData: { url, ms } });
  return new Promise((resolve, reject) => {
    w.once('message', (m: { latencies: number[]; failures: number }) => {
      resolve(m);
      void w.terminate();
    });
    w.once('error', reject);
  });
}

/** Creates and starts the abuse lab on a server; answers the router's telnet port. */
export async function prepareAbuseLab(url: string, name: string): Promise<number> {
  const send = (method: string, path: string, body?: unknown) =>
    fetch(`${url}/api/v1${path}`, { method, headers: body ? { 'content-type': 'application/json' } : {}, body: body ? JSON.stringify(body) : undefined }).then(async (r) => {
      if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`);
      return r.json() as Promise<any>;
    });
  await send('POST', '/labs', abuseLab(name));
  await send('POST', `/labs/${name}/start`);
  const node = await send('GET', `/labs/${name}/nodes/r1`);
  return node.console as number;
}
