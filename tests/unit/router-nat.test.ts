import { describe, expect, it } from 'vitest';
import { NAT_DROP, NAT_PASS, NAT_TRANSLATED, Nat, TupleIndex } from '../../devices/router/nat.js';
import { parseIp4, u16, type Ip4 } from '../../devices/wire/bytes.js';
import { ICMP_TYPE, decodeIcmp, decodeQuotedIpv4, echoReply, echoRequest, icmpError, timeExceeded } from '../../devices/wire/icmp.js';
import { buildIpv4Packet, decodeIpv4, ipv4ChecksumOk } from '../../devices/wire/ipv4.js';
import { encodeTcp, tcpChecksumOk, TCP_ACK, TCP_FIN, TCP_SYN } from '../../devices/wire/tcp.js';
import { encodeUdp, udpChecksumOk } from '../../devices/wire/udp.js';

const ip = (s: string): Ip4 => parseIp4(s)!;
const S = 1e9;
const OUT = ip('203.0.113.2');
const SERVER = ip('198.51.100.7');
const H1 = ip('10.1.0.10');
const H2 = ip('10.1.0.11');

function udp(src: Ip4, dst: Ip4, sport: number, dport: number, data = 'hello'): Uint8Array {
  const payload = new TextEncoder().encode(data);
  const seg = new Uint8Array(8 + payload.length);
  encodeUdp({ srcPort: sport, dstPort: dport, payload }, seg, 0, src, dst);
  return buildIpv4Packet({ src, dst, protocol: 17, ttl: 63, id: 7 }, seg);
}
function tcp(src: Ip4, dst: Ip4, sport: number, dport: number, flags: number): Uint8Array {
  const seg = new Uint8Array(20);
  encodeTcp({ srcPort: sport, dstPort: dport, seq: 1000, ack: 0, flags, window: 65535 }, seg, 0, src, dst);
  return buildIpv4Packet({ src, dst, protocol: 6 }, seg);
}
function ping(src: Ip4, dst: Ip4, id: number, seq = 1, reply = false): Uint8Array {
  const body = reply ? echoReply(id, seq, new Uint8Array(16).fill(0x61)) : echoRequest(id, seq, new Uint8Array(16).fill(0x61));
  return buildIpv4Packet({ src, dst, protocol: 1 }, body);
}

function udpOk(p: Uint8Array): boolean {
  const h = decodeIpv4(p);
  return h.checksumOk && udpChecksumOk(p, h.payloadOffset, h.payloadLength, h.src, h.dst);
}
function ports(p: Uint8Array): [number, number] {
  const h = decodeIpv4(p);
  return [u16(p, h.payloadOffset), u16(p, h.payloadOffset + 2)];
}

describe('NAT overload (PAT)', () => {
  it('maps two inside hosts onto the outside address and sends replies back to the right one', () => {
    const nat = new Nat({ overloadAddress: OUT });
    const a = udp(H1, SERVER, 5000, 53);
    const b = udp(H2, SERVER, 5000, 53);
    expect(nat.translateOutbound(a, 0, 0)).toBe(NAT_TRANSLATED);
    expect(nat.translateOutbound(b, 0, 0)).toBe(NAT_TRANSLATED);
    expect(decodeIpv4(a).src).toBe(OUT);
    expect(decodeIpv4(b).src).toBe(OUT);
    expect(udpOk(a) && udpOk(b)).toBe(true);
    const pa = ports(a)[0];
    const pb = ports(b)[0];
    expect(pa).toBe(5000); // the first keeps its port
    expect(pb).not.toBe(5000);
    expect(pb).toBeGreaterThanOrEqual(1024);
    // The outside host answers each.
    const ra = udp(SERVER, OUT, 53, pa, 'answer-a');
    const rb = udp(SERVER, OUT, 53, pb, 'answer-b');
    expect(nat.translateInbound(ra, 0, 1 * S)).toBe(NAT_TRANSLATED);
    expect(nat.translateInbound(rb, 0, 1 * S)).toBe(NAT_TRANSLATED);
    expect([decodeIpv4(ra).dst, ports(ra)[1]]).toEqual([H1, 5000]);
    expect([decodeIpv4(rb).dst, ports(rb)[1]]).toEqual([H2, 5000]);
    expect(udpOk(ra) && udpOk(rb)).toBe(true);
    expect(nat.translations(1 * S).map((t) => [t.proto, t.insideGlobal, t.insideLocal, t.outsideLocal, t.outsideGlobal])).toEqual([
      ['udp', `203.0.113.2:5000`, '10.1.0.10:5000', '198.51.100.7:53', '198.51.100.7:53'],
      ['udp', `203.0.113.2:${pb}`, '10.1.0.11:5000', '198.51.100.7:53', '198.51.100.7:53'],
    ]);
  });

  it('lets only the contacted outside endpoint in, and passes what is not for a session', () => {
    const nat = new Nat({ overloadAddress: OUT });
    nat.translateOutbound(udp(H1, SERVER, 5000, 53), 0, 0);
    const stranger = udp(ip('192.0.2.9'), OUT, 53, 5000);
    expect(nat.translateInbound(stranger, 0, 0)).toBe(NAT_PASS);
    expect(decodeIpv4(stranger).dst).toBe(OUT);
    const otherPort = udp(SERVER, OUT, 54, 5000);
    expect(nat.translateInbound(otherPort, 0, 0)).toBe(NAT_PASS);
  });

  it('translates ICMP echo identifiers, keeping pings of two hosts with one id apart', () => {
    const nat = new Nat({ overloadAddress: OUT });
    const a = ping(H1, SERVER, 1);
    const b = ping(H2, SERVER, 1);
    nat.translateOutbound(a, 0, 0);
    nat.translateOutbound(b, 0, 0);
    const ia = decodeIcmp(a, 20, a.length - 20);
    const ib = decodeIcmp(b, 20, b.length - 20);
    expect(ia.checksumOk && ib.checksumOk && ipv4ChecksumOk(a, 0) && ipv4ChecksumOk(b, 0)).toBe(true);
    expect(ia.id).toBe(1);
    expect(ib.id).not.toBe(1);
    const rb = ping(SERVER, OUT, ib.id!, 1, true);
    expect(nat.translateInbound(rb, 0, 0)).toBe(NAT_TRANSLATED);
    const back = decodeIcmp(rb, 20, rb.length - 20);
    expect(decodeIpv4(rb).dst).toBe(H2);
    expect(back.id).toBe(1);
    expect(back.checksumOk).toBe(true);
    expect(nat.translations(0).map((t) => t.proto)).toEqual(['icmp', 'icmp']);
  });

  it('translates TCP with valid checksums and keeps established sessions for 24 h, closing ones for 4 min', () => {
    const nat = new Nat({ overloadAddress: OUT });
    const syn = tcp(H1, SERVER, 40000, 80, TCP_SYN);
    nat.translateOutbound(syn, 0, 0);
    const h = decodeIpv4(syn);
    expect(h.src).toBe(OUT);
    expect(tcpChecksumOk(syn, 20, syn.length - 20, h.src, h.dst)).toBe(true);
    expect(nat.translations(0)[0]!.expiresInS).toBe(240);
    const synAck = tcp(SERVER, OUT, 80, 40000, TCP_SYN | TCP_ACK);
    expect(nat.translateInbound(synAck, 0, 1 * S)).toBe(NAT_TRANSLATED);
    expect(tcpChecksumOk(synAck, 20, synAck.length - 20, H1, SERVER)).toBe(true);
    expect(nat.translations(1 * S)[0]!.expiresInS).toBe(86_400);
    nat.translateOutbound(tcp(H1, SERVER, 40000, 80, TCP_FIN | TCP_ACK), 0, 2 * S);
    expect(nat.translations(2 * S)[0]!.expiresInS).toBe(240);
  });

  it('translates ICMP errors from outside using the quoted header, so traceroute through NAT works', () => {
    const nat = new Nat({ overloadAddress: OUT });
    const h2probe = udp(H2, SERVER, 33434, 33434);
    nat.translateOutbound(udp(H1, SERVER, 33434, 33434), 0, 0); // takes the port first
    nat.translateOutbound(h2probe, 0, 0);
    const globalPort = ports(h2probe)[0];
    // A router beyond the NAT quotes the whole translated probe (RFC 1812), TTL expired.
    const hop = ip('203.0.113.1');
    const err = buildIpv4Packet({ src: hop, dst: OUT, protocol: 1 }, timeExceeded(0, h2probe, { maxQuote: 548 }));
    expect(nat.translateInbound(err, 0, 0)).toBe(NAT_TRANSLATED);
    const outer = decodeIpv4(err);
    expect(outer.checksumOk).toBe(true);
    expect(outer.dst).toBe(H2);
    expect(outer.src).toBe(hop);
    const icmp = decodeIcmp(err, 20, err.length - 20);
    expect(icmp.type).toBe(ICMP_TYPE.TIME_EXCEEDED);
    expect(icmp.checksumOk).toBe(true);
    const q = decodeQuotedIpv4(icmp.payload, 0);
    expect([q.src, q.dst]).toEqual([H2, SERVER]);
    expect(u16(icmp.payload, q.transportOffset)).toBe(33434);
    expect(globalPort).not.toBe(33434);
    // The whole quote is there, so its UDP checksum must still be right, and its IP header's.
    expect(ipv4ChecksumOk(icmp.payload, 0)).toBe(true);
    expect(udpChecksumOk(icmp.payload, q.transportOffset, q.transportLength, H2, SERVER)).toBe(true);
  });

  it('translates an ICMP error quoting a ping, and port unreachable with the short quote', () => {
    const nat = new Nat({ overloadAddress: OUT });
    const p = ping(H1, SERVER, 9);
    nat.translateOutbound(p, 0, 0);
    const err = buildIpv4Packet({ src: SERVER, dst: OUT, protocol: 1 }, icmpError(3, 1, p));
    expect(nat.translateInbound(err, 0, 0)).toBe(NAT_TRANSLATED);
    expect(decodeIpv4(err).dst).toBe(H1);
    expect(decodeIcmp(err, 20, err.length - 20).checksumOk).toBe(true);
    const q = decodeQuotedIpv4(err, 28);
    expect(q.src).toBe(H1);
    expect(u16(err, q.transportOffset + 4)).toBe(9);
  });

  it('expires idle sessions: replies after the timeout are not let in', () => {
    const nat = new Nat({ overloadAddress: OUT, timeouts: { udpS: 300 } });
    nat.translateOutbound(udp(H1, SERVER, 5000, 53), 0, 0);
    nat.translateOutbound(ping(H1, SERVER, 3), 0, 0);
    expect(nat.size).toBe(2);
    expect(nat.nextExpiryNs()).toBe(60 * S);
    expect(nat.expire(60 * S)).toBe(1);
    expect(nat.translations(60 * S).map((t) => t.proto)).toEqual(['udp']);
    // Traffic keeps it alive.
    nat.translateInbound(udp(SERVER, OUT, 53, 5000), 0, 200 * S);
    expect(nat.expire(400 * S)).toBe(0);
    expect(nat.translateInbound(udp(SERVER, OUT, 53, 5000), 0, 501 * S)).toBe(NAT_PASS);
    expect(nat.size).toBe(0);
    expect(nat.stats.expired).toBe(2);
  });

  it('drops new flows beyond the table bound and counts them', () => {
    const nat = new Nat({ overloadAddress: OUT, maxEntries: 2 });
    expect(nat.translateOutbound(udp(H1, SERVER, 1, 53), 0, 0)).toBe(NAT_TRANSLATED);
    expect(nat.translateOutbound(udp(H1, SERVER, 2, 53), 0, 0)).toBe(NAT_TRANSLATED);
    expect(nat.translateOutbound(udp(H1, SERVER, 3, 53), 0, 0)).toBe(NAT_DROP);
    expect(nat.stats.dropsFull).toBe(1);
    // Existing flows still go.
    expect(nat.translateOutbound(udp(H1, SERVER, 1, 53), 0, 1)).toBe(NAT_TRANSLATED);
  });

  it('leaves UDP without checksum without one, and passes other protocols and fragments as told', () => {
    const nat = new Nat({ overloadAddress: OUT });
    const seg = new Uint8Array(12);
    encodeUdp({ srcPort: 7, dstPort: 7, payload: new Uint8Array(4), checksum: false }, seg, 0, H1, SERVER);
    const p = buildIpv4Packet({ src: H1, dst: SERVER, protocol: 17 }, seg);
    nat.translateOutbound(p, 0, 0);
    expect(u16(p, 26)).toBe(0);
    expect(ipv4ChecksumOk(p, 0)).toBe(true);
    const gre = buildIpv4Packet({ src: H1, dst: SERVER, protocol: 47 }, new Uint8Array(8));
    expect(nat.translateOutbound(gre, 0, 0)).toBe(NAT_PASS);
    const frag = udp(H1, SERVER, 9, 9);
    frag[6] = 0x20; // MF
    frag[10] = 0;
    frag[11] = 0;
    expect(nat.translateOutbound(frag, 0, 0)).toBe(NAT_DROP);
    expect(nat.stats.dropsFragment).toBe(1);
  });

  it('many flows from many hosts all map to distinct outside tuples', () => {
    const nat = new Nat({ overloadAddress: OUT });
    const seen = new Set<number>();
    for (let h = 0; h < 50; h++) {
      for (let port = 0; port < 40; port++) {
        const p = udp(ip('10.1.0.0') + h, SERVER, 20000 + port, 53);
        expect(nat.translateOutbound(p, 0, 0)).toBe(NAT_TRANSLATED);
        seen.add(ports(p)[0]);
      }
    }
    expect(seen.size).toBe(2000);
    expect(nat.size).toBe(2000);
  });
});

describe('static NAT', () => {
  const WEB = ip('10.1.0.80');
  const WEB_OUT = ip('203.0.113.80');

  it('is reachable from outside and translates its own traffic both ways', () => {
    const nat = new Nat({ overloadAddress: OUT, statics: [{ inside: WEB, outside: WEB_OUT }] });
    const inbound = tcp(ip('192.0.2.50'), WEB_OUT, 51000, 80, TCP_SYN);
    expect(nat.translateInbound(inbound, 0, 0)).toBe(NAT_TRANSLATED);
    expect(decodeIpv4(inbound).dst).toBe(WEB);
    expect(tcpChecksumOk(inbound, 20, inbound.length - 20, ip('192.0.2.50'), WEB)).toBe(true);
    const reply = tcp(WEB, ip('192.0.2.50'), 80, 51000, TCP_SYN | TCP_ACK);
    nat.translateOutbound(reply, 0, 0);
    expect(decodeIpv4(reply).src).toBe(WEB_OUT);
    expect(ports(reply)).toEqual([80, 51000]);
    expect(tcpChecksumOk(reply, 20, reply.length - 20, WEB_OUT, ip('192.0.2.50'))).toBe(true);
    const rows = nat.translations(0);
    expect(rows).toEqual([{ proto: '---', insideGlobal: '203.0.113.80', insideLocal: '10.1.0.80', outsideLocal: '---', outsideGlobal: '---', expiresInS: -1 }]);
    // Another inside host still goes through PAT.
    const other = udp(H1, SERVER, 5, 5);
    nat.translateOutbound(other, 0, 0);
    expect(decodeIpv4(other).src).toBe(OUT);
  });

  it('translates an inside host’s ICMP error about an inbound datagram', () => {
    const nat = new Nat({ statics: [{ inside: WEB, outside: WEB_OUT }] });
    const probe = udp(ip('192.0.2.50'), WEB_OUT, 40000, 9999);
    nat.translateInbound(probe, 0, 0);
    const unreachable = buildIpv4Packet({ src: WEB, dst: ip('192.0.2.50'), protocol: 1 }, icmpError(3, 3, probe));
    expect(nat.translateOutbound(unreachable, 0, 0)).toBe(NAT_TRANSLATED);
    expect(decodeIpv4(unreachable).src).toBe(WEB_OUT);
    expect(decodeIcmp(unreachable, 20, unreachable.length - 20).checksumOk).toBe(true);
    const q = decodeQuotedIpv4(unreachable, 28);
    expect(q.dst).toBe(WEB_OUT);
    expect(ipv4ChecksumOk(unreachable, 28)).toBe(true);
  });
});

describe('TupleIndex', () => {
  it('agrees with a Map under random inserts and deletes', () => {
    const idx = new TupleIndex(16);
    const ref = new Map<string, number>();
    let seed = 99;
    const rnd = (n: number): number => {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      return seed % n;
    };
    for (let i = 0; i < 20000; i++) {
      const a = rnd(8) * 0x10000001;
      const b = rnd(4);
      const c = rnd(16) * 65536 + rnd(3);
      const d = 17;
      const key = `${a}/${b}/${c}`;
      if (rnd(3) === 0) {
        expect(idx.delete(a >>> 0, b, c, d)).toBe(ref.delete(key));
      } else {
        idx.set(a >>> 0, b, c, d, i);
        ref.set(key, i);
      }
      if (i % 97 === 0) {
        for (const [k, v] of ref) {
          const [x, y, z] = k.split('/').map(Number);
          expect(idx.get(x! >>> 0, y!, z!, d)).toBe(v);
        }
        expect(idx.size).toBe(ref.size);
      }
    }
    expect(idx.get(1, 2, 3, 4)).toBe(-1);
  });
});

