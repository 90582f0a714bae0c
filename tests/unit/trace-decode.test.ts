import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeFrame } from '../../devices/trace/decode.js';
import { everyFrame } from '../../devices/demo/every-frame.js';

describe('frame summaries', () => {
  const frames = everyFrame();
  const byWhat = (what: string) => decodeFrame(frames.find((f) => f.what === what)!.frame);

  it('name protocols and read like Wireshark\'s Info column', () => {
    expect(byWhat('DHCP Discover')).toMatchObject({ protocol: 'DHCP', info: 'DHCP Discover - Transaction ID 0x3903f326', src: '0.0.0.0', dst: '255.255.255.255' });
    expect(byWhat('DHCP ACK').info).toBe('DHCP ACK - Transaction ID 0x3903f326');
    expect(byWhat('ARP request')).toMatchObject({ protocol: 'ARP', info: 'Who has 10.0.0.1? Tell 10.0.0.10' });
    expect(byWhat('ARP reply').info).toBe('10.0.0.1 is at 02:00:00:00:00:01');
    expect(byWhat('ICMP echo request')).toMatchObject({ protocol: 'ICMP', info: 'Echo (ping) request  id=0x1234, seq=1, ttl=64', src: '10.0.0.10', dst: '10.0.0.1' });
    expect(byWhat('802.1Q ICMP echo request').vlan).toBe(10);
    expect(byWhat('802.1ad ICMP echo request').layers.map((l) => l.name)).toEqual(['Ethernet II', '802.1ad', '802.1Q', 'IPv4', 'ICMP']);
    expect(byWhat('ICMP time exceeded').info).toBe('Time-to-live exceeded');
    expect(byWhat('ICMP port unreachable').info).toBe('Destination unreachable (Port unreachable)');
    expect(byWhat('IPv4 fragment').info).toBe('Fragmented IP protocol (proto=ICMP 1, off=0, ID=c081)');
    expect(byWhat('UDP probe TTL 1')).toMatchObject({ protocol: 'UDP', info: '50000 → 33434 Len=32', srcPort: 50000, dstPort: 33434 });
    expect(byWhat('DNS query').info).toBe('Standard query 0x4242 A pc1.lab');
    expect(byWhat('DNS response').info).toBe('Standard query response 0x4242 A pc1.lab A 10.0.0.10');
    expect(byWhat('TCP SYN').info).toBe('45206 → 80 [SYN] Seq=4096 Win=64240 Len=0 MSS=1460 WS=128 SACK_PERM');
    expect(byWhat('STP config BPDU')).toMatchObject({ protocol: 'STP', info: 'Conf. Root = 32768/0/02:00:00:00:00:01  Cost = 0  Port = 0x8001' });
  });

  it('never throws, whatever the bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const d = decodeFrame(bytes);
        expect(typeof d.info).toBe('string');
      }),
      { numRuns: 3000 },
    );
    for (const { frame } of frames) {
      for (let cut = 0; cut < frame.length; cut += 7) decodeFrame(frame.subarray(0, cut));
    }
    expect(decodeFrame(new Uint8Array(5)).layers.at(-1)!.name).toBe('Malformed');
  });
});
