/**
 * The client's pure helpers: names for new nodes, the link popup's interface order, renaming a
 * node in a lab file (the result must still be a valid lab), field paths as the server writes
 * them, form drafts and the hex view. (The API's shapes are contract/'s types, shared by the
 * server and the client; tests/integration/api-contract.test.ts checks real answers against them.)
 */
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { getIn, plain, sameJson, setIn } from '../../client/src/lib/draft.js';
import { fieldPath } from '../../client/src/lib/errors.js';
import { hexDump } from '../../client/src/lib/hex.js';
import { interfacesFreeFirst, linkBody, newNodeSpec, nextNetworkName, nextNodeName, renameNodeInFile, renameProblem, splitEndpoint } from '../../client/src/lib/topology.js';
import type { LinkView, NodeView } from '../../contract/index.js';
import { formatPath, validateLab } from '../../devices/lab/schema.js';

describe('names and interfaces', () => {
  test('new nodes take the first free name of their kind; networks VMware names', () => {
    expect(nextNodeName('host', ['pc1', 'pc3', 'sw1'])).toBe('pc2');
    expect(nextNodeName('router', [])).toBe('r1');
    expect(nextNodeName('switch', ['sw1', 'sw2'])).toBe('sw3');
    expect(nextNetworkName('nat', [])).toBe('vmnet8');
    expect(nextNetworkName('host-only', [])).toBe('vmnet1');
    expect(nextNetworkName('bridged', [])).toBe('vmnet0');
    expect(nextNetworkName('host-only', ['vmnet1', 'vmnet2'])).toBe('vmnet3');
    expect(nextNetworkName('nat', ['vmnet8', 'vmnet2', 'vmnet3', 'vmnet4', 'vmnet5', 'vmnet6', 'vmnet7'])).toBe('vmnet9');
  });

  test('a dropped node is at the drop point; a cloud gets a free UDP port pair', () => {
    expect(newNodeSpec('host', { x: 10.6, y: -3.2 })).toEqual({ kind: 'host', ui: { x: 11, y: -3 } });
    expect(newNodeSpec('cloud', { x: 0, y: 0 }, [20000, 20001, 20003])).toMatchObject({ endpoint: { type: 'udp', local: '127.0.0.1:20004', remote: '127.0.0.1:20005' } });
  });

  test('the link popup lists free interfaces first, each group in the node order', () => {
    const node: NodeView = {
      name: 'sw1',
      kind: 'switch',
      status: 'stopped',
      console: 5000,
      consoleShared: null,
      consoleNote: null,
      ui: null,
      spec: { kind: 'switch' },
      interfaces: [
        { name: 'e0', mac: '', network: null, link: 'pc1:eth0--sw1:e0' },
        { name: 'e1', mac: '', network: null, link: null },
        { name: 'e2', mac: '', network: 'vmnet1', link: 'sw1:e2--vmnet1' },
        { name: 'e3', mac: '', network: null, link: null },
      ],
    };
    expect(interfacesFreeFirst(node).map((i) => `${i.iface.name}${i.free ? '' : '*'}`)).toEqual(['e1', 'e3', 'e0*', 'e2*']);
  });

  test('endpoints and link bodies', () => {
    expect(splitEndpoint('r1:g0/1.20')).toEqual({ node: 'r1', iface: 'g0/1.20' });
    expect(splitEndpoint('vmnet8')).toEqual({ node: 'vmnet8', iface: null });
    const link: LinkView = { id: 'a:eth0--b:e0', endpoints: ['a:eth0', 'b:e0'], suspended: true, impairments: { delay: '5ms' }, origin: 'link' };
    expect(linkBody(link)).toEqual({ endpoints: ['a:eth0', 'b:e0'], delay: '5ms', suspended: true });
    expect(linkBody({ ...link, suspended: false, impairments: {} })).toEqual(['a:eth0', 'b:e0']);
  });
});

describe('renaming a node in a lab file', () => {
  test('a new name follows the lab file\'s rule and is not taken (node and network forms alike)', () => {
    expect(renameProblem('desk-1', ['pc1', 'vmnet8'])).toBeNull();
    expect(renameProblem('pc1', ['pc1', 'vmnet8'])).toBe('pc1 is taken');
    expect(renameProblem('-x', [])).toBe('a name is 1..63 letters, digits, - or _, starting with a letter or digit');
    expect(renameProblem('a'.repeat(64), [])).not.toBeNull();
  });
  test('every reference follows, and the lab stays valid (the office sample)', () => {
    const file = parseYaml(readFileSync('labs/office/lab.yaml', 'utf8')) as Record<string, unknown>;
    const renamed = renameNodeInFile(file, 'pc1', 'desk1');
    const r = validateLab(renamed, { folderName: 'office' });
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    expect(Object.keys(r.lab.nodes)).toContain('desk1');
    expect(Object.keys(r.lab.nodes)).not.toContain('pc1');
    expect(r.lab.links.map((l) => l.id)).toContain('desk1:eth0--sw1:e0');
    expect(JSON.stringify(renamed)).not.toMatch(/"pc1[":]/);
    expect(JSON.stringify(file)).toMatch(/"pc1"/);
  });

  test('checks, reservations and network keys follow too', () => {
    const file = {
      wirelab: 1,
      name: 'x',
      networks: { vmnet1: { type: 'host-only', subnet: '192.168.56.0/24', dhcp: { reservations: [{ node: 'pc1', ip: '192.168.56.10' }] } } },
      nodes: { pc1: { kind: 'host', interfaces: { eth0: { network: 'vmnet1', ip: 'dhcp' } } }, pc2: { kind: 'host', interfaces: { eth0: { network: 'vmnet1', ip: 'dhcp' } } } },
      checks: [{ ping: { from: 'pc2', to: 'pc1' } }, { dhcp: { node: 'pc1' } }, { pingall: { among: ['pc1', 'pc2'] } }],
    };
    expect(validateLab(file).ok).toBe(true);
    const renamed = renameNodeInFile(file, 'pc1', 'a');
    expect(renamed).toMatchObject({
      networks: { vmnet1: { dhcp: { reservations: [{ node: 'a' }] } } },
      checks: [{ ping: { from: 'pc2', to: 'a' } }, { dhcp: { node: 'a' } }, { pingall: { among: ['a', 'pc2'] } }],
    });
    expect(validateLab(renamed).ok).toBe(true);
    const net = renameNodeInFile(file, 'vmnet1', 'lan');
    expect((net['nodes'] as Record<string, { interfaces: { eth0: { network: string } } }>)['pc2']!.interfaces.eth0.network).toBe('lan');
    expect(validateLab(net).ok).toBe(true);
  });
});

describe('forms', () => {
  test('field paths are written as the server writes them', () => {
    const paths: (string | number)[][] = [['interfaces', 'eth0', 'ip'], ['interfaces', 'g0/2.20', 'ip'], ['routes', 2, 'via'], ['nat', 'port-forwards', 0, 'host'], ['dhcp', 'range'], []];
    for (const p of paths) expect(fieldPath(...p)).toBe(formatPath(p));
  });

  test('drafts: nested keys set and emptied', () => {
    const d: Record<string, unknown> = { kind: 'host' };
    setIn(d, ['interfaces', 'eth0', 'ip'], '10.0.0.1/24');
    setIn(d, ['interfaces', 'eth0', 'vlan'], 10);
    expect(getIn(d, ['interfaces', 'eth0'])).toEqual({ ip: '10.0.0.1/24', vlan: 10 });
    setIn(d, ['interfaces', 'eth0', 'vlan'], '');
    setIn(d, ['interfaces', 'eth0', 'ip'], undefined);
    expect(d).toEqual({ kind: 'host' });
    setIn(d, ['services', 'http', 'port'], undefined);
    expect(d).toEqual({ kind: 'host' });
    expect(sameJson({ a: 1, b: [1, { c: 2 }] }, { b: [1, { c: 2 }], a: 1 })).toBe(true);
    expect(sameJson({ a: 1 }, { a: 2 })).toBe(false);
    expect(plain({ a: [1] })).toEqual({ a: [1] });
  });

  test('the hex view', () => {
    const bytes = Uint8Array.from({ length: 20 }, (_, i) => 0x41 + i);
    bytes[0] = 0;
    expect(hexDump(bytes)).toEqual([
      { offset: '0000', hex: '00 42 43 44 45 46 47 48  49 4a 4b 4c 4d 4e 4f 50', ascii: '.BCDEFGHIJKLMNOP' },
      { offset: '0010', hex: '51 52 53 54', ascii: 'QRST' },
    ]);
  });
});
