/**
 * The lab's PoC checks (docs/lab-file.md, Checks): each check starts programs on the lab's hosts, lets the
 * lab run until they finish (virtual time: instantly; real time: as long as it takes), and turns
 * what they saw into a pass or a fail with a one-line reason.
 */
import type { Device } from '../device.js';
import type { TimerTarget } from '../engine/timers.js';
import { Host, type PingOperation, type TraceOperation } from '../host/index.js';
import { Router } from '../router/index.js';
import type { IcmpErrorReport, UdpOwner, UdpSocket } from '../stack/index.js';
import { type Ip4, ip4ToString, macToString } from '../wire/bytes.js';
import { HttpGet, TcpConnectCheck, httpCheckVerdict, parseHttpUrl } from '../services/index.js';
import type { LabCheck, CheckTarget } from './schema.js';
import { cidrContains, formatCidr } from './units.js';
import type { LabRuntime } from './runtime.js';

export interface CheckResult {
  name: string;
  kind: LabCheck['kind'];
  expect: 'success' | 'failure';
  /** What happened: the check's condition held. */
  ok: boolean;
  /** `ok` matched `expect`. */
  passed: boolean;
  /** One line: what was seen. */
  detail: string;
  /** Lab time the check took, in whole ns (in real time, wall time). */
  durationNs: number;
}

export interface RunChecksOptions {
  /** Run only checks whose names are listed. */
  only?: string[];
  /** Settle first (spanning tree converged, DHCP bound or given up); default true. */
  settle?: boolean;
  /** Called after each check. */
  onResult?: (r: CheckResult) => void;
}

type Outcome = { ok: boolean; detail: string };

export async function runChecks(rt: LabRuntime, checks: LabCheck[], opts: RunChecksOptions = {}): Promise<CheckResult[]> {
  if (rt.status !== 'running') rt.start();
  if (opts.settle !== false) await rt.settle();
  const results: CheckResult[] = [];
  for (const check of checks) {
    if (opts.only && !opts.only.includes(check.name)) continue;
    // In real time an idle lab's clock stands at its last slice: bring it to wall time, or the
    // check's programs would start in the past and their round trips include the idle time.
    rt.engine.sync();
    const t0 = rt.engine.now;
    let outcome: Outcome;
    try {
      outcome = await runOne(rt, check);
    } catch (e) {
      outcome = { ok: false, detail: `could not run: ${(e as Error).message}` };
    }
    rt.engine.sync();
    const r: CheckResult = {
      name: check.name,
      kind: check.kind,
      expect: check.expect,
      ok: outcome.ok,
      passed: outcome.ok === (check.expect === 'success'),
      detail: outcome.detail,
      durationNs: rt.engine.now - t0,
    };
    results.push(r);
    opts.onResult?.(r);
  }
  return results;
}

function hostOf(rt: LabRuntime, name: string): Host {
  const d = rt.node(name);
  if (!(d instanceof Host)) throw new Error(`${name} is not a host`);
  if (!d.running) throw new Error(`${name} is powered off`);
  return d;
}

/** The first address of a node, as a check's `to: node` means it. */
export function nodeAddress(d: Device | undefined): Ip4 | null {
  if (d instanceof Host) {
    for (const i of d.stack.interfaces) if (i.addresses[0]) return i.addresses[0].ip;
  } else if (d instanceof Router) {
    for (const i of d.stack.interfaces) if (i.addresses[0]) return i.addresses[0].ip;
  }
  return null;
}

function target(rt: LabRuntime, t: CheckTarget): string | Ip4 {
  if (t.ip !== undefined) return t.ip;
  if (t.node !== undefined) {
    const ip = nodeAddress(rt.node(t.node));
    if (ip === null) throw new Error(`${t.node} has no address`);
    return ip;
  }
  return t.text;
}

function pingSummary(p: PingOperation): string {
  const r = p.result;
  if (r.error) return r.error;
  const rtts = r.probes.filter((x) => x.status === 'reply').map((x) => x.rttNs / 1e6);
  const err = r.probes.find((x) => x.status === 'error');
  let s = `${r.received}/${r.transmitted} replies from ${ip4ToString(r.dst)}`;
  if (rtts.length) s += `, rtt avg ${(rtts.reduce((a, b) => a + b, 0) / rtts.length).toFixed(3)} ms`;
  if (err) s += `, ${err.message} from ${ip4ToString(err.from)}`;
  return s;
}

async function runOne(rt: LabRuntime, c: LabCheck): Promise<Outcome> {
  switch (c.kind) {
    case 'ping': {
      const p = hostOf(rt, c.from).ping(target(rt, c.to), { count: c.count, intervalNs: 1e9, timeoutNs: 2e9 });
      await rt.waitFor(() => p.isDone, c.timeoutNs);
      if (!p.isDone) p.cancel();
      return { ok: p.result.received > 0, detail: pingSummary(p) };
    }
    case 'pingall': {
      const hosts = c.among.map((n) => hostOf(rt, n));
      const pairs: { from: Host; to: Host; op: PingOperation | null; why: string }[] = [];
      for (const from of hosts)
        for (const to of hosts) {
          if (from === to) continue;
          const ip = nodeAddress(to);
          pairs.push({ from, to, op: ip === null ? null : from.ping(ip, { count: 1, timeoutNs: 4e9 }), why: ip === null ? 'no address' : '' });
        }
      await rt.waitFor(() => pairs.every((p) => p.op === null || p.op.isDone), c.timeoutNs);
      const failed = pairs.filter((p) => p.op === null || p.op.result.received === 0);
      for (const p of pairs) if (p.op && !p.op.isDone) p.op.cancel();
      const detail =
        failed.length === 0
          ? `${pairs.length}/${pairs.length} pairs answered`
          : `${pairs.length - failed.length}/${pairs.length} pairs answered; failing: ${failed
              .slice(0, 10)
              .map((p) => `${p.from.name}->${p.to.name}${p.why ? ` (${p.why})` : ''}`)
              .join(', ')}${failed.length > 10 ? `, and ${failed.length - 10} more` : ''}`;
      return { ok: failed.length === 0, detail };
    }
    case 'trace': {
      const t = hostOf(rt, c.from).traceroute(target(rt, c.to), { waitNs: 2e9, probes: 1 });
      await rt.waitFor(() => t.isDone, c.timeoutNs);
      if (!t.isDone) t.cancel();
      return traceOutcome(t, c.hops);
    }
    case 'dhcp': {
      const h = hostOf(rt, c.node);
      const st = h.dhcpStatus(c.iface);
      if (!st) return { ok: false, detail: `${c.node} ${c.iface} does not use DHCP` };
      await rt.waitFor(() => !h.dhcp(c.iface)!.busy, c.timeoutNs);
      const now = h.dhcpStatus(c.iface)!;
      if (!now.bound || !now.lease) return { ok: false, detail: `${c.node} ${c.iface}: no lease (${now.state})` };
      const lease = `${ip4ToString(now.lease.ip)}/${now.lease.prefix} from ${ip4ToString(now.lease.serverId)}`;
      if (c.in && !cidrContains(c.in, now.lease.ip)) return { ok: false, detail: `leased ${lease}, not in ${formatCidr(c.in)}` };
      return { ok: true, detail: `leased ${lease}` };
    }
    case 'udp': {
      const probe = new UdpProbe(hostOf(rt, c.from), c.to.ip, c.to.port, c.timeoutNs);
      await rt.waitFor(() => probe.done, c.timeoutNs + 1e9);
      probe.close();
      return { ok: probe.answered, detail: probe.detail };
    }
    case 'arp': {
      const h = hostOf(rt, c.node);
      const p = h.ping(c.ip, { count: 1, timeoutNs: 4e9 });
      await rt.waitFor(() => p.isDone, c.timeoutNs);
      const row = h.stack.arpTable().find((r) => r.ip === c.ip && r.mac >= 0);
      if (!row) return { ok: false, detail: `${c.node} could not resolve ${ip4ToString(c.ip)}` };
      if (c.mac !== undefined && row.mac !== c.mac) return { ok: false, detail: `${ip4ToString(c.ip)} is at ${macToString(row.mac)}, not ${macToString(c.mac)}` };
      return { ok: true, detail: `${ip4ToString(c.ip)} is at ${macToString(row.mac)}` };
    }
    case 'tcp': {
      const t = new TcpConnectCheck(hostOf(rt, c.from).tcp, c.to.ip, c.to.port, { timeoutNs: Math.min(c.timeoutNs, 10e9) });
      await rt.waitFor(() => t.done, c.timeoutNs + 1e9);
      const r = t.result;
      return { ok: r.ok, detail: r.ok ? `connected to ${ip4ToString(c.to.ip)}:${c.to.port}` : `${ip4ToString(c.to.ip)}:${c.to.port}: ${r.reason || r.outcome}` };
    }
    case 'http': {
      const h = hostOf(rt, c.from);
      const url = parseHttpUrl(c.url);
      if (typeof url === 'string') return { ok: false, detail: url };
      let ip: Ip4 | undefined;
      if (url.ip === null) {
        // A name: ask the host's resolver first, as a browser would.
        const lookup = h.resolve(url.host);
        await rt.waitFor(() => lookup.isDone, c.timeoutNs);
        const found = lookup.result.addresses[0];
        if (found === undefined) return { ok: false, detail: `cannot resolve ${url.host}: ${lookup.result.error ?? 'no address'}` };
        ip = found;
      }
      const get = new HttpGet(h.tcp, c.url, { timeoutNs: Math.min(c.timeoutNs, 20e9), ...(ip !== undefined ? { ip } : {}) });
      await rt.waitFor(() => get.result.done, c.timeoutNs + 1e9);
      const v = httpCheckVerdict(get.result, { status: c.status, ...(c.contains !== undefined ? { contains: c.contains } : {}) });
      return { ok: v.ok, detail: `GET ${c.url}: ${v.reason}` };
    }
  }
}

function traceOutcome(t: TraceOperation, hops: Ip4[] | undefined): Outcome {
  const r = t.result;
  if (r.error) return { ok: false, detail: r.error };
  const seen = r.hops.map((h) => h.probes.find((p) => p.from !== null)?.from ?? null);
  const text = seen.map((ip) => (ip === null ? '*' : ip4ToString(ip))).join(' ');
  if (!r.reached) return { ok: false, detail: `did not reach ${ip4ToString(r.dst)}: ${text}` };
  if (hops) {
    const want = hops.map(ip4ToString).join(' ');
    if (want !== text) return { ok: false, detail: `hops ${text}, expected ${want}` };
  }
  return { ok: true, detail: `hops ${text}` };
}

const PROBE_TIMEOUT = 1;

/** One datagram to ip:port; success is an answer from there (an echo service), failure an ICMP error or silence. */
export class UdpProbe implements UdpOwner, TimerTarget {
  done = false;
  answered = false;
  detail = '';
  private readonly socket: UdpSocket;
  private timer: number;

  constructor(
    private readonly host: Host,
    private readonly dst: Ip4,
    private readonly port: number,
    timeoutNs: number,
  ) {
    this.socket = host.stack.udp.bind(this, 0);
    const status = this.socket.sendTo(dst, port, new TextEncoder().encode(`wirelab check ${host.name}`));
    this.timer = host.engine.after(Math.min(timeoutNs, 5e9), this, PROBE_TIMEOUT);
    if (status !== 'sent' && status !== 'queued') this.finish(false, `could not send: ${status}`);
  }

  onDatagram(_s: UdpSocket, srcIp: Ip4, srcPort: number, payload: Uint8Array): void {
    if (this.done || srcIp !== this.dst || srcPort !== this.port) return;
    this.finish(true, `${payload.length}-byte answer from ${ip4ToString(srcIp)}:${srcPort}`);
  }

  onIcmpError(_s: UdpSocket, r: IcmpErrorReport): void {
    if (this.done) return;
    const what = r.type === 3 && r.code === 3 ? 'port unreachable' : r.type === 3 ? `unreachable (code ${r.code})` : r.type === 11 ? 'TTL exceeded' : `ICMP ${r.type}/${r.code}`;
    this.finish(false, `${what} from ${ip4ToString(r.from)}`);
  }

  onTimer(): void {
    this.timer = -1;
    this.finish(false, `no answer from ${ip4ToString(this.dst)}:${this.port}`);
  }

  private finish(ok: boolean, detail: string): void {
    if (this.done) return;
    this.done = true;
    this.answered = ok;
    this.detail = detail;
    if (this.timer !== -1) this.host.engine.cancel(this.timer);
    this.timer = -1;
  }

  close(): void {
    this.finish(false, this.detail || 'cancelled');
    this.socket.close();
  }
}
