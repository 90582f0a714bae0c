/**
 * The OS's own `telnet` and `nc` (Debian's telnet and netcat-openbsd) on the consoles of a lab
 * running in real time: a router with no configuration at all is configured from scratch through
 * its telnet console (addresses, a DHCP pool, NAT overload), its running configuration is saved
 * with `write memory`, a host leases and pings through it from its own console, and then
 * `wirelab check` on the written lab.yaml passes every check, where it failed before.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadLabText } from '../../devices/lab/load.js';
import { LabRuntime } from '../../devices/lab/runtime.js';
import { startRunConsoles, type TelnetConsoles } from '../../server/console-telnet.js';
import { checkCommand } from '../../server/cmd-check.js';

function have(tool: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
}
const TELNET = have('telnet');
const NC = have('nc');
const CI = process.env.CI === 'true';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Telnet bytes out of the way: IAC commands, and CRs. */
function clean(bytes: Buffer): string {
  const out: number[] = [];
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b === 255) {
      const verb = bytes[i + 1];
      if (verb !== undefined && verb >= 251 && verb <= 254) i += 2;
      else i += 1;
      continue;
    }
    if (b !== 13) out.push(b);
  }
  return Buffer.from(out).toString('utf8');
}

/** A console driven by a real client program through pipes. */
class Client {
  text = '';
  private mark = 0;
  private constructor(readonly proc: ChildProcessWithoutNullStreams) {
    proc.stdout.on('data', (c: Buffer) => (this.text += clean(c)));
  }

  static open(tool: 'telnet' | 'nc', port: number): Client {
    return new Client(spawn(tool, ['127.0.0.1', String(port)], { stdio: 'pipe' }));
  }

  async waitFor(re: RegExp, ms = 15_000): Promise<string> {
    const end = Date.now() + ms;
    for (;;) {
      const since = this.text.slice(this.mark);
      const m = re.exec(since);
      if (m) {
        this.mark += m.index + m[0].length;
        return since.slice(0, m.index + m[0].length);
      }
      if (Date.now() > end) throw new Error(`no ${re} within ${ms} ms; got:\n${since}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Types a line (telnet turns "\n" into CR LF, nc sends it as it is) and waits for the next prompt. */
  async cmd(line: string, prompt: RegExp, ms?: number): Promise<string> {
    this.proc.stdin.write(`${line}\n`);
    return this.waitFor(prompt, ms);
  }

  close(): void {
    this.proc.stdin.end();
    this.proc.kill();
  }
}

const R1 = /\nr1[^\n]*[>#] ?$/;
const PC1 = /\npc1> $/;

describe.skipIf(!TELNET && !CI)('consoles over telnet and nc', () => {
  let dir: string;
  let labDir: string;
  let rt: LabRuntime;
  let consoles: TelnetConsoles;
  const ports: Record<string, number> = {};

  beforeAll(async () => {
    if (!TELNET) throw new Error('telnet is not installed (Debian package telnet)');
    dir = mkdtempSync(join(tmpdir(), 'wirelab-console-'));
    labDir = join(dir, 'consolelab');
    mkdirSync(labDir);
    for (const n of ['pc1', 'srv', 'r1']) ports[n] = await freePort();
    writeFileSync(
      join(labDir, 'lab.yaml'),
      `wirelab: 1
name: consolelab
description: A router with no configuration, to be configured through its console.
time: real
nodes:
  pc1: { kind: host, interfaces: { eth0: { ip: dhcp } }, console: ${ports['pc1']} }
  srv:
    kind: host
    interfaces: { eth0: { ip: 203.0.113.10/24 } }
    services: { udp-echo: { port: 7 } }
    console: ${ports['srv']}
  r1: { kind: router, console: ${ports['r1']} }
links:
  - [pc1:eth0, r1:g0/1]
  - [r1:g0/0, srv:eth0]
checks:
  - { name: pc1 leases from r1, dhcp: { node: pc1, in: 10.1.0.0/24 } }
  - { name: pc1 reaches the server through NAT, ping: { from: pc1, to: 203.0.113.10 } }
  - { name: UDP echo through NAT, udp: { from: pc1, to: "203.0.113.10:7" } }
  - { name: the server cannot reach the inside, ping: { from: srv, to: pc1 }, expect: failure }
`,
    );
    const r = loadLabText(readFileSync(join(labDir, 'lab.yaml'), 'utf8'), 'lab.yaml', { folderName: 'consolelab' });
    if (!r.ok) throw new Error(r.errors.map((e) => e.message).join('\n'));
    rt = new LabRuntime(r.lab, { time: 'real' });
    rt.start();
    consoles = await startRunConsoles(rt, labDir, dir);
  });

  afterAll(async () => {
    await consoles?.close();
    rt?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('lab checks fail while r1 has no configuration', async () => {
    const log = console.log;
    console.log = () => {};
    try {
      expect(await checkCommand([labDir, '--time', 'virtual'])).toBe(1);
    } finally {
      console.log = log;
    }
  });

  it('configures r1 from scratch over telnet, a host leases and pings through it, and the saved lab passes its checks', async () => {
    const r1 = Client.open('telnet', ports['r1']!);
    const watcher = NC ? Client.open('nc', ports['r1']!) : null;
    try {
      await r1.waitFor(/r1>$/);
      await r1.cmd('enable', R1);
      const lines = [
        'configure terminal',
        'interface GigabitEthernet0/0',
        ' ip address 203.0.113.1 255.255.255.0',
        ' ip nat outside',
        ' no shutdown',
        'int g0/1',
        ' ip add 10.1.0.1 255.255.255.0',
        ' ip nat inside',
        ' no shut',
        ' exit',
        'ip dhcp excluded-address 10.1.0.1 10.1.0.99',
        'ip dhcp pool LAN',
        ' network 10.1.0.0 255.255.255.0',
        ' default-router 10.1.0.1',
        ' dns-server 10.1.0.1',
        ' lease 0 2',
        ' exit',
        'access-list 1 permit 10.1.0.0 0.0.0.255',
        'ip nat inside source list 1 interface g0/0 overload',
        'end',
      ];
      for (const l of lines) {
        const out = await r1.cmd(l, R1);
        expect(out, l).not.toMatch(/% (Invalid|Incomplete|Ambiguous)/);
      }
      const brief = await r1.cmd('sh ip int br', R1);
      expect(brief).toMatch(/GigabitEthernet0\/0 +203\.0\.113\.1 +YES manual up +up/);
      expect(brief).toMatch(/GigabitEthernet0\/1 +10\.1\.0\.1 +YES manual up +up/);
      const wr = await r1.cmd('write memory', R1);
      expect(wr).toContain('Building configuration...');
      expect(wr).toContain('[OK]');

      // A second viewer (nc) of the same console saw all of it.
      if (watcher) await watcher.waitFor(/\[OK\]/);

      const pc1 = Client.open(NC ? 'nc' : 'telnet', ports['pc1']!);
      try {
        pc1.proc.stdin.write('\n');
        await pc1.waitFor(PC1);
        const dhcp = await pc1.cmd('ip dhcp', PC1, 20_000);
        expect(dhcp).toMatch(/D+O?R?A? ?IP 10\.1\.0\.(1\d\d|[1-9]\d)\/24 GW 10\.1\.0\.1/);
        const ping = await pc1.cmd('ping 203.0.113.10 -c 3', PC1, 20_000);
        expect(ping.match(/203\.0\.113\.10 icmp_seq=\d ttl=63 time=[\d.]+ ms/g)).toHaveLength(3);
      } finally {
        pc1.close();
      }
      const nat = await r1.cmd('show ip nat translations', R1);
      expect(nat).toMatch(/icmp 203\.0\.113\.1:\d+ +10\.1\.0\.\d+:\d+ +203\.0\.113\.10:\d+ +203\.0\.113\.10:\d+/);
    } finally {
      if (process.env.WIRELAB_SHOW_CONSOLES) console.log(r1.text);
      r1.close();
      watcher?.close();
    }

    const saved = readFileSync(join(labDir, 'lab.yaml'), 'utf8');
    if (process.env.WIRELAB_SHOW_CONSOLES) console.log(saved);
    expect(saved).toContain('203.0.113.1/24');
    expect(saved).toMatch(/dhcp-server:/);
    expect(saved).toMatch(/nat:/);
    const log = console.log;
    const printed: string[] = [];
    console.log = (...a: unknown[]) => printed.push(a.join(' '));
    try {
      const code = await checkCommand([labDir, '--time', 'virtual']);
      expect(code, printed.join('\n')).toBe(0);
    } finally {
      console.log = log;
    }
  }, 120_000);
});

if (!TELNET && !CI) console.warn('consoles over telnet: skipped, telnet is not installed (apt-get install telnet netcat-openbsd)');
