import { describe, expect, it } from 'vitest';
import { DhcpServer, type DhcpPoolConfig, type DhcpReply, type DhcpRequestContext } from '../../devices/router/dhcp-server.js';
import { DHCP_RELAY_MAX_HOPS, relayReplyTarget, relayRequest } from '../../devices/router/dhcp-relay.js';
import { MAC_BROADCAST, parseIp4, type Ip4, type Mac } from '../../devices/wire/bytes.js';
import {
  BOOTREPLY,
  BOOTREQUEST,
  DHCP_BROADCAST_FLAG,
  DhcpMessageType,
  decodeDhcp,
  dhcpClientIdFromMac,
  dhcpEncodingLength,
  dhcpOptionsFrom,
  encodeDhcp,
  readDhcpFields,
  type DhcpFields,
} from '../../devices/wire/dhcp.js';

const ip = (s: string): Ip4 => parseIp4(s)!;
const S = 1e9;

function msg(type: number, mac: Mac, o: { xid?: number; flags?: number; ciaddr?: Ip4; giaddr?: Ip4; hops?: number; fields?: DhcpFields } = {}): Uint8Array {
  const input = {
    op: BOOTREQUEST,
    xid: o.xid ?? 0x1234,
    chaddr: mac,
    flags: o.flags ?? 0,
    ciaddr: o.ciaddr ?? 0,
    giaddr: o.giaddr ?? 0,
    hops: o.hops ?? 0,
    options: dhcpOptionsFrom({ messageType: type, ...o.fields }),
  };
  const b = new Uint8Array(dhcpEncodingLength(input));
  encodeDhcp(input, b, 0);
  return b;
}

const lan: DhcpPoolConfig = {
  name: 'lan',
  interface: 'g0/1',
  network: ip('10.1.0.0'),
  prefix: 24,
  rangeStart: ip('10.1.0.1'),
  rangeEnd: ip('10.1.0.20'),
  excluded: [[ip('10.1.0.2'), ip('10.1.0.4')]],
  gateway: ip('10.1.0.1'),
  dns: [ip('10.1.0.1'), ip('8.8.8.8')],
  domain: 'lab.test',
  leaseSeconds: 3600,
};
const ctxLan = (nowNs = 0): DhcpRequestContext => ({ nowNs, iface: 'g0/1', ifaceAddress: ip('10.1.0.1') });

function parse(r: DhcpReply | null) {
  expect(r).not.toBeNull();
  const m = decodeDhcp(r!.payload);
  return { m, f: readDhcpFields(m.options), r: r! };
}

/** DISCOVER then REQUEST; returns the address acked. */
function lease(server: DhcpServer, mac: Mac, ctx: DhcpRequestContext, fields: DhcpFields = {}): Ip4 {
  const offer = parse(server.handle(...span(msg(DhcpMessageType.DISCOVER, mac, { fields })), ctx));
  expect(offer.f.messageType).toBe(DhcpMessageType.OFFER);
  const ack = parse(
    server.handle(...span(msg(DhcpMessageType.REQUEST, mac, { fields: { ...fields, requestedIp: offer.m.yiaddr, serverId: offer.f.serverId! } })), ctx),
  );
  expect(ack.f.messageType).toBe(DhcpMessageType.ACK);
  expect(ack.m.yiaddr).toBe(offer.m.yiaddr);
  return ack.m.yiaddr;
}
function span(b: Uint8Array): [Uint8Array, number, number] {
  return [b, 0, b.length];
}

describe('DHCP server', () => {
  it('grants a requested lease time up to the pool maximum (VMware), and ignores it without one (IOS)', () => {
    const grant = (pool: DhcpPoolConfig, asked: number | undefined) => {
      const server = new DhcpServer([pool]);
      const fields: DhcpFields = asked === undefined ? {} : { leaseTime: asked };
      const offer = parse(server.handle(...span(msg(DhcpMessageType.DISCOVER, 0x020000000009, { fields })), ctxLan()));
      const ack = parse(server.handle(...span(msg(DhcpMessageType.REQUEST, 0x020000000009, { fields: { ...fields, requestedIp: offer.m.yiaddr, serverId: offer.f.serverId! } })), ctxLan()));
      const bound = server.bindings(0)[0]!.expiresInS;
      return { offer: offer.f.leaseTime, ack: ack.f.leaseTime, t1: ack.f.renewalTime, t2: ack.f.rebindingTime, bound };
    };
    const vmware: DhcpPoolConfig = { ...lan, leaseSeconds: 1800, maxLeaseSeconds: 7200 };
    expect(grant(vmware, undefined)).toEqual({ offer: 1800, ack: 1800, t1: 900, t2: 1575, bound: 1800 });
    expect(grant(vmware, 86400)).toEqual({ offer: 7200, ack: 7200, t1: 3600, t2: 6300, bound: 7200 });
    expect(grant(vmware, 600)).toEqual({ offer: 600, ack: 600, t1: 300, t2: 525, bound: 600 });
    expect(grant(lan, 600)).toEqual({ offer: 3600, ack: 3600, t1: 1800, t2: 3150, bound: 3600 });
  });

  it('offers the lowest free address with the pool options, skipping exclusions and the gateway', () => {
    const server = new DhcpServer([lan]);
    const { m, f, r } = parse(server.handle(...span(msg(DhcpMessageType.DISCOVER, 0x020000000001, { xid: 77 })), ctxLan()));
    expect(m.op).toBe(BOOTREPLY);
    expect(m.xid).toBe(77);
    expect(m.yiaddr).toBe(ip('10.1.0.5'));
    expect(f.messageType).toBe(DhcpMessageType.OFFER);
    expect(f.serverId).toBe(ip('10.1.0.1'));
    expect(f.subnetMask).toBe(ip('255.255.255.0'));
    expect(f.routers).toEqual([ip('10.1.0.1')]);
    expect(f.dns).toEqual([ip('10.1.0.1'), ip('8.8.8.8')]);
    expect(f.domainName).toBe('lab.test');
    expect(f.leaseTime).toBe(3600);
    expect(f.renewalTime).toBe(1800);
    expect(f.rebindingTime).toBe(3150);
    // No broadcast flag, no address yet: unicast to yiaddr at chaddr, without ARP.
    expect(r.dstIp).toBe(ip('10.1.0.5'));
    expect(r.dstMac).toBe(0x020000000001);
    expect(r.dstPort).toBe(68);
    expect(r.srcIp).toBe(ip('10.1.0.1'));
    expect(r.payload.length).toBeGreaterThanOrEqual(300);
  });

  it('broadcasts to a client that sets the broadcast flag', () => {
    const server = new DhcpServer([lan]);
    const { r } = parse(server.handle(...span(msg(DhcpMessageType.DISCOVER, 0x020000000001, { flags: DHCP_BROADCAST_FLAG })), ctxLan()));
    expect(r.dstIp).toBe(0xffffffff);
    expect(r.dstMac).toBe(MAC_BROADCAST);
  });

  it('binds on REQUEST, lists the binding, and gives the next client the next address', () => {
    const server = new DhcpServer([lan]);
    const a = lease(server, 0x020000000001, ctxLan(), { hostname: 'pc1' });
    const b = lease(server, 0x020000000002, ctxLan());
    expect(a).toBe(ip('10.1.0.5'));
    expect(b).toBe(ip('10.1.0.6'));
    const rows = server.bindings(10 * S);
    expect(rows.map((r) => [r.ip, r.mac, r.hostname, r.expiresInS])).toEqual([
      ['10.1.0.5', '02:00:00:00:00:01', 'pc1', 3590],
      ['10.1.0.6', '02:00:00:00:00:02', '', 3590],
    ]);
  });

  it('lets go of its offer when the client picks another server', () => {
    const server = new DhcpServer([{ ...lan, rangeStart: ip('10.1.0.5'), rangeEnd: ip('10.1.0.5') }]);
    const mac1 = 0x020000000001;
    const offer = parse(server.handle(...span(msg(DhcpMessageType.DISCOVER, mac1)), ctxLan()));
    // The only address is held for client 1 now.
    expect(server.handle(...span(msg(DhcpMessageType.DISCOVER, 0x020000000002)), ctxLan())).toBeNull();
    const other = server.handle(...span(msg(DhcpMessageType.REQUEST, mac1, { fields: { requestedIp: offer.m.yiaddr, serverId: ip('10.1.0.254') } })), ctxLan());
    expect(other).toBeNull();
    expect(parse(server.handle(...span(msg(DhcpMessageType.DISCOVER, 0x020000000002)), ctxLan())).m.yiaddr).toBe(ip('10.1.0.5'));
  });

  it('honours reservations by MAC and by node name (host name option 12), never giving them to others', () => {
    const server = new DhcpServer([
      {
        ...lan,
        reservations: [
          { ip: ip('10.1.0.5'), node: 'PC9' },
          { ip: ip('10.1.0.200'), mac: 0x0200000000aa },
        ],
      },
    ]);
    const other = lease(server, 0x020000000001, ctxLan());
    expect(other).toBe(ip('10.1.0.6'));
    expect(lease(server, 0x020000000002, ctxLan(), { hostname: 'pc9' })).toBe(ip('10.1.0.5'));
    // Outside the range is fine for a reservation.
    expect(lease(server, 0x0200000000aa, ctxLan())).toBe(ip('10.1.0.200'));
    const types = server.bindings(0).map((r) => [r.ip, r.type]);
    expect(types).toEqual([
      ['10.1.0.5', 'manual'],
      ['10.1.0.6', 'automatic'],
      ['10.1.0.200', 'manual'],
    ]);
    // A client asking for a reserved address gets a NAK.
    const r = parse(server.handle(...span(msg(DhcpMessageType.REQUEST, 0x020000000003, { fields: { requestedIp: ip('10.1.0.5') } })), ctxLan()));
    expect(r.f.messageType).toBe(DhcpMessageType.NAK);
  });

  it('stops offering when the pool is exhausted, counts it, and never leases an address twice', () => {
    const server = new DhcpServer([{ ...lan, rangeStart: ip('10.1.0.10'), rangeEnd: ip('10.1.0.12') }]);
    const got = [1, 2, 3].map((n) => lease(server, 0x020000000000 + n, ctxLan()));
    expect(new Set(got).size).toBe(3);
    expect(server.handle(...span(msg(DhcpMessageType.DISCOVER, 0x020000000009)), ctxLan())).toBeNull();
    expect(server.stats.exhausted).toBe(1);
    // Asking for a taken address is refused too.
    const nak = parse(server.handle(...span(msg(DhcpMessageType.REQUEST, 0x020000000009, { fields: { requestedIp: got[0]! } })), ctxLan()));
    expect(nak.f.messageType).toBe(DhcpMessageType.NAK);
    expect(nak.r.dstIp).toBe(0xffffffff);
  });

  it('never hands one address to two clients under a random mix of messages', () => {
    const server = new DhcpServer([{ ...lan, rangeStart: ip('10.1.0.10'), rangeEnd: ip('10.1.0.29'), leaseSeconds: 120 }]);
    let seed = 12345;
    const rnd = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    const owner = new Map<Ip4, { mac: Mac; until: number }>();
    const holds = new Map<Mac, Ip4>();
    let now = 0;
    for (let step = 0; step < 3000; step++) {
      now += rnd(5) * S;
      const mac = 0x020000000100 + rnd(30);
      const ctx = ctxLan(now);
      const kind = rnd(10);
      let reply: DhcpReply | null = null;
      if (kind < 4) {
        reply = server.handle(...span(msg(DhcpMessageType.DISCOVER, mac)), ctx);
        if (reply) {
          const o = parse(reply);
          reply = server.handle(...span(msg(DhcpMessageType.REQUEST, mac, { fields: { requestedIp: o.m.yiaddr, serverId: o.f.serverId! } })), ctx);
        }
      } else if (kind < 6) {
        reply = server.handle(...span(msg(DhcpMessageType.REQUEST, mac, { fields: { requestedIp: ip('10.1.0.10') + rnd(20) } })), ctx);
      } else if (kind < 8 && holds.has(mac)) {
        reply = server.handle(...span(msg(DhcpMessageType.REQUEST, mac, { ciaddr: holds.get(mac)! })), ctx);
      } else if (kind === 8 && holds.has(mac)) {
        server.handle(...span(msg(DhcpMessageType.RELEASE, mac, { ciaddr: holds.get(mac)! })), ctx);
        owner.delete(holds.get(mac)!);
        holds.delete(mac);
      } else if (holds.has(mac)) {
        server.handle(...span(msg(DhcpMessageType.DECLINE, mac, { fields: { requestedIp: holds.get(mac)! } })), ctx);
        owner.delete(holds.get(mac)!);
        holds.delete(mac);
      }
      if (reply) {
        const { m, f } = parse(reply);
        if (f.messageType === DhcpMessageType.ACK) {
          const cur = owner.get(m.yiaddr);
          if (cur && cur.until > now) expect(cur.mac).toBe(mac);
          const prev = holds.get(mac);
          if (prev !== undefined && prev !== m.yiaddr) owner.delete(prev);
          owner.set(m.yiaddr, { mac, until: now + 120 * S });
          holds.set(mac, m.yiaddr);
        }
      }
    }
    expect(server.stats.acks).toBeGreaterThan(100);
  });

  it('offers the previous address after a release, and a valid requested address', () => {
    const server = new DhcpServer([lan]);
    const mac = 0x020000000001;
    const a = lease(server, mac, ctxLan());
    lease(server, 0x020000000002, ctxLan());
    server.handle(...span(msg(DhcpMessageType.RELEASE, mac, { ciaddr: a })), ctxLan());
    expect(server.bindings(0).length).toBe(1);
    expect(lease(server, mac, ctxLan())).toBe(a);
    expect(lease(server, 0x020000000003, ctxLan(), { requestedIp: ip('10.1.0.15') })).toBe(ip('10.1.0.15'));
    // Excluded addresses are not honoured as requests.
    expect(lease(server, 0x020000000004, ctxLan(), { requestedIp: ip('10.1.0.3') })).toBe(ip('10.1.0.7'));
  });

  it('NAKs INIT-REBOOT into the wrong subnet and stays silent for a client it has no record of', () => {
    const server = new DhcpServer([lan]);
    const wrong = parse(server.handle(...span(msg(DhcpMessageType.REQUEST, 0x020000000001, { fields: { requestedIp: ip('192.168.1.50') } })), ctxLan()));
    expect(wrong.f.messageType).toBe(DhcpMessageType.NAK);
    expect(wrong.f.leaseTime).toBeUndefined();
    expect(server.handle(...span(msg(DhcpMessageType.REQUEST, 0x020000000001, { fields: { requestedIp: ip('10.1.0.9') } })), ctxLan())).toBeNull();
    // With a record, INIT-REBOOT is confirmed.
    const a = lease(server, 0x020000000002, ctxLan());
    const ok = parse(server.handle(...span(msg(DhcpMessageType.REQUEST, 0x020000000002, { fields: { requestedIp: a } })), ctxLan(5 * S)));
    expect(ok.f.messageType).toBe(DhcpMessageType.ACK);
  });

  it('renews a unicast REQUEST to ciaddr, and NAKs a renewal of an address held by another client', () => {
    const server = new DhcpServer([lan]);
    const a = lease(server, 0x020000000001, ctxLan());
    const renew = parse(server.handle(...span(msg(DhcpMessageType.REQUEST, 0x020000000001, { ciaddr: a })), ctxLan(1800 * S)));
    expect(renew.f.messageType).toBe(DhcpMessageType.ACK);
    expect(renew.m.ciaddr).toBe(a);
    expect(renew.r.dstIp).toBe(a);
    expect(renew.r.dstMac).toBeUndefined();
    expect(server.bindings(1800 * S)[0]!.expiresInS).toBe(3600);
    const steal = parse(server.handle(...span(msg(DhcpMessageType.REQUEST, 0x020000000002, { ciaddr: a })), ctxLan(1800 * S)));
    expect(steal.f.messageType).toBe(DhcpMessageType.NAK);
  });

  it('keeps a declined address out of use until the hold ends', () => {
    const server = new DhcpServer([{ ...lan, rangeStart: ip('10.1.0.10'), rangeEnd: ip('10.1.0.11') }], { declineHoldS: 600 });
    const a = lease(server, 0x020000000001, ctxLan());
    expect(a).toBe(ip('10.1.0.10'));
    server.handle(...span(msg(DhcpMessageType.DECLINE, 0x020000000001, { fields: { requestedIp: a } })), ctxLan());
    expect(lease(server, 0x020000000001, ctxLan())).toBe(ip('10.1.0.11'));
    expect(server.handle(...span(msg(DhcpMessageType.DISCOVER, 0x020000000002)), ctxLan(10 * S))).toBeNull();
    expect(lease(server, 0x020000000002, ctxLan(601 * S))).toBe(a);
  });

  it('expires leases: after the lease time the address goes to another client', () => {
    const server = new DhcpServer([{ ...lan, rangeStart: ip('10.1.0.10'), rangeEnd: ip('10.1.0.10'), leaseSeconds: 60 }]);
    lease(server, 0x020000000001, ctxLan());
    expect(server.handle(...span(msg(DhcpMessageType.DISCOVER, 0x020000000002)), ctxLan(59 * S))).toBeNull();
    expect(server.bindings(61 * S)).toEqual([]);
    expect(lease(server, 0x020000000002, ctxLan(61 * S))).toBe(ip('10.1.0.10'));
  });

  it('identifies clients by client identifier when they send one', () => {
    const server = new DhcpServer([lan]);
    const cid = dhcpClientIdFromMac(0x0200000000ff);
    const a = lease(server, 0x020000000001, ctxLan(), { clientId: cid });
    // Same client id, another NIC: same client.
    expect(lease(server, 0x020000000002, ctxLan(), { clientId: cid })).toBe(a);
    expect(server.bindings(0)[0]!.client).toBe('0102.0000.0000.ff');
  });

  it('answers INFORM with an ACK that has no yiaddr and no lease time, sent to ciaddr', () => {
    const server = new DhcpServer([lan]);
    const { m, f, r } = parse(server.handle(...span(msg(DhcpMessageType.INFORM, 0x020000000001, { ciaddr: ip('10.1.0.77') })), ctxLan()));
    expect(f.messageType).toBe(DhcpMessageType.ACK);
    expect(m.yiaddr).toBe(0);
    expect(m.ciaddr).toBe(ip('10.1.0.77'));
    expect(f.leaseTime).toBeUndefined();
    expect(f.routers).toEqual([ip('10.1.0.1')]);
    expect(r.dstIp).toBe(ip('10.1.0.77'));
    expect(server.bindings(0)).toEqual([]);
  });

  it('serves relayed clients from the pool whose subnet holds giaddr and replies to the relay on port 67', () => {
    const remote: DhcpPoolConfig = {
      name: 'branch',
      network: ip('10.20.0.0'),
      prefix: 24,
      rangeStart: ip('10.20.0.100'),
      rangeEnd: ip('10.20.0.199'),
      gateway: ip('10.20.0.1'),
    };
    const server = new DhcpServer([lan, remote]);
    // The relayed DISCOVER arrives on g0/1 (the LAN pool's interface) but giaddr names the branch.
    const ctx = { nowNs: 0, iface: 'g0/1', ifaceAddress: ip('10.1.0.1') };
    const offer = parse(server.handle(...span(msg(DhcpMessageType.DISCOVER, 0x020000000005, { giaddr: ip('10.20.0.1'), hops: 1 })), ctx));
    expect(offer.m.yiaddr).toBe(ip('10.20.0.100'));
    expect(offer.m.giaddr).toBe(ip('10.20.0.1'));
    expect(offer.f.routers).toEqual([ip('10.20.0.1')]);
    expect(offer.r.dstIp).toBe(ip('10.20.0.1'));
    expect(offer.r.dstPort).toBe(67);
    expect(offer.r.dstMac).toBeUndefined();
    const nak = parse(server.handle(...span(msg(DhcpMessageType.REQUEST, 0x020000000006, { giaddr: ip('10.20.0.1'), fields: { requestedIp: ip('10.1.0.9') } })), ctx));
    expect(nak.f.messageType).toBe(DhcpMessageType.NAK);
    expect(nak.m.flags & DHCP_BROADCAST_FLAG).toBe(DHCP_BROADCAST_FLAG);
    expect(nak.r.dstIp).toBe(ip('10.20.0.1'));
    // No pool for that giaddr: silence.
    expect(server.handle(...span(msg(DhcpMessageType.DISCOVER, 0x020000000007, { giaddr: ip('172.16.0.1') })), ctx)).toBeNull();
  });

  it('saves and restores its lease database so leases survive a restart', () => {
    const server = new DhcpServer([lan]);
    const a = lease(server, 0x020000000001, ctxLan(), { hostname: 'pc1' });
    const b = lease(server, 0x020000000002, ctxLan());
    const saved = JSON.parse(JSON.stringify(server.exportLeases(100 * S)));
    const restarted = new DhcpServer([lan]);
    expect(restarted.importLeases(saved, 0)).toBe(2);
    expect(restarted.bindings(0).map((r) => [r.ip, r.hostname, r.expiresInS])).toEqual([
      ['10.1.0.5', 'pc1', 3500],
      ['10.1.0.6', '', 3500],
    ]);
    // The clients keep their addresses, and a newcomer does not get one of them.
    expect(lease(restarted, 0x020000000002, ctxLan())).toBe(b);
    expect(lease(restarted, 0x020000000001, ctxLan())).toBe(a);
    expect(lease(restarted, 0x020000000003, ctxLan())).toBe(ip('10.1.0.7'));
    expect(() => restarted.importLeases({ version: 2 } as never, 0)).toThrow(/format/);
  });

  it('refuses pools that cannot work', () => {
    expect(() => new DhcpServer([{ ...lan, rangeEnd: ip('10.2.0.1') }])).toThrow(/outside/);
    expect(() => new DhcpServer([lan, lan])).toThrow(/duplicate/);
    expect(() => new DhcpServer([{ ...lan, reservations: [{ ip: ip('10.1.0.9') }] }])).toThrow(/names no client/);
  });

  it('ignores garbage and replies', () => {
    const server = new DhcpServer([lan]);
    expect(server.handle(new Uint8Array(100), 0, 100, ctxLan())).toBeNull();
    const reply = msg(DhcpMessageType.DISCOVER, 1);
    reply[0] = BOOTREPLY;
    expect(server.handle(reply, 0, reply.length, ctxLan())).toBeNull();
    expect(server.stats.ignored).toBe(2);
  });
});

describe('DHCP relay', () => {
  it('sets giaddr and counts a hop on a client broadcast, keeping an earlier relay giaddr', () => {
    const d = msg(DhcpMessageType.DISCOVER, 0x020000000001);
    const out = relayRequest(d, 0, d.length, ip('10.1.0.1'))!;
    const m = decodeDhcp(out);
    expect(m.giaddr).toBe(ip('10.1.0.1'));
    expect(m.hops).toBe(1);
    expect(decodeDhcp(d).giaddr).toBe(0); // the received frame is not touched
    const twice = decodeDhcp(relayRequest(out, 0, out.length, ip('10.9.0.1'))!);
    expect(twice.giaddr).toBe(ip('10.1.0.1'));
    expect(twice.hops).toBe(2);
  });

  it(`drops requests past ${DHCP_RELAY_MAX_HOPS} hops, and replies`, () => {
    const far = msg(DhcpMessageType.DISCOVER, 1, { hops: 16 });
    expect(relayRequest(far, 0, far.length, ip('10.1.0.1'))).toBeNull();
    const ok = msg(DhcpMessageType.DISCOVER, 1, { hops: 15 });
    expect(decodeDhcp(relayRequest(ok, 0, ok.length, ip('10.1.0.1'))!).hops).toBe(16);
    const reply = msg(DhcpMessageType.DISCOVER, 1);
    reply[0] = BOOTREPLY;
    expect(relayRequest(reply, 0, reply.length, 1)).toBeNull();
  });

  it('delivers server replies by broadcast flag, else to yiaddr at chaddr', () => {
    const server = new DhcpServer([{ ...lan, interface: undefined }]);
    const ctx = { nowNs: 0, iface: 'g0/0', ifaceAddress: ip('10.9.0.5') };
    const uni = server.handle(...span(msg(DhcpMessageType.DISCOVER, 0x020000000001, { giaddr: ip('10.1.0.1') })), ctx)!;
    expect(relayReplyTarget(uni.payload, 0, uni.payload.length)).toEqual({ giaddr: ip('10.1.0.1'), dstIp: ip('10.1.0.5'), dstMac: 0x020000000001 });
    const bc = server.handle(...span(msg(DhcpMessageType.DISCOVER, 0x020000000002, { giaddr: ip('10.1.0.1'), flags: DHCP_BROADCAST_FLAG })), ctx)!;
    expect(relayReplyTarget(bc.payload, 0, bc.payload.length)).toEqual({ giaddr: ip('10.1.0.1'), dstIp: 0xffffffff, dstMac: MAC_BROADCAST });
    const request = msg(DhcpMessageType.DISCOVER, 1, { giaddr: ip('10.1.0.1') });
    expect(relayReplyTarget(request, 0, request.length)).toBeNull();
  });
});
