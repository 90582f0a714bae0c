/**
 * The IOS-like CLI, as transcripts: what is typed and exactly what the terminal shows, for each
 * command family, abbreviations and IOS's error markers included; and what each command does to
 * the live network (pings through a new route, an access list that filters, a DHCP pool that
 * leases, a VLAN that isolates).
 */
import { describe, expect, it } from 'vitest';
import { stringify as stringifyYaml } from 'yaml';
import { Bench, dedent } from './console-harness.js';

const LAB = `
wirelab: 1
name: t
nodes:
  pc1: { kind: host, interfaces: { eth0: { ip: 10.1.0.10/24, gateway: 10.1.0.1 } } }
  pc2: { kind: host, interfaces: { eth0: { ip: 10.2.0.10/24, gateway: 10.2.0.1 } } }
  pc3: { kind: host, interfaces: { eth0: { ip: dhcp } } }
  r1:
    kind: router
    interfaces: { g0/0: { ip: 10.1.0.1/24 }, g0/1: { ip: 10.2.0.1/24 } }
  r2: { kind: router, interfaces: { g0/0: { ip: 10.2.0.2/24 } } }
  sw1: { kind: switch, ports: 4 }
  sw2: { kind: switch, ports: 4, stp: false }
links:
  - [pc1:eth0, sw1:e0]
  - [sw1:e3, r1:g0/0]
  - [pc2:eth0, sw2:e0]
  - [r1:g0/1, sw2:e1]
  - [r2:g0/0, sw2:e2]
  - [pc3:eth0, r1:g0/2]
`;

function bench(): Bench {
  return new Bench(LAB);
}

describe('IOS modes and prompts', () => {
  it('walks user EXEC, privileged EXEC and every configuration mode', () => {
    const b = bench();
    const t = b.lines('r1', 'enable', 'configure terminal', 'interface g0/0', 'exit', 'interface g0/1.30', 'exit', 'line con 0', 'exit', 'ip dhcp pool LAN', 'exit', 'ip access-list extended WEB', 'end', 'disable');
    expect(t).toBe(
      dedent(`
      enable
      r1#configure terminal
      Enter configuration commands, one per line.  End with CNTL/Z.
      r1(config)#interface g0/0
      r1(config-if)#exit
      r1(config)#interface g0/1.30
      r1(config-subif)#exit
      r1(config)#line con 0
      r1(config-line)#exit
      r1(config)#ip dhcp pool LAN
      r1(dhcp-config)#exit
      r1(config)#ip access-list extended WEB
      r1(config-ext-nacl)#end
      r1#disable
      r1>`),
    );
  });

  it('takes abbreviations: en, conf t, int g0/1, sh ip int br', () => {
    const b = bench();
    const t = b.lines('r1', 'en', 'conf t', 'int g0/1', 'shut', 'do sh ip int br');
    expect(t).toBe(
      dedent(`
      en
      r1#conf t
      Enter configuration commands, one per line.  End with CNTL/Z.
      r1(config)#int g0/1
      r1(config-if)#shut
      r1(config-if)#do sh ip int br
      Interface                  IP-Address      OK? Method Status                Protocol
      GigabitEthernet0/0         10.1.0.1        YES NVRAM  up                    up
      GigabitEthernet0/1         10.2.0.1        YES NVRAM  administratively down down
      GigabitEthernet0/2         unassigned      YES unset  up                    up
      GigabitEthernet0/3         unassigned      YES unset  down                  down
      r1(config-if)#`),
    );
  });

  it('runs a global command typed in a sub-mode and leaves the sub-mode, as IOS does', () => {
    const b = bench();
    expect(b.lines('r1', 'en', 'conf t', 'int g0/0', 'ip route 10.9.0.0 255.255.0.0 10.2.0.2')).toMatch(/r1\(config-if\)#ip route 10\.9\.0\.0 255\.255\.0\.0 10\.2\.0\.2\nr1\(config\)#$/);
  });

  it('show history lists what was typed', () => {
    const b = bench();
    expect(b.lines('r1', 'en', 'sh ver', 'show history')).toMatch(/show history\n  en\n  sh ver\n  show history\nr1#$/);
  });

  it('Ctrl-Z leaves configuration mode', () => {
    const b = bench();
    b.lines('r1', 'en', 'conf t', 'int g0/0');
    expect(b.type('r1', '\x1a')).toBe('^Z\nr1#');
  });
});

describe('IOS error markers', () => {
  it('puts the caret under the first character that does not fit', () => {
    const b = bench();
    b.type('r1', 'enable\r');
    expect(b.type('r1', 'show ip intreface brief\r')).toBe(
      dedent(`
      show ip intreface brief
                    ^
      % Invalid input detected at '^' marker.

      r1#`),
    );
    b.lines('r1', 'conf t', 'int g0/0');
    expect(b.type('r1', 'ip adress 10.1.0.1 255.255.255.0\r')).toBe(
      dedent(`
      ip adress 10.1.0.1 255.255.255.0
                         ^
      % Invalid input detected at '^' marker.

      r1(config-if)#`),
    );
    expect(b.type('r1', 'ip address 10.1.0.300 255.255.255.0\r')).toBe(
      dedent(`
      ip address 10.1.0.300 255.255.255.0
                                        ^
      % Invalid input detected at '^' marker.

      r1(config-if)#`),
    );
  });

  it('says Incomplete and Ambiguous as IOS does', () => {
    const b = bench();
    b.type('r1', 'enable\r');
    expect(b.type('r1', 'show ip\r')).toBe('show ip\n% Incomplete command.\n\nr1#');
    expect(b.type('r1', 'c\r')).toBe('c\n% Ambiguous command:  "c"\nr1#');
    expect(b.type('r1', 'sh ip a\r')).toBe('sh ip a\n% Ambiguous command:  "sh ip a"\nr1#');
  });

  it('treats one unknown word in EXEC as a host name, as IOS with no domain lookup', () => {
    const b = bench();
    expect(b.type('r1', 'hello\r')).toBe('hello\nTranslating "hello"\n% Unknown command or computer name, or unable to find computer address\nr1>');
  });

  it('keeps privileged commands out of user EXEC', () => {
    const b = bench();
    expect(b.type('r1', 'configure terminal\r')).toBe('configure terminal\n^\n% Invalid input detected at \'^\' marker.\n\nr1>'.replace('\n^', '\n   ^'));
  });
});

describe('IOS help and completion', () => {
  it('? lists what may come next, with <cr> when the command is complete', () => {
    const b = bench();
    b.type('r1', 'enable\r');
    expect(b.type('r1', 'show ip ?')).toBe(
      dedent(`
      show ip ?
        access-lists  List IP access lists
        arp           IP ARP table
        dhcp          Show items in the DHCP database
        interface     IP interface status and configuration
        nat           IP NAT information
        route         IP routing table

      r1#show ip `),
    );
    expect(b.type('r1', '\x15show ip route ?')).toMatch(/\?\n  <cr>\n\nr1#show ip route $/);
  });

  it('? after part of a word lists the words it may become', () => {
    const b = bench();
    b.type('r1', 'enable\r');
    expect(b.type('r1', 'co?')).toBe('co?\nconfigure  copy  \n\nr1#co');
  });

  it('? says what is wrong with the line so far', () => {
    const b = bench();
    b.type('r1', 'enable\r');
    expect(b.type('r1', 'show ipp ?')).toBe("show ipp ?\n          ^\n% Invalid input detected at '^' marker.\n\nr1#show ipp ");
    expect(b.type('r1', '\x15xyz?')).toMatch(/xyz\?\n% Unrecognized command\nr1#xyz$/);
  });

  it('shows parameters by type: A.B.C.D, <1-255>, WORD, LINE and interface types', () => {
    const b = bench();
    b.lines('r1', 'enable', 'conf t');
    const route = b.type('r1', 'ip route 10.0.0.0 255.0.0.0 ?');
    expect(route).toContain('  A.B.C.D          Forwarding router\'s address');
    expect(route).toContain('  GigabitEthernet  GigabitEthernet IEEE 802.3z');
    expect(b.type('r1', '\x15interface ?')).toContain('  GigabitEthernet  GigabitEthernet IEEE 802.3z');
    expect(b.type('r1', '\x15hostname ?')).toContain('  WORD  This system\'s network name');
  });

  it('Tab completes a keyword that is unique, and rings the bell otherwise', () => {
    const b = bench();
    b.type('r1', 'enable\r');
    expect(b.type('r1', 'conf\t')).toBe('configure ');
    expect(b.type('r1', 't\t')).toBe('terminal ');
    expect(b.type('r1', '\x15c\t')).toContain('\x07');
    expect(b.type('r1', '\x15sh ip int\t')).toMatch(/sh ip interface $/);
    b.type('r1', '\x15conf t\r');
    expect(b.type('r1', 'int gi\t')).toBe('int gi\b\bGigabitEthernet');
  });
});

describe('IOS interface configuration on the live router', () => {
  it('ip address, shutdown and their no forms change the router at once', () => {
    const b = bench();
    b.lines('r1', 'enable', 'conf t', 'int g0/3', 'ip address 10.3.0.1 255.255.255.0', 'end');
    expect(b.type('r1', 'show ip interface brief\r')).toContain('GigabitEthernet0/3         10.3.0.1        YES manual down                  down');
    b.lines('r1', 'conf t', 'int g0/3', 'no ip address', 'shutdown', 'end');
    expect(b.type('r1', 'show ip interface brief\r')).toContain('GigabitEthernet0/3         unassigned      YES unset  administratively down down');
    // pc2 loses its gateway while g0/1 is shut.
    b.lines('r1', 'conf t', 'int g0/1', 'shutdown', 'end');
    expect(b.type('pc2', 'ping 10.2.0.1 -c 1\r')).toContain('host (10.2.0.1) not reachable');
    b.lines('r1', 'conf t', 'int g0/1', 'no shutdown', 'end');
    expect(b.type('pc2', 'ping 10.2.0.1 -c 1\r')).toContain('10.2.0.1 icmp_seq=1 ttl=255 time=0.000 ms');
  });

  it('refuses an address that overlaps another interface, a bad mask, and a sub-interface address before its encapsulation', () => {
    const b = bench();
    b.lines('r1', 'enable', 'conf t', 'int g0/3');
    expect(b.type('r1', 'ip address 10.1.0.99 255.255.0.0\r')).toBe('ip address 10.1.0.99 255.255.0.0\n% 10.1.0.0 overlaps with GigabitEthernet0/0\nr1(config-if)#');
    expect(b.type('r1', 'ip address 10.7.0.0 255.255.255.0\r')).toBe('ip address 10.7.0.0 255.255.255.0\nBad mask /24 for address 10.7.0.0\nr1(config-if)#');
    expect(b.type('r1', 'ip address 10.7.0.1 255.0.255.0\r')).toContain("% Invalid input detected at '^' marker.");
    b.type('r1', 'int g0/2.50\r');
    expect(b.type('r1', 'ip address 10.50.0.1 255.255.255.0\r')).toContain('% Configuring IP routing on a LAN subinterface is only allowed if that');
  });

  it('a new sub-interface with encapsulation dot1Q carries its VLAN on the live router', () => {
    const b = bench();
    b.lines('r1', 'enable', 'conf t', 'int g0/2.50', 'encapsulation dot1Q 50', 'ip address 10.50.0.1 255.255.255.0', 'end');
    expect(b.type('r1', 'show ip interface brief\r')).toContain('GigabitEthernet0/2.50      10.50.0.1       YES manual up                    up');
    expect(b.type('r1', 'show interfaces g0/2.50\r')).toContain('  Encapsulation 802.1Q Virtual LAN, Vlan ID  50.');
    expect(b.type('r1', 'show running-config\r')).toContain('interface GigabitEthernet0/2.50\n encapsulation dot1Q 50\n ip address 10.50.0.1 255.255.255.0\n!');
  });
});

describe('IOS routing', () => {
  it('ip route makes a static route that show ip route lists under the codes legend, and traffic follows it', () => {
    const b = bench();
    b.lines('r2', 'enable', 'conf t', 'ip route 10.1.0.0 255.255.255.0 10.2.0.1', 'ip route 0.0.0.0 0.0.0.0 10.2.0.1', 'end');
    const rt = b.type('r2', 'show ip route\r');
    expect(rt).toContain('Codes: L - local, C - connected, S - static, R - RIP, M - mobile, B - BGP\n');
    expect(rt).toContain('Gateway of last resort is 10.2.0.1 to network 0.0.0.0\n\nS*    0.0.0.0/0 [1/0] via 10.2.0.1\n');
    expect(rt).toContain(
      dedent(`
            10.0.0.0/8 is variably subnetted, 3 subnets, 2 masks
      S        10.1.0.0/24 [1/0] via 10.2.0.1
      C        10.2.0.0/24 is directly connected, GigabitEthernet0/0
      L        10.2.0.2/32 is directly connected, GigabitEthernet0/0
      `),
    );
    expect(b.type('r2', 'ping 10.1.0.10\r')).toBe(
      dedent(`
      ping 10.1.0.10
      Type escape sequence to abort.
      Sending 5, 100-byte ICMP Echos to 10.1.0.10, timeout is 2 seconds:
      !!!!!
      Success rate is 100 percent (5/5), round-trip min/avg/max = 0/0/0 ms
      r2#`),
    );
    expect(b.type('r2', 'traceroute 10.1.0.10\r')).toBe(
      dedent(`
      traceroute 10.1.0.10
      Type escape sequence to abort.
      Tracing the route to 10.1.0.10
      VRF info: (vrf in name/id, vrf out name/id)
        1 10.2.0.1 0 msec 0 msec 0 msec
        2 10.1.0.10 0 msec 0 msec 0 msec
      r2#`),
    );
    b.lines('r2', 'conf t', 'no ip route 10.1.0.0 255.255.255.0 10.2.0.1', 'no ip route 0.0.0.0 0.0.0.0', 'end');
    expect(b.type('r2', 'ping 10.1.0.10 repeat 2 timeout 1\r')).toContain('Success rate is 0 percent (0/2)');
    expect(b.type('r2', 'conf t\rno ip route 10.9.9.0 255.255.255.0\r')).toContain('%No matching route to delete');
  });

  it('ping shows U for an unreachable, dots for silence, and stops on Ctrl-Shift-6', () => {
    const b = bench();
    b.lines('r2', 'enable', 'conf t', 'ip route 0.0.0.0 0.0.0.0 10.2.0.1', 'end');
    expect(b.type('r2', 'ping 10.77.0.1 repeat 3\r')).toBe(
      dedent(`
      ping 10.77.0.1 repeat 3
      Type escape sequence to abort.
      Sending 3, 100-byte ICMP Echos to 10.77.0.1, timeout is 2 seconds:
      UUU
      Success rate is 0 percent (0/3)
      r2#`),
    );
    expect(b.type('r2', 'ping 10.2.0.99 repeat 2 timeout 1\r')).toContain('Sending 2, 100-byte ICMP Echos to 10.2.0.99, timeout is 1 seconds:\n..\nSuccess rate is 0 percent (0/2)\n');
    expect(b.type('r2', 'ping 10.1.0.10 source 10.2.0.2 repeat 1\r')).toContain('Packet sent with a source address of 10.2.0.2 \n!\nSuccess rate is 100 percent (1/1)');
    const c = b.console('r2');
    let out = '';
    const off = c.onOutput((t) => (out += t));
    c.input('ping 10.2.0.99 repeat 100000\r');
    b.wait(5e9);
    c.input('\x1e');
    b.rt.engine.runUntilCondition(() => !c.busy, 10e9);
    off();
    expect(out.replace(/\r\n/g, '\n')).toMatch(/seconds:\n\.\.\.?\nSuccess rate is 0 percent \(0\/3\)\nr2#$/);
  });

  it('counts the sequence number past 65535 as the wire does', () => {
    const b = bench();
    b.type('r1', 'enable\r');
    expect(b.type('r1', 'ping 10.1.0.10 repeat 65540\r')).toContain('Success rate is 100 percent (65540/65540), round-trip min/avg/max = 0/0/0 ms');
  });
});

describe('IOS access lists', () => {
  it('standard and extended lists applied with ip access-group filter traffic on the live router', () => {
    const b = bench();
    b.lines('r1', 'enable', 'conf t', 'access-list 101 deny icmp host 10.1.0.10 host 10.2.0.10 echo', 'access-list 101 permit ip any any', 'int g0/0', 'ip access-group 101 in', 'end');
    expect(b.type('pc1', 'ping 10.2.0.10 -c 1\r')).toBe('ping 10.2.0.10 -c 1\n*10.1.0.1 icmp_seq=1 ttl=255 time=0.000 ms (ICMP type:3, code:13, Communication administratively prohibited)\n\npc1> ');
    expect(b.type('pc1', 'ping 10.2.0.1 -c 1\r')).toContain('10.2.0.1 icmp_seq=1 ttl=255');
    expect(b.type('r1', 'show access-lists\r')).toBe(
      dedent(`
      show access-lists
      Extended IP access list 101
          10 deny icmp host 10.1.0.10 host 10.2.0.10 echo (1 matches)
          20 permit ip any any (1 matches)
      r1#`),
    );
    b.lines('r1', 'conf t', 'access-list 10 deny 10.1.0.10', 'access-list 10 permit any', 'int g0/1', 'ip access-group 10 out', 'int g0/0', 'no ip access-group 101 in', 'end');
    expect(b.type('pc1', 'ping 10.2.0.10 -c 1\r')).toContain('(ICMP type:3, code:13, Communication administratively prohibited)');
    b.lines('r1', 'conf t', 'no access-list 10', 'end');
    expect(b.type('pc1', 'ping 10.2.0.10 -c 1\r')).toContain('10.2.0.10 icmp_seq=1 ttl=63');
    expect(b.type('r1', 'show running-config\r')).toContain(' ip access-group 10 out\n');
  });

  it('refuses a rule IOS would not take', () => {
    const b = bench();
    b.lines('r1', 'enable', 'conf t');
    expect(b.type('r1', 'access-list 101 permit tcp any any eq 99999\r')).toContain('% Invalid access list entry: bad port 99999');
    expect(b.type('r1', 'ip access-list standard OFFICE\r')).toContain('named standard access lists are not supported');
  });
});

describe('IOS DHCP server, relay and NAT', () => {
  it('a pool made on the console leases to a host on the live router, show ip dhcp binding lists it', () => {
    const b = bench();
    b.lines('r1', 'enable', 'conf t', 'int g0/2', 'ip address 10.3.0.1 255.255.255.0', 'exit', 'ip dhcp excluded-address 10.3.0.1 10.3.0.9', 'ip dhcp pool NET3', 'network 10.3.0.0 255.255.255.0', 'default-router 10.3.0.1', 'dns-server 10.3.0.1', 'lease 0 4', 'end');
    expect(b.type('pc3', 'ip dhcp\r')).toMatch(/^ip dhcp\nDORA IP 10\.3\.0\.10\/24 GW 10\.3\.0\.1\n\npc3> $/);
    const bind = b.type('r1', 'show ip dhcp binding\r');
    expect(bind).toContain('IP address          Client-ID/              Lease expiration        Type\n');
    expect(bind).toMatch(/\n10\.3\.0\.10 +01[0-9a-f.]+ +Jan 01 1970 0\d:\d\d AM +Automatic\n/);
    expect(b.type('r1', 'show running-config\r')).toContain(
      'ip dhcp excluded-address 10.3.0.1 10.3.0.9\n!\nip dhcp pool NET3\n network 10.3.0.0 255.255.255.0\n default-router 10.3.0.1\n dns-server 10.3.0.1\n lease 0 4\n!',
    );
  });

  it('ip helper-address relays a host\'s DHCP to a server on another subnet', () => {
    const b = bench();
    b.lines('r2', 'enable', 'conf t', 'ip route 10.3.0.0 255.255.255.0 10.2.0.1', 'ip dhcp pool FAR', 'network 10.3.0.0 255.255.255.0', 'default-router 10.3.0.1', 'end');
    b.lines('r1', 'enable', 'conf t', 'int g0/2', 'ip address 10.3.0.1 255.255.255.0', 'ip helper-address 10.2.0.2', 'end');
    expect(b.type('pc3', 'ip dhcp\r')).toMatch(/IP 10\.3\.0\.\d+\/24 GW 10\.3\.0\.1/);
  });

  it('NAT overload made on the console translates, and the outside host cannot reach in', () => {
    const b = bench();
    // r2 knows no route to 10.1.0.0/24: only NAT brings answers back.
    b.lines('r1', 'enable', 'conf t', 'int g0/0', 'ip nat inside', 'int g0/1', 'ip nat outside', 'exit', 'access-list 1 permit 10.1.0.0 0.0.0.255', 'ip nat inside source list 1 interface g0/1 overload', 'end');
    expect(b.type('pc1', 'ping 10.2.0.2 -c 2\r')).toContain('10.2.0.2 icmp_seq=2 ttl=254');
    expect(b.type('r1', 'show ip nat translations\r')).toMatch(/icmp 10\.2\.0\.1:\d+ +10\.1\.0\.10:\d+ +10\.2\.0\.2:\d+ +10\.2\.0\.2:\d+\n/);
    b.lines('r1', 'conf t', 'ip nat inside source static 10.1.0.10 10.2.0.50', 'end');
    expect(b.type('r2', 'ping 10.2.0.50 repeat 1\r')).toContain('Success rate is 100 percent (1/1)');
    b.lines('r1', 'conf t', 'no ip nat inside source list 1 interface g0/1 overload', 'no ip nat inside source static 10.1.0.10 10.2.0.50', 'end');
    expect(b.type('r1', 'show ip nat translations\r')).toBe('show ip nat translations\nPro Inside global       Inside local        Outside local       Outside global\nr1#');
  });
});

describe('IOS hostname, write memory, reload', () => {
  it('write memory hands the node\'s lab.yaml entry to the caller; hostname renames the node', () => {
    const b = bench();
    b.lines('r1', 'enable', 'conf t', 'hostname R1', 'int g0/3', 'description uplink to nowhere', 'ip address 10.9.0.1 255.255.255.0', 'end');
    expect(b.type('r1', 'write memory\r')).toBe(
      'write memory\nBuilding configuration...\n[OK]\nR1#',
    );
    const req = b.saves[0]!;
    expect(req.node).toBe('r1');
    expect(req.rename).toBe('R1');
    expect(req.spec).toEqual({ kind: 'router', interfaces: { 'g0/0': { ip: '10.1.0.1/24' }, 'g0/1': { ip: '10.2.0.1/24' }, 'g0/3': { ip: '10.9.0.1/24', description: 'uplink to nowhere' } } });
    expect(Object.keys(b.file.nodes!)).toEqual(['pc1', 'pc2', 'pc3', 'R1', 'r2', 'sw1', 'sw2']);
    expect(b.file.links).toContainEqual(['sw1:e3', 'R1:g0/0']);
    expect(b.type('R1'.toLowerCase(), 'copy running-config startup-config\r')).toBe('copy running-config startup-config\nDestination filename [startup-config]? ');
    expect(b.type('r1', '\r')).toContain('[OK]\nR1#');
  });

  it('show startup-config is the lab.yaml entry; reload brings the node back to it', () => {
    const b = bench();
    b.lines('r1', 'enable', 'conf t', 'int g0/3', 'ip address 10.9.0.1 255.255.255.0', 'end');
    const start = b.type('r1', 'show startup-config\r');
    expect(start).toMatch(/^show startup-config\nUsing \d+ out of 262136 bytes\n!\nversion 15.2\n/);
    expect(start).not.toContain('10.9.0.1');
    expect(b.type('r1', 'reload\r')).toBe('reload\n\nSystem configuration has been modified. Save? [yes/no]: ');
    expect(b.type('r1', 'no\r')).toBe('no\nProceed with reload? [confirm]');
    const boot = b.type('r1', '\r');
    expect(boot).toContain('%SYS-5-RELOAD: Reload requested by console. Reload Reason: Reload Command.\n');
    expect(boot).toContain('Press RETURN to get started.');
    expect(b.type('r1', '\r')).toBe('\nr1>');
    expect(b.lines('r1', 'enable', 'show ip interface brief')).toContain('GigabitEthernet0/3         unassigned      YES unset  down                  down');
  });
});

describe('IOS switch', () => {
  it('vlan, name, switchport access vlan and show vlan brief; a port moved to another VLAN is cut off', () => {
    const b = bench();
    expect(b.type('pc1', 'ping 10.1.0.1 -c 1\r')).toContain('10.1.0.1 icmp_seq=1 ttl=255');
    const t = b.lines('sw1', 'enable', 'conf t', 'vlan 20', 'name USERS', 'exit', 'int e0', 'switchport mode access', 'switchport access vlan 20', 'int e1', 'switchport access vlan 30', 'end', 'show vlan brief');
    expect(t).toContain('sw1(config-if)#switchport access vlan 30\n% Access VLAN does not exist. Creating vlan 30\nsw1(config-if)#end\n');
    expect(t).toContain(
      dedent(`
      VLAN Name                             Status    Ports
      ---- -------------------------------- --------- -------------------------------
      1    default                          active    Et2, Et3
      20   USERS                            active    Et0
      30   VLAN0030                         active    Et1
      1002 fddi-default                     act/unsup 
      `),
    );
    // pc1 still knows r1's MAC, so its echo request leaves, into a VLAN r1 is not in.
    expect(b.type('pc1', 'ping 10.1.0.1 -c 1\r')).toContain('10.1.0.1 icmp_seq=1 timeout');
    b.lines('sw1', 'conf t', 'int e3', 'switchport access vlan 20', 'end');
    expect(b.type('pc1', 'ping 10.1.0.1 -c 1\r')).toContain('10.1.0.1 icmp_seq=1 ttl=255');
    expect(b.type('sw1', 'show mac address-table\r')).toMatch(/Vlan    Mac Address       Type        Ports\n----    -----------       --------    -----\n(  20    [0-9a-f.]{14}    DYNAMIC     Et[03]\n){2}Total Mac Addresses for this criterion: 2\n/);
  });

  it('write memory keeps VLAN names and port descriptions in lab.yaml, and they come back from it', () => {
    const b = bench();
    b.lines('sw1', 'enable', 'conf t', 'vlan 20', 'name USERS', 'exit', 'int e0', 'description to pc1', 'switchport access vlan 20', 'end');
    expect(b.type('sw1', 'write memory\r')).toBe('write memory\nBuilding configuration...\n[OK]\nsw1#');
    const spec = b.saves[0]!.spec as { vlans?: unknown; interfaces?: Record<string, unknown> };
    expect(spec.vlans).toEqual({ '20': { name: 'USERS' } });
    expect(spec.interfaces?.['e0']).toEqual({ mode: 'access', vlan: 20, description: 'to pc1' });
    // The saved entry is a valid lab file entry, and a console made from it shows the same.
    const again = new Bench(stringifyYaml(b.file));
    expect(again.lines('sw1', 'enable', 'show running-config')).toMatch(/\ninterface Ethernet0\n description to pc1\n/);
    expect(again.lines('sw1', 'show vlan brief')).toMatch(/\n20   USERS  /);
  });

  it('trunk allowed and native VLAN, spanning-tree mode and priority', () => {
    const b = bench();
    const t = b.lines('sw1', 'enable', 'conf t', 'int e3', 'switchport mode trunk', 'switchport trunk allowed vlan 10,20', 'switchport trunk allowed vlan add 30-32', 'switchport trunk allowed vlan remove 20', 'switchport trunk native vlan 99', 'exit', 'spanning-tree mode pvst', 'spanning-tree vlan 1 priority 4096', 'end', 'show running-config');
    expect(t).toContain('spanning-tree mode pvst\nspanning-tree extend system-id\nspanning-tree vlan 1-4094 priority 4096\n');
    expect(t).toContain('interface Ethernet3\n switchport trunk allowed vlan 10,30-32\n switchport trunk native vlan 99\n switchport mode trunk\n!');
    expect(b.type('sw1', 'show spanning-tree\r')).toContain('  Spanning tree enabled protocol ieee\n  Root ID    Priority    4096\n');
    expect(b.lines('sw1', 'conf t', 'spanning-tree vlan 1 priority 100')).toContain('% Bridge Priority must be in increments of 4096.');
    expect(b.lines('sw1', 'spanning-tree mode mst')).toContain('one spanning tree runs for all VLANs');
    expect(b.lines('sw1', 'no spanning-tree vlan 1', 'do show spanning-tree')).toContain('No spanning tree instance exists.');
  });
});
