/**
 * Valid labs that push the emulation hard, run by a server in its own process: a broadcast storm
 * (a loop of switches without spanning tree and a hub, flooded by ARP for an address nobody
 * has; traced by a WebSocket client that cannot keep up), a 4,095-port switch, a router whose DHCP pool is a whole /8, and a VMware NAT network
 * on a /8. While each runs, GET /api/v1/labs is timed every 50 ms for 5 s: every GET answers
 * 200, p99 under 2 s and none over 5 s (generous: CI's two cores also run other files). Each
 * lab then stops, and the server is still there.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { Api } from '../integration/server-harness.js';
import { timedGet } from './abuse.js';
import { type Spawned, percentile, spawnServer } from './spawned.js';

let s: Spawned;
let api: Api;
const dir = mkdtempSync(join(tmpdir(), 'wirelab-pathological-'));

beforeAll(async () => {
  s = await spawnServer(dir, { logLevel: 'error' });
  api = new Api(s.url);
});
afterAll(async () => {
  await s?.kill();
  rmSync(dir, { recursive: true, force: true });
});

/** Times GET /labs every 50 ms for `ms` while `during` runs alongside. */
async function latencyDuring(ms: number, during: () => Promise<unknown> = async () => undefined): Promise<{ p99: number; worst: number; n: number }> {
  const until = Date.now() + ms;
  const times: number[] = [];
  const side = during();
  while (Date.now() < until) {
    const r = await timedGet(`${s.url}/api/v1/labs`, 20_000);
    expect(r.status).toBe(200);
    times.push(r.ms);
    await new Promise((res) => setTimeout(res, 50));
  }
  await side;
  return { p99: percentile(times, 99), worst: Math.max(...times), n: times.length };
}

async function runs(name: string, lab: Record<string, unknown>, during?: () => Promise<unknown>): Promise<void> {
  await api.expect(201, 'POST', '/labs', { name, ...lab });
  await api.expect(200, 'POST', `/labs/${name}/start`);
  const l = await latencyDuring(5_000, during);
  console.log(`${name}: ${l.n} GETs, p99 ${l.p99.toFixed(1)} ms, worst ${l.worst.toFixed(1)} ms, server RSS ${s.rssMb().toFixed(0)} MB`);
  expect(l.p99).toBeLessThan(2_000);
  expect(l.worst).toBeLessThan(5_000);
  await api.expect(200, 'POST', `/labs/${name}/stop`);
  expect(s.proc.exitCode).toBe(null);
}

describe('pathological valid labs', () => {
  it('a broadcast storm: a loop of switches without spanning tree and a hub', async () => {
    const lab = {
      nodes: {
        pc1: { kind: 'host', interfaces: { eth0: { ip: '10.0.0.1/24' } } },
        sw1: { kind: 'switch', stp: false },
        sw2: { kind: 'switch', stp: false },
        sw3: { kind: 'switch', stp: false },
        hub1: { kind: 'hub' },
      },
      links: [
        ['pc1:eth0', 'sw1:e0'],
        ['sw1:e1', 'sw2:e1'],
        ['sw2:e2', 'sw3:e2'],
        ['sw3:e3', 'sw1:e3'],
        ['sw1:e4', 'hub1:p0'],
        ['sw2:e4', 'hub1:p1'],
      ],
      checks: [{ name: 'nobody', ping: { from: 'pc1', to: '10.0.0.99', count: 2 }, timeout: '3s' }],
    };
    // The ping's ARP broadcast loops for ever: the check runs while the GETs are timed, and a
    // client traces every link of the storm.
    // (Messages are only searched, not parsed: this process also times the GETs.)
    const ws = new WebSocket(s.url.replace('http', 'ws') + '/api/v1/ws');
    let dropped = false;
    ws.on('message', (d) => {
      if (!dropped && /"droppedTotal":[1-9]/.test(d.toString())) dropped = true;
    });
    await new Promise((res, rej) => {
      ws.once('open', res);
      ws.once('error', rej);
    });
    try {
      await runs('storm', lab, async () => {
        ws.send(JSON.stringify({ op: 'subscribe', id: 't', channel: 'trace', lab: 'storm' }));
        await api.post('/labs/storm/checks/run');
        const until = Date.now() + 8_000;
        while (!dropped && Date.now() < until) await new Promise((res) => setTimeout(res, 100));
        expect(dropped, 'the trace could not keep up with the storm').toBe(true);
      });
    } finally {
      ws.close();
    }
  }, 60_000);

  it('a 4,095-port switch', async () => {
    const nodes: Record<string, unknown> = { sw: { kind: 'switch', ports: 4095 } };
    const links: string[][] = [];
    for (let i = 0; i < 20; i++) {
      nodes[`h${i}`] = { kind: 'host', interfaces: { eth0: { ip: `10.0.0.${i + 1}/24` } } };
      links.push([`h${i}:eth0`, `sw:e${4094 - i}`]);
    }
    await runs('wide', { nodes, links, checks: [{ name: 'p', ping: { from: 'h0', to: '10.0.0.20' } }] }, async () => {
      const r = await api.expect(200, 'POST', '/labs/wide/checks/run');
      expect(r.body[0].passed).toBe(true);
      await api.expect(200, 'GET', '/labs/wide/nodes/sw');
    });
  }, 60_000);

  it('a router whose DHCP pool is a whole /8', async () => {
    const lab = {
      nodes: {
        r1: { kind: 'router', interfaces: { 'g0/0': { ip: '10.0.0.1/8' } }, 'dhcp-server': { pools: [{ interface: 'g0/0' }] } },
        pc1: { kind: 'host', interfaces: { eth0: { ip: 'dhcp' } } },
        sw1: { kind: 'switch', ports: 4 },
      },
      links: [
        ['r1:g0/0', 'sw1:e0'],
        ['pc1:eth0', 'sw1:e1'],
      ],
      checks: [{ name: 'lease', dhcp: { node: 'pc1', in: '10.0.0.0/8' }, timeout: '20s' }],
    };
    await runs('pool8', lab, async () => {
      const r = await api.expect(200, 'POST', '/labs/pool8/checks/run');
      expect(r.body[0].passed, JSON.stringify(r.body)).toBe(true);
    });
  }, 60_000);

  it('a VMware NAT network on a /8 with DHCP', async () => {
    const lab = {
      networks: { big: { type: 'nat', subnet: '10.0.0.0/8', dhcp: { lease: '1h' } } },
      nodes: { pc1: { kind: 'host', interfaces: { eth0: { ip: 'dhcp', network: 'big' } } } },
      checks: [{ name: 'lease', dhcp: { node: 'pc1', in: '10.0.0.0/8' }, timeout: '20s' }],
    };
    await runs('net8', lab, async () => {
      const r = await api.expect(200, 'POST', '/labs/net8/checks/run');
      expect(r.body[0].passed, JSON.stringify(r.body)).toBe(true);
    });
  }, 60_000);
});
