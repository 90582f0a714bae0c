import { describe, expect, it } from 'vitest';
import { stableMac } from '../../devices/device.js';
import {
  LinkSchema,
  NodeSchema,
  describeZodIssues,
  formatLabErrors,
  formatPath,
  labFileToYaml,
  loadLabText,
  validateLab,
  type Lab,
  type LabHost,
  type LabRouter,
  type LabSwitch,
  type LabVmnet,
} from '../../devices/lab/index.js';
import { ip4ToString, parseIp4 } from '../../devices/wire/bytes.js';

/** The lab file example the project was specified with, verbatim. */
const SPEC_EXAMPLE = `wirelab: 1                        # format version; anything else is refused with a clear error
name: office                      # [a-z0-9][a-z0-9_-]{0,62}; equals the folder name
description: Two PCs behind a NAT network and a routed branch
networks:
  vmnet8:
    type: nat                     # nat | host-only | bridged | segment
    subnet: 192.168.145.0/24      # nat/host-only: omitted -> a random free 192.168.X.0/24
    dhcp:                         # nat/host-only: on by default, server at .254
      range: 192.168.145.128-192.168.145.253   # default .128-.253
      lease: 30m
      reservations: [{ node: pc1, ip: 192.168.145.10 }]   # by node (or by mac:)
    host-adapter: true            # the host itself at .1 (a TAP on the host where permitted)
    nat:                          # type nat only; the gateway is always .2 and is also the DNS server
      port-forwards: [{ proto: tcp, host: "127.0.0.1:8080", guest: "192.168.145.10:80" }]
  vmnet1: { type: host-only }     # DHCP .254, host adapter .1, no way out
  vmnet0: { type: bridged, interface: veth-lab }   # bridged to a real NIC (needs CAP_NET_RAW)
  seg-a:  { type: segment }       # a LAN segment: no DHCP, no host adapter
nodes:
  pc1:
    kind: host
    interfaces: { eth0: { network: vmnet8, ip: dhcp } }   # reserved below: always 192.168.145.10
    services: { http: { port: 80, body: "hello from pc1" } }
  pc2:
    kind: host
    interfaces: { eth0: { ip: 10.1.0.10/24, gateway: 10.1.0.1 } }
  sw1:
    kind: switch
    ports: 8                      # e0 .. e7
    stp: true
    interfaces:
      e0: { mode: access, vlan: 10 }
      e7: { mode: trunk, allowed: [10, 20], native: 1 }
  r1:
    kind: router
    interfaces:
      g0/0: { network: vmnet8, ip: 192.168.145.20/24 }
      g0/1: { ip: 10.1.0.1/24 }
      g0/2.20: { vlan: 20, ip: 10.2.0.1/24 }          # 802.1Q sub-interface
    routes: [{ to: 0.0.0.0/0, via: 192.168.145.2 }]
    dhcp-server:                  # a pool serves one interface's subnet (interface:), or a subnet whose
      pools:                      # clients come through a relay (network:, matched by the relay's giaddr)
        - { interface: g0/2.20, range: 10.2.0.100-10.2.0.199, gateway: 10.2.0.1, dns: [10.2.0.1], lease: 1h }
    dhcp-relay: { g0/1: 10.9.0.5 }  # DHCP for g0/1's clients comes from a server at 10.9.0.5
    nat: { inside: [g0/1], outside: g0/0, overload: true }
  ext:
    kind: cloud                   # a way out to real equipment
    endpoint: { type: udp, local: "127.0.0.1:20001", remote: "127.0.0.1:20002" }  # or tap / nic
links:
  - [pc2:eth0, sw1:e1]                                    # short form
  - { endpoints: [r1:g0/1, sw1:e7], delay: 5ms, jitter: 1ms, loss: 0.5%, rate: 100mbit }
  - [ext:eth0, sw1:e2]
checks:                                                   # PoC validation, see section 5
  - { name: pc1 leases, dhcp: { node: pc1, in: 192.168.145.0/24 } }
  - { name: pc2 out through r1's NAT, trace: { from: pc2, to: 192.168.145.2, hops: [10.1.0.1, 192.168.145.2] } }
  - { name: pc1 serves the web, http: { from: pc2, url: "http://192.168.145.10/", contains: hello } }
  - { name: nothing answers there, ping: { from: pc2, to: 10.1.0.99 }, expect: failure }
`;

const ip = (s: string) => parseIp4(s)!;

function load(text: string, folderName?: string): Lab {
  const r = loadLabText(text, 'lab.yaml', folderName === undefined ? {} : { folderName });
  if (!r.ok) throw new Error(formatLabErrors(r.errors));
  return r.lab;
}
function errors(text: string, folderName?: string): string[] {
  const r = loadLabText(text, 'lab.yaml', folderName === undefined ? {} : { folderName });
  if (r.ok) throw new Error('expected the lab to be refused');
  return formatLabErrors(r.errors).split('\n');
}
/** The model without the file it came from, to compare two loads. */
function model(lab: Lab): Omit<Lab, 'file'> {
  const { file: _file, ...rest } = lab;
  return rest;
}

describe('the lab file example of the specification', () => {
  const lab = load(SPEC_EXAMPLE, 'office');

  it('loads as written', () => {
    expect(lab.name).toBe('office');
    expect(lab.description).toBe('Two PCs behind a NAT network and a routed branch');
    expect(Object.keys(lab.networks)).toEqual(['vmnet8', 'vmnet1', 'vmnet0', 'seg-a']);
    expect(Object.keys(lab.nodes)).toEqual(['pc1', 'pc2', 'sw1', 'r1', 'ext']);
    // It has a cloud, a bridged network and a NAT network: it has to run in real time.
    expect(lab.time).toBe('real');
    expect(lab.timeExplicit).toBe(false);
  });

  it('is refused when its folder has another name', () => {
    expect(errors(SPEC_EXAMPLE, 'branch')).toEqual([
      'lab.yaml:2:7: name: the lab is named "office" but its folder is "branch"; they must be the same',
    ]);
  });

  it('gives the NAT network VMware addresses and the reservation a MAC', () => {
    const vmnet8 = lab.networks['vmnet8'] as LabVmnet;
    expect(vmnet8.type).toBe('nat');
    expect(ip4ToString(vmnet8.subnet.network)).toBe('192.168.145.0');
    expect(ip4ToString(vmnet8.hostIp)).toBe('192.168.145.1');
    expect(ip4ToString(vmnet8.nat!.gatewayIp)).toBe('192.168.145.2');
    expect(ip4ToString(vmnet8.dhcp.serverIp)).toBe('192.168.145.254');
    expect(vmnet8.dhcp.range).toEqual({ start: ip('192.168.145.128'), end: ip('192.168.145.253') });
    expect(vmnet8.dhcp.leaseNs).toBe(30 * 60e9);
    expect(vmnet8.dhcp.reservations).toEqual([{ ip: ip('192.168.145.10'), mac: stableMac('office', 'pc1', 'eth0'), node: 'pc1', iface: 'eth0' }]);
    expect(vmnet8.nat!.portForwards).toEqual([
      { proto: 'tcp', host: { ip: ip('127.0.0.1'), port: 8080 }, guest: { ip: ip('192.168.145.10'), port: 80 } },
    ]);
    expect(vmnet8.attached).toEqual([
      { node: 'pc1', iface: 'eth0' },
      { node: 'r1', iface: 'g0/0' },
    ]);
  });

  it('chooses a 192.168.X.0/24 for the host-only network that has none', () => {
    const vmnet1 = lab.networks['vmnet1'] as LabVmnet;
    expect(vmnet1.subnetAuto).toBe(true);
    expect(vmnet1.subnet.prefix).toBe(24);
    expect(ip4ToString(vmnet1.subnet.network)).toMatch(/^192\.168\.\d+\.0$/);
    expect(vmnet1.subnet.network).not.toBe(ip('192.168.145.0'));
    expect(vmnet1.nat).toBeUndefined();
    expect(vmnet1.dhcp.enabled).toBe(true);
    expect(lab.networks['vmnet0']).toMatchObject({ type: 'bridged', interface: 'veth-lab' });
    expect(lab.networks['seg-a']).toMatchObject({ type: 'segment', attached: [] });
  });

  it('lists every node interface with its defaults', () => {
    const pc1 = lab.nodes['pc1'] as LabHost;
    expect(pc1.interfaces).toEqual([
      { name: 'eth0', mac: stableMac('office', 'pc1', 'eth0'), macExplicit: false, network: 'vmnet8', ip: { mode: 'dhcp' }, gateway: undefined, vlan: undefined },
    ]);
    expect(pc1.services.http).toEqual({ port: 80, body: 'hello from pc1' });
    const pc2 = lab.nodes['pc2'] as LabHost;
    expect(pc2.interfaces[0]!.ip).toMatchObject({ mode: 'static', cidr: { ip: ip('10.1.0.10'), prefix: 24 } });
    expect(pc2.interfaces[0]!.gateway).toBe(ip('10.1.0.1'));

    const sw1 = lab.nodes['sw1'] as LabSwitch;
    expect(sw1.interfaces.map((i) => i.name)).toEqual(['e0', 'e1', 'e2', 'e3', 'e4', 'e5', 'e6', 'e7']);
    expect(sw1.stp).toBe('rstp');
    expect(sw1.interfaces[0]).toMatchObject({ mode: 'access', vlan: 10 });
    expect(sw1.interfaces[1]).toMatchObject({ mode: 'access', vlan: 1 });
    expect(sw1.interfaces[7]).toMatchObject({ mode: 'trunk', allowed: [10, 20], native: 1 });

    const r1 = lab.nodes['r1'] as LabRouter;
    expect(r1.interfaces.map((i) => i.name)).toEqual(['g0/0', 'g0/1', 'g0/2', 'g0/3']);
    expect(r1.interfaces[0]).toMatchObject({ network: 'vmnet8', ip: { ip: ip('192.168.145.20'), prefix: 24 } });
    expect(r1.interfaces[2]!.ip).toBeUndefined();
    expect(r1.subinterfaces).toEqual([
      { name: 'g0/2.20', parent: 'g0/2', vlan: 20, ip: expect.objectContaining({ ip: ip('10.2.0.1'), prefix: 24 }), mac: r1.interfaces[2]!.mac, shutdown: false },
    ]);
    expect(r1.routes).toEqual([{ to: expect.objectContaining({ network: 0, prefix: 0 }), via: ip('192.168.145.2'), iface: undefined, distance: 1 }]);
    expect(r1.acls).toEqual({});
    expect(r1.dhcpPools).toEqual([
      {
        name: 'pool1',
        interface: 'g0/2.20',
        subnet: expect.objectContaining({ network: ip('10.2.0.0'), prefix: 24 }),
        range: { start: ip('10.2.0.100'), end: ip('10.2.0.199') },
        gateway: ip('10.2.0.1'),
        dns: [ip('10.2.0.1')],
        leaseNs: 3600e9,
        reservations: [],
        excluded: [{ start: ip('10.2.0.1'), end: ip('10.2.0.1') }],
      },
    ]);
    expect(r1.dhcpRelays).toEqual([{ iface: 'g0/1', server: ip('10.9.0.5') }]);
    expect(r1.nat).toEqual({ inside: ['g0/1'], outside: 'g0/0', overload: true, static: [] });

    expect(lab.nodes['ext']).toMatchObject({
      kind: 'cloud',
      endpoint: { type: 'udp', local: { ip: ip('127.0.0.1'), port: 20001 }, remote: { ip: ip('127.0.0.1'), port: 20002 } },
      interfaces: [{ name: 'eth0' }],
    });
    expect(Object.values(lab.nodes).map((n) => n.console)).toEqual([5000, 5001, 5002, 5003, 5004]);
  });

  it('turns network: keys and links into one list of cables with engine impairments', () => {
    expect(lab.links.map((l) => l.id)).toEqual(['pc1:eth0--vmnet8', 'r1:g0/0--vmnet8', 'pc2:eth0--sw1:e1', 'r1:g0/1--sw1:e7', 'ext:eth0--sw1:e2']);
    expect(lab.links[0]).toEqual({
      id: 'pc1:eth0--vmnet8',
      a: { kind: 'iface', node: 'pc1', iface: 'eth0' },
      b: { kind: 'network', network: 'vmnet8' },
      impairments: {},
      suspended: false,
      origin: { kind: 'network-key' },
    });
    expect(lab.links[3]).toMatchObject({
      b: { kind: 'iface', node: 'sw1', iface: 'e7' },
      impairments: { delayNs: 5_000_000, jitterNs: 1_000_000, loss: 0.005, rateBps: 100_000_000 },
      origin: { kind: 'link', index: 1 },
    });
  });

  it('parses the checks, with their defaults', () => {
    expect(lab.checks.map((c) => [c.name, c.kind, c.expect])).toEqual([
      ['pc1 leases', 'dhcp', 'success'],
      ["pc2 out through r1's NAT", 'trace', 'success'],
      ['pc1 serves the web', 'http', 'success'],
      ['nothing answers there', 'ping', 'failure'],
    ]);
    expect(lab.checks[0]).toMatchObject({ kind: 'dhcp', node: 'pc1', iface: 'eth0', in: { network: ip('192.168.145.0'), prefix: 24 } });
    expect(lab.checks[1]).toMatchObject({ kind: 'trace', from: 'pc2', to: { ip: ip('192.168.145.2') }, hops: [ip('10.1.0.1'), ip('192.168.145.2')] });
    expect(lab.checks[2]).toMatchObject({ kind: 'http', from: 'pc2', url: 'http://192.168.145.10/', status: 200, contains: 'hello' });
    expect(lab.checks[3]).toMatchObject({ kind: 'ping', from: 'pc2', to: { ip: ip('10.1.0.99') }, count: 3, timeoutNs: 30e9 });
  });

  it('round-trips: the file model written back loads to the same lab', () => {
    const again = load(labFileToYaml(lab.file), 'office');
    expect(model(again)).toEqual(model(lab));
    expect(again.file).toEqual(lab.file);
  });

  it('keeps the file as written: raw strings, no defaults added', () => {
    expect(lab.file.links![1]).toEqual({ endpoints: ['r1:g0/1', 'sw1:e7'], delay: '5ms', jitter: '1ms', loss: '0.5%', rate: '100mbit' });
    expect(lab.file.nodes!['pc2']).toEqual({ kind: 'host', interfaces: { eth0: { ip: '10.1.0.10/24', gateway: '10.1.0.1' } } });
    expect(lab.file.networks!['vmnet1']).toEqual({ type: 'host-only' });
  });
});

describe('defaults', () => {
  const minimal = `
wirelab: 1
name: mini
nodes:
  h: { kind: host }
  s: { kind: switch }
  r: { kind: router }
  x: { kind: hub }
networks:
  lan: { type: host-only }
`;
  const explicit = `
wirelab: 1
name: mini
time: virtual
seed: 1
nodes:
  h:
    kind: host
    console: 5000
    interfaces: { eth0: {} }
  s:
    kind: switch
    ports: 8
    stp: true
    stp-priority: 32768
    console: 5001
    interfaces:
      e0: { mode: access, vlan: 1, shutdown: false }
      e7: { mode: access, vlan: 1 }
  r:
    kind: router
    console: 5002
    interfaces: { g0/0: { shutdown: false }, g0/3: {} }
  x: { kind: hub, ports: 4, console: 5003 }
networks:
  lan:
    type: host-only
    subnet: SUBNET
    host-adapter: true
    dhcp: { enabled: true, range: RANGE, lease: 30m }
`;

  it('fill interfaces by kind, consoles, time and the network', () => {
    const lab = load(minimal);
    const names = (n: string) => (lab.nodes[n]!.interfaces as { name: string }[]).map((i) => i.name);
    expect(names('h')).toEqual(['eth0']);
    expect(names('s')).toEqual(['e0', 'e1', 'e2', 'e3', 'e4', 'e5', 'e6', 'e7']);
    expect(names('r')).toEqual(['g0/0', 'g0/1', 'g0/2', 'g0/3']);
    expect(names('x')).toEqual(['p0', 'p1', 'p2', 'p3']);
    expect(lab.time).toBe('virtual');
    expect(lab.seed).toBe(1);
    const s = lab.nodes['s'] as LabSwitch;
    expect(s).toMatchObject({ stp: 'rstp', stpPriority: 32768 });
    expect(s.interfaces.every((i) => i.mode === 'access' && i.vlan === 1 && !i.shutdown)).toBe(true);
    const h = lab.nodes['h'] as LabHost;
    expect(h.interfaces[0]!.ip).toEqual({ mode: 'none' });
    expect(h.interfaces[0]!.mac).toBe(stableMac('mini', 'h', 'eth0'));
    expect(lab.links).toEqual([]);
    expect(lab.checks).toEqual([]);
  });

  it('are the same as writing every default out', () => {
    const lab = load(minimal);
    const lan = lab.networks['lan'] as LabVmnet;
    const net = ip4ToString(lan.subnet.network);
    const base = net.slice(0, net.lastIndexOf('.'));
    const full = load(explicit.replace('SUBNET', `${net}/24`).replace('RANGE', `${base}.128-${base}.253`));
    const { subnetAuto, ...lanRest } = lan;
    expect(subnetAuto).toBe(true);
    expect(full.networks['lan']).toEqual({ ...lanRest, subnetAuto: false });
    for (const n of Object.values(full.nodes)) {
      expect(n.consoleExplicit).toBe(true);
      n.consoleExplicit = false;
    }
    expect({ ...model(full), networks: {}, timeExplicit: false }).toEqual({ ...model(lab), networks: {} });
  });

  it('choose the same free subnet on every load, moving off subnets the lab uses', () => {
    const first = (load(minimal).networks['lan'] as LabVmnet).subnet;
    expect((load(minimal).networks['lan'] as LabVmnet).subnet).toEqual(first);
    const taken = `${ip4ToString(first.network + 10)}/24`;
    const crowded = load(`${minimal}  other: { type: segment }\n`.replace('h: { kind: host }', `h: { kind: host, interfaces: { eth0: { ip: ${taken} } } }`));
    const moved = (crowded.networks['lan'] as LabVmnet).subnet;
    expect(moved.network).not.toBe(first.network);
    expect(ip4ToString(moved.network)).toMatch(/^192\.168\.\d+\.0$/);
  });

  it('give pingall every host when among is left out, and name checks', () => {
    const lab = load(`
wirelab: 1
name: ping
nodes:
  a: { kind: host }
  b: { kind: host }
  s: { kind: switch }
  c: { kind: host }
checks:
  - pingall: {}
  - { ping: { from: a, to: c } }
`);
    expect(lab.checks[0]).toMatchObject({ kind: 'pingall', among: ['a', 'b', 'c'], name: 'pingall (all hosts)' });
    expect(lab.checks[1]).toMatchObject({ kind: 'ping', name: 'ping a -> c', to: { text: 'c', node: 'c', ip: undefined } });
  });

  it('put the interface at a when a link lists the network first', () => {
    const lab = load(`
wirelab: 1
name: net
networks: { seg: { type: segment } }
nodes: { a: { kind: host } }
links: [[seg, a:eth0]]
`);
    expect(lab.links).toEqual([
      { id: 'a:eth0--seg', a: { kind: 'iface', node: 'a', iface: 'eth0' }, b: { kind: 'network', network: 'seg' }, impairments: {}, suspended: false, origin: { kind: 'link', index: 0 } },
    ]);
    expect((lab.nodes['a'] as LabHost).interfaces[0]!.network).toBe('seg');
    expect(lab.networks['seg']!.attached).toEqual([{ node: 'a', iface: 'eth0' }]);
  });

  it('carry access lists and their use on interfaces to the router', () => {
    const lab = load(`
wirelab: 1
name: acl
nodes:
  r1:
    kind: router
    interfaces:
      g0/0: { ip: 10.0.0.1/24, acl-in: BLOCK }
      g0/1.20: { vlan: 20, ip: 10.2.0.1/24, acl-out: "10" }
    acls:
      BLOCK: ["deny icmp any host 10.2.0.10", "permit ip any any"]
      "10": [permit 10.0.0.0 0.0.0.255]
    routes: [{ to: 10.9.0.0/16, via: 10.0.0.2, interface: g0/0, distance: 200 }]
`);
    const r1 = lab.nodes['r1'] as LabRouter;
    expect(r1.acls).toEqual({ BLOCK: ['deny icmp any host 10.2.0.10', 'permit ip any any'], '10': ['permit 10.0.0.0 0.0.0.255'] });
    expect(r1.interfaces[0]).toMatchObject({ aclIn: 'BLOCK', aclOut: undefined });
    expect(r1.subinterfaces[0]).toMatchObject({ aclIn: undefined, aclOut: '10' });
    expect(r1.routes[0]).toMatchObject({ via: ip('10.0.0.2'), iface: 'g0/0', distance: 200 });
  });

  it('honour an explicit time even with real endpoints', () => {
    const lab = load('wirelab: 1\nname: t\ntime: virtual\nnetworks: { n: { type: nat } }\n');
    expect(lab.time).toBe('virtual');
    expect(lab.timeExplicit).toBe(true);
  });
});

describe('error reporting', () => {
  it('reports errors from every part together: schema errors and cross-field ones', () => {
    expect(
      errors(`wirelab: 1
name: many
nodes:
  pc1: { kind: host, interfaces: { eth0: { ip: 10.0.0.1 } } }
  pc2: { kind: host }
  sw1: { kind: switch }
links:
  - [pc1:eth0, sw1:e0]
  - [pc2:eth0, sw1:e9]
checks:
  - ping: { from: pc3, to: 10.0.0.1 }
`),
    ).toEqual([
      'lab.yaml:4:48: nodes.pc1.interfaces.eth0.ip: "10.0.0.1" needs a prefix length, like 10.0.0.1/24',
      'lab.yaml:9:16: links[1][1]: sw1 has no interface e9; it has e0..e7',
      'lab.yaml:11:19: checks[0].ping.from: no node named "pc3" (did you mean pc1 or pc2?)',
    ]);
  });

  it('does not invent errors about parts that are broken already', () => {
    // pc1 is invalid; the link to it and the check from it are not reported again.
    expect(
      errors(`wirelab: 1
name: quiet
nodes:
  pc1: { kind: host, colour: red }
  sw1: { kind: switch }
links: [[pc1:eth7, sw1:e0]]
checks: [{ ping: { from: pc1, to: 10.0.0.9 } }]
`),
    ).toEqual(['lab.yaml:4:22: nodes.pc1.colour: unknown key "colour"; the keys here are kind, interfaces, dns, services, ui, console']);
  });

  it('reports a duplicate key together with the schema errors of the rest', () => {
    expect(errors('wirelab: 1\nname: dup\nname: dup\nnodes: { a: { kind: hots } }\n')).toEqual([
      'lab.yaml:3:1: name: duplicate key (first at line 2)',
      'lab.yaml:4:21: nodes.a.kind: unknown kind "hots"; it is one of host, switch, router, hub, cloud',
    ]);
  });

  it('points at the parent key for a missing key in a block mapping', () => {
    expect(errors('wirelab: 1\nname: m\nnetworks:\n  br:\n    type: bridged\n')).toEqual([
      'lab.yaml:4:3: networks.br.interface: missing: this key is required',
    ]);
  });

  it('reports an empty file as such', () => {
    expect(errors('')).toEqual(['lab.yaml:1:1: (top): expected a mapping (key: value), got nothing (an empty value)']);
    expect(errors('# only a comment\n')).toEqual(['lab.yaml:1:1: (top): expected a mapping (key: value), got nothing (an empty value)']);
  });

  it('formats errors as file:line:column: field: message, one per line', () => {
    const r = loadLabText('wirelab: 1\nname: X\n', 'labs/x/lab.yaml');
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors).toEqual([
      { file: 'labs/x/lab.yaml', line: 2, column: 7, field: 'name', message: '"X": a lab name is 1..63 lowercase letters, digits, - or _, starting with a letter or digit' },
    ]);
    expect(formatLabErrors(r.errors)).toBe('labs/x/lab.yaml:2:7: name: "X": a lab name is 1..63 lowercase letters, digits, - or _, starting with a letter or digit');
  });

  it('refuses an alias bomb instead of expanding it', () => {
    const bomb = ['wirelab: 1', 'name: bomb', 'a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 0; i < 6; i++) bomb.push(`${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}]`);
    const out = errors(bomb.join('\n') + '\n');
    expect(out).toHaveLength(1);
    expect(out[0]).toMatch(/^lab\.yaml:1:1: \(syntax\): .*alias/i);
  });
});

describe('per-part schemas for API bodies', () => {
  it('validate a node body and word errors like the loader', () => {
    expect(NodeSchema.safeParse({ kind: 'switch', ports: 24, interfaces: { e1: { mode: 'trunk', allowed: [10] } } }).success).toBe(true);
    const bad = NodeSchema.safeParse({ kind: 'router', interfaces: { 'g0/0': { ip: '10.0.0.1' } }, routs: [] }, { reportInput: true });
    expect(bad.success).toBe(false);
    if (bad.success) return;
    expect(describeZodIssues(bad.error.issues, ['nodes', 'r9']).map((i) => `${formatPath(i.path)}: ${i.message}`)).toEqual([
      'nodes.r9.interfaces.g0/0.ip: "10.0.0.1" needs a prefix length, like 10.0.0.1/24',
      'nodes.r9.routs: unknown key "routs"; did you mean routes?',
    ]);
  });

  it('validate a link body in both forms', () => {
    expect(LinkSchema.safeParse(['pc1:eth0', 'sw1:e1']).success).toBe(true);
    expect(LinkSchema.safeParse({ endpoints: ['pc1:eth0', 'vmnet8'], loss: '1%', suspended: true }).success).toBe(true);
    expect(LinkSchema.safeParse({ endpoints: ['pc1:eth0', 'vmnet8'], loss: 1 }).success).toBe(false);
  });

  it('validate a whole lab given as data, for an edit made through the API', () => {
    const lab = load(SPEC_EXAMPLE, 'office');
    const edited = structuredClone(lab.file);
    edited.links!.push(['pc2:eth0', 'sw1:e3']);
    const r = validateLab(edited, { folderName: 'office' });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.issues).toEqual([{ path: ['links', 3, 0], at: 'value', message: 'pc2:eth0 is already cabled by links[0]; an interface takes one cable' }]);
    edited.links!.pop();
    edited.nodes!['pc2']!.ui = { x: 10, y: 20 };
    const ok = validateLab(edited, { folderName: 'office' });
    expect(ok.ok).toBe(true);
    if (ok.ok) expect(ok.lab.nodes['pc2']!.ui).toEqual({ x: 10, y: 20 });
  });
});

describe('port counts the devices accept', () => {
  it('refuses a switch of 4,096 ports in the file (802.1D has 4,095 port numbers), where it used to fail only at start', () => {
    const text = (ports: number) => `wirelab: 1\nname: big\nnodes:\n  sw1: { kind: switch, ports: ${ports} }\n`;
    expect(errors(text(4096), 'big')).toEqual(['lab.yaml:4:31: nodes.sw1.ports: ports is a whole number 1..4095, not 4096']);
    expect(load(text(4095), 'big').nodes['sw1']).toBeDefined();
  });
});
