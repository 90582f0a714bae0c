import { describe, expect, it } from 'vitest';
import type { LabProblem, LinkView, NodeView } from '../../contract/index.js';
import { nodeWarnings, peersOf } from '../../client/src/lib/cabling.js';

const node = (name: string, ifaces: string[]): NodeView =>
  ({ name, kind: 'router', status: 'stopped', console: 5000, ui: null, interfaces: ifaces.map((i) => ({ name: i, mac: '02:00:00:00:00:01', network: null, link: null })), spec: { kind: 'router' } }) as NodeView;
const link = (a: string, b: string, suspended = false): LinkView => ({ id: `${a}--${b}`, endpoints: [a, b], suspended, impairments: {}, origin: 'link' });
const warning = (field: string, message: string): LabProblem => ({ file: 'x/lab.yaml', line: 1, column: 1, field, message, text: '', severity: 'warning' });

describe('the inspector\'s cabling', () => {
  it('names the far end of each interface, either side of the link, a network by its name', () => {
    const r1 = node('r1', ['g0/0', 'g0/1', 'g0/2']);
    // r10 must not be mistaken for r1.
    const links = [link('sw1:e2', 'r1:g0/0'), link('r1:g0/1', 'vmnet8', true), link('r10:g0/2', 'sw1:e3')];
    expect(peersOf(r1, links)).toEqual([
      { iface: 'g0/0', peer: 'sw1:e2', network: false, suspended: false },
      { iface: 'g0/1', peer: 'vmnet8', network: true, suspended: true },
      { iface: 'g0/2', peer: null, network: false, suspended: false },
    ]);
  });

  it('finds the node\'s own warnings, with the interface named, quoted names too', () => {
    const ws = [
      warning('nodes.r1.interfaces.g0/0.ip', 'duplicate address: a'),
      warning('nodes.r1.interfaces["g0/1.10"].ip', 'duplicate address: b'),
      warning('nodes.r10.interfaces.g0/0.ip', 'not mine'),
      warning('nodes.pc1.interfaces.eth0.ip', 'not mine either'),
    ];
    expect(nodeWarnings('r1', ws)).toEqual([
      { iface: 'g0/0', message: 'duplicate address: a' },
      { iface: 'g0/1.10', message: 'duplicate address: b' },
    ]);
  });
});
