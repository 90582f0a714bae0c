/**
 * `host-adapter: tap`: the host's own adapter on a host-only network is a real TAP holding .1, so
 * programs on the host reach the lab's addresses directly (ping, curl) and a guest reaches the
 * host's services at .1. Needs root (CAP_NET_ADMIN) and the native addon; without them the test
 * says why and is skipped, except in CI, where it fails. Also: an adapter whose TAP cannot be made
 * refuses to start by name and the rest of the lab runs.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadLabText, formatLabErrors } from '../../devices/lab/load.js';
import { LabRuntime } from '../../devices/lab/runtime.js';
import { loadNetAddon, RealEndpoint } from '../../server/endpoints/index.js';
import { hostNetworking } from '../../server/host-sockets.js';
import { hostAdapterTapName } from '../../server/nat-tap.js';
import { Cleanup, freePorts, realPeers, runStatus, start } from '../helpers/netns.js';

/** A command run without blocking: the lab runs in this very process and must keep answering. */
async function exec(cmd: string, args: string[]): Promise<{ status: number | null; output: string }> {
  const s = start(cmd, args);
  const status = await s.exited;
  return { status, output: s.output() };
}

const addon = loadNetAddon();
const peers = realPeers(['ip', 'curl', 'ping']);
const why = !peers.ok ? peers.reason : !addon.ok ? addon.reason : '';
if (why) console.warn(`vmware TAP host adapter interop skipped: ${why}`);

it('runs where it must (CI has root and the native addon)', () => {
  if (why) expect(process.env.CI, `vmware TAP interop cannot run: ${why}`).not.toBe('true');
});

const X = 200 + (process.pid % 50);
const NET = `192.168.${X}`;
const LAB = `wl-tap-${process.pid}`;

describe.skipIf(why !== '')('a host-only network whose host adapter is a TAP on the host', () => {
  const cleanup = new Cleanup();
  const errors: string[] = [];
  let rt: LabRuntime;
  let hostPort: number;

  beforeAll(async () => {
    [hostPort] = await freePorts('tcp', 1);
    const server = net.createServer((s) => {
      s.on('error', () => {});
      s.end('hello from the host at .1\n');
    });
    // Listening on .1 itself: only the TAP has that address.
    const loaded = loadLabText(
      `wirelab: 1
name: ${LAB}
networks:
  vmnet1: { type: host-only, subnet: ${NET}.0/24, host-adapter: tap }
nodes:
  web: { kind: host, interfaces: { eth0: { network: vmnet1, ip: ${NET}.10/24 } }, services: { http: { body: "hello from the lab over a TAP" } } }
  pc: { kind: host, interfaces: { eth0: { network: vmnet1, ip: dhcp } } }
checks:
  - { name: the host at .1, tcp: { from: pc, to: "${NET}.1:${hostPort}" } }
`,
      'lab.yaml',
    );
    if (!loaded.ok) throw new Error(formatLabErrors(loaded.errors));
    rt = new LabRuntime(loaded.lab, { time: 'real', ...hostNetworking({ onError: (n, m) => errors.push(`${n}: ${m}`) }) });
    cleanup.add('lab', () => void rt.stop());
    rt.start();
    await new Promise<void>((r) => server.listen(hostPort, `${NET}.1`, r));
    cleanup.add('host server', () => new Promise<void>((r) => server.close(() => r())));
    expect(await rt.settle(30e9)).toBe(true);
  }, 60_000);

  afterAll(async () => {
    expect(await cleanup.run()).toEqual([]);
    // The TAP went with the lab.
    expect(runStatus('ip', ['link', 'show', hostAdapterTapName(LAB, 'vmnet1')]).status).not.toBe(0);
  });

  it('makes the TAP with .1 on the host', () => {
    expect(errors).toEqual([]);
    const tap = hostAdapterTapName(LAB, 'vmnet1');
    expect(tap.length).toBeLessThanOrEqual(15);
    const show = runStatus('ip', ['-4', 'addr', 'show', 'dev', tap]);
    expect(show.stdout).toContain(`inet ${NET}.1/24`);
    const adapter = rt.networkParts('vmnet1')!.hostAdapter;
    expect(adapter).toBeInstanceOf(RealEndpoint);
    expect((adapter as RealEndpoint).status()).toMatchObject({ type: 'tap', state: 'running', error: null });
  });

  it('lets the host ping and curl an emulated host directly', async () => {
    const ping = await exec('ping', ['-c', '2', '-i', '0.2', '-W', '2', `${NET}.10`]);
    expect(ping.output).toMatch(/2 received/);
    const curl = await exec('curl', ['-sS', '--max-time', '10', `http://${NET}.10/`]);
    expect(curl.status, curl.output).toBe(0);
    expect(curl.output).toBe('hello from the lab over a TAP');
  });

  it('gives the DHCP client a lease the host can reach, and the guest reaches the host at .1', async () => {
    const lease = rt.host('pc')!.dhcpStatus('eth0')!.lease!;
    const ping = await exec('ping', ['-c', '1', '-W', '2', `${lease.ip >>> 24}.${(lease.ip >>> 16) & 255}.${(lease.ip >>> 8) & 255}.${lease.ip & 255}`]);
    expect(ping.output).toMatch(/1 received/);
    const [r] = await rt.runChecks({ settle: false });
    expect(r!.passed, r!.detail).toBe(true);
  });
});

describe('host-adapter: tap whose TAP cannot be made', () => {
  it('refuses to start by name, and the rest of the lab runs', async () => {
    const errors: string[] = [];
    const loaded = loadLabText(
      `wirelab: 1
name: notap
networks:
  vmnet1: { type: host-only, subnet: 192.168.199.0/24, host-adapter: tap }
nodes:
  a: { kind: host, interfaces: { eth0: { network: vmnet1, ip: 192.168.199.10/24 } } }
  b: { kind: host, interfaces: { eth0: { network: vmnet1, ip: 192.168.199.11/24 } } }
`,
      'lab.yaml',
    );
    if (!loaded.ok) throw new Error(formatLabErrors(loaded.errors));
    const { hostSockets, hostAdapterTap } = hostNetworking({ onError: (n, m) => errors.push(`${n}: ${m}`) });
    // A TAP the kernel refuses (an invalid name here; no CAP_NET_ADMIN elsewhere) fails the same way.
    const rt = new LabRuntime(loaded.lab, {
      time: 'real',
      hostSockets,
      hostAdapterTap: (engine, lab, net) => {
        const d = hostAdapterTap(engine, lab, net) as RealEndpoint & { tap: string };
        (d as { tap: string }).tap = 'bad name with spaces';
        return d;
      },
    });
    rt.start();
    try {
      const adapter = rt.networkParts('vmnet1')!.hostAdapter as RealEndpoint;
      expect(adapter.status().state).toBe('failed');
      expect(errors.length).toBe(1);
      expect(errors[0]).toMatch(/^vmnet1: host adapter 192\.168\.199\.1\/24 on tap /);
      const p = rt.host('a')!.ping('192.168.199.11', { count: 1, timeoutNs: 2e9 });
      await rt.waitFor(() => p.isDone, 10e9);
      expect(p.result.received).toBe(1);
    } finally {
      rt.stop();
    }
  });
});
