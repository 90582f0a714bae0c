/** Services a host can run: UDP echo (RFC 862) and a small authoritative DNS server. */
import { type Ip4, ip4ToString } from '../wire/bytes.js';
import {
  DNS_FLAG_AA,
  DNS_FLAG_RD,
  DNS_RCODE_FORMERR,
  DNS_RCODE_NOTIMP,
  DNS_RCODE_NXDOMAIN,
  type DnsAnswer,
  type DnsPacket,
  decodeDns,
  dnsEncodingLength,
  encodeDns,
} from '../wire/dns.js';
import { DecodeError } from '../wire/errors.js';
import type { IpStack } from '../stack/stack.js';
import type { UdpOwner, UdpSocket } from '../stack/sockets.js';
import type { RxInfo } from '../stack/types.js';

/** RFC 862 over UDP: every datagram goes back to where it came from. */
export class UdpEchoService implements UdpOwner {
  readonly socket: UdpSocket;
  echoed = 0;

  constructor(stack: IpStack, readonly port = 7) {
    this.socket = stack.udp.bind(this, port);
  }

  onDatagram(socket: UdpSocket, srcIp: Ip4, srcPort: number, payload: Uint8Array, info: RxInfo): void {
    // Answer from the address the datagram was sent to, and never to a broadcast (no amplification).
    if (info.broadcast) return;
    this.echoed++;
    socket.sendTo(srcIp, srcPort, payload.slice(), { srcIp: info.dstIp });
  }

  close(): void {
    this.socket.close();
  }
}

/**
 * An authoritative server for a static table of A records: NOERROR with the addresses, NOERROR
 * and no answer for another type of a known name, NXDOMAIN for an unknown name, NOTIMP for
 * anything but a standard query. No recursion (RA clear).
 */
export class DnsService implements UdpOwner {
  readonly socket: UdpSocket;
  readonly records = new Map<string, Ip4[]>();
  /** TTL of the answers, seconds. */
  ttl = 300;
  answered = 0;

  constructor(stack: IpStack, records: ReadonlyMap<string, readonly Ip4[]>, readonly port = 53) {
    for (const [name, ips] of records) this.records.set(normalise(name), [...ips]);
    this.socket = stack.udp.bind(this, port);
  }

  onDatagram(socket: UdpSocket, srcIp: Ip4, srcPort: number, payload: Uint8Array, info: RxInfo): void {
    let q;
    try {
      q = decodeDns(payload);
    } catch (e) {
      if (e instanceof DecodeError) return;
      throw e;
    }
    if (q.type !== 'query') return;
    const flags = ((q.flags ?? 0) & DNS_FLAG_RD) | DNS_FLAG_AA;
    const questions = q.questions ?? [];
    const reply: DnsPacket = { type: 'response', id: q.id ?? 0, flags, questions, answers: [] };
    if (q.opcode !== 'QUERY') reply.flags = flags | DNS_RCODE_NOTIMP;
    else if (questions.length !== 1) reply.flags = flags | DNS_RCODE_FORMERR;
    else {
      const question = questions[0]!;
      const ips = this.records.get(normalise(question.name));
      if (ips === undefined) reply.flags = flags | DNS_RCODE_NXDOMAIN;
      else if (question.type === 'A' || (question.type as string) === 'ANY') {
        reply.answers = ips.map((ip): DnsAnswer => ({ type: 'A', class: 'IN', name: question.name, ttl: this.ttl, data: ip4ToString(ip) }));
      }
    }
    const buf = new Uint8Array(dnsEncodingLength(reply));
    encodeDns(reply, buf, 0);
    this.answered++;
    socket.sendTo(srcIp, srcPort, buf, info.broadcast ? {} : { srcIp: info.dstIp });
  }

  close(): void {
    this.socket.close();
  }
}

function normalise(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}
