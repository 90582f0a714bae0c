/**
 * `npm run bench [-- GROUP...]`: prints one JSON line per figure,
 * {"name": "group.figure", "value": N, "unit": "...", "target": N}. Every group runs in a process
 * of its own. A bench that cannot measure what its name says prints an error line on stderr and
 * no figure, and the run exits 1 (the group's other figures are still printed).
 *
 * Groups and figures (each file says how it measures):
 * - engine: engine.link_fps, engine.capture_fps, engine.idle_cpu_pct (engine.bench.ts)
 * - server: server.trace_records_per_s, server.trace_slowdown_x (server.bench.ts);
 *   server.lab_load_ms_per_mb, server.lab_patch25k_first_ms, server.lab_patch25k_ms (lab-file.bench.ts)
 * - tcp: tcp.goodput_gbps (two hosts of a lab built from lab.yaml text, virtual time),
 *   tcp.goodput_harness_gbps (the TCP engine alone on a TcpDirectHost pair) (tcp.bench.ts);
 *   tcp.nat_goodput_gbps (a lab host through the NAT gateway .2 and the host's sockets to a
 *   server on this machine, real time; fails when that path is not available) (nat.bench.ts)
 * - snapshot: snapshot.take_ms, snapshot.restore_ms (through a real server's HTTP API: capture,
 *   encode, gzip, durable atomic write; read, gunzip, decode, restore), snapshot.size_kb,
 *   snapshot.take_memory_ms, snapshot.restore_memory_ms (the in-memory part alone) (snapshot.bench.ts)
 * - bridge: bridge.switch_gbps, bridge.chain3_vs_kernel, bridge.chain3_rtt_ms,
 *   bridge.kernel_chain3_rtt_ms (real Linux stacks in network namespaces, bridge.bench.ts)
 * - client: client.render1k_ms, client.trace_longest_task_ms, client.trace_records_per_s
 *   (Chromium against a real server, client.bench.ts)
 * - devices: devices.switch_fps (switch.bench.ts), devices.router_hops_per_s (fast path,
 *   router.bench.ts), devices.router_slowpath_hops_per_s (datagrams with an IP option, which
 *   the fast path leaves to the stack; router-slowpath.bench.ts), devices.ping_rtt_per_s
 *   (host.bench.ts), devices.console_cmds_per_s (every command checked),
 *   devices.console_runconf_ms (console.bench.ts), devices.build1k_s, devices.pingall100_s,
 *   devices.boot10k_s, devices.boot10k_kb_per_node, devices.idle1k_cpu_pct (devices.bench.ts)
 * - faults: faults.api_p99_ms_under_abuse, faults.rss_growth_mb (telnet and WebSocket abuse
 *   against a spawned server, faults.bench.ts)
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { engineBench } from './engine.bench.js';
import { devicesBench } from './devices.bench.js';
import { switchBench } from './switch.bench.js';
import { routerBench } from './router.bench.js';
import { hostBench } from './host.bench.js';
import { serverBench } from './server.bench.js';
import { tcpBench } from './tcp.bench.js';
import { consoleBench } from './console.bench.js';
import { snapshotBench } from './snapshot.bench.js';
import { bridgeBench } from './bridge.bench.js';
import { natBench } from './nat.bench.js';
import { routerSlowPathBench } from './router-slowpath.bench.js';
import { clientBench } from './client.bench.js';
import { faultsBench } from './faults.bench.js';
import { labFileBench } from './lab-file.bench.js';

export interface Figure {
  name: string;
  value: number;
  unit: string;
  target: number;
}

/** Each group's benches, run in order; one that throws does not keep the others from reporting. */
const groups: Record<string, (() => Promise<Figure[]>)[]> = {
  engine: [engineBench],
  server: [serverBench, labFileBench],
  tcp: [tcpBench, natBench],
  snapshot: [snapshotBench],
  bridge: [bridgeBench],
  client: [clientBench],
  devices: [switchBench, routerBench, routerSlowPathBench, hostBench, consoleBench, devicesBench],
  faults: [faultsBench],
};

const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
for (const w of wanted) {
  if (!(w in groups)) {
    console.error(`unknown bench group "${w}"; groups: ${Object.keys(groups).join(', ')}`);
    process.exit(2);
  }
}
const selected = Object.keys(groups).filter((name) => wanted.length === 0 || wanted.includes(name));
if (selected.length === 1) {
  let failed = 0;
  for (const bench of groups[selected[0]!]!) {
    try {
      for (const f of await bench()) console.log(JSON.stringify(f));
    } catch (e) {
      failed++;
      console.error(`bench ${bench.name} failed: ${(e as Error).message}`);
    }
  }
  if (failed) process.exit(1);
} else {
  // One process per group: a group's figures must not pay for the previous group's heap and
  // garbage (idle CPU and throughput figures fell by a third when every group shared a process).
  let failed = 0;
  for (const name of selected) {
    const r = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), name], { stdio: 'inherit' });
    if (r.status !== 0) {
      failed++;
      console.error(`bench group ${name} failed (exit ${r.status ?? r.signal})`);
    }
  }
  if (failed) process.exit(1);
}
