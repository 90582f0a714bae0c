/**
 * A NAT network's gateway (.2) and host adapter (.1) against real peers on this machine, through
 * the host's own sockets: an HTTP server in a network namespace (veth to the host, addresses
 * chosen here) fetched by an emulated host through .2; curl on the host fetching an emulated
 * host's web service through a port forward; a name resolved through .2 by a dnsmasq on
 * loopback (dns-upstream); a TCP service on the host's loopback reached through .1; a ping to the
 * namespace through .2, sent by the host's own ICMP socket (raw as root; an unprivileged ping
 * socket where net.ipv4.ping_group_range allows), its capture read by tshark; and the same ping
 * from a child process without CAP_NET_RAW, which relays through a ping socket or says why not.
 *
 * Needs root (a namespace and a veth), dnsmasq, curl, tshark and setpriv; without them the test says
 * why and is skipped, except in CI, where it fails.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Capture } from '../../devices/engine/capture.js';
import { loadLabText, formatLabErrors } from '../../devices/lab/load.js';
import { LabRuntime } from '../../devices/lab/runtime.js';
import type { SocketGateway } from '../../devices/network/index.js';
import type { TcpSocket, TcpSocketOwner } from '../../devices/stack/tcp.js';
import { ip4ToString, parseIp4 } from '../../devices/wire/bytes.js';
import { hostNetworking } from '../../server/host-sockets.js';
import { Cleanup, Netns, freePorts, reapStale, realPeers, run, runStatus, start, vethPair, waitUntil, which } from '../helpers/netns.js';
import { tsharkFields, tsharkProblems } from '../helpers/tshark.js';

const peers = realPeers(['ip', 'curl', 'dnsmasq', 'tshark', 'setpriv']);
if (!peers.ok) console.warn(`vmware NAT interop skipped: ${peers.reason}`);

it('runs where it must (CI has root, curl, dnsmasq, tshark and setpriv)', () => {
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

  it('relays a ping to the namespace through .2: the host\'s own ICMP socket sends it, the guest hears every reply, and tshark finds the capture clean', async () => {
    const nat = rt.networkParts('vmnet8')!.nat as SocketGateway;
    const how = nat.status();
    // Root has CAP_NET_RAW: a ping socket where ping_group_range allows, else the raw socket.
    expect(how.icmpRelay, String(how.icmpRelayError)).toMatch(/^(datagram|raw)$/);
    console.log(`vmware NAT interop: pings leave this host through a ${how.icmpRelay} ICMP socket`);
    const pc = rt.host('pc')!;
    const chunks: Uint8Array[] = [];
    const capture = new Capture(rt.engine, { sink: (c) => void chunks.push(c.slice()) });
    capture.attachPort(pc.ports[0]!, 'pc:eth0');
    const ping = pc.ping(NS_PEER, { count: 4, intervalNs: 200e6, size: 1400 });
    expect(await rt.waitFor(() => ping.isDone, 15e9)).toBe(true);
    capture.close();
    expect(ping.result.lines.join('\n')).toMatch(/4 packets transmitted, 4 received/);
    expect(ping.result.probes.map((p) => [p.status, ip4ToString(p.from), p.ttl, p.bytes])).toEqual(
      [0, 1, 2, 3].map(() => ['reply', NS_PEER, 128, 1408]),
    );
    const st = nat.status();
    expect(st.icmp).toEqual([expect.objectContaining({ guest: pc.address().split('/')[0], peer: NS_PEER, requests: 4, replies: 4 })]);
    expect(st.counters).toMatchObject({ icmpEchoRequests: 4, icmpEchoReplies: 4, icmpNotRelayed: 0, malformed: 0 });

    const dir = mkdtempSync(join(tmpdir(), 'wlt-natping-'));
    try {
      const file = join(dir, 'pc-eth0.pcapng');
      writeFileSync(file, Buffer.concat(chunks));
      // No malformed frame, no bad IP checksum, no unanswered request (tshark pairs them by identifier and sequence).
      expect(tsharkProblems(file)).toEqual([]);
      const icmp = tsharkFields(file, ['icmp.type', 'ip.src', 'ip.dst', 'ip.ttl', 'icmp.ident', 'icmp.seq', 'icmp.checksum.status', 'icmp.resp_to', 'data.data'], ['-Y', 'icmp']);
      const requests = icmp.filter((r) => r[0] === '8');
      const replies = icmp.filter((r) => r[0] === '0');
      expect(requests).toHaveLength(4);
      expect(replies).toHaveLength(4);
      for (const [i, r] of replies.entries()) {
        const q = requests[i]!;
        // From the namespace, TTL 128, the request's identifier and sequence, checksum good, paired with its request, the same data.
        expect([r[1], r[2], r[3], r[4], r[5], r[6], r[8]]).toEqual([NS_PEER, q[1], '128', q[4], q[5], '1', q[8]]);
        expect(r[7]).not.toBe('');
        expect(r[8]!.length).toBeGreaterThan(2 * 1300);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('relays the same ping without CAP_NET_RAW through an unprivileged ping socket, or says why it cannot', async () => {
    // A child without CAP_NET_RAW (still uid and gid 0): whether a ping socket is allowed is ping_group_range's answer.
    const range = readFileSync('/proc/sys/net/ipv4/ping_group_range', 'utf8').trim().split(/\s+/).map(Number);
    const gid = process.getgid!();
    const allowed = range[0]! <= gid && gid <= range[1]!;
    const script = `
      import { loadLabText } from './devices/lab/load.js';
      import { LabRuntime } from './devices/lab/runtime.js';
      import { hostNetworking } from './server/host-sockets.js';
      const loaded = loadLabText(\`wirelab: 1
name: nat-ping
networks: { vmnet8: { type: nat, subnet: 192.168.89.0/24 } }
nodes: { pc: { kind: host, interfaces: { eth0: { network: vmnet8, ip: 192.168.89.10/24, gateway: 192.168.89.2 } } } }
\`, 'lab.yaml');
      const rt = new LabRuntime(loaded.lab, { time: 'real', ...hostNetworking() });
      rt.start();
      const ping = rt.host('pc').ping('${NS_PEER}', { count: 3, intervalNs: 200e6, timeoutNs: 2e9 });
      await rt.waitFor(() => ping.isDone, 20e9);
      const s = rt.networkParts('vmnet8').nat.status();
      rt.stop();
      console.log(JSON.stringify({ received: ping.result.received, icmpRelay: s.icmpRelay, icmpRelayError: s.icmpRelayError, counters: s.counters }));
      process.exit(0);
    `;
    const r = spawnSync(
      'setpriv',
      ['--bounding-set=-net_raw', '--inh-caps=-net_raw', process.execPath, '--import', './tests/helpers/ts-register.mjs', '--input-type=module', '-e', script],
      { encoding: 'utf8', timeout: 60_000 },
    );
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { received: number; icmpRelay: string | null; icmpRelayError: string | null; counters: Record<string, number> };
    if (allowed) {
      expect(out).toMatchObject({ received: 3, icmpRelay: 'datagram', icmpRelayError: null });
    } else {
      console.log(`vmware NAT interop: without CAP_NET_RAW pings are not relayed here: ${out.icmpRelayError}`);
      expect(out.received).toBe(0);
      expect(out.icmpRelay).toBeNull();
      expect(out.icmpRelayError).toMatch(/ICMP needs CAP_NET_RAW or net\.ipv4\.ping_group_range to take group 0 \(it is "\d+ \d+"\)/);
      expect(out.counters).toMatchObject({ icmpNotRelayed: 3, icmpEchoRequests: 0 });
    }
  }, 90_000);

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
