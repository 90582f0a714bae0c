/**
 * A small scripted scenario that puts one of every frame type wirelab's codecs speak on a wire:
 * Ethernet II, 802.1Q, stacked 802.1ad, 802.3/LLC (STP and RSTP BPDUs), ARP, IPv4 with options
 * and fragments, ICMP echo / unreachable / time exceeded, UDP, TCP with options, DHCP and DNS.
 * `npm start` prints it and the interop tests have tshark read its capture.
 */
import { Engine, Link, Port, Capture, type FrameSink, type CaptureFormat, type Impairments } from '../engine/index.js';
import {
  ARP_REPLY, ARP_REQUEST, BOOTREPLY, BOOTREQUEST, BPDU_TYPE, DHCP_BROADCAST_FLAG, DhcpMessageType, DhcpOpt, ETHERTYPE, IPPROTO,
  MAC_BROADCAST, PORT_ROLE, STP_VERSION, TCP_ACK, TCP_FIN, TCP_PSH, TCP_SYN, UNREACH, TIME_EXCEEDED,
  buildArpFrame, buildEthernetFrame, buildIpv4Packet, buildStpFrame, destinationUnreachable, dhcpClientIdFromMac,
  dhcpEncodingLength, echoReply, echoRequest, encodeDhcp, encodeDns, dnsEncodingLength, encodeTcp, encodeUdp, fragment,
  linuxTcpOptions, parseIp4, parseMac, tcpEncodingLength, timeExceeded, type DhcpOption, type Ip4, type Mac,
  type TcpEncodeInput, type VlanTag,
} from '../wire/index.js';

const ip = (s: string): Ip4 => parseIp4(s)!;
const mac = (s: string): Mac => parseMac(s)!;

const PC = { mac: mac('02:00:00:00:00:0a'), ip: ip('10.0.0.10') };
const GW = { mac: mac('02:00:00:00:00:01'), ip: ip('10.0.0.1') };
const FAR = ip('198.51.100.7');

function eth(dst: Mac, src: Mac, etherType: number, payload: Uint8Array, tags: VlanTag[] = []): Uint8Array {
  return buildEthernetFrame({ dst, src, tags, etherType }, payload);
}

function udpPacket(src: Ip4, dst: Ip4, sport: number, dport: number, payload: Uint8Array, ttl = 64, id = 0): Uint8Array {
  const udp = new Uint8Array(8 + payload.length);
  encodeUdp({ srcPort: sport, dstPort: dport, payload }, udp, 0, src, dst);
  return buildIpv4Packet({ src, dst, protocol: IPPROTO.UDP, ttl, id }, udp);
}

function tcpPacket(src: Ip4, dst: Ip4, seg: TcpEncodeInput, id: number): Uint8Array {
  const tcp = new Uint8Array(tcpEncodingLength(seg));
  encodeTcp(seg, tcp, 0, src, dst);
  return buildIpv4Packet({ src, dst, protocol: IPPROTO.TCP, id, df: true }, tcp);
}

function dhcp(op: number, type: number, xid: number, fields: { yiaddr?: Ip4; siaddr?: Ip4; flags?: number }, options: DhcpOption[]): Uint8Array {
  const all: DhcpOption[] = [{ code: DhcpOpt.MESSAGE_TYPE, data: Uint8Array.of(type) }, ...options];
  const msg = { op, xid, chaddr: PC.mac, options: all, ...fields };
  const out = new Uint8Array(dhcpEncodingLength(msg));
  encodeDhcp(msg, out, 0);
  return out;
}
const ipOpt = (code: number, ...ips: Ip4[]): DhcpOption => {
  const data = new Uint8Array(4 * ips.length);
  ips.forEach((v, i) => new DataView(data.buffer).setUint32(4 * i, v));
  return { code, data };
};
const u32Opt = (code: number, v: number): DhcpOption => {
  const data = new Uint8Array(4);
  new DataView(data.buffer).setUint32(0, v);
  return { code, data };
};

/** Frames in the order they are sent, each with the side that sends it (0 = pc, 1 = gateway). */
export function everyFrame(): { from: 0 | 1; frame: Uint8Array; what: string }[] {
  const out: { from: 0 | 1; frame: Uint8Array; what: string }[] = [];
  const add = (from: 0 | 1, what: string, frame: Uint8Array) => out.push({ from, frame, what });
  const lease = ip('10.0.0.10');

  // DHCP from 0.0.0.0 to broadcast, as a client without an address does.
  const xid = 0x3903f326;
  const prl: DhcpOption = { code: DhcpOpt.PARAMETER_REQUEST_LIST, data: Uint8Array.of(1, 3, 6, 15, 51, 58, 59) };
  const cid: DhcpOption = { code: DhcpOpt.CLIENT_ID, data: dhcpClientIdFromMac(PC.mac) };
  const host: DhcpOption = { code: DhcpOpt.HOSTNAME, data: new TextEncoder().encode('pc1') };
  const toBcast = (payload: Uint8Array, id: number) =>
    eth(MAC_BROADCAST, PC.mac, ETHERTYPE.IPV4, udpPacket(0, 0xffffffff, 68, 67, payload, 64, id));
  const fromServer = (payload: Uint8Array, id: number) =>
    eth(MAC_BROADCAST, GW.mac, ETHERTYPE.IPV4, udpPacket(GW.ip, 0xffffffff, 67, 68, payload, 64, id));
  const serverOpts = [ipOpt(DhcpOpt.SERVER_ID, GW.ip), u32Opt(DhcpOpt.LEASE_TIME, 3600), ipOpt(DhcpOpt.SUBNET_MASK, 0xffffff00), ipOpt(DhcpOpt.ROUTER, GW.ip), ipOpt(DhcpOpt.DNS, GW.ip)];
  add(0, 'DHCP Discover', toBcast(dhcp(BOOTREQUEST, DhcpMessageType.DISCOVER, xid, { flags: DHCP_BROADCAST_FLAG }, [cid, host, prl]), 1));
  add(1, 'DHCP Offer', fromServer(dhcp(BOOTREPLY, DhcpMessageType.OFFER, xid, { yiaddr: lease, siaddr: GW.ip, flags: DHCP_BROADCAST_FLAG }, serverOpts), 100));
  add(0, 'DHCP Request', toBcast(dhcp(BOOTREQUEST, DhcpMessageType.REQUEST, xid, { flags: DHCP_BROADCAST_FLAG }, [cid, ipOpt(DhcpOpt.REQUESTED_IP, lease), ipOpt(DhcpOpt.SERVER_ID, GW.ip), host, prl]), 2));
  add(1, 'DHCP ACK', fromServer(dhcp(BOOTREPLY, DhcpMessageType.ACK, xid, { yiaddr: lease, siaddr: GW.ip, flags: DHCP_BROADCAST_FLAG }, serverOpts), 101));

  // ARP for the gateway, answered.
  add(0, 'ARP request', buildArpFrame({ op: ARP_REQUEST, senderMac: PC.mac, senderIp: PC.ip, targetMac: 0, targetIp: GW.ip }));
  add(1, 'ARP reply', buildArpFrame({ op: ARP_REPLY, senderMac: GW.mac, senderIp: GW.ip, targetMac: PC.mac, targetIp: PC.ip }));

  // ICMP echo, untagged and on VLAN 10.
  const payload56 = new Uint8Array(56).map((_, i) => i);
  const echo = (from: 0 | 1, reply: boolean, seq: number, tags: VlanTag[] = []) => {
    const [s, d] = from === 0 ? [PC, GW] : [GW, PC];
    const icmp = reply ? echoReply(0x1234, seq, payload56) : echoRequest(0x1234, seq, payload56);
    return eth(d.mac, s.mac, ETHERTYPE.IPV4, buildIpv4Packet({ src: s.ip, dst: d.ip, protocol: IPPROTO.ICMP, id: 0x100 + seq, df: true }, icmp), tags);
  };
  add(0, 'ICMP echo request', echo(0, false, 1));
  add(1, 'ICMP echo reply', echo(1, true, 1));
  const vlan10: VlanTag[] = [{ tpid: ETHERTYPE.VLAN, pcp: 0, dei: 0, vid: 10 }];
  add(0, '802.1Q ICMP echo request', echo(0, false, 2, vlan10));
  add(1, '802.1Q ICMP echo reply', echo(1, true, 2, vlan10));
  // 802.1ad: service tag 100 outside, customer tag 10 inside.
  const qinq: VlanTag[] = [{ tpid: ETHERTYPE.QINQ, pcp: 0, dei: 0, vid: 100 }, ...vlan10];
  add(0, '802.1ad ICMP echo request', echo(0, false, 3, qinq));
  add(1, '802.1ad ICMP echo reply', echo(1, true, 3, qinq));

  // A 3000-byte echo in three fragments each way.
  const big = new Uint8Array(2972).map((_, i) => i & 0xff);
  for (const from of [0, 1] as const) {
    const [s, d] = from === 0 ? [PC, GW] : [GW, PC];
    const icmp = from === 0 ? echoRequest(0x1234, 4, big) : echoReply(0x1234, 4, big);
    const pkt = buildIpv4Packet({ src: s.ip, dst: d.ip, protocol: IPPROTO.ICMP, id: 0xc081 + from }, icmp);
    for (const f of fragment(pkt, 1500)) add(from, 'IPv4 fragment', eth(d.mac, s.mac, ETHERTYPE.IPV4, f));
  }

  // IPv4 with a Router Alert option (RFC 2113) carrying UDP.
  const udpRa = new Uint8Array(8 + 4);
  encodeUdp({ srcPort: 40000, dstPort: 7, payload: Uint8Array.of(1, 2, 3, 4) }, udpRa, 0, PC.ip, GW.ip);
  const withOptions = buildIpv4Packet({ src: PC.ip, dst: GW.ip, protocol: IPPROTO.UDP, id: 0x200, options: Uint8Array.of(0x94, 0x04, 0, 0) }, udpRa);
  add(0, 'IPv4 options + UDP', eth(GW.mac, PC.mac, ETHERTYPE.IPV4, withOptions));
  add(1, 'UDP echo', eth(PC.mac, GW.mac, ETHERTYPE.IPV4, udpPacket(GW.ip, PC.ip, 7, 40000, Uint8Array.of(1, 2, 3, 4), 64, 0x201)));

  // A traceroute probe that dies at the gateway, and one that finds a closed port.
  const probe1 = udpPacket(PC.ip, FAR, 50000, 33434, new Uint8Array(32), 1, 0x300);
  add(0, 'UDP probe TTL 1', eth(GW.mac, PC.mac, ETHERTYPE.IPV4, probe1));
  add(1, 'ICMP time exceeded', eth(PC.mac, GW.mac, ETHERTYPE.IPV4, buildIpv4Packet({ src: GW.ip, dst: PC.ip, protocol: IPPROTO.ICMP, id: 0x301 }, timeExceeded(TIME_EXCEEDED.TTL, probe1))));
  const probe2 = udpPacket(PC.ip, GW.ip, 50001, 33435, new Uint8Array(32), 2, 0x302);
  add(0, 'UDP probe', eth(GW.mac, PC.mac, ETHERTYPE.IPV4, probe2));
  add(1, 'ICMP port unreachable', eth(PC.mac, GW.mac, ETHERTYPE.IPV4, buildIpv4Packet({ src: GW.ip, dst: PC.ip, protocol: IPPROTO.ICMP, id: 0x303 }, destinationUnreachable(UNREACH.PORT, probe2))));

  // DNS query and answer.
  const query = { type: 'query' as const, id: 0x4242, flags: 1 << 8, questions: [{ type: 'A' as const, name: 'pc1.lab' }] };
  const q = new Uint8Array(dnsEncodingLength(query));
  encodeDns(query, q, 0);
  add(0, 'DNS query', eth(GW.mac, PC.mac, ETHERTYPE.IPV4, udpPacket(PC.ip, GW.ip, 53001, 53, q, 64, 0x400)));
  const answer = { type: 'response' as const, id: 0x4242, flags: (1 << 15) | (1 << 10) | (1 << 8) | (1 << 7), questions: query.questions, answers: [{ type: 'A' as const, name: 'pc1.lab', ttl: 300, data: '10.0.0.10' }] };
  const a = new Uint8Array(dnsEncodingLength(answer));
  encodeDns(answer, a, 0);
  add(1, 'DNS response', eth(PC.mac, GW.mac, ETHERTYPE.IPV4, udpPacket(GW.ip, PC.ip, 53, 53001, a, 64, 0x401)));

  // A TCP connection: handshake with Linux's options, one request and reply, FIN both ways.
  const cs = 0x1000, ss = 0x8000, cport = 45206, sport = 80;
  const c = (seg: Omit<TcpEncodeInput, 'srcPort' | 'dstPort'>, id: number) =>
    eth(GW.mac, PC.mac, ETHERTYPE.IPV4, tcpPacket(PC.ip, GW.ip, { srcPort: cport, dstPort: sport, ...seg }, id));
  const s = (seg: Omit<TcpEncodeInput, 'srcPort' | 'dstPort'>, id: number) =>
    eth(PC.mac, GW.mac, ETHERTYPE.IPV4, tcpPacket(GW.ip, PC.ip, { srcPort: sport, dstPort: cport, ...seg }, id));
  const ts = (value: number, echo: number) => linuxTcpOptions({ timestamp: { value, echo } });
  const req = new TextEncoder().encode('GET / HTTP/1.1\r\nHost: 10.0.0.1\r\n\r\n');
  const resp = new TextEncoder().encode('HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nhello');
  add(0, 'TCP SYN', c({ seq: cs, ack: 0, flags: TCP_SYN, window: 64240, options: linuxTcpOptions({ mss: 1460, sackPermitted: true, timestamp: { value: 1000, echo: 0 }, windowScale: 7 }) }, 0x500));
  add(1, 'TCP SYN-ACK', s({ seq: ss, ack: cs + 1, flags: TCP_SYN | TCP_ACK, window: 65160, options: linuxTcpOptions({ mss: 1460, sackPermitted: true, timestamp: { value: 5000, echo: 1000 }, windowScale: 7 }) }, 0x600));
  add(0, 'TCP ACK', c({ seq: cs + 1, ack: ss + 1, flags: TCP_ACK, window: 502, options: ts(1001, 5000) }, 0x501));
  add(0, 'TCP request', c({ seq: cs + 1, ack: ss + 1, flags: TCP_ACK | TCP_PSH, window: 502, options: ts(1002, 5000), payload: req }, 0x502));
  add(1, 'TCP response', s({ seq: ss + 1, ack: cs + 1 + req.length, flags: TCP_ACK | TCP_PSH, window: 509, options: ts(5001, 1002), payload: resp }, 0x601));
  add(1, 'TCP FIN', s({ seq: ss + 1 + resp.length, ack: cs + 1 + req.length, flags: TCP_ACK | TCP_FIN, window: 509, options: ts(5002, 1002) }, 0x602));
  add(0, 'TCP FIN', c({ seq: cs + 1 + req.length, ack: ss + 2 + resp.length, flags: TCP_ACK | TCP_FIN, window: 502, options: ts(1003, 5002) }, 0x503));
  add(1, 'TCP ACK', s({ seq: ss + 2 + resp.length, ack: cs + 2 + req.length, flags: TCP_ACK, window: 509, options: ts(5003, 1003) }, 0x603));

  // Spanning tree: an 802.1D configuration BPDU and an 802.1w RST BPDU.
  const bridge = { priority: 32768, mac: GW.mac };
  const flags = { tc: false, proposal: false, role: PORT_ROLE.DESIGNATED, learning: true, forwarding: true, agreement: false, tca: false };
  const times = { messageAge: 0, maxAge: 20, helloTime: 2, forwardDelay: 15 };
  add(1, 'STP config BPDU', buildStpFrame({ type: BPDU_TYPE.CONFIG, protocolId: 0, version: STP_VERSION.STP, flags: { ...flags, role: 0, learning: false, forwarding: false }, rootId: bridge, rootPathCost: 0, bridgeId: bridge, portId: 0x8001, ...times }, GW.mac));
  add(1, 'RSTP BPDU', buildStpFrame({ type: BPDU_TYPE.RST, protocolId: 0, version: STP_VERSION.RSTP, flags, rootId: bridge, rootPathCost: 0, bridgeId: bridge, portId: 0x8001, ...times }, GW.mac));
  return out;
}

class Recorder implements FrameSink {
  received = 0;
  onFrame(): void {
    this.received++;
  }
}

export interface EveryFrameRun {
  engine: Engine;
  sent: number;
  received: number;
  captured: number;
}

/**
 * Sends every frame of `everyFrame()` across one link, 1 ms apart, with a capture on the link.
 * With the same seed and impairments the capture is byte-identical.
 */
export function runEveryFrame(opts: { seed?: number; impairments?: Impairments; format?: CaptureFormat; sink: (chunk: Uint8Array) => void; onSend?: (what: string, frame: Uint8Array, t: number) => void }): EveryFrameRun {
  const engine = new Engine({ mode: 'virtual', seed: opts.seed ?? 1 });
  const ends = [new Recorder(), new Recorder()];
  const ports = [new Port(ends[0]!, 'eth0'), new Port(ends[1]!, 'g0/0')];
  const link = new Link(engine, 'pc1:eth0<->r1:g0/0', ports[0]!, ports[1]!, { delayNs: 50_000, ...opts.impairments });
  const capture = new Capture(engine, { format: opts.format ?? 'pcapng', sink: opts.sink });
  capture.attachLink(link);
  const frames = everyFrame();
  for (const { from, frame, what } of frames) {
    opts.onSend?.(what, frame, engine.now);
    ports[from]!.send(frame);
    engine.runFor(1_000_000);
  }
  engine.runUntilIdle();
  capture.close();
  return { engine, sent: frames.length, received: ends[0]!.received + ends[1]!.received, captured: capture.frames };
}
