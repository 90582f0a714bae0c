/**
 * A lab built, started and watched through the API alone, over real HTTP and WebSocket: nodes,
 * a network and links created by requests, ping traffic seen on the trace channel, a node and a
 * link added while the lab runs and traffic seen crossing them, a capture followed while it
 * grows and then read by tshark.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { readPcapng } from '../helpers/pcapng.js';
import { tsharkAvailable, tsharkFields, tsharkProblems } from '../helpers/tshark.js';
import { type TestServer, WsClient, eventually, startTestServer } from './server-harness.js';

let t: TestServer;
let ws: WsClient;

beforeAll(async () => {
  t = await startTestServer();
  ws = await WsClient.connect(t.api.base);
});
afterAll(async () => {
  ws?.close();
  await t?.close();
});

describe('a lab built and run through the API', () => {
  const streamed: Uint8Array[] = [];
  let streamDone: Promise<void>;

  test('is built from requests alone: a lab, a network, nodes, links', async () => {
    const { api } = t;
    await api.expect(201, 'POST', '/labs', { name: 'flow', description: 'built over HTTP' });
    await api.expect(201, 'POST', '/labs/flow/networks', { name: 'seg', type: 'segment' });
    for (const [name, ip] of [['pc1', '10.0.0.1/24'], ['pc2', '10.0.0.2/24'], ['pc3', '10.0.0.3/24']]) {
      await api.expect(201, 'POST', '/labs/flow/nodes', { name, kind: 'host', interfaces: { eth0: { ip } } });
    }
    await api.expect(201, 'POST', '/labs/flow/nodes', { name: 'sw1', kind: 'switch', stp: false });
    const l1 = await api.expect(201, 'POST', '/labs/flow/links', ['pc1:eth0', 'sw1:e1']);
    expect(l1.body.id).toBe('pc1:eth0--sw1:e1');
    await api.expect(201, 'POST', '/labs/flow/links', ['pc2:eth0', 'sw1:e2']);
    await api.expect(201, 'POST', '/labs/flow/links', { endpoints: ['sw1:e7', 'seg'], delay: '1ms' });
    await api.expect(201, 'POST', '/labs/flow/links', ['pc3:eth0', 'seg']);

    const lab = (await api.expect(200, 'GET', '/labs/flow')).body;
    expect(lab.status).toBe('stopped');
    expect(lab.nodes.map((n: { name: string }) => n.name).sort()).toEqual(['pc1', 'pc2', 'pc3', 'sw1']);
    expect(lab.links.map((l: { id: string }) => l.id)).toEqual(['pc1:eth0--sw1:e1', 'pc2:eth0--sw1:e2', 'sw1:e7--seg', 'pc3:eth0--seg']);
    expect(lab.networks[0]).toMatchObject({ name: 'seg', type: 'segment', attached: ['sw1:e7', 'pc3:eth0'] });
    // What the API built is a lab.yaml a person can read.
    const yaml = readFileSync(join(t.dir, 'flow', 'lab.yaml'), 'utf8');
    expect(yaml).toContain('  - [ pc1:eth0, sw1:e1 ]');
    expect(yaml).toContain('  - { endpoints: [ sw1:e7, seg ], delay: 1ms }');
    expect(yaml.indexOf('networks:')).toBeLessThan(yaml.indexOf('nodes:'));
  });

  test('starts, and ping traffic arrives on the trace channel', async () => {
    const { api } = t;
    await ws.subscribe({ id: 'ev', channel: 'lab', lab: 'flow' });
    await ws.subscribe({ id: 'icmp', channel: 'trace', lab: 'flow', filter: { protocol: 'icmp' } });
    await ws.subscribe({ id: 'pc1-link', channel: 'trace', lab: 'flow', link: 'pc1:eth0--sw1:e1', raw: true });
    const started = await api.expect(200, 'POST', '/labs/flow/start');
    expect(started.body.status).toBe('running');
    await ws.waitFor((m) => m.type === 'event' && m.id === 'ev' && m.event.type === 'lab-state' && m.event.status === 'running', 10_000, 'the lab-state event');

    // A capture, followed as it grows, from before the first ping.
    const cap = await api.expect(201, 'POST', '/labs/flow/captures', { link: 'pc1:eth0--sw1:e1' });
    expect(cap.body).toMatchObject({ id: 'c1', state: 'running', link: 'pc1:eth0--sw1:e1' });
    const res = await fetch(t.api.base + cap.body.url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/x-pcapng');
    const reader = res.body!.getReader();
    streamDone = (async () => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        streamed.push(value);
      }
    })();

    await api.expect(201, 'POST', '/labs/flow/checks', { name: 'pc1 to pc3', ping: { from: 'pc1', to: '10.0.0.3' } });
    const results = (await api.expect(200, 'POST', '/labs/flow/checks/run')).body;
    expect(results).toEqual([expect.objectContaining({ name: 'pc1 to pc3', passed: true })]);

    const reply = await ws.waitFor((m) => m.type === 'trace' && m.id === 'icmp' && m.records.some((r: { info: string; link: string }) => r.info.startsWith('Echo (ping) reply') && r.link === 'pc3:eth0--seg'), 10_000, 'an echo reply on pc3:eth0--seg');
    expect(reply.dropped).toBe(0);
    const records = ws.records('icmp');
    // The request crossed every link on the way: pc1's cable, the switch's uplink to the network, pc3's cable.
    const requests = records.filter((r) => r.info.startsWith('Echo (ping) request'));
    expect(new Set(requests.map((r) => r.link))).toEqual(new Set(['pc1:eth0--sw1:e1', 'sw1:e7--seg', 'pc3:eth0--seg']));
    const first = requests.find((r) => r.link === 'pc1:eth0--sw1:e1')!;
    expect(first).toMatchObject({ from: 'pc1:eth0', to: 'sw1:e1', protocol: 'ICMP', src: '10.0.0.1', dst: '10.0.0.3', length: 98 });
    expect(first.layers.map((l: { name: string }) => l.name)).toEqual(['Ethernet II', 'IPv4', 'ICMP']);
    expect(typeof first.time).toBe('number');
    // Only ICMP on the filtered channel; ARP did cross the same cable (seen on the unfiltered one, with raw bytes).
    expect(records.every((r) => r.protocol === 'ICMP')).toBe(true);
    const pc1Link = await eventually(() => {
      const recs = ws.records('pc1-link');
      return recs.some((r) => r.info === 'Who has 10.0.0.3? Tell 10.0.0.1') && recs.some((r) => r.protocol === 'ICMP') ? recs : null;
    }, 10_000, 'ARP and ICMP on pc1-link');
    expect(pc1Link.every((r) => r.link === 'pc1:eth0--sw1:e1')).toBe(true);
    const arp = pc1Link.find((r) => r.info === 'Who has 10.0.0.3? Tell 10.0.0.1')!;
    expect(arp).toMatchObject({ protocol: 'ARP', from: 'pc1:eth0', to: 'sw1:e1', dst: 'ff:ff:ff:ff:ff:ff' });
    expect(Buffer.from(arp.raw, 'base64').length).toBe(arp.length);
  });

  test('takes a new node and link while running, and traffic crosses them', async () => {
    const { api } = t;
    await api.expect(201, 'POST', '/labs/flow/nodes', { name: 'pc4', kind: 'host', interfaces: { eth0: { ip: '10.0.0.4/24' } } });
    await api.expect(201, 'POST', '/labs/flow/links', ['pc4:eth0', 'sw1:e3']);
    await ws.waitFor((m) => m.type === 'event' && m.id === 'ev' && m.event.type === 'node-created' && m.event.node === 'pc4', 5_000, 'node-created pc4');
    await ws.waitFor((m) => m.type === 'event' && m.id === 'ev' && m.event.type === 'link-state' && m.event.link === 'pc4:eth0--sw1:e3' && m.event.status === 'added', 5_000, 'link added');
    const node = (await api.expect(200, 'GET', '/labs/flow/nodes/pc4')).body;
    expect(node).toMatchObject({ name: 'pc4', status: 'running', interfaces: [{ name: 'eth0', link: 'pc4:eth0--sw1:e3' }] });
    // Nothing else was rebuilt: the lab kept running, pc1 kept its ARP entry's peer (no new ARP from pc1 needed below for pc3).
    expect(t.server.traces.tapped('flow')).toContain('pc4:eth0--sw1:e3');

    await api.expect(201, 'POST', '/labs/flow/checks', { name: 'pc4 to pc2', ping: { from: 'pc4', to: '10.0.0.2' } });
    const results = (await api.expect(200, 'POST', '/labs/flow/checks/run')).body;
    expect(results.map((r: { passed: boolean }) => r.passed)).toEqual([true, true]);
    await ws.waitFor((m) => m.type === 'trace' && m.id === 'icmp' && m.records.some((r: { link: string; from: string; info: string }) => r.link === 'pc4:eth0--sw1:e3' && r.from === 'pc4:eth0' && r.info.startsWith('Echo (ping) request')), 10_000, 'pc4 echo request on its new link');
  });

  test('pulls and replugs a cable, powers a node off and on, changes impairments in place', async () => {
    const { api } = t;
    await api.expect(201, 'POST', '/labs/flow/checks', { name: 'pc4 once', ping: { from: 'pc4', to: '10.0.0.2', count: 1 }, timeout: '3s' });
    const once = async () => (await api.expect(200, 'POST', '/labs/flow/checks/run', { only: ['pc4 once'] })).body[0];
    const rt = t.server.labs.runtime('flow')!;
    const cable = rt.link('pc4:eth0--sw1:e3')!;

    const suspended = await api.expect(200, 'POST', '/labs/flow/links/pc4:eth0--sw1:e3/suspend');
    expect(suspended.body.suspended).toBe(true);
    await ws.waitFor((m) => m.type === 'event' && m.event.type === 'link-state' && m.event.link === 'pc4:eth0--sw1:e3' && m.event.status === 'suspended', 5_000, 'suspended');
    expect(await once()).toMatchObject({ passed: false, ok: false });
    await api.expect(200, 'POST', '/labs/flow/links/pc4:eth0--sw1:e3/resume');
    expect(await once()).toMatchObject({ passed: true });
    expect(rt.link('pc4:eth0--sw1:e3')).toBe(cable); // the same cable all along, not a rebuilt one

    const off = await api.expect(200, 'POST', '/labs/flow/nodes/pc4/stop');
    expect(off.body.status).toBe('stopped');
    expect(await once()).toMatchObject({ passed: false });
    expect((await api.expect(200, 'POST', '/labs/flow/nodes/pc4/start')).body.status).toBe('running');
    expect(await once()).toMatchObject({ passed: true });

    const imp = await api.expect(200, 'PUT', '/labs/flow/links/pc4:eth0--sw1:e3/impairments', { delay: '20ms', loss: '0.5%' });
    expect(imp.body.impairments).toEqual({ delay: '20ms', loss: '0.5%' });
    expect(rt.link('pc4:eth0--sw1:e3')).toBe(cable);
    expect(cable.impairments()).toMatchObject({ delayNs: 20e6, loss: 0.005 });
    await api.expect(200, 'PUT', '/labs/flow/links/pc4:eth0--sw1:e3/impairments', {});
    expect(cable.impairments()).toEqual({});
    await api.expect(204, 'DELETE', '/labs/flow/checks/2');
  });

  test('serves the capture while it grows, and tshark reads the finished file with no malformed frame', async () => {
    const { api } = t;
    // The download followed the capture: by now it has received the ICMP traffic of the checks.
    await eventually(() => readPcapng(concat(streamed).subarray(0, wholeBlocks(concat(streamed)))).packets.length >= 12, 5_000, 'streamed packets');
    const stopped = await api.expect(200, 'DELETE', '/labs/flow/captures/c1');
    expect(stopped.body.state).toBe('stopped');
    await streamDone;
    const full = await fetch(t.api.base + '/api/v1/labs/flow/captures/c1.pcapng');
    const bytes = new Uint8Array(await full.arrayBuffer());
    expect(Number(full.headers.get('content-length'))).toBe(bytes.length);
    // The followed stream is the same file as the finished one.
    expect(Buffer.compare(concat(streamed), bytes)).toBe(0);
    const parsed = readPcapng(bytes);
    expect(parsed.interfaces.map((i) => i.name)).toEqual(['pc1:eth0--sw1:e1']);
    expect(parsed.packets.length).toBe(stopped.body.frames);

    const file = join(t.dir, 'flow-c1.pcapng');
    writeFileSync(file, bytes);
    const tshark = tsharkAvailable();
    if (!tshark.ok) {
      if (process.env['CI'] === 'true') throw new Error(`tshark is required in CI: ${tshark.reason}`);
      console.log(`skipping the tshark half: ${tshark.reason}`);
      return;
    }
    expect(tsharkProblems(file)).toEqual([]);
    const protocols = tsharkFields(file, ['_ws.col.Protocol']).map((r) => r[0]);
    expect(protocols.length).toBe(parsed.packets.length);
    expect(protocols).toContain('ICMP');
    expect(protocols).toContain('ARP');

    await api.expect(204, 'DELETE', '/labs/flow/captures/c1');
    await api.expect(404, 'GET', '/labs/flow/captures/c1.pcapng');
  });

  test('stops, saving the runtime state under state/', async () => {
    await t.api.expect(200, 'POST', '/labs/flow/stop');
    await ws.waitFor((m) => m.type === 'event' && m.id === 'ev' && m.event.type === 'lab-state' && m.event.status === 'stopped', 5_000, 'stopped');
    expect(existsSync(join(t.dir, 'flow', 'state', 'runtime.json'))).toBe(true);
    expect(JSON.parse(readFileSync(join(t.dir, 'flow', 'state', 'runtime.json'), 'utf8'))).toMatchObject({ version: 1 });
    expect(t.server.traces.tapped('flow')).toEqual([]);
  });
});

function concat(chunks: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(chunks));
}

/** Length of the leading whole pcapng blocks (a followed stream may end mid-block). */
function wholeBlocks(b: Uint8Array): number {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let p = 0;
  while (p + 8 <= b.length) {
    const len = v.getUint32(p + 4, true);
    if (p + len > b.length) break;
    p += len;
  }
  return p;
}
