/**
 * A NAT network's gateway (.2) and host adapter (.1) against real peers on this machine, through
 * the host's own sockets: an HTTP server in a network namespace (veth to the host, addresses
 * chosen here) fetched by an emulated host through .2; curl on the host fetching an emulated
 * host's web service through a port forward; a name resolved through .2 by a dnsmasq on
 * loopback (dns-upstream); a TCP service on the host's loopback reached through .1.
 *
 * Needs root (a namespace and a veth) and dnsmasq and curl; without them the test says why and is
 * skipped, except in CI, where it fails.
 */
import { spawn } from 'node:child_process';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadLabText, formatLabErrors } from '../../devices/lab/load.js';
import { LabRuntime } from '../../devices/lab/runtime.js';
import type { SocketGateway } from '../../devices/network/index.js';
import type { TcpSocket, TcpSocketOwner } from '../../devices/stack/tcp.js';
import { ip4ToString, parseIp4 } from '../../devices/wire/bytes.js';
import { hostNetworking } from '../../server/host-sockets.js';
import { Cleanup, Netns, freePorts, reapStale, realPeers, run, runStatus, start, vethPair, waitUntil, which } from '../helpers/netns.js';

const peers = realPeers(['ip', 'curl', 'dnsmasq']);
if (!peers.ok) console.warn(`vmware NAT interop skipped: ${peers.reason}`);

it('runs where it must (CI has root, curl and dnsmasq)', () => {
  if (!peers.ok) expect(process.env.CI, `vmware NAT interop cannot run: ${peers.reason}`).not.toBe('true');
});

/** The namespace's subnet: 10.231.N.0/24, N from the PID so that parallel runs do not meet. */
const N = 10 + (process.pid % 200);
const NS_HOST = `10.231.${N}.1`;
const NS_PEER = `10.231.${N}.2`;

function lab(yaml: string): LabRuntime {
  const loaded = loadLabText(yaml, 'lab.yaml');
  if (!loaded.ok) throw new Error(formatLabErrors(loaded.errors));
  return new LabRuntime(loaded.lab, { time: 'real', ...hostNetworking() });
}

describe.skipIf(!peers.ok)('a NAT network through the host\'s sockets', () => {
  const cleanup = new Cleanup();
  let rt: LabRuntime;
  let forwardPort: number;
  let dnsPort: number;
  let loopPort: number;
  let loopServer: net.Server;

  beforeAll(async () => {
    reapStale();
    [forwardPort, loopPort] = await freePorts('tcp', 2);
    [dnsPort] = await freePorts('udp', 1);

    // A real HTTP server in a namespace the host reaches over a veth.
    const ns = Netns.create(cleanup, 'V');
    const veth = vethPair(cleanup, ns, 'v');
    run('ip', ['addr', 'add', `${NS_HOST}/24`, 'dev', veth.outside]);
    ns.ip('addr', 'add', `${NS_PEER}/24`, 'dev', veth.inside);
    const web = ns.spawn(cleanup, process.execPath, [
      '-e',
      `require('node:http').createServer((q, s) => s.end('hello from a real namespace ' + q.url)).listen(8000, '${NS_PEER}', () => console.log('listening'))`,
    ]);
    expect(await waitUntil(() => web.output().includes('listening'), 10_000), web.output()).toBe(true);

    // dnsmasq on loopback answering one name.
    const dnsmasq = start(which('dnsmasq')!, [
      '--no-daemon',
      '--conf-file=/dev/null',
      '--no-resolv',
      '--no-hosts',
      '--bind-interfaces',
      '--listen-address=127.0.0.1',
      `--port=${dnsPort}`,
      '--pid-file=',
      '--address=/example.lab/10.9.8.7',
    ]);
    cleanup.process(dnsmasq.child, 'dnsmasq');
    expect(
      await waitUntil(() => runStatus('ss', ['-Hlun', `sport = :${dnsPort}`]).stdout.includes(`:${dnsPort}`) || dnsmasq.child.exitCode !== null, 10_000),
    ).toBe(true);
    expect(dnsmasq.child.exitCode, dnsmasq.output()).toBeNull();

    // A TCP service on the host's loopback: answers each line with it upper-cased.
    loopServer = net.createServer((s) => {
      s.on('error', () => {});
      s.on('data', (b) => s.write(b.toString().toUpperCase()));
      s.on('end', () => s.end());
    });
    await new Promise<void>((r) => loopServer.listen(loopPort, '127.0.0.1', r));
    cleanup.add('loopback server', () => new Promise<void>((r) => loopServer.close(() => r())));

    rt = lab(`wirelab: 1
name: vmware-nat
networks:
  vmnet8:
    type: nat
    subnet: 192.168.88.0/24
    nat:
      dns-upstream: "127.0.0.1:${dnsPort}"
      port-forwards: [{ proto: tcp, host: "127.0.0.1:${forwardPort}", guest: "192.168.88.10:80" }]
nodes:
  web: { kind: host, interfaces: { eth0: { network: vmnet8, ip: 192.168.88.10/24, gateway: 192.168.88.2 } }, services: { http: { body: "hello from the lab" } } }
  pc: { kind: host, interfaces: { eth0: { network: vmnet8, ip: dhcp } } }
checks:
  - { name: through .2 to the namespace, http: { from: pc, url: "http://${NS_PEER}:8000/x", contains: "hello from a real namespace /x" } }
  - { name: a refused port outside, tcp: { from: pc, to: "${NS_PEER}:8001" }, expect: failure }
  - { name: .1 is the host's loopback, tcp: { from: pc, to: "192.168.88.1:${loopPort}" } }
`);
    cleanup.add('lab', () => void rt.stop());
    rt.start();
    expect(await rt.settle(30e9)).toBe(true);
  }, 60_000);

  afterAll(async () => {
    expect(await cleanup.run()).toEqual([]);
  });

  it('passes the lab\'s checks: HTTP through .2 to the namespace, a refusal carried back, TCP to .1', async () => {
    const results = await rt.runChecks({ settle: false });
    expect(results.map((r) => `${r.passed ? 'PASS' : 'FAIL'} ${r.name}: ${r.detail}`)).toEqual([
      expect.stringMatching(/^PASS through \.2 to the namespace: GET .*status 200/),
      expect.stringMatching(/^PASS a refused port outside: .*refused/),
      expect.stringMatching(/^PASS \.1 is the host's loopback: connected/),
    ]);
  });

  it('lets curl on the host fetch the emulated web server through the port forward', async () => {
    const r = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const c = spawn('curl', ['-sS', '--max-time', '10', '-D', '-', `http://127.0.0.1:${forwardPort}/`], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      c.stdout.on('data', (d: Buffer) => (out += d.toString()));
      c.stderr.on('data', (d: Buffer) => (out += d.toString()));
      c.on('exit', (code) => resolve({ code, out }));
    });
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(r.out.endsWith('hello from the lab')).toBe(true);
    const nat = rt.networkParts('vmnet8')!.nat as SocketGateway;
    expect(nat.status().portForwards[0]).toMatchObject({ state: 'listening', accepted: 1 });
  });

  it('resolves a name through .2 against dnsmasq on loopback (dns-upstream)', async () => {
    const pc = rt.host('pc')!;
    expect(pc.nameservers().map(ip4ToString)).toEqual(['192.168.88.2']);
    const q = pc.resolve('www.example.lab');
    await rt.waitFor(() => q.isDone, 15e9);
    expect(q.result.error).toBeNull();
    expect(q.result.addresses.map(ip4ToString)).toEqual(['10.9.8.7']);
    expect(q.result.server).toBe(parseIp4('192.168.88.2'));
    const nx = pc.resolve('nothing.invalid');
    await rt.waitFor(() => nx.isDone, 15e9);
    // dnsmasq without upstreams refuses what it does not know; the answer still comes from .2.
    expect(nx.result.addresses).toEqual([]);
    expect(nx.result.server).toBe(parseIp4('192.168.88.2'));
  });

  it('carries bytes both ways to a TCP service on the host\'s loopback through .1, and the host sees the close', async () => {
    const pc = rt.host('pc')!;
    const got: string[] = [];
    let closed = false;
    const owner: TcpSocketOwner = {
      onConnect: (s: TcpSocket) => {
        s.send(new TextEncoder().encode('hello host\n'));
      },
      onData: (_s, d) => void got.push(Buffer.from(d).toString()),
      onEnd: (s) => s.close(),
      onClose: () => void (closed = true),
    };
    const sock = pc.tcp.connect(parseIp4('192.168.88.1')!, loopPort, owner);
    expect(await rt.waitFor(() => got.join('') === 'HELLO HOST\n', 10e9)).toBe(true);
    sock.shutdown();
    expect(await rt.waitFor(() => closed, 10e9)).toBe(true);
    const adapter = rt.networkParts('vmnet8')!.hostAdapter as SocketGateway;
    await rt.waitFor(() => adapter.status().tcp.length === 0, 5e9);
    expect(adapter.status().tcp).toEqual([]);
  });

  it('carries resets both ways between a guest and a real socket', async () => {
    const [port] = await freePorts('tcp', 1);
    const seen: string[] = [];
    const server = net.createServer((s) => {
      s.on('error', (e: NodeJS.ErrnoException) => void seen.push(e.code ?? e.message));
      s.on('data', (b) => {
        if (b.toString() === 'reset me') s.resetAndDestroy();
      });
    });
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
    try {
      const pc = rt.host('pc')!;
      const errors: string[] = [];
      const owner: TcpSocketOwner = { onError: (_s, e) => void errors.push(e) };
      const a = pc.tcp.connect(parseIp4('192.168.88.1')!, port!, {
        ...owner,
        onConnect: (s) => void s.send(new TextEncoder().encode('reset me')),
      });
      expect(await rt.waitFor(() => errors.length === 1, 10e9)).toBe(true);
      expect(errors).toEqual(['ECONNRESET']);
      expect(a.stateName).toBe('CLOSED');
      let up = false;
      const b = pc.tcp.connect(parseIp4('192.168.88.1')!, port!, { onConnect: () => void (up = true) });
      expect(await rt.waitFor(() => up, 10e9)).toBe(true);
      b.abort();
      expect(await waitUntil(() => seen.includes('ECONNRESET'), 5000)).toBe(true);
    } finally {
      server.close();
    }
  });

  it('lets go of every host socket when the lab stops', async () => {
    rt.stop();
    // The forward's listener is closed: a connect is refused.
    const refused = await new Promise<boolean>((resolve) => {
      const s = net.connect(forwardPort, '127.0.0.1');
      s.on('connect', () => {
        s.destroy();
        resolve(false);
      });
      s.on('error', () => resolve(true));
    });
    expect(refused).toBe(true);
  });
});
