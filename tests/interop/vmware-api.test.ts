/**
 * What the Virtual Network Editor reads about a network through the API while the lab runs on
 * the server: GET /labs/{lab}/networks/{network}/status gives the address plan, the DHCP leases
 * and the NAT gateway's live translations (a port-forwarded connection from the host, a guest's
 * UDP flow out) through the host's real sockets. No privilege needed.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseIp4 } from '../../devices/wire/bytes.js';
import { type TestServer, startTestServer } from '../integration/server-harness.js';
import { freePorts } from '../helpers/netns.js';

let t: TestServer;
let forwardPort: number;
let udpPeer: dgram.Socket;

beforeAll(async () => {
  t = await startTestServer({ watch: false });
  [forwardPort] = await freePorts('tcp', 1);
  udpPeer = dgram.createSocket('udp4');
  await new Promise<void>((r) => udpPeer.bind(0, '127.0.0.1', r));
}, 30_000);

afterAll(async () => {
  udpPeer?.close();
  await t?.close();
});

const lab = () => ({
  name: 'editor',
  networks: {
    vmnet8: { type: 'nat', subnet: '192.168.148.0/24', nat: { 'port-forwards': [{ proto: 'tcp', host: `127.0.0.1:${forwardPort}`, guest: '192.168.148.10:7' }] } },
    vmnet1: { type: 'host-only', subnet: '192.168.149.0/24', 'host-adapter': false },
    lan: { type: 'segment' },
  },
  nodes: {
    echo: { kind: 'host', interfaces: { eth0: { network: 'vmnet8', ip: '192.168.148.10/24', gateway: '192.168.148.2' } }, services: { 'tcp-echo': { port: 7 } } },
    pc: { kind: 'host', interfaces: { eth0: { network: 'vmnet8', ip: 'dhcp' } } },
  },
});

describe('GET /labs/{lab}/networks/{network}/status', () => {
  it('gives the plan of a stopped lab, and 404 for a network that is not there', async () => {
    await t.api.expect(201, 'POST', '/labs', lab());
    const s = (await t.api.expect(200, 'GET', '/labs/editor/networks/vmnet8/status')).body;
    expect(s).toEqual({
      name: 'vmnet8',
      type: 'nat',
      running: false,
      plan: {
        subnet: '192.168.148.0/24',
        hostAdapter: '192.168.148.1',
        hostAdapterMode: 'host-sockets',
        gateway: '192.168.148.2',
        dhcpServer: '192.168.148.254',
        dhcpRange: '192.168.148.128-192.168.148.253',
        leaseSeconds: 1800,
        domain: 'localdomain',
      },
      dhcp: null,
      nat: null,
      hostAdapter: null,
    });
    const ho = (await t.api.expect(200, 'GET', '/labs/editor/networks/vmnet1/status')).body;
    expect(ho.plan).toMatchObject({ hostAdapter: null, hostAdapterMode: 'off', gateway: null });
    expect((await t.api.expect(200, 'GET', '/labs/editor/networks/lan/status')).body.plan).toBeNull();
    const missing = await t.api.expect(404, 'GET', '/labs/editor/networks/vmnet9/status');
    expect(missing.body.details).toEqual([{ field: 'network', message: 'no such network' }]);
  });

  it('shows leases and live NAT translations of the running lab', async () => {
    await t.api.expect(200, 'POST', '/labs/editor/start');
    const status = async () => (await t.api.expect(200, 'GET', '/labs/editor/networks/vmnet8/status')).body;
    let s = await status();
    for (let i = 0; i < 100 && s.dhcp.leases.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      s = await status();
    }
    expect(s.running).toBe(true);
    expect(s.dhcp.leases).toEqual([expect.objectContaining({ hostname: 'pc', type: 'automatic' })]);
    expect(s.dhcp.leases[0].ip).toMatch(/^192\.168\.148\.(1[2-9]\d|2[0-4]\d|25[0-3])$/);
    expect(s.nat).toMatchObject({ mode: 'nat', address: '192.168.148.2', relaying: true, tcp: [], udp: [] });
    expect(s.nat.portForwards).toEqual([{ proto: 'tcp', host: `127.0.0.1:${forwardPort}`, guest: '192.168.148.10:7', state: 'listening', error: null, accepted: 0 }]);
    expect(s.hostAdapter).toMatchObject({ mode: 'host-sockets', gateway: { mode: 'host', address: '192.168.148.1' }, tap: null });

    // A connection from the host through the forward, held open, echoed by the guest.
    const sock = net.connect(forwardPort, '127.0.0.1');
    sock.on('error', () => {});
    let echoed = '';
    sock.on('data', (b) => (echoed += b.toString()));
    sock.write('hello echo');
    for (let i = 0; i < 100 && echoed !== 'hello echo'; i++) await new Promise((r) => setTimeout(r, 50));
    expect(echoed).toBe('hello echo');
    // And a guest's datagram to a UDP socket on the host's loopback, through .1.
    const rt = t.server.labs.runtime('editor')!;
    const pc = rt.host('pc')!;
    const got = new Promise<string>((r) => udpPeer.once('message', (m) => r(m.toString())));
    const u = pc.stack.udp.bind({ onDatagram: () => {} }, 0);
    u.sendTo(parseIp4('192.168.148.1')!, udpPeer.address().port, new TextEncoder().encode('from the lab'));
    expect(await got).toBe('from the lab');

    s = await status();
    expect(s.nat.tcp).toEqual([
      expect.objectContaining({ direction: 'in', guest: '192.168.148.10:7', peer: expect.stringMatching(/^192\.168\.148\.2:\d+$/), state: 'open', tcpState: 'ESTABLISHED', bytesToHost: 10, bytesToGuest: 10 }),
    ]);
    expect(s.nat.portForwards[0].accepted).toBe(1);
    expect(s.hostAdapter.gateway.udp).toEqual([expect.objectContaining({ kind: 'relay', guest: expect.stringMatching(/^192\.168\.148\.\d+:\d+$/), datagramsToHost: 1 })]);
    sock.end();
    await new Promise((r) => sock.once('close', r));
    for (let i = 0; i < 100 && s.nat.tcp.length > 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
      s = await status();
    }
    expect(s.nat.tcp).toEqual([]);
    await t.api.expect(200, 'POST', '/labs/editor/stop');
    expect((await status()).running).toBe(false);
  });
});
