/**
 * VPCS 0.5b2 (Debian's `vpcs`) as a real peer: started in its own empty folder (it reads
 * ./startup.vpc), daemonized by itself, found by the sockets it listens on (`ss -p`) and stopped by
 * those PIDs. Its console is telnet over TCP: negotiation bytes, then the prompt `VPCS> `.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cleanup, killPid, run, waitUntil } from './netns.js';

/** Removes telnet IAC sequences (VPCS offers ECHO and SGA and ignores the lack of an answer). */
function stripIac(b: Buffer): string {
  const out: number[] = [];
  for (let i = 0; i < b.length; i++) {
    if (b[i] === 0xff && i + 1 < b.length) {
      i += b[i + 1]! >= 0xfb && b[i + 1]! <= 0xfe ? 2 : 1;
      continue;
    }
    out.push(b[i]!);
  }
  return Buffer.from(out).toString('latin1');
}

const PROMPT = /\n\r?[^\r\n]*> $/;

export class VpcsConsole {
  private buf = '';
  private constructor(private readonly sock: net.Socket) {
    sock.on('data', (d: Buffer) => (this.buf += stripIac(d)));
  }

  static async connect(port: number): Promise<VpcsConsole> {
    const sock = net.connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      sock.once('connect', () => resolve());
      sock.once('error', reject);
    });
    const c = new VpcsConsole(sock);
    if (!(await waitUntil(() => PROMPT.test(c.buf), 1500))) {
      sock.write('\n');
      if (!(await waitUntil(() => PROMPT.test(c.buf), 5000))) throw new Error(`VPCS console ${port}: no prompt, got ${JSON.stringify(c.buf)}`);
    }
    c.buf = '';
    return c;
  }

  /** Sends one command and returns its output (without the prompt), waiting up to `timeoutMs`. */
  async command(cmd: string, timeoutMs = 30_000): Promise<string> {
    this.buf = '';
    this.sock.write(`${cmd}\n`);
    const ok = await waitUntil(() => PROMPT.test(this.buf), timeoutMs, 25);
    const text = this.buf.replace(/\r/g, '').replace(/\x1b\[[0-9;]*m/g, '');
    if (!ok) throw new Error(`VPCS: "${cmd}" did not return to the prompt within ${timeoutMs} ms; output so far:\n${text}`);
    return text.replace(PROMPT, '').replace(/^.*\n/, '');
  }

  close(): void {
    this.sock.destroy();
  }
}

export interface Vpcs {
  consolePort: number;
  pids: number[];
  console: VpcsConsole;
}

/** PIDs of the processes listening on a TCP or UDP port, from `ss -p`. */
function listeners(proto: 't' | 'u', port: number): number[] {
  const out = run('ss', [`-Hln${proto}p`, `sport = :${port}`]);
  return [...out.matchAll(/pid=(\d+)/g)].map((m) => Number(m[1]));
}

/**
 * Starts one VPCS: console on TCP `consolePort`, UDP tunnel from `localUdp` to 127.0.0.1:`remoteUdp`,
 * MAC 00:50:79:66:68:`macByte`. Stopped (both its PIDs killed, its folder removed) by the cleanup.
 */
export async function startVpcs(cleanup: Cleanup, opts: { consolePort: number; localUdp: number; remoteUdp: number; macByte: number }): Promise<Vpcs> {
  const dir = mkdtempSync(join(tmpdir(), 'wirelab-vpcs-'));
  cleanup.add(`vpcs folder ${dir}`, () => rmSync(dir, { recursive: true, force: true }));
  run('sh', ['-c', `cd "${dir}" && exec vpcs -p ${opts.consolePort} -m ${opts.macByte} -i 1 -s ${opts.localUdp} -c ${opts.remoteUdp} -t 127.0.0.1 >vpcs.log 2>&1`]);
  let pids: number[] = [];
  await waitUntil(() => {
    pids = [...new Set([...listeners('t', opts.consolePort), ...listeners('u', opts.localUdp)])];
    return pids.length >= 2;
  }, 5000, 50);
  if (pids.length === 0) throw new Error(`VPCS on console ${opts.consolePort} did not start`);
  const found = pids;
  cleanup.add(`vpcs ${found.join(',')}`, async () => {
    for (const pid of found) await killPid(pid, 500);
  });
  const console = await VpcsConsole.connect(opts.consolePort);
  cleanup.add(`vpcs console ${opts.consolePort}`, () => console.close());
  return { consolePort: opts.consolePort, pids: found, console };
}
