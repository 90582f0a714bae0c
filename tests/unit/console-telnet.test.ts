/**
 * The telnet transport and the console hub: option negotiation as a console server does it
 * (WILL ECHO, WILL SUPPRESS-GO-AHEAD, DO NAWS, refusals for the rest), the window size reaching
 * the console, several clients sharing one console, and `write memory` going through the hub's
 * validation to the writer.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { connect, createServer, type Socket } from 'node:net';
import { loadLabText } from '../../devices/lab/load.js';
import { LabRuntime } from '../../devices/lab/runtime.js';
import type { LabFile } from '../../devices/lab/schema.js';
import { ConsoleHub } from '../../server/console-hub.js';
import { TelnetConsoles } from '../../server/console-telnet.js';

const IAC = 255;
const WILL = 251;
const WONT = 252;
const DO = 253;
const DONT = 254;
const SB = 250;
const SE = 240;
const AYT = 246;

const LAB = `
wirelab: 1
name: tn
nodes:
  pc1: { kind: host, interfaces: { eth0: { ip: 10.1.0.10/24, gateway: 10.1.0.1 } } }
  r1: { kind: router, interfaces: { g0/0: { ip: 10.1.0.1/24 } } }
  r2: { kind: router }
links:
  - [pc1:eth0, r1:g0/0]
`;

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

class Peer {
  bytes: number[] = [];
  private constructor(readonly sock: Socket) {
    sock.on('data', (b: Buffer) => this.bytes.push(...b));
  }
  static async open(port: number): Promise<Peer> {
    const sock = await new Promise<Socket>((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => resolve(s));
      s.once('error', reject);
    });
    return new Peer(sock);
  }
  get text(): string {
    return Buffer.from(this.bytes.filter((b) => b < 240)).toString('utf8');
  }
  send(...parts: (string | number[])[]): void {
    for (const p of parts) this.sock.write(typeof p === 'string' ? Buffer.from(p) : Buffer.from(p));
  }
  async until(f: () => boolean, ms = 3000): Promise<void> {
    const end = Date.now() + ms;
    while (!f()) {
      if (Date.now() > end) throw new Error(`timed out; got ${JSON.stringify(this.text)} / ${JSON.stringify(this.bytes.slice(0, 40))}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  /** Whether the byte sequence occurs in what was received. */
  has(seq: number[]): boolean {
    const b = this.bytes;
    outer: for (let i = 0; i + seq.length <= b.length; i++) {
      for (let j = 0; j < seq.length; j++) if (b[i + j] !== seq[j]) continue outer;
      return true;
    }
    return false;
  }
  close(): void {
    this.sock.destroy();
  }
}

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup) await c();
  cleanup = [];
});

async function setup(persist?: (file: LabFile) => void) {
  const r = loadLabText(LAB, 'lab.yaml');
  if (!r.ok) throw new Error('bad lab');
  const rt = new LabRuntime(r.lab);
  rt.start();
  const hub = new ConsoleHub(rt, persist ? { persist: (file) => persist(file) } : {});
  const ports = { pc1: await freePort(), r1: await freePort(), r2: await freePort() };
  const consoles = new TelnetConsoles(hub, { ports });
  const listening = await consoles.listen();
  cleanup.push(async () => {
    await consoles.close();
    hub.close();
    rt.stop();
  });
  return { rt, hub, ports, listening };
}

describe('telnet consoles', () => {
  it('listen on each node\'s port and negotiate echo, suppress-go-ahead and the window size', async () => {
    const { hub, ports, listening } = await setup();
    expect(listening).toEqual([
      { node: 'pc1', port: ports.pc1, error: null },
      { node: 'r1', port: ports.r1, error: null },
      { node: 'r2', port: ports.r2, error: null },
    ]);
    const p = await Peer.open(ports.r1);
    cleanup.push(async () => p.close());
    await p.until(() => p.text.includes('r1>'));
    expect(p.bytes.slice(0, 12)).toEqual([IAC, WILL, 1, IAC, WILL, 3, IAC, DO, 3, IAC, DO, 31]);
    // The client agrees to NAWS and reports 120x40.
    p.send([IAC, WILL, 31, IAC, SB, 31, 0, 120, 0, 40, IAC, SE]);
    await p.until(() => hub.console('r1').terminal.cols === 120);
    expect(hub.console('r1').terminal.rows).toBe(40);
    // What we already do gets no reply; what we do not do is refused.
    const before = p.bytes.length;
    p.send([IAC, DO, 1, IAC, DO, 24, IAC, WILL, 24]);
    await p.until(() => p.has([IAC, WONT, 24]) && p.has([IAC, DONT, 24]));
    expect(p.bytes.slice(before).filter((b) => b === IAC)).toHaveLength(2);
    p.send([IAC, AYT]);
    await p.until(() => p.text.includes('[Yes]'));
  });

  it('takes CR NUL and CR LF line ends, and a width of 0xFF escaped as IAC IAC', async () => {
    const { hub, ports } = await setup();
    const p = await Peer.open(ports.r1);
    cleanup.push(async () => p.close());
    await p.until(() => p.text.includes('r1>'));
    p.send('enable\r\0');
    await p.until(() => p.text.includes('r1#'));
    p.send('show ip interface brief\r\n');
    await p.until(() => /GigabitEthernet0\/0 +10\.1\.0\.1 +YES NVRAM  up +up/.test(p.text));
    expect(p.text.split('r1#').length).toBe(3);
    p.send([IAC, SB, 31, 0, IAC, IAC, 0, 30, IAC, SE]);
    await p.until(() => hub.console('r1').terminal.cols === 255);
  });

  it('shares a console between clients: each sees what the other types and its output', async () => {
    const { ports, hub } = await setup();
    const a = await Peer.open(ports.r1);
    cleanup.push(async () => a.close());
    await a.until(() => a.text.includes('r1>'));
    a.send('ena');
    await a.until(() => a.text.endsWith('ena'));
    const b = await Peer.open(ports.r1);
    cleanup.push(async () => b.close());
    // A newcomer is shown the prompt and the half-typed line.
    await b.until(() => b.text.endsWith('\r\nr1>ena'));
    expect(hub.viewers('r1')).toBe(2);
    b.send('ble\r');
    await a.until(() => a.text.endsWith('enable\r\nr1#'));
    a.send('show version\r');
    await b.until(() => b.text.includes('Configuration register is 0x2102'));
    b.close();
    await a.until(() => hub.viewers('r1') === 1);
  });

  it('an interrupt (IAC IP) is Ctrl-C for the console', async () => {
    const { ports } = await setup();
    const p = await Peer.open(ports.pc1);
    cleanup.push(async () => p.close());
    p.send('sh');
    await p.until(() => p.text.endsWith('sh'));
    p.send([IAC, 244]);
    await p.until(() => p.text.endsWith('^C\r\n\r\npc1> '));
  });
});

describe('console hub saves', () => {
  it('write memory validates the lab with the node\'s new entry and hands the file to the writer', async () => {
    const written: LabFile[] = [];
    const { hub, rt } = await setup((f) => written.push(f));
    const c = hub.console('r2');
    let out = '';
    c.onOutput((t) => (out += t));
    c.input('enable\rconf t\rint g0/1\rip address 192.0.2.1 255.255.255.0\rend\rwrite memory\r');
    await new Promise((r) => setTimeout(r, 50));
    expect(out).toContain('Building configuration...\r\n[OK]\r\nr2#');
    expect(written).toHaveLength(1);
    expect(written[0]!.nodes!['r2']).toEqual({ kind: 'router', interfaces: { 'g0/1': { ip: '192.0.2.1/24' } } });
    expect(rt.lab.file.nodes!['r2']).toEqual({ kind: 'router' });

    // A rename onto another node's name is refused, and so is a lab that does not validate: nothing is written.
    out = '';
    c.input('conf t\rhostname r1\rend\rwr\r');
    await new Promise((r) => setTimeout(r, 50));
    expect(out).toContain('%Error writing lab.yaml: cannot rename r2 to r1: the lab already has a node named r1\r\nr1#');
    out = '';
    c.input('conf t\rhostname r2\rint g0/2\rip address 10.1.0.2 255.255.255.0\rip access-group 5 in\rexit\raccess-list 5 permit any\rend\rwr\r');
    await new Promise((r) => setTimeout(r, 50));
    expect(out).toContain('[OK]');
    expect(written).toHaveLength(2);
    expect(written[1]!.nodes!['r2']).toMatchObject({ acls: { '5': ['permit any'] } });
    out = '';
    c.input('conf t\rip dhcp pool P\rnetwork 10.1.0.0 255.255.255.0\raddress 10.1.0.50 node ghost\rend\rwr\r');
    await new Promise((r) => setTimeout(r, 50));
    expect(out).toMatch(/%Error writing lab\.yaml: nodes\.r2\.dhcp-server\.pools\[0\]\.reservations\[0\]\.node: no node named "ghost"/);
    expect(written).toHaveLength(2);
  });

  it('a console that cannot write says so', async () => {
    const { hub } = await setup();
    const c = hub.console('r2');
    let out = '';
    c.onOutput((t) => (out += t));
    c.input('enable\rwrite memory\r');
    await new Promise((r) => setTimeout(r, 20));
    expect(out).toContain('%Error writing lab.yaml: this console cannot write lab.yaml');
  });

  it('a paste larger than a turn\'s share is taken whole and in order (the client is paused, not dropped)', async () => {
    const { ports } = await setup();
    const p = await Peer.open(ports.r1);
    cleanup.push(async () => p.close());
    await p.until(() => p.text.includes('r1>'));
    // 8,000 lines, 16 bytes each: twice the 64 KiB a console takes per event-loop turn.
    let paste = 'enable\rconfigure terminal\r';
    for (let i = 0; i < 8000; i++) paste += `hostname h${String(i).padStart(5, '0')}\r`;
    p.send(paste);
    await p.until(() => p.text.includes('h07999(config)#'), 20_000);
    const names = [...p.text.matchAll(/hostname (h\d{5})/g)].map((m) => m[1]);
    expect(names).toHaveLength(8000);
    expect(names.every((n, i) => n === `h${String(i).padStart(5, '0')}`)).toBe(true);
  });
});
