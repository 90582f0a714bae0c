/**
 * Without CAP_NET_ADMIN and CAP_NET_RAW (a child process with both removed from its bounding set
 * when the tests run as root, or simply an ordinary user), a lab with TAP and NIC clouds starts:
 * those two endpoints refuse with a message naming the capability, and everything else (hosts,
 * switch, a UDP tunnel) runs.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { freePorts, isRoot, realPeers, uniqueName } from '../helpers/netns.js';

const peers = isRoot() ? realPeers(['setpriv']) : { ok: true, reason: '' };

describe.skipIf(!peers.ok)('a lab without network privileges', () => {
  it('refuses the TAP and NIC endpoints with the capability named, and runs the rest', async () => {
    const [local, remote] = await freePorts('udp', 2);
    const drop = isRoot() ? ['setpriv', '--bounding-set=-net_admin,-net_raw', '--inh-caps=-net_admin,-net_raw'] : [];
    const cmd = [...drop, process.execPath, '--import', './tests/helpers/ts-register.mjs', 'tests/helpers/unprivileged-lab.ts', uniqueName('np'), 'lo', String(local), String(remote)];
    const r = spawnSync(cmd[0]!, cmd.slice(1), { encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    expect(out.tap.state).toBe('failed');
    expect(out.tap.error).toMatch(/creating a TAP device needs CAP_NET_ADMIN, which this process does not have/);
    expect(out.nic.state).toBe('failed');
    expect(out.nic.error).toMatch(/raw frames on a real interface need CAP_NET_RAW, which this process does not have/);
    expect(out.reported.map((e: { node: string }) => e.node).sort()).toEqual(['tapped', 'wired']);
    expect(out.udp).toEqual({ state: 'running', error: null });
    expect(out.pingReceived).toBe(3);
  }, 150_000);
});

describe('privilege test prerequisites', () => {
  it('are present (skipped locally with the reason, required in CI)', () => {
    if (!peers.ok) console.warn(`privilege test skipped: ${peers.reason}`);
    if (process.env.CI === 'true') expect(peers.reason).toBe('');
  });
});
