/**
 * `npm run bench -- bridge` (group wired by the lead): wirelab between real Linux stacks versus the
 * kernel itself, measured in the same run. Two network namespaces run iperf3 (TCP, one stream) and
 * ping; segmentation and receive offloads are off everywhere, so every frame is a real one of at
 * most 1514 bytes, the frames wirelab sees.
 *
 * - bridge.switch_gbps: h1 --[emulated switch]-- h2, both on TAP endpoints.
 * - bridge.chain3_vs_kernel: h1 --[switch, 3 routers, switch]-- h2 on TAP endpoints, divided by the
 *   same addresses through three kernel routers (namespaces on veths).
 * - bridge.chain3_rtt_ms, bridge.kernel_chain3_rtt_ms: average ping RTT (56-byte payload) over both.
 *
 * Needs root, iperf3, ethtool and the native addon; without them it prints why and returns no figure.
 * BRIDGE_BENCH_SECONDS (default 10) sets each iperf3 run's length; BRIDGE_BENCH_ENDS=nic puts the
 * namespaces on veths used as NIC endpoints instead of TAPs.
 */
import type { Figure } from './run.js';
import { Cleanup, reapStale, realPeers } from '../helpers/netns.js';
import { chain3, iperf3, kernelChain3, ping, switchPair, type EndKind } from '../helpers/topologies.js';
import { loadNetAddon } from '../../server/endpoints/native.js';

const round = (v: number, digits = 3) => Number(v.toFixed(digits));

async function measured<T>(what: (c: Cleanup) => Promise<T>): Promise<T> {
  const cleanup = new Cleanup();
  try {
    return await what(cleanup);
  } finally {
    const problems = await cleanup.run();
    if (problems.length) console.error(`bridge bench cleanup: ${problems.join('; ')}`);
  }
}

export async function bridgeBench(): Promise<Figure[]> {
  const peers = realPeers(['ip', 'iperf3', 'ethtool', 'ping']);
  if (!peers.ok) {
    console.error(`bridge bench skipped: ${peers.reason}`);
    return [];
  }
  const addon = loadNetAddon();
  if (!addon.ok) {
    console.error(`bridge bench skipped: ${addon.reason}`);
    return [];
  }
  reapStale();
  const seconds = Number(process.env.BRIDGE_BENCH_SECONDS ?? 10);
  const ends = (process.env.BRIDGE_BENCH_ENDS === 'nic' ? 'nic' : 'tap') as EndKind;
  const rttArgs = ['-c', '50', '-i', '0.02', '-q'];

  const switchGbps = await measured(async (c) => {
    const t = await switchPair(c, [ends, ends]);
    await ping(t.h1, t.h2Ip, ['-c', '3', '-i', '0.2']);
    return (await iperf3(c, t.h1, t.h2, t.h2Ip, seconds)).bps / 1e9;
  });

  const chain = await measured(async (c) => {
    const t = await chain3(c, [ends, ends]);
    await ping(t.h1, t.h2Ip, ['-c', '3', '-i', '0.2']);
    const rtt = (await ping(t.h1, t.h2Ip, rttArgs)).avgMs;
    const gbps = (await iperf3(c, t.h1, t.h2, t.h2Ip, seconds)).bps / 1e9;
    return { rtt, gbps };
  });

  const kernel = await measured(async (c) => {
    const t = kernelChain3(c);
    await ping(t.h1, t.h2Ip, ['-c', '3', '-i', '0.2']);
    const rtt = (await ping(t.h1, t.h2Ip, rttArgs)).avgMs;
    const gbps = (await iperf3(c, t.h1, t.h2, t.h2Ip, seconds)).bps / 1e9;
    return { rtt, gbps };
  });

  return [
    { name: 'bridge.switch_gbps', value: round(switchGbps, 2), unit: 'Gbit/s', target: 1.5 },
    { name: 'bridge.chain3_vs_kernel', value: round(chain.gbps / kernel.gbps, 2), unit: 'ratio', target: 0.4 },
    { name: 'bridge.chain3_rtt_ms', value: round(chain.rtt), unit: 'ms', target: 1 },
    { name: 'bridge.kernel_chain3_rtt_ms', value: round(kernel.rtt), unit: 'ms', target: 0.1 },
  ];
}
