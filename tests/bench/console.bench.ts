/**
 * Console figures:
 * - `devices.console_cmds_per_s`: IOS configuration commands per second typed into a router's
 *   console (parse, model change, live reconfiguration of the router), alternating
 *   `ip address` on two interfaces;
 * - `devices.console_runconf_ms`: `show running-config` rendered and parsed back for a router
 *   with 200 sub-interfaces, 200 static routes and 10 access lists of 20 rules.
 */
import { loadLabText } from '../../devices/lab/load.js';
import { LabRuntime } from '../../devices/lab/runtime.js';
import { NodeConsole, parseRunningConfig, renderRunningConfig, routerFromSpec } from '../../devices/console/index.js';
import type { RouterNodeSpec } from '../../devices/lab/schema.js';
import type { Figure } from './run.js';

function commandsPerSecond(n: number): number {
  const r = loadLabText('wirelab: 1\nname: b\nnodes:\n  r1: { kind: router }\n', 'lab.yaml');
  if (!r.ok) throw new Error('bad lab');
  const rt = new LabRuntime(r.lab);
  rt.start();
  const c = new NodeConsole({ runtime: rt, node: 'r1' });
  c.input('enable\rconfigure terminal\r');
  const lines: string[] = [];
  for (let i = 0; i < n; i++) lines.push(`interface g0/${i % 2}\rip address 10.${i % 2}.${(i >> 8) & 255}.${(i & 255) | 1} 255.255.255.0\r`);
  const t0 = performance.now();
  for (const l of lines) c.input(l);
  const s = (performance.now() - t0) / 1000;
  return (2 * n) / s;
}

function runningConfigMs(): number {
  const interfaces: NonNullable<RouterNodeSpec['interfaces']> = { 'g0/0': { ip: '203.0.113.1/24' } };
  const routes: NonNullable<RouterNodeSpec['routes']> = [];
  for (let i = 1; i <= 200; i++) {
    interfaces[`g0/1.${i}`] = { vlan: i, ip: `10.${i}.0.1/24` };
    routes.push({ to: `172.16.${i}.0/24`, via: `10.${i}.0.2` });
  }
  const acls: Record<string, string[]> = {};
  for (let a = 0; a < 10; a++) acls[`${100 + a}`] = Array.from({ length: 20 }, (_, i) => `permit tcp any host 10.${a + 1}.0.${i + 2} eq ${80 + i}`);
  const spec: RouterNodeSpec = { kind: 'router', interfaces, routes, acls };
  const rounds = 20;
  const t0 = performance.now();
  for (let i = 0; i < rounds; i++) {
    const text = renderRunningConfig(routerFromSpec('r1', spec));
    const back = parseRunningConfig(text, 'router', 'r1', spec);
    if (back.errors.length) throw new Error(back.errors[0]);
  }
  return (performance.now() - t0) / rounds;
}

export async function consoleBench(): Promise<Figure[]> {
  return [
    { name: 'devices.console_cmds_per_s', value: Math.round(commandsPerSecond(2000)), unit: 'commands/s', target: 2000 },
    { name: 'devices.console_runconf_ms', value: Number(runningConfigMs().toFixed(2)), unit: 'ms', target: 50 },
  ];
}
