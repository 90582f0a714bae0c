/**
 * Trace records as the trace keeps them: one flat object per frame. What the display filter
 * reads (protocols as bits, addresses as numbers, ports) is taken out of the decoded layers
 * once, when the record arrives, and the layers themselves are kept as their JSON text until
 * someone opens the frame. Tens of thousands of records then cost the garbage collector one
 * object each instead of fifteen, which keeps its pauses short while frames pour in.
 */
import { parseIp4 } from '../../../devices/wire/bytes.js';
import type { Layer, TraceRecord } from '../../../contract/index.js';

export const P = {
  eth: 1,
  vlan: 2,
  llc: 4,
  stp: 8,
  arp: 16,
  ip: 32,
  icmp: 64,
  udp: 128,
  tcp: 256,
  dhcp: 512,
  dns: 1024,
  malformed: 2048,
  /** 802.1ad service tags (Q-in-Q), which Wireshark names ieee8021ad, apart from 802.1Q's vlan. */
  qinq: 4096,
} as const;

const LAYER_BITS: Record<string, number> = {
  'Ethernet II': P.eth,
  'IEEE 802.3 Ethernet': P.eth,
  '802.1Q': P.vlan,
  '802.1ad': P.qinq,
  LLC: P.llc,
  'Spanning Tree Protocol': P.stp,
  ARP: P.arp,
  IPv4: P.ip,
  ICMP: P.icmp,
  UDP: P.udp,
  TCP: P.tcp,
  DHCP: P.dhcp,
  DNS: P.dns,
  Malformed: P.malformed,
};

export interface StoredRecord {
  time: number;
  link: string;
  from: string;
  to: string;
  length: number;
  protocol: string;
  src: string;
  dst: string;
  info: string;
  raw: string | undefined;
  /** The decoded layers as JSON text (see `layersOf`). */
  layersJson: string;
  /** Protocols present, as P bits. */
  protocols: number;
  ethSrc: string;
  ethDst: string;
  /** IPv4 addresses as numbers, -1 when absent. */
  ipSrc: number;
  ipDst: number;
  ipTtl: number;
  ipProto: number;
  arpSrc: number;
  arpDst: number;
  udpSrc: number;
  udpDst: number;
  tcpSrc: number;
  tcpDst: number;
  icmpType: number;
  /** The 802.1Q VLANs (outer and inner when stacked), -1 when absent. */
  vlan: number;
  vlanInner: number;
  /** The 802.1ad service VLAN, -1 when absent. */
  serviceVlan: number;
}

/** A decoded address field as a number; -1 when there is none. */
export function parseIpv4(s: unknown): number {
  return typeof s === 'string' ? (parseIp4(s) ?? -1) : -1;
}

const num = (v: unknown): number => (typeof v === 'number' ? v : typeof v === 'string' && v !== '' && !Number.isNaN(Number(v)) ? Number(v) : -1);

export function storeRecord(r: TraceRecord): StoredRecord {
  const s: StoredRecord = {
    time: r.time,
    link: r.link,
    from: r.from,
    to: r.to,
    length: r.length,
    protocol: r.protocol,
    src: r.src,
    dst: r.dst,
    info: r.info,
    raw: r.raw,
    layersJson: JSON.stringify(r.layers),
    protocols: 0,
    ethSrc: '',
    ethDst: '',
    ipSrc: -1,
    ipDst: -1,
    ipTtl: -1,
    ipProto: -1,
    arpSrc: -1,
    arpDst: -1,
    udpSrc: -1,
    udpDst: -1,
    tcpSrc: -1,
    tcpDst: -1,
    icmpType: -1,
    vlan: -1,
    vlanInner: -1,
    serviceVlan: -1,
  };
  for (const l of r.layers) {
    const bit = LAYER_BITS[l.name] ?? 0;
    s.protocols |= bit;
    const f = l.fields;
    switch (bit) {
      case P.eth:
        s.ethSrc = String(f['src'] ?? '').toLowerCase();
        s.ethDst = String(f['dst'] ?? '').toLowerCase();
        break;
      case P.vlan:
        if (s.vlan < 0) s.vlan = num(f['vid']);
        else if (s.vlanInner < 0) s.vlanInner = num(f['vid']);
        break;
      case P.qinq:
        if (s.serviceVlan < 0) s.serviceVlan = num(f['vid']);
        break;
      case P.arp:
        s.arpSrc = parseIpv4(f['senderIp']);
        s.arpDst = parseIpv4(f['targetIp']);
        break;
      case P.ip:
        s.ipSrc = parseIpv4(f['src']);
        s.ipDst = parseIpv4(f['dst']);
        s.ipTtl = num(f['ttl']);
        s.ipProto = num(f['protocol']);
        break;
      case P.icmp:
        s.icmpType = num(f['type']);
        break;
      case P.udp:
        s.udpSrc = num(f['srcPort']);
        s.udpDst = num(f['dstPort']);
        break;
      case P.tcp:
        s.tcpSrc = num(f['srcPort']);
        s.tcpDst = num(f['dstPort']);
        break;
    }
  }
  return s;
}

export function layersOf(r: StoredRecord): Layer[] {
  return JSON.parse(r.layersJson) as Layer[];
}
