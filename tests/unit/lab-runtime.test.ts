import { describe, expect, it } from 'vitest';
import { validateLab, type Lab } from '../../devices/lab/schema.js';
import { LabRuntime, type RuntimeEvent } from '../../devices/lab/runtime.js';
import { ip4ToString } from '../../devices/wire/bytes.js';

function lab(file: Record<string, unknown>): Lab {
  const r = validateLab({ wirelab: 1, name: 'rt', ...file });
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.lab;
}

const base = {
  nodes: {
    a: { kind: 'host', interfaces: { eth0: { ip: '10.0.0.1/24' } } },
    b: { kind: 'host', interfaces: { eth0: { ip: '10.0.0.2/24' } } },
    sw: { kind: 'switch' },
  },
  links: [
    ['a:eth0', 'sw:e0'],
    ['b:eth0', 'sw:e1'],
  ],
};

async function ping(rt: LabRuntime, from: string, to: string): Promise<number> {
  const p = rt.host(from)!.ping(to, { count: 2, timeoutNs: 2e9 });
  await rt.waitFor(() => p.isDone, 30e9);
  return p.result.received;
}

describe('lab runtime', () => {
  it('adds and removes nodes and links in a running lab without touching the rest', async () => {
    const rt = new LabRuntime(lab(base));
    const events: RuntimeEvent[] = [];
    rt.onEvent((e) => events.push(e));
    rt.start();
    await rt.settle();
    expect(await ping(rt, 'a', '10.0.0.2')).toBe(2);
    const swBefore = rt.node('sw');
    const aBefore = rt.host('a');

    const withC = lab({
      ...base,
      nodes: { ...base.nodes, c: { kind: 'host', interfaces: { eth0: { ip: '10.0.0.3/24' } } } },
      links: [...base.links, ['c:eth0', 'sw:e2']],
    });
    rt.apply(withC);
    expect(rt.node('sw')).toBe(swBefore); // untouched devices keep their state
    expect(rt.host('a')).toBe(aBefore);
    expect(rt.nodeStatus('c')).toBe('running');
    await rt.settle();
    expect(await ping(rt, 'a', '10.0.0.3')).toBe(2);
    expect(events).toContainEqual({ type: 'node-changed', node: 'c', change: 'added' });
    expect(events).toContainEqual({ type: 'link-state', link: 'c:eth0--sw:e2', status: 'added' });

    rt.apply(lab(base));
    expect(rt.node('c')).toBeUndefined();
    expect(await ping(rt, 'a', '10.0.0.3')).toBe(0);
    expect(await ping(rt, 'a', '10.0.0.2')).toBe(2);
  });

  it('changes impairments and suspension in place, and rebuilds only a changed node', async () => {
    const rt = new LabRuntime(lab(base));
    rt.start();
    await rt.settle();
    const link = rt.link('a:eth0--sw:e0')!;
    rt.apply(lab({ ...base, links: [{ endpoints: ['a:eth0', 'sw:e0'], loss: '100%' }, base.links[1]] }));
    expect(rt.link('a:eth0--sw:e0')).toBe(link);
    expect(await ping(rt, 'a', '10.0.0.2')).toBe(0);
    rt.apply(lab({ ...base, links: [{ endpoints: ['a:eth0', 'sw:e0'], delay: '5ms' }, base.links[1]] }));
    // The ARP entry that failed under 100% loss may cost the first probe; the second must pass the 5 ms cable twice.
    const p = rt.host('a')!.ping('10.0.0.2', { count: 2, timeoutNs: 2e9 });
    await rt.waitFor(() => p.isDone, 30e9);
    const replies = p.result.probes.filter((x) => x.status === 'reply');
    expect(replies.length).toBeGreaterThanOrEqual(1);
    for (const r of replies) expect(r.rttNs).toBeGreaterThanOrEqual(10e6);
    rt.suspendLink('a:eth0--sw:e0');
    expect(await ping(rt, 'a', '10.0.0.2')).toBe(0);
    rt.resumeLink('a:eth0--sw:e0');

    const sw = rt.node('sw');
    const changedB = { ...base, nodes: { ...base.nodes, b: { kind: 'host', interfaces: { eth0: { ip: '10.0.0.22/24' } } } } };
    rt.apply(lab(changedB));
    expect(rt.node('sw')).toBe(sw);
    await rt.settle();
    expect(await ping(rt, 'a', '10.0.0.22')).toBe(2);
  });

  it('powers single nodes off and on', async () => {
    const rt = new LabRuntime(lab(base));
    rt.start();
    await rt.settle();
    rt.stopNode('b');
    expect(rt.nodeStatus('b')).toBe('stopped');
    expect(await ping(rt, 'a', '10.0.0.2')).toBe(0);
    rt.startNode('b');
    await rt.settle();
    expect(await ping(rt, 'a', '10.0.0.2')).toBe(2);
  });

  it('keeps DHCP leases across a stop and a new runtime', async () => {
    const file = {
      nodes: {
        pc: { kind: 'host', interfaces: { eth0: { ip: 'dhcp' } } },
        r1: {
          kind: 'router',
          interfaces: { 'g0/0': { ip: '10.5.0.1/24' } },
          'dhcp-server': { pools: [{ interface: 'g0/0', range: '10.5.0.100-10.5.0.200', lease: '1h' }] },
        },
        other: { kind: 'host', interfaces: { eth0: { ip: 'dhcp' } } },
        sw: { kind: 'switch' },
      },
      links: [
        ['pc:eth0', 'sw:e0'],
        ['other:eth0', 'sw:e1'],
        ['r1:g0/0', 'sw:e7'],
      ],
    };
    const first = new LabRuntime(lab(file), { seed: 3 });
    first.start();
    await first.settle();
    const leased = ip4ToString(first.host('pc')!.dhcpStatus('eth0')!.lease!.ip);
    const state = first.stop();
    expect(Object.keys(state.dhcp)).toEqual(['r1']);

    // A different seed changes who asks first; the saved lease still brings pc its address back.
    const second = new LabRuntime(lab(file), { seed: 99, state: JSON.parse(JSON.stringify(state)) });
    second.start();
    await second.settle();
    expect(ip4ToString(second.host('pc')!.dhcpStatus('eth0')!.lease!.ip)).toBe(leased);
  });
});
