/**
 * Snapshots taken before devices took the parsed model hold a host's DNS records as text: a
 * restore turns them into addresses, so the restored host still answers after a restart.
 */
import { describe, expect, it } from 'vitest';
import { loadLabText } from '../../devices/lab/load.js';
import { LabRuntime } from '../../devices/lab/runtime.js';
import type { Lab } from '../../devices/lab/schema.js';
import { captureRuntime, decodeState, encodeState, restoreRuntime } from '../../devices/snapshot/index.js';
import { ip4ToString } from '../../devices/wire/bytes.js';

const DNS_LAB = `
wirelab: 1
name: names
nodes:
  ns: { kind: host, interfaces: { eth0: { ip: 10.0.0.1/24 } }, services: { dns: { records: { www.lab: 10.0.0.9 } } } }
  cli: { kind: host, interfaces: { eth0: { ip: 10.0.0.2/24 } }, dns: [10.0.0.1] }
links:
  - [ns:eth0, cli:eth0]
`;

function lab(): Lab {
  const r = loadLabText(DNS_LAB, 'lab.yaml');
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join('\n'));
  return r.lab;
}

function resolveWww(rt: LabRuntime): string[] {
  const lookup = rt.host('cli')!.resolve('www.lab');
  rt.engine.runUntilCondition(() => lookup.isDone, 30e9);
  return lookup.result.addresses.map(ip4ToString);
}

/** The host's service config as a snapshot of the earlier version recorded it. */
function recordsOf(rt: LabRuntime): Record<string, unknown> {
  return (rt.host('ns') as unknown as { serviceConfig: { dns: { records: Record<string, unknown> } } }).serviceConfig.dns.records;
}

describe('restoring a snapshot of an earlier version', () => {
  it('turns a host’s DNS records kept as text into addresses, so a restarted host serves them', () => {
    const rt = new LabRuntime(lab(), { time: 'virtual' });
    rt.start();
    expect(resolveWww(rt)).toEqual(['10.0.0.9']);
    recordsOf(rt)['www.lab'] = ['10.0.0.9'];
    const old = decodeState(encodeState(captureRuntime(rt)));

    const live = new LabRuntime(lab(), { time: 'virtual' });
    live.start();
    restoreRuntime(live, old, lab());
    expect(recordsOf(live)['www.lab']).toEqual([0x0a000009]);
    live.stopNode('ns');
    live.startNode('ns');
    expect(resolveWww(live)).toEqual(['10.0.0.9']);
  });
});
