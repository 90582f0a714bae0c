/**
 * Real Linux peers for interop tests and benches: network namespaces, veth pairs, processes
 * started by PID and stopped by PID, and one cleanup list that runs in reverse order (also when a
 * test fails). Names carry this process's PID, so parallel test files never collide, and leftovers
 * of a crashed run are recognisable (and removed by `reapStale`).
 */
import { execFileSync, spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';

export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

export function which(cmd: string): string | null {
  for (const dir of (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':').concat(['/usr/sbin', '/sbin'])) {
    if (dir && existsSync(`${dir}/${cmd}`)) return `${dir}/${cmd}`;
  }
  return null;
}

/** Whether this machine can run a test: root and every tool present; the reason when not. */
export function realPeers(tools: string[], opts: { root?: boolean } = {}): { ok: boolean; reason: string } {
  if ((opts.root ?? true) && !isRoot()) return { ok: false, reason: 'needs root (network namespaces, TAP devices, raw sockets)' };
  const missing = tools.filter((t) => which(t) === null);
  if (missing.length) return { ok: false, reason: `missing ${missing.join(', ')} (see .ci/run's package list)` };
  return { ok: true, reason: '' };
}

/** Runs a command, returns its stdout; throws with its stderr when it fails. */
export function run(cmd: string, args: string[], opts: { timeoutMs?: number; input?: string } = {}): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], timeout: opts.timeoutMs ?? 30_000, input: opts.input ?? '' });
  } catch (e) {
    const err = e as { stderr?: string; stdout?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} failed: ${(err.stderr || err.stdout || err.message).trim()}`);
  }
}

/** Like run, but never throws: exit status and both outputs. */
export function runStatus(cmd: string, args: string[], timeoutMs = 60_000): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: timeoutMs });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

export async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

export async function waitUntil(done: () => boolean, timeoutMs: number, stepMs = 20): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > end) return false;
    await sleep(stepMs);
  }
  return true;
}

let counter = 0;
/**
 * A name of at most 15 characters (interface names' limit) unique to this process: `wlt<pid><tag><n>`,
 * tag starting with a letter. `wlt` keeps test leftovers apart from the server's own `wl<hex>` TAPs.
 */
export function uniqueName(tag: string): string {
  if (!/^[A-Za-z]/.test(tag)) throw new Error(`tag ${tag} must start with a letter`);
  const name = `wlt${process.pid}${tag}${(counter++).toString(36)}`;
  if (name.length > 15) throw new Error(`name ${name} is longer than 15 characters: use a shorter tag`);
  return name;
}

/** Namespaces and links a crashed run of these helpers left behind (named `wlt<pid>...`, that PID gone): removed. */
export function reapStale(): void {
  const alive = (pid: number) => existsSync(`/proc/${pid}`);
  let names: string[] = [];
  try {
    names = readdirSync('/run/netns');
  } catch {
    return;
  }
  for (const n of names) {
    const m = /^wlt(\d+)[A-Za-z]/.exec(n);
    if (m && !alive(Number(m[1]))) spawnSync('ip', ['netns', 'del', n]);
  }
  const links = spawnSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' }).stdout ?? '';
  for (const line of links.split('\n')) {
    const m = /^\d+: (wlt(\d+)[A-Za-z][^:@]*)[:@]/.exec(line);
    if (m && !alive(Number(m[2]))) spawnSync('ip', ['link', 'del', m[1]!]);
  }
}

/** Things to undo, undone last-first; every step runs even when one before it failed. */
export class Cleanup {
  private readonly steps: { what: string; fn: () => void | Promise<void> }[] = [];

  add(what: string, fn: () => void | Promise<void>): void {
    this.steps.push({ what, fn });
  }

  /** A child process, killed by its PID (TERM, then KILL if it lingers). */
  process(child: ChildProcess, what = 'process'): ChildProcess {
    this.add(`${what} ${child.pid}`, () => killPid(child));
    return child;
  }

  async run(): Promise<string[]> {
    const problems: string[] = [];
    while (this.steps.length) {
      const s = this.steps.pop()!;
      try {
        await s.fn();
      } catch (e) {
        problems.push(`${s.what}: ${(e as Error).message}`);
      }
    }
    return problems;
  }
}

export async function killPid(child: ChildProcess | number, graceMs = 1500): Promise<void> {
  const pid = typeof child === 'number' ? child : child.pid;
  if (pid === undefined) return;
  const exited = () => (typeof child === 'number' ? !existsSync(`/proc/${pid}`) : child.exitCode !== null || child.signalCode !== null);
  if (exited()) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  if (await waitUntil(exited, graceMs)) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return;
  }
  await waitUntil(exited, graceMs);
}

/** A child whose output is collected (for assertions and failure messages). */
export interface Started {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

export function start(cmd: string, args: string[], opts: SpawnOptions = {}): Started {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => {
    child.on('exit', (code) => resolve(code));
    child.on('error', () => resolve(-1));
  });
  return { child, output: () => out, exited };
}

/** A network namespace with loopback up; deleted by the cleanup (its veths and TAPs go with it). */
export class Netns {
  private constructor(readonly name: string) {}

  static create(cleanup: Cleanup, tag: string): Netns {
    const name = uniqueName(tag);
    run('ip', ['netns', 'add', name]);
    cleanup.add(`netns ${name}`, () => {
      spawnSync('ip', ['netns', 'del', name]);
    });
    const ns = new Netns(name);
    ns.ip('link', 'set', 'lo', 'up');
    // Keep IPv6 router solicitations and MLD reports off the wire: tests count frames.
    ns.exec('sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1');
    ns.exec('sysctl', '-qw', 'net.ipv6.conf.default.disable_ipv6=1');
    return ns;
  }

  ip(...args: string[]): string {
    return run('ip', ['-n', this.name, ...args]);
  }

  exec(cmd: string, ...args: string[]): string {
    return run('ip', ['netns', 'exec', this.name, cmd, ...args], { timeoutMs: 120_000 });
  }

  execStatus(cmd: string, args: string[], timeoutMs = 60_000): { status: number | null; stdout: string; stderr: string } {
    return runStatus('ip', ['netns', 'exec', this.name, cmd, ...args], timeoutMs);
  }

  /**
   * A long-running process inside the namespace, stopped by PID at cleanup. `timeout` bounds its life
   * (default 10 minutes) so that it cannot outlive a test process that died before its cleanup.
   */
  spawn(cleanup: Cleanup, cmd: string, args: string[], opts: SpawnOptions & { maxSeconds?: number } = {}): Started {
    const s = start('ip', ['netns', 'exec', this.name, 'timeout', '-k', '5', String(opts.maxSeconds ?? 600), cmd, ...args], opts);
    cleanup.process(s.child, `${cmd} in ${this.name}`);
    return s;
  }

  /** An asynchronous command whose completion is awaited (ping, iperf3 client, udhcpc). */
  async execAsync(cmd: string, args: string[], timeoutMs = 60_000): Promise<{ status: number | null; output: string }> {
    // `timeout` as well as our own timer: the command must not outlive this process either.
    const s = start('ip', ['netns', 'exec', this.name, 'timeout', '-k', '5', String(Math.ceil(timeoutMs / 1000) + 5), cmd, ...args]);
    const timer = setTimeout(() => void killPid(s.child), timeoutMs);
    const status = await s.exited;
    clearTimeout(timer);
    return { status, output: s.output() };
  }

  /** Turns segmentation and receive offloads off, so every frame is a real one of at most 1514 bytes. */
  offloadsOff(dev: string): void {
    this.execStatus('ethtool', ['-K', dev, 'tso', 'off', 'gso', 'off', 'gro', 'off', 'tx', 'off', 'rx', 'off']);
  }
}

/** A veth pair: `inside` moved into `ns`, `outside` left in the host namespace; removed at cleanup. */
export function vethPair(cleanup: Cleanup, ns: Netns, tag: string): { inside: string; outside: string } {
  const outside = uniqueName(`${tag}o`);
  const inside = uniqueName(`${tag}i`);
  run('ip', ['link', 'add', outside, 'type', 'veth', 'peer', 'name', inside]);
  cleanup.add(`veth ${outside}`, () => {
    spawnSync('ip', ['link', 'del', outside]);
  });
  run('ip', ['link', 'set', inside, 'netns', ns.name]);
  run('ip', ['link', 'set', outside, 'up']);
  ns.ip('link', 'set', inside, 'up');
  return { inside, outside };
}

/** A minimal udhcpc hook script: applies the lease with `ip`, touches nothing else. */
export const DHCP_HOOK = `#!/bin/sh
LOG=\${DHCP_HOOK_LOG:-/dev/null}
if [ -n "$1" ]; then
  echo "udhcpc $1 ip=$ip mask=$mask router=$router serverid=$serverid" >>"$LOG"
  case $1 in
    deconfig) ip link set "$interface" up; ip -4 addr flush dev "$interface" ;;
    bound|renew)
      ip -4 addr flush dev "$interface"
      ip addr add "$ip/\${mask:-24}" dev "$interface"
      [ -n "$router" ] && ip route replace default via "\${router%% *}" dev "$interface" ;;
  esac
  exit 0
fi
echo "dhclient reason=$reason ip=$new_ip_address mask=$new_subnet_mask routers=$new_routers" >>"$LOG"
case $reason in
  PREINIT) ip link set "$interface" up ;;
  BOUND|RENEW|REBIND|REBOOT)
    plen=$(awk -v m="$new_subnet_mask" 'BEGIN{split(m,o,".");n=0;for(i=1;i<=4;i++){v=o[i];while(v>0){n+=v%2;v=int(v/2)}};print n}')
    ip addr replace "$new_ip_address/$plen" dev "$interface"
    [ -n "$new_routers" ] && ip route replace default via "\${new_routers%% *}" dev "$interface" ;;
  EXPIRE|FAIL|RELEASE|STOP) ip -4 addr flush dev "$interface" ;;
esac
exit 0
`;

/** Free loopback ports (bound to 0, then released: the kernel hands out ports it did not use lately). */
export async function freePorts(kind: 'udp' | 'tcp', n: number): Promise<number[]> {
  const { createSocket } = await import('node:dgram');
  const { createServer } = await import('node:net');
  const ports: number[] = [];
  const closers: (() => Promise<void>)[] = [];
  for (let i = 0; i < n; i++) {
    if (kind === 'udp') {
      const s = createSocket('udp4');
      await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
      ports.push(s.address().port);
      closers.push(() => new Promise((r) => s.close(() => r())));
    } else {
      const s = createServer();
      await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
      ports.push((s.address() as { port: number }).port);
      closers.push(() => new Promise((r) => s.close(() => r())));
    }
  }
  await Promise.all(closers.map((c) => c()));
  return ports;
}
