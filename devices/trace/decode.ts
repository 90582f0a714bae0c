/**
 * Frames as people read them: the protocol stack as named layers with fields, and a one-line
 * summary in the manner of Wireshark's Info column. Used by packet traces, the demo and the
 * CLI. Never throws: what cannot be decoded becomes a "Malformed" layer.
 */
import {
  ARP_REQUEST, BPDU_TYPE, DecodeError, ETHERTYPE, ICMP_TYPE, IPPROTO, TCP_SYN,
  decodeArp, decodeBpdu, decodeDhcp, decodeDns, decodeEthernet, decodeIcmp, decodeIpv4, decodeTcp, decodeUdp,
  dhcpMessageTypeName, ip4ToString, macToString, readDhcpFields, tcpFlagNames, tcpOption, type Ip4,
} from '../wire/index.js';

export interface Layer {
  name: string;
  fields: Record<string, string | number>;
}

export interface DecodedFrame {
  /** Highest protocol recognised, as Wireshark's Protocol column names it. */
  protocol: string;
  src: string;
  dst: string;
  length: number;
  info: string;
  layers: Layer[];
  /** Addresses and ports, for filters. */
  ipSrc?: Ip4;
  ipDst?: Ip4;
  srcPort?: number;
  dstPort?: number;
  vlan?: number;
}

const ICMP_NAMES: Record<number, string> = {
  0: 'Echo (ping) reply',
  3: 'Destination unreachable',
  8: 'Echo (ping) request',
  11: 'Time-to-live exceeded',
};
const UNREACH_NAMES: Record<number, string> = {
  0: 'Network unreachable',
  1: 'Host unreachable',
  2: 'Protocol unreachable',
  3: 'Port unreachable',
  4: 'Fragmentation needed',
  13: 'Communication administratively filtered',
};
const PROTO_NAMES: Record<number, string> = { 1: 'ICMP', 6: 'TCP', 17: 'UDP' };

const hex = (n: number, width: number) => '0x' + n.toString(16).padStart(width, '0');

/** Priority / system id extension / MAC, as Wireshark writes a bridge id. */
function bridgeIdText(priority: number, mac: number): string {
  return `${priority & 0xf000}/${priority & 0x0fff}/${macToString(mac)}`;
}

export function decodeFrame(frame: Uint8Array): DecodedFrame {
  const d: DecodedFrame = { protocol: 'Ethernet', src: '', dst: '', length: frame.length, info: '', layers: [] };
  try {
    decodeInto(frame, d);
  } catch (e) {
    const message = e instanceof DecodeError ? e.message : String(e);
    d.layers.push({ name: 'Malformed', fields: { error: message } });
    d.info = `[Malformed: ${message}]${d.info ? ' ' + d.info : ''}`;
  }
  return d;
}

function decodeInto(frame: Uint8Array, d: DecodedFrame): void {
  const eth = decodeEthernet(frame, 0);
  d.src = macToString(eth.src);
  d.dst = macToString(eth.dst);
  d.layers.push({ name: eth.llc ? 'IEEE 802.3 Ethernet' : 'Ethernet II', fields: { dst: d.dst, src: d.src, type: eth.llc ? `length ${eth.etherType}` : hex(eth.etherType, 4) } });
  for (const t of eth.tags) {
    d.layers.push({ name: t.tpid === ETHERTYPE.QINQ ? '802.1ad' : '802.1Q', fields: { vid: t.vid, pcp: t.pcp, dei: t.dei } });
    d.vlan ??= t.vid;
  }
  if (eth.llc) {
    d.layers.push({ name: 'LLC', fields: { dsap: hex(eth.llc.dsap, 2), ssap: hex(eth.llc.ssap, 2), control: hex(eth.llc.control, 2) } });
    if (eth.llc.dsap === 0x42) {
      const b = decodeBpdu(frame, eth.payloadOffset, eth.payloadLength);
      d.protocol = 'STP';
      if (b.type === BPDU_TYPE.TCN) {
        d.info = 'Topology Change Notification';
        d.layers.push({ name: 'Spanning Tree Protocol', fields: { type: 'TCN' } });
      } else {
        const root = bridgeIdText(b.rootId.priority, b.rootId.mac);
        d.info = `${b.type === BPDU_TYPE.RST ? 'RST' : 'Conf'}. Root = ${root}  Cost = ${b.rootPathCost}  Port = ${hex(b.portId, 4)}`;
        d.layers.push({ name: 'Spanning Tree Protocol', fields: { version: b.version, root, cost: b.rootPathCost, bridge: bridgeIdText(b.bridgeId.priority, b.bridgeId.mac), port: hex(b.portId, 4), tc: String(b.flags.tc) } });
      }
    } else {
      d.protocol = 'LLC';
      d.info = `DSAP ${hex(eth.llc.dsap, 2)} SSAP ${hex(eth.llc.ssap, 2)}`;
    }
    return;
  }
  const off = eth.payloadOffset;
  if (eth.etherType === ETHERTYPE.ARP) {
    const a = decodeArp(frame, off);
    d.protocol = 'ARP';
    d.ipSrc = a.senderIp;
    d.ipDst = a.targetIp;
    d.info = a.op === ARP_REQUEST ? `Who has ${ip4ToString(a.targetIp)}? Tell ${ip4ToString(a.senderIp)}` : `${ip4ToString(a.senderIp)} is at ${macToString(a.senderMac)}`;
    d.layers.push({ name: 'ARP', fields: { op: a.op === ARP_REQUEST ? 'request' : 'reply', senderMac: macToString(a.senderMac), senderIp: ip4ToString(a.senderIp), targetMac: macToString(a.targetMac), targetIp: ip4ToString(a.targetIp) } });
    return;
  }
  if (eth.etherType !== ETHERTYPE.IPV4) {
    d.info = `Ethertype ${hex(eth.etherType, 4)}`;
    return;
  }
  const ip = decodeIpv4(frame, off);
  d.protocol = 'IPv4';
  d.ipSrc = ip.src;
  d.ipDst = ip.dst;
  d.src = ip4ToString(ip.src);
  d.dst = ip4ToString(ip.dst);
  d.layers.push({ name: 'IPv4', fields: { src: d.src, dst: d.dst, ttl: ip.ttl, protocol: ip.protocol, id: hex(ip.id, 4), length: ip.totalLength, flags: (ip.df ? 'DF ' : '') + (ip.mf ? 'MF' : ''), fragmentOffset: ip.fragmentOffset, checksum: ip.checksumOk ? 'ok' : 'BAD' } });
  if (ip.mf || ip.fragmentOffset > 0) {
    d.info = `Fragmented IP protocol (proto=${PROTO_NAMES[ip.protocol] ?? ip.protocol} ${ip.protocol}, off=${ip.fragmentOffset}, ID=${ip.id.toString(16)})`;
    return;
  }
  const po = ip.payloadOffset;
  const plen = ip.payloadLength;
  if (ip.protocol === IPPROTO.ICMP) {
    const m = decodeIcmp(frame, po, plen);
    d.protocol = 'ICMP';
    let info = ICMP_NAMES[m.type] ?? `Type ${m.type}`;
    if (m.type === ICMP_TYPE.DEST_UNREACHABLE) info += ` (${UNREACH_NAMES[m.code] ?? `code ${m.code}`})`;
    if (m.type === ICMP_TYPE.ECHO_REQUEST || m.type === ICMP_TYPE.ECHO_REPLY) info += `  id=${hex(m.id ?? 0, 4)}, seq=${m.seq}, ttl=${ip.ttl}`;
    d.info = info;
    d.layers.push({ name: 'ICMP', fields: { type: m.type, code: m.code, ...(m.id !== undefined ? { id: m.id, seq: m.seq ?? 0 } : {}), checksum: m.checksumOk ? 'ok' : 'BAD' } });
    return;
  }
  if (ip.protocol === IPPROTO.UDP) {
    const u = decodeUdp(frame, po, plen);
    d.protocol = 'UDP';
    d.srcPort = u.srcPort;
    d.dstPort = u.dstPort;
    d.info = `${u.srcPort} → ${u.dstPort} Len=${u.payloadLength}`;
    d.layers.push({ name: 'UDP', fields: { srcPort: u.srcPort, dstPort: u.dstPort, length: u.length } });
    const ports = [u.srcPort, u.dstPort];
    if (ports.includes(67) || ports.includes(68)) {
      const m = decodeDhcp(frame, u.payloadOffset, u.payloadLength);
      const f = readDhcpFields(m.options);
      const type = f.messageType ? dhcpMessageTypeName(f.messageType) : 'BOOTP';
      const name = type === 'ACK' || type === 'NAK' ? type : type.charAt(0) + type.slice(1).toLowerCase();
      d.protocol = 'DHCP';
      d.info = `DHCP ${name} - Transaction ID ${hex(m.xid, 8)}`;
      d.layers.push({ name: 'DHCP', fields: { type, xid: hex(m.xid, 8), client: macToString(m.chaddr), ciaddr: ip4ToString(m.ciaddr), yiaddr: ip4ToString(m.yiaddr), giaddr: ip4ToString(m.giaddr), ...(f.requestedIp !== undefined ? { requested: ip4ToString(f.requestedIp) } : {}), ...(f.serverId !== undefined ? { server: ip4ToString(f.serverId) } : {}), ...(f.leaseTime !== undefined ? { lease: f.leaseTime } : {}) } });
    } else if (ports.includes(53)) {
      const m = decodeDns(frame, u.payloadOffset, u.payloadLength);
      const q = m.questions?.[0];
      const qs = q ? `${q.type} ${q.name}` : '';
      d.protocol = 'DNS';
      if (m.type === 'response') {
        const ans = (m.answers ?? []).map((a) => `${a.type} ${'data' in a && typeof a.data === 'string' ? a.data : ''}`.trim()).join(' ');
        d.info = `Standard query response ${hex(m.id ?? 0, 4)} ${m.rcode !== 'NOERROR' ? m.rcode.toLowerCase().replace('nxdomain', 'No such name') + ' ' : ''}${qs}${ans ? ' ' + ans : ''}`;
      } else d.info = `Standard query ${hex(m.id ?? 0, 4)} ${qs}`;
      d.layers.push({ name: 'DNS', fields: { id: hex(m.id ?? 0, 4), type: m.type ?? 'query', rcode: m.rcode, question: qs, answers: (m.answers ?? []).length } });
    }
    return;
  }
  if (ip.protocol === IPPROTO.TCP) {
    const t = decodeTcp(frame, po, plen);
    d.protocol = 'TCP';
    d.srcPort = t.srcPort;
    d.dstPort = t.dstPort;
    let info = `${t.srcPort} → ${t.dstPort} [${tcpFlagNames(t.flags)}] Seq=${t.seq} ${t.flags & 0x10 ? `Ack=${t.ack} ` : ''}Win=${t.window} Len=${t.payloadLength}`;
    const mss = tcpOption(t.options, 'mss');
    if (mss && t.flags & TCP_SYN) info += ` MSS=${mss.mss}`;
    const ws = tcpOption(t.options, 'wscale');
    if (ws) info += ` WS=${2 ** ws.shift}`;
    if (tcpOption(t.options, 'sackPermitted')) info += ' SACK_PERM';
    d.info = info;
    d.layers.push({ name: 'TCP', fields: { srcPort: t.srcPort, dstPort: t.dstPort, seq: t.seq, ack: t.ack, flags: tcpFlagNames(t.flags), window: t.window, length: t.payloadLength } });
    return;
  }
  d.info = `IP protocol ${ip.protocol}`;
}
