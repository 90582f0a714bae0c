/**
 * The host console: the VPCS command set with VPCS 0.5b2's wording and layout (the VPCS that
 * Debian packages; GNS3 users know its commands), acting on the Host device itself.
 *
 *   ip 10.0.0.5/24 10.0.0.1 | ip 10.0.0.5 255.255.255.0 10.0.0.1 | ip dhcp [-r|-x] | ip dns ADDR
 *   ping HOST [-c N] [-P 1|17] [-p PORT] [-l SIZE] [-T TTL] [-i MS] [-w MS] [-t]
 *   trace HOST [-m N] | show [ip|arp|history] | arp | set pcname NAME | clear ip|arp|hist
 *   history | save | echo TEXT | version | ? | help
 *
 * Deliberate differences from VPCS: `show ip` leaves out LPORT and RHOST:PORT (a wirelab host
 * has no UDP tunnel), `save` writes the host's entry of lab.yaml rather than startup.vpc, `ip`
 * does no duplicate-address probe (the host announces its address with a gratuitous ARP), and
 * TCP ping (-P 6) is refused while hosts have no TCP.
 */
import type { Host } from '../host/index.js';
import { DnsLookup, type DnsLookupOwner } from '../host/apps.js';
import type { HostNodeSpec, NodeSpec } from '../lab/schema.js';
import type { TimerTarget } from '../engine/engine.js';
import { type Ip4, ip4ToString, macToString, parseIp4, prefixToMask } from '../wire/bytes.js';
import { NODE_NAME_RE } from '../lab/schema.js';
import type { ConsoleEnv, SaveOutcome } from './env.js';
import { EchoRun, type EchoRunListener, type ProbeResult, TraceRun, type TraceProbeResult, type TraceRunListener } from './probes.js';
import type { Shell, ShellHost } from './terminal.js';

/** VPCS's names for ICMP types and codes (icmpTypeCode2String). */
export function vpcsIcmpText(type: number, code: number): string {
  const unreach = [
    'Destination network unreachable',
    'Destination host unreachable',
    'Destination protocol unreachable',
    'Destination port unreachable',
    'Fragmentation required, and DF flag set',
    'Source route failed',
    'Destination network unknown',
    'Destination host unknown',
    'Source host isolated',
    'Network administratively prohibited',
    'Host administratively prohibited',
    'Network unreachable for TOS',
    'Host unreachable for TOS',
    'Communication administratively prohibited',
  ];
  if (type === 0) return 'Echo reply';
  if (type === 8) return 'Echo';
  if (type === 3 && code <= 13) return unreach[code]!;
  if (type === 5 && code <= 3) return ['Redirect Datagram for the Network', 'Redirect Datagram for the Host', 'Redirect Datagram for the TOS & network', 'Redirect Datagram for the TOS & host'][code]!;
  if (type === 11 && code <= 1) return ['TTL expired in transit', 'Fragment reassembly time exceeded'][code]!;
  return '';
}

const HELP = `
?                        Print help
arp                      Shortcut for: show arp. Show arp table
clear [arguments]        Clear IPv4 address, arp cache, command history
dhcp [-options]          Shortcut for: ip dhcp. Get IPv4 address via DHCP
echo <text>              Display <text> in output
help                     Print help
history                  Shortcut for: show history. List the command history
ip [arguments]           Configure VPC's IP settings
ping <host> [-options]   Ping the network <host> with ICMP (default) or UDP
save                     Save the configuration into lab.yaml
set [arguments]          Set VPC name
show [arguments]         Print the information of VPCs (default). Try show ?
trace <host> [-options]  Print the path packets take to network <host>
version                  Shortcut for: show version

To get command syntax help, please enter '?' as an argument of the command.
`;

const HELP_IP = `
ip [arguments]
  Configure the current VPC's IP settings
  arguments:
    <address> [/<mask>] [<gateway>]
    <address> [<gateway>] [/<mask>]
                   Set the VPC's ip, default gateway ip and network mask
                   Default IPv4 mask is /24
                   </mask> may be written as /26, 26 or 255.255.255.192
    dhcp -[r|x]    Attempt to obtain IPv4 address, mask, gateway, DNS via DHCP
          -r         Renew DHCP lease
          -x         Release DHCP lease
    dns <ip>       Set DNS server <ip>, delete if <ip> is '0'
`;

const HELP_PING = `
ping <host> [-options]
  Ping the network <host>. <host> can be an ip address or name
    options:
     -1             ICMP mode, default
     -2             UDP mode
     -P <protocol>  Same as above, setting ip protocol
                    1 - icmp, 17 - udp
     -c <count>     packet count, default 5
     -l <size>      data size
     -T <ttl>       set TTL, default 64
     -s <port>      source port
     -p <port>      destination port
     -t             send packet until interrupt by Ctrl+C
     -i <ms>        wait <ms> milliseconds between sending each packet
     -w <ms>        wait <ms> milliseconds to receive the response

  Note: 1. Using names requires DNS to be set.
        2. Use Ctrl+C to stop the command.
`;

const HELP_TRACE = `
trace <host> [-options]
  Print the path packets take to network <host>. <host> can be an ip address or name
    options:
     -m <ttl>       Maximum TTL, default 8, maximum 64
  Note: 1. Using names requires DNS to be set.
        2. Use Ctrl+C to stop the command.
`;

const HELP_SHOW = `
show [arguments]
  Print the information of VPCs
  arguments:
    arp            Show arp table
    history        List the command history
    ip [all]       Show IPv4 details of VPCs
    version        Show the version information
`;

const HELP_SET = `
set [arguments]
  Set VPC name
  arguments:
    pcname <name>  Set the hostname of the current VPC
`;

const VERSION = `
Welcome to Virtual PC Simulator, version 0.5b2 (wirelab)
Dedicated to Daling.
Copyright (c) 2007-2014, Paul Meng (mirnshi@gmail.com)
All rights reserved.

VPCS is free software, distributed under the terms of the "BSD" licence.
`;

/** The commands and the group they belong to, as VPCS's cmd_entry (prefix-matched, `tracer` as trace). */
const COMMANDS: { name: string; group?: string }[] = [
  { name: '?' },
  { name: 'arp', group: 'show' },
  { name: 'clear' },
  { name: 'dhcp', group: 'ip' },
  { name: 'echo' },
  { name: 'help' },
  { name: 'history' },
  { name: 'ip' },
  { name: 'ping' },
  { name: 'tracer' },
  { name: 'save' },
  { name: 'set' },
  { name: 'show' },
  { name: 'version' },
];

const TAG_DHCP_POLL = 1;
const TAG_DHCP_GIVE_UP = 2;
/** VPCS sends DISCOVER at 0, 1 and 4 s and gives up at 13 s. */
const VPCS_DHCP_PATIENCE_NS = 13e9;
const DHCP_POLL_NS = 50e6;
/** VPCS's ARP table keeps entries 120 s. */
const VPCS_ARP_SECONDS = 120;

function isDigits(s: string): boolean {
  return /^\d+$/.test(s);
}

function ms(ns: number): string {
  return (ns / 1e6).toFixed(3);
}

/** VPCS's own split: spaces, tabs, '/' and '=' separate words; "quoted words" stay whole. */
export function vpcsArgs(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < line.length) {
    const c = line[i]!;
    if (c === '"') {
      const end = line.indexOf('"', i + 1);
      if (end < 0) break;
      if (end > i + 1) out.push(line.slice(i + 1, end));
      i = end + 1;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '/' || c === '=') {
      i++;
      continue;
    }
    let j = i;
    while (j < line.length && !' \t/="'.includes(line[j]!)) j++;
    out.push(line.slice(i, j));
    i = j;
  }
  return out;
}

type Operation =
  | { kind: 'ping'; run: EchoRun | null; lookup: DnsLookup | null; label: string; seqName: string; next: Ip4 }
  | { kind: 'trace'; run: TraceRun | null; lookup: DnsLookup | null; label: string; maxHops: number; next: Ip4 }
  | { kind: 'dhcp'; timer: number; giveUp: number; seen: number; printedAck: boolean }
  | { kind: 'save' };

export class VpcsShell implements Shell, EchoRunListener, TraceRunListener, DnsLookupOwner, TimerTarget {
  readonly historySize = 50;
  private op: Operation | null = null;
  /** `set pcname`: shown in the prompt and saved as the node's new name. */
  pcname: string;
  /** Ping options kept while a name resolves. */
  private pending: { count: number; protocol: 'icmp' | 'udp'; size: number; ttl: number; waitNs: number; gapNs: number; dstPort: number; srcPort: number } | null = null;

  constructor(
    readonly env: ConsoleEnv,
    private readonly host: ShellHost & { historyLines?(): string[] },
  ) {
    this.pcname = env.node;
  }

  private get pc(): Host {
    const h = this.env.runtime.host(this.env.node);
    if (!h) throw new Error(`${this.env.node} is not a host`);
    return h;
  }

  private get ifName(): string {
    return this.pc.ports[0]!.name;
  }

  prompt(): string {
    return `\n${this.pcname}> `;
  }

  private out(text: string): void {
    this.host.print(text);
  }

  execute(raw: string): 'done' | 'busy' {
    const line = raw.trim();
    const argv = vpcsArgs(line);
    if (argv.length === 0) return 'done';
    const word = argv[0]!;
    // VPCS's own newline after a command is the terminal's echo of Enter here.
    if ('echo'.startsWith(word) && word.length > 0 && word === line.slice(0, word.length)) {
      const sp = line.search(/[ \t]/);
      this.out(sp >= 0 ? line.slice(sp + 1) : '');
      return 'done';
    }
    const matches = COMMANDS.filter((c) => c.name.startsWith(word));
    if (matches.length > 1) {
      this.out(matches.map((m) => `${m.name}\n`).join(''));
      return 'done';
    }
    const cmd = matches[0];
    if (!cmd) {
      this.out(`Bad command: "${line}". Use ? for help.\n`);
      return 'done';
    }
    const args = cmd.group ? [cmd.group, ...argv] : [cmd.name, ...argv.slice(1)];
    if (args.length > 1 && (args[args.length - 1] === '?' || args[args.length - 1] === 'help')) {
      this.out(this.helpFor(args[0]!));
      return 'done';
    }
    switch (args[0]) {
      case '?':
      case 'help':
        this.out(HELP);
        return 'done';
      case 'ip':
        return this.ip(args);
      case 'ping':
        return this.ping(args);
      case 'tracer':
        return this.trace(args);
      case 'show':
        return this.show(args);
      case 'set':
        return this.set(args);
      case 'clear':
        return this.clear(args);
      case 'history':
        this.out((this.host.historyLines?.() ?? []).map((l) => `${l}\n`).join(''));
        return 'done';
      case 'save':
        return this.save(args);
      case 'version':
        this.out(VERSION);
        return 'done';
    }
    this.out(`Bad command: "${line}". Use ? for help.\n`);
    return 'done';
  }

  private helpFor(cmd: string): string {
    switch (cmd) {
      case 'ip':
      case 'dhcp':
        return HELP_IP;
      case 'ping':
        return HELP_PING;
      case 'tracer':
        return HELP_TRACE;
      case 'show':
      case 'arp':
        return HELP_SHOW;
      case 'set':
        return HELP_SET;
      default:
        return HELP;
    }
  }

  // ---------------------------------------------------------------- ip

  private ip(argv: string[]): 'done' | 'busy' {
    if (argv.length < 2 || (argv.length === 2 && argv[1] === '?')) {
      this.out(HELP_IP);
      return 'done';
    }
    const sub = argv[1]!;
    if ('dhcp'.startsWith(sub)) return this.dhcp(argv.slice(2));
    if ('dns'.startsWith(sub) && sub.length >= 2) return this.dns(argv.slice(2));
    const rip = parseIp4(sub);
    let prefix = 24;
    let gw: Ip4 | null = null;
    for (const a of argv.slice(2)) {
      if (isDigits(a) && a.length < 3) {
        prefix = Number(a);
        continue;
      }
      if (a.length > 8 && a.startsWith('255.')) {
        const m = parseIp4(a);
        const p = m === null ? -1 : maskBits(m);
        if (p < 0) {
          this.out('Invalid address\n');
          return 'done';
        }
        prefix = p;
        continue;
      }
      if (a.length > 6 && a.length < 16) {
        gw = parseIp4(a);
        if (gw === null) {
          this.out('Invalid address\n');
          return 'done';
        }
        continue;
      }
      this.out('Invalid options\n');
      return 'done';
    }
    if (prefix < 1 || prefix > 30) prefix = 24;
    if (rip === null || rip === 0 || rip === gw) {
      this.out('Invalid address\n');
      return 'done';
    }
    const mask = prefixToMask(prefix);
    const hostPart = (rip & ~mask) >>> 0;
    if (hostPart === 0 || (hostPart | mask) >>> 0 === 0xffffffff) {
      this.out('Invalid host address\n');
      return 'done';
    }
    if (gw !== null) {
      const gh = (gw & ~mask) >>> 0;
      if (gh === 0 || (gh | mask) >>> 0 === 0xffffffff) {
        this.out('Invalid gateway address\n');
        return 'done';
      }
      if (((rip & mask) >>> 0) !== ((gw & mask) >>> 0)) {
        this.out('not same subnet\n');
        return 'done';
      }
    }
    this.out('Checking for duplicate address...\n');
    this.pc.setStatic(this.ifName, rip, prefix, gw ?? 0);
    this.out(`${this.pcname} : ${ip4ToString(rip)} ${ip4ToString(mask)}${gw !== null ? ` gateway ${ip4ToString(gw)}` : ''}\n`);
    return 'done';
  }

  private dns(args: string[]): 'done' {
    if (args.length === 0 || args.length > 2) return 'done';
    const list: Ip4[] = [];
    for (const a of args) {
      if (a === '0') {
        this.pc.dnsServers = [];
        return 'done';
      }
      const ip = parseIp4(a);
      if (ip === null || ip === 0) {
        this.out(args.length === 1 ? 'Invalid address\n' : `Invalid address: ${a}\n`);
        return 'done';
      }
      list.push(ip);
    }
    this.pc.dnsServers = list;
    return 'done';
  }

  private dhcp(opts: string[]): 'done' | 'busy' {
    let renew = false;
    let release = false;
    for (const o of opts) {
      if (o === '-r') renew = true;
      else if (o === '-x') release = true;
      else if (o !== '-d') {
        this.out(HELP_IP);
        return 'done';
      }
    }
    const pc = this.pc;
    if (release) {
      pc.releaseDhcp(this.ifName);
      pc.clearIp(this.ifName);
      if (!renew) return 'done';
    }
    const previous = pc.dhcpStatus(this.ifName)?.lease?.ip;
    const client = pc.useDhcp(this.ifName, renew && previous ? previous : undefined);
    if (!pc.running) {
      this.out('\nCan\'t find dhcp server\n');
      return 'done';
    }
    const engine = this.pc.engine;
    this.op = {
      kind: 'dhcp',
      seen: client.history.length > 0 ? client.history.length - 1 : 0,
      printedAck: false,
      timer: engine.after(0, this, TAG_DHCP_POLL),
      giveUp: engine.after(VPCS_DHCP_PATIENCE_NS, this, TAG_DHCP_GIVE_UP),
    };
    // A client that restarts logs its first DISCOVER (or REQUEST) right away: start from it.
    this.op.seen = Math.max(0, client.history.length - 1);
    const first = client.history[this.op.seen];
    if (first && !/^(DISCOVER|REQUEST)/.test(first.event)) this.op.seen = client.history.length;
    return 'busy';
  }

  onTimer(tag: number): void {
    const op = this.op;
    if (op === null || op.kind !== 'dhcp') return;
    const client = this.pc.dhcp(this.ifName);
    const engine = this.pc.engine;
    if (client !== null) {
      for (; op.seen < client.history.length; op.seen++) {
        const e = client.history[op.seen]!.event;
        if (e.startsWith('DISCOVER')) this.out('D');
        else if (e.startsWith('OFFER')) this.out('O');
        else if (e.startsWith('REQUEST')) this.out('R');
        else if (e.startsWith('ACK')) this.out('A');
      }
      const lease = client.status().bound ? client.lease : null;
      if (lease !== null) {
        engine.cancel(op.timer);
        engine.cancel(op.giveUp);
        const gw = lease.routers[0];
        this.out(` IP ${ip4ToString(lease.ip)}/${lease.prefix}${gw !== undefined ? ` GW ${ip4ToString(gw)}\n` : ''}`);
        return this.end();
      }
    }
    if (tag === TAG_DHCP_GIVE_UP) {
      engine.cancel(op.timer);
      this.out("\nCan't find dhcp server\n");
      return this.end();
    }
    op.timer = engine.after(DHCP_POLL_NS, this, TAG_DHCP_POLL);
  }

  // ---------------------------------------------------------------- ping

  private ping(argv: string[]): 'done' | 'busy' {
    if (argv.length < 2 || (argv.length === 2 && argv[1] === '?')) {
      this.out(HELP_PING);
      return 'done';
    }
    let count = 5;
    let protocol: 'icmp' | 'udp' | 'tcp' = 'icmp';
    let size = 64;
    let ttl = 64;
    let waitMs = 1000;
    let intervalMs = 1000;
    let dstPort = 7;
    let srcPort = 0;
    for (let i = 2; i < argv.length; ) {
      const a = argv[i++]!;
      if (a[0] !== '-') continue;
      const value = (): number | null => (i < argv.length ? Number.parseInt(argv[i++]!, 10) : null);
      switch (a[1]) {
        case '1':
          protocol = 'icmp';
          break;
        case '2':
          protocol = 'udp';
          break;
        case '3':
          protocol = 'tcp';
          break;
        case 'P': {
          const p = value();
          if (p === 1) protocol = 'icmp';
          else if (p === 17) protocol = 'udp';
          else if (p === 6) protocol = 'tcp';
          break;
        }
        case 'c': {
          const v = value();
          if (v !== null) count = Number.isNaN(v) ? 0 : v;
          break;
        }
        case 'l': {
          const v = value();
          if (v !== null && v >= 0) size = v;
          break;
        }
        case 'T': {
          const v = value();
          if (v !== null && v > 0 && v < 256) ttl = v;
          break;
        }
        case 's': {
          const v = value();
          if (v !== null && v > 0 && v < 65536) srcPort = v;
          break;
        }
        case 'p': {
          const v = value();
          if (v !== null && v > 0 && v < 65536) dstPort = v;
          break;
        }
        case 'i': {
          const v = value();
          intervalMs = v !== null && v >= 1 ? v : 1000;
          break;
        }
        case 'w': {
          const v = value();
          waitMs = v !== null && v >= 1 ? v : 1000;
          break;
        }
        case 't':
          count = -1;
          break;
        default:
          this.out('Invalid options\n');
          return 'done';
      }
    }
    if (protocol === 'tcp') {
      this.out('TCP mode is not available: wirelab hosts have no TCP yet\n');
      return 'done';
    }
    this.pending = { count, protocol, size, ttl, waitNs: waitMs * 1e6, gapNs: intervalMs * 1e6, dstPort, srcPort };
    const label = argv[1]!;
    const literal = parseIp4(label);
    if (literal !== null && literal !== 0) return this.startPing(label, literal);
    return this.resolveThen({ kind: 'ping', run: null, lookup: null, label, seqName: `${protocol}_seq`, next: 0 });
  }

  private resolveThen(op: Extract<Operation, { kind: 'ping' | 'trace' }>): 'done' | 'busy' {
    const pc = this.pc;
    const known = pc.hosts.get(op.label.toLowerCase());
    if (known !== undefined) {
      this.out(`${op.label} resolved to ${ip4ToString(known)}\n`);
      return op.kind === 'ping' ? this.startPing(op.label, known) : this.startTrace(op.label, known, op.maxHops);
    }
    if (pc.nameservers().length === 0 || !pc.running) {
      this.out(`Cannot resolve ${op.label}\n`);
      return 'done';
    }
    this.op = op;
    const lookup = pc.resolve(op.label, this);
    // A lookup that fails at once (no route to any server) has already answered.
    if (this.op === op && !lookup.isDone) op.lookup = lookup;
    return this.op === null ? 'done' : 'busy';
  }

  onResolved(lookup: DnsLookup): void {
    const op = this.op;
    if (op === null || (op.kind !== 'ping' && op.kind !== 'trace') || (op.lookup !== null && op.lookup !== lookup)) return;
    op.lookup = null;
    const a = lookup.result.addresses[0];
    this.op = null;
    if (a === undefined) {
      this.out(`Cannot resolve ${op.label}\n`);
      return this.host.finished();
    }
    this.out(`${op.label} resolved to ${ip4ToString(a)}\n`);
    const r = op.kind === 'ping' ? this.startPing(op.label, a) : this.startTrace(op.label, a, op.maxHops);
    if (r === 'done') this.host.finished();
  }

  /** VPCS checks the path before the first probe: "No gateway found", "host (X) not reachable". */
  private nextHop(dst: Ip4): { ip: Ip4 } | { error: string } {
    const pc = this.pc;
    const info = pc.showIp()[0]!;
    if (info.ip === 0 && dst !== 0) return { error: 'No gateway found\n' };
    const mask = prefixToMask(info.prefix);
    if (((dst & mask) >>> 0) === ((info.ip & mask) >>> 0)) return { ip: dst };
    if (info.gateway === 0) return { error: 'No gateway found\n' };
    return { ip: info.gateway };
  }

  private startPing(label: string, dst: Ip4): 'done' | 'busy' {
    const o = this.pending!;
    const pc = this.pc;
    const seqName = `${o.protocol}_seq`;
    if (o.count === 0) return 'done';
    if (pc.stack.isLocalAddress(dst)) {
      // VPCS answers itself without sending anything.
      const n = o.count < 0 ? 1 : o.count;
      for (let i = 1; i <= n; i++) this.out(`${ip4ToString(dst)} ${seqName}=${i} ttl=${o.ttl} time=0.001 ms\n`);
      return 'done';
    }
    const hop = this.nextHop(dst);
    if ('error' in hop) {
      this.out(hop.error);
      return 'done';
    }
    const run = new EchoRun(pc.engine, pc.stack, dst, {
      protocol: o.protocol,
      count: o.count,
      size: o.size,
      ttl: o.ttl,
      waitNs: o.waitNs,
      gapNs: o.gapNs,
      dstPort: o.dstPort,
      ...(o.srcPort ? { srcPort: o.srcPort } : {}),
      arpGraceNs: 3.5e9,
    }, this);
    this.op = { kind: 'ping', run, lookup: null, label, seqName, next: hop.ip };
    run.start();
    return this.op === null ? 'done' : 'busy';
  }

  onProbe(run: EchoRun, r: ProbeResult): void {
    const op = this.op;
    if (op === null || op.kind !== 'ping' || op.run !== run) return;
    const dst = ip4ToString(run.dst);
    if (r.kind === 'reply') this.out(`${dst} ${op.seqName}=${r.seq} ttl=${r.ttl} time=${ms(r.rttNs)} ms\n`);
    else if (r.kind === 'timeout') this.out(`${op.label} ${op.seqName}=${r.seq} timeout\n`);
    else if (r.local && r.seq === 1 && run.received === 0) {
      // Our ARP for the next hop went unanswered: VPCS says so and stops.
      this.out(`host (${ip4ToString(op.next)}) not reachable\n`);
      run.stop();
    } else {
      this.out(`*${ip4ToString(r.from)} ${op.seqName}=${r.seq} ttl=${r.ttl} time=${ms(r.rttNs)} ms (ICMP type:${r.type}, code:${r.code}, ${vpcsIcmpText(r.type, r.code)})\n`);
    }
  }

  onRunDone(run: EchoRun): void {
    const op = this.op;
    if (op === null || op.kind !== 'ping' || op.run !== run) return;
    if (run.sendError !== null && run.sent === 0) this.out(run.sendError === 'no-route' ? 'No gateway found\n' : `host (${ip4ToString(op.next)}) not reachable\n`);
    this.end();
  }

  // ---------------------------------------------------------------- trace

  private trace(argv: string[]): 'done' | 'busy' {
    if (argv.length < 2 || (argv.length === 2 && argv[1] === '?')) {
      this.out(HELP_TRACE);
      return 'done';
    }
    let max = 0;
    for (let i = 2; i < argv.length; ) {
      const a = argv[i]!;
      if (a === '-P') {
        if (i + 1 >= argv.length) {
          this.out('Missing protocol\n');
          return 'done';
        }
        if (argv[i + 1] !== '17') {
          this.out('Invalid protocol\n');
          return 'done';
        }
        i += 2;
        continue;
      }
      if (a === '-m' || (isDigits(a) && max === 0)) {
        const v = a === '-m' ? argv[i + 1] : a;
        if (a === '-m' && v === undefined) {
          this.out('Missing TTL\n');
          return 'done';
        }
        if (!isDigits(v!) || Number(v) < 1 || Number(v) > 64) {
          this.out('Invalid TTL\n');
          return 'done';
        }
        max = Number(v);
        i += a === '-m' ? 2 : 1;
        continue;
      }
      this.out(HELP_TRACE);
      return 'done';
    }
    if (max === 0) max = 8;
    const label = argv[1]!;
    const literal = parseIp4(label);
    if (literal !== null && literal !== 0) return this.startTrace(label, literal, max);
    return this.resolveThen({ kind: 'trace', run: null, lookup: null, label, maxHops: max, next: 0 });
  }

  private startTrace(label: string, dst: Ip4, maxHops: number): 'done' | 'busy' {
    const pc = this.pc;
    if (pc.stack.isLocalAddress(dst)) {
      this.out(`traceroute to ${label}, ${maxHops} hops max\n 1 ${ip4ToString(dst)}     0.001 ms\n`);
      return 'done';
    }
    this.out(`trace to ${label}, ${maxHops} hops max, press Ctrl+C to stop\n`);
    const hop = this.nextHop(dst);
    if ('error' in hop) {
      this.out(hop.error);
      return 'done';
    }
    const base = 1024 + pc.engine.rng.below(0xfff1 - 1024);
    const run = new TraceRun(pc.engine, pc.stack, dst, { maxHops, perHop: 3, waitNs: 1e9, size: 64, basePort: base + 1, portStep: 0, srcPort: base, arpGraceNs: 3.5e9 }, this);
    this.op = { kind: 'trace', run, lookup: null, label, maxHops, next: hop.ip };
    this.traceLine = '';
    this.tracePrinted = false;
    run.start();
    return this.op === null ? 'done' : 'busy';
  }

  private traceLine = '';
  private tracePrinted = false;

  onTraceProbe(run: TraceRun, r: TraceProbeResult): void {
    const op = this.op;
    if (op === null || op.kind !== 'trace' || op.run !== run) return;
    if (r.index === 0) {
      this.traceLine = `${String(r.hop).padStart(2)}   `;
      this.tracePrinted = false;
    }
    if (r.from === null) {
      this.traceLine += '  *';
      return;
    }
    if (r.type === 3) {
      if (!this.tracePrinted) {
        if (r.index === 0 && r.hop === 1 && isLocalArpFailure(this.pc, r.from)) {
          this.traceLine = '';
          this.out(`host (${ip4ToString(op.next)}) not reachable\n`);
          run.stop();
          return;
        }
        this.traceLine += `*${ip4ToString(r.from)}   ${ms(r.rttNs)} ms (ICMP type:${r.type}, code:${r.code}, ${vpcsIcmpText(r.type, r.code)})`;
        this.tracePrinted = true;
      }
      return;
    }
    if (!this.tracePrinted) {
      this.traceLine += `${ip4ToString(r.from)} `;
      this.tracePrinted = true;
    }
    this.traceLine += `  ${ms(r.rttNs)} ms`;
  }

  onHopDone(run: TraceRun): void {
    const op = this.op;
    if (op === null || op.kind !== 'trace' || op.run !== run || this.traceLine === '') return;
    this.out(`${this.traceLine}\n`);
    this.traceLine = '';
  }

  onTraceDone(run: TraceRun): void {
    const op = this.op;
    if (op === null || op.kind !== 'trace' || op.run !== run) return;
    if (run.sendError !== null && run.hop === 1 && this.traceLine === '') this.out('No gateway found\n');
    this.end();
  }

  // ---------------------------------------------------------------- show, set, clear

  private show(argv: string[]): 'done' {
    const what = argv[1];
    if (what === undefined || (what === 'ip' && argv[2] !== undefined && 'all'.startsWith(argv[2]))) {
      this.out(this.showAll());
      return 'done';
    }
    if ('arp'.startsWith(what)) {
      this.out(this.showArp());
      return 'done';
    }
    if ('ip'.startsWith(what)) {
      this.out(this.showIp());
      return 'done';
    }
    if ('history'.startsWith(what)) {
      this.out((this.host.historyLines?.() ?? []).map((l) => `${l}\n`).join(''));
      return 'done';
    }
    if ('version'.startsWith(what)) {
      this.out(VERSION);
      return 'done';
    }
    this.out(HELP_SHOW);
    return 'done';
  }

  private dnsList(): Ip4[] {
    return this.pc.nameservers().slice(0, 2);
  }

  showIp(): string {
    const pc = this.pc;
    const info = pc.showIp()[0]!;
    const dns = this.dnsList();
    let s = '\n';
    s += `NAME        : ${this.pcname}[1]\n`;
    s += `IP/MASK     : ${ip4ToString(info.ip)}/${info.prefix}\n`;
    s += `GATEWAY     : ${ip4ToString(info.gateway)}\n`;
    s += `DNS         : ${dns[0] !== undefined ? `${ip4ToString(dns[0])}  ` : ''}${dns[1] !== undefined ? ip4ToString(dns[1]) : ''}\n`;
    const lease = info.dhcp?.bound ? info.dhcp.lease : null;
    if (lease) s += `DHCP SERVER : ${ip4ToString(lease.serverId)}\n`;
    if (lease && lease.domainName) s += `DOMAIN NAME : ${lease.domainName}\n`;
    s += `MAC         : ${macToString(info.mac)}\n`;
    s += `MTU:        : ${info.ip === 0 ? 0 : info.mtu}\n`;
    return s;
  }

  private showAll(): string {
    const info = this.pc.showIp()[0]!;
    const dns = this.dnsList();
    const head = `${'NAME'.padEnd(7)}${'IP/MASK'.padEnd(21)}${'GATEWAY'.padEnd(18)}${'MAC'.padEnd(19)}DNS`;
    const row =
      this.pcname.padEnd(7) +
      `${ip4ToString(info.ip)}/${info.prefix}`.padEnd(21) +
      ip4ToString(info.gateway).padEnd(18) +
      `${macToString(info.mac)}  ` +
      dns.map(ip4ToString).join(' ');
    return `\n${head}\n${row}\n`;
  }

  private showArp(): string {
    const rows = this.pc.stack
      .arpTable()
      .filter((r) => r.mac >= 0 && r.ageNs < VPCS_ARP_SECONDS * 1e9)
      .map((r) => `${macToString(r.mac)}  ${ip4ToString(r.ip)} expires in ${VPCS_ARP_SECONDS - Math.floor(r.ageNs / 1e9)} seconds \n`);
    return `\n${rows.length ? rows.join('') : 'arp table is empty\n'}`;
  }

  private set(argv: string[]): 'done' {
    const what = argv[1];
    if (what === undefined || what === '?') {
      this.out(HELP_SET);
      return 'done';
    }
    if ('pcname'.startsWith(what)) {
      if (argv.length !== 3) {
        this.out('Incomplete command.\n');
        return 'done';
      }
      const name = argv[2]!;
      if (name.length > 63) this.out('Hostname is too long. (should be less than 63)\n');
      else if (!NODE_NAME_RE.test(name)) this.out('Invalid name: letters, digits, - and _ only\n');
      else this.pcname = name;
      return 'done';
    }
    this.out('Invalid command.\n');
    return 'done';
  }

  private clear(argv: string[]): 'done' {
    const what = argv[1];
    if (what === undefined || what === '?') {
      this.out('\nclear [arguments]\n  Clear IPv4 address, arp cache, command history\n  arguments:\n    ip             Clear IPv4 address, gateway, DNS and DHCP\n    arp            Clear arp cache\n    hist           Clear command history\n');
      return 'done';
    }
    const pc = this.pc;
    if (what === 'ip') {
      pc.releaseDhcp(this.ifName);
      pc.clearIp(this.ifName);
      pc.dnsServers = [];
      this.out('IPv4 address/mask, gateway, DNS, and DHCP cleared\n');
    } else if ('arp'.startsWith(what)) {
      for (const i of pc.stack.interfaces) i.arp.clear();
    } else if ('hist'.startsWith(what)) {
      // The terminal keeps the history; VPCS clears it silently.
    } else this.out('Invalid options\n');
    return 'done';
  }

  // ---------------------------------------------------------------- save

  /** The host's lab.yaml entry as the console has it configured now. */
  nodeSpec(): NodeSpec {
    const pc = this.pc;
    const file = this.env.runtime.lab.file.nodes?.[this.env.node];
    const base: HostNodeSpec = file && file.kind === 'host' ? structuredClone(file) : { kind: 'host' };
    const interfaces = { ...(base.interfaces ?? {}) };
    for (const info of pc.showIp()) {
      const prev = { ...(interfaces[info.iface] ?? {}) };
      delete prev.ip;
      delete prev.gateway;
      if (info.mode === 'dhcp') prev.ip = 'dhcp';
      else if (info.mode === 'static' && info.ip !== 0) {
        prev.ip = `${ip4ToString(info.ip)}/${info.prefix}`;
        if (info.gateway !== 0) prev.gateway = ip4ToString(info.gateway);
      }
      if (Object.keys(prev).length > 0) interfaces[info.iface] = prev;
      else delete interfaces[info.iface];
    }
    const spec: HostNodeSpec = { ...base };
    if (Object.keys(interfaces).length > 0) spec.interfaces = interfaces;
    else delete spec.interfaces;
    if (pc.dnsServers.length > 0) spec.dns = pc.dnsServers.map(ip4ToString);
    else delete spec.dns;
    return spec;
  }

  private save(argv: string[]): 'done' | 'busy' {
    if (argv.length > 1) {
      this.out('save writes this host into lab.yaml; it takes no file name\n');
      return 'done';
    }
    const env = this.env;
    if (!env.save) {
      this.out('Saving is not available on this console\n');
      return 'done';
    }
    const node = this.fileName ?? env.node;
    const request = { node, spec: this.nodeSpec(), warnings: [], ...(this.pcname !== node ? { rename: this.pcname } : {}) };
    let outcome: SaveOutcome | Promise<SaveOutcome>;
    try {
      outcome = env.save(request);
    } catch (e) {
      this.out(`Save failed: ${(e as Error).message}\n`);
      return 'done';
    }
    if (!(outcome instanceof Promise)) {
      this.saved(outcome, request.rename ?? node);
      return 'done';
    }
    this.op = { kind: 'save' };
    outcome.then(
      (o) => this.afterSave(o, request.rename ?? node),
      (e: unknown) => this.afterSave({ ok: false, error: (e as Error).message }, node),
    );
    return 'busy';
  }

  /** The node's key in lab.yaml once a save renamed it (the running lab keeps the old name until rebuilt). */
  private fileName: string | null = null;

  private afterSave(o: SaveOutcome, name: string): void {
    if (this.op?.kind !== 'save') return;
    this.saved(o, name);
    this.end();
  }

  private saved(o: SaveOutcome, name: string): void {
    if (o.ok) this.fileName = name;
    this.out(o.ok ? '.  done\n' : `Save failed: ${o.error}\n`);
  }

  // ---------------------------------------------------------------- running commands

  private end(): void {
    this.op = null;
    this.pending = null;
    this.host.finished();
  }

  interrupt(): void {
    const op = this.op;
    if (op === null) return;
    // Forget the operation first: the callbacks that stopping it triggers then find nothing to do.
    this.op = null;
    if (op.kind === 'ping' || op.kind === 'trace') {
      op.lookup?.cancel();
      op.run?.stop();
    } else if (op.kind === 'dhcp') {
      this.pc.engine.cancel(op.timer);
      this.pc.engine.cancel(op.giveUp);
    }
    this.end();
  }
}

function maskBits(mask: Ip4): number {
  for (let p = 0; p <= 32; p++) if (prefixToMask(p) === mask >>> 0) return p;
  return -1;
}

/** An unreachable from our own address: our ARP for the next hop gave up. */
function isLocalArpFailure(pc: Host, from: Ip4): boolean {
  return pc.stack.isLocalAddress(from);
}
