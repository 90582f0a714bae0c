/**
 * The host console against the real thing: two VPCS 0.5b2 daemons (Debian package vpcs) cabled
 * back to back over their UDP tunnel are given the same commands as two wirelab hosts on a
 * segment, and each command's output must read the same, line for line. Only what differs by
 * nature is masked: round-trip times, MAC addresses, ARP expiry seconds; and the two lines of
 * `show ip` about VPCS's UDP tunnel (LPORT, RHOST:PORT), which a wirelab host does not have.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Bench } from '../unit/console-harness.js';

function have(tool: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
}
const VPCS = have('vpcs') && have('ss');
const CI = process.env.CI === 'true';

async function freePort(kind: 'tcp' | 'udp'): Promise<number> {
  if (kind === 'udp') {
    const { createSocket } = await import('node:dgram');
    return new Promise((resolve) => {
      const s = createSocket('udp4');
      s.bind(0, '127.0.0.1', () => {
        const p = s.address().port;
        s.close(() => resolve(p));
      });
    });
  }
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

/** The PIDs holding a listening port (VPCS daemonizes: its parent serves the console, its child the tunnel). */
function pidsOn(filter: string, udp: boolean): number[] {
  const r = spawnSync('ss', [udp ? '-Hlnup' : '-Hlntp', filter], { encoding: 'utf8' });
  return [...new Set([...(r.stdout ?? '').matchAll(/pid=(\d+)/g)].map((m) => Number(m[1])))];
}

/** A VPCS console over TCP, telnet negotiation bytes dropped. */
class VpcsConsole {
  private text = '';
  private constructor(private readonly sock: Socket) {
    sock.on('data', (b: Buffer) => {
      const out: number[] = [];
      for (let i = 0; i < b.length; i++) {
        if (b[i] === 255) {
          i += b[i + 1]! >= 251 && b[i + 1]! <= 254 ? 2 : 1;
          continue;
        }
        out.push(b[i]!);
      }
      this.text += Buffer.from(out).toString('latin1').replace(/\r/g, '');
    });
  }

  static async open(port: number): Promise<VpcsConsole> {
    const sock = await new Promise<Socket>((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => resolve(s));
      s.once('error', reject);
    });
    const c = new VpcsConsole(sock);
    try {
      await c.until(/> $/, 1500);
    } catch {
      sock.write('\n');
      await c.until(/> $/, 5000);
    }
    return c;
  }

  private async until(re: RegExp, ms: number): Promise<void> {
    const end = Date.now() + ms;
    while (!re.test(this.text)) {
      if (Date.now() > end) throw new Error(`VPCS: no ${re} in ${JSON.stringify(this.text.slice(-300))}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** The command's output, between its echo and the next prompt. */
  async run(cmd: string): Promise<string> {
    this.text = '';
    this.sock.write(`${cmd}\n`);
    await this.until(/\n[^\n]*> $/, 30_000);
    return between(this.text, cmd);
  }

  close(): void {
    this.sock.destroy();
  }
}

function between(text: string, cmd: string): string {
  let t = text;
  const echo = t.indexOf(`${cmd}\n`);
  if (echo >= 0) t = t.slice(echo + cmd.length + 1);
  return t.replace(/\n[^\n]*> $/, '');
}

function masked(s: string): string {
  return s
    .split('\n')
    .filter((l) => !/^(LPORT|RHOST:PORT) +:/.test(l))
    .join('\n')
    .replace(/time=\d+\.\d+ ms/g, 'time=T ms')
    .replace(/ {3}\d+\.\d+ ms/g, '   T ms')
    .replace(/[0-9a-f]{2}(:[0-9a-f]{2}){5}/g, 'MAC')
    .replace(/expires in \d+ seconds/g, 'expires in N seconds');
}

const COMMANDS = [
  'show ip',
  'ip 10.0.0.1/24 10.0.0.254',
  'show ip',
  'arp',
  'ping 10.0.0.2 -c 2',
  'show arp',
  'ping 10.0.0.9 -c 1',
  'ping 192.168.9.9 -c 1',
  'trace 10.0.0.2',
  'trace 10.0.0.9 -m 3',
  'ping 10.0.0.2 -P 17 -c 2',
  'foo',
  'ip 300.1.1.1/24',
  'ip 10.0.0.0/24',
  'ip 10.0.0.1/24 10.1.0.1',
  'ip dns 8.8.8.8',
  'show ip',
  'ip 10.0.0.1/24',
  'ping 192.168.9.9 -c 1',
  'clear ip',
  'show ip',
];

describe.skipIf(!VPCS && !CI)('VPCS console output against VPCS 0.5b2', () => {
  let dir: string;
  const pids: number[] = [];
  const real = new Map<string, string[]>();

  beforeAll(async () => {
    if (!VPCS) throw new Error('vpcs or ss is not installed (apt-get install vpcs iproute2)');
    dir = mkdtempSync(join(tmpdir(), 'wirelab-vpcs-'));
    const [ca, cb, ua, ub] = [await freePort('tcp'), await freePort('tcp'), await freePort('udp'), await freePort('udp')];
    for (const [name, cport, mac, local, remote] of [
      ['a', ca, 1, ua, ub],
      ['b', cb, 2, ub, ua],
    ] as const) {
      const cwd = join(dir, name);
      spawnSync('mkdir', ['-p', cwd]);
      // Each in its own empty folder: VPCS loads ./startup.vpc.
      spawnSync('vpcs', ['-p', String(cport), '-m', String(mac), '-i', '1', '-s', String(local), '-c', String(remote), '-t', '127.0.0.1'], { cwd, stdio: 'ignore' });
      for (let i = 0; i < 50 && pidsOn(`sport = :${cport}`, false).length + pidsOn(`sport = :${local}`, true).length < 2; i++) await new Promise((r) => setTimeout(r, 100));
      pids.push(...pidsOn(`sport = :${cport}`, false), ...pidsOn(`sport = :${local}`, true));
    }
    const b = await VpcsConsole.open(cb);
    await b.run('set pcname PC2');
    await b.run('ip 10.0.0.2/24');
    b.close();
    const a = await VpcsConsole.open(ca);
    await a.run('set pcname PC1');
    for (const cmd of COMMANDS) real.set(cmd, [...(real.get(cmd) ?? []), await a.run(cmd)]);
    a.close();
  }, 120_000);

  afterAll(() => {
    for (const p of pids) {
      try {
        process.kill(p);
      } catch {
        // Already gone.
      }
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('every command reads as VPCS 0.5b2 prints it', () => {
    const b = new Bench(`
wirelab: 1
name: vpcs
nodes:
  PC1: { kind: host }
  PC2: { kind: host, interfaces: { eth0: { ip: 10.0.0.2/24 } }, services: { udp-echo: { port: 7 } } }
links:
  - [PC1:eth0, PC2:eth0]
`);
    const seen = new Map<string, number>();
    for (const cmd of COMMANDS) {
      const n = seen.get(cmd) ?? 0;
      seen.set(cmd, n + 1);
      const ours = between(b.type('PC1', `${cmd}\r`), cmd);
      if (process.env.WIRELAB_SHOW_CONSOLES) console.log(`PC1> ${cmd}\n--- VPCS 0.5b2:\n${real.get(cmd)![n]}\n--- wirelab:\n${ours}`);
      expect(masked(ours), `${cmd}\n--- VPCS printed:\n${real.get(cmd)![n]}`).toBe(masked(real.get(cmd)![n]!));
    }
  });
});

if (!VPCS && !CI) console.warn('VPCS console comparison: skipped, vpcs is not installed (apt-get install vpcs)');
