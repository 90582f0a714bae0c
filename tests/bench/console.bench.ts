/**
 * Console figures:
 * - `devices.console_cmds_per_s`: IOS configuration commands per second typed into a router's
 *   console (parse, model change, live reconfiguration of the router), alternating
 *   `ip address` on two interfaces. Every command must succeed: any IOS error line ("% Invalid
 *   input", "% Incomplete command", ...) in the console's output, or a running-config afterwards
 *   without the last addresses typed, fails the bench instead of reporting a figure;
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
  const output: string[] = [];
  c.onOutput((text) => output.push(text));
  c.input('enable\rconfigure terminal\r');
  const lines: string[] = [];
  const address = (i: number) => `10.${i % 2}.${(i >> 8) & 255}.${(i & 255) | 1} 255.255.255.0`;
  for (let i = 0; i < n; i++) lines.push(`interface g0/${i % 2}\rip address ${address(i)}\r`);
  const t0 = performance.now();
  for (const l of lines) c.input(l);
  const s = (performance.now() - t0) / 1000;
  // Checked after the clock stops: the figure counts commands that did what they say.
  c.input('end\rterminal length 0\rshow running-config\r');
  // Terminal escape sequences (cursor moves, line erase) are not text.
  const text = output.join('').replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r/g, '');
  const refused = text.split('\n').filter((l) => l.startsWith('% '));
  if (refused.length > 0) throw new Error(`devices.console_cmds_per_s: ${refused.length} console lines report an error, the first: ${refused[0]}`);
  for (const i of [n - 2, n - 1]) {
    const section = text.split(`\ninterface GigabitEthernet0/${i % 2}\n`)[1]?.split('\n!')[0] ?? '';
    if (!section.split('\n').includes(` ip address ${address(i)}`)) {
      throw new Error(`devices.console_cmds_per_s: the running-config does not show g0/${i % 2} with ip address ${address(i)}`);
    }
  }
  rt.stop();
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
