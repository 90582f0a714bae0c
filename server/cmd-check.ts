/**
 * `wirelab check` and `wirelab run`: a lab booted headless, its checks run (check) or the lab left
 * running for a while (run), optionally with every link captured to one pcapng file.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { Capture } from '../devices/engine/capture.js';
import { LabRuntime } from '../devices/lab/runtime.js';
import type { CheckResult } from '../devices/lab/checks.js';
import { BuildError } from '../devices/lab/build.js';
import { parseDuration } from '../devices/lab/units.js';
import { formatLabWarning } from '../devices/lab/load.js';
import { parse, UsageError } from './cli.js';
import { locateLab, readLab, LabNotFound } from './lab-files.js';
import { startRunConsoles } from './console-telnet.js';
import { realWorldFactories } from './endpoints/index.js';
import { hostNetworking } from './host-sockets.js';

const CHECK_HELP = `usage: wirelab check LAB [--labs DIR] [--junit FILE] [--capture FILE.pcapng] [--time real|virtual] [--seed N]

Boots the lab headless, lets it settle (spanning tree converged, DHCP clients bound or given up),
runs its checks and prints one line per check. LAB is a lab's name in the labs folder, a lab
folder or a lab.yaml path. Exit status: 0 when every check met its expect, 1 when one did not,
2 when the lab file is invalid. Checks run in virtual time unless the lab or --time says real.`;

const RUN_HELP = `usage: wirelab run LAB [--labs DIR] [--for 30s] [--capture FILE.pcapng] [--time real|virtual] [--seed N]

Runs the lab headless for the given time (until Ctrl-C without --for), optionally capturing
every link into one pcapng file.`;

const COMMON = {
  labs: { type: 'string' },
  capture: { type: 'string' },
  time: { type: 'string' },
  seed: { type: 'string' },
} as const;

interface Prepared {
  runtime: LabRuntime;
  capture: { capture: Capture; out: WriteStream } | null;
}

function prepare(values: Record<string, unknown>, positionals: string[], help: string): Prepared | number {
  if (positionals.length !== 1) throw new UsageError(`expected one LAB\n\n${help}`);
  const time = values.time as string | undefined;
  if (time !== undefined && time !== 'real' && time !== 'virtual') throw new UsageError(`--time must be real or virtual, not '${time}'`);
  const seed = values.seed !== undefined ? Number(values.seed) : undefined;
  if (seed !== undefined && !Number.isInteger(seed)) throw new UsageError(`--seed must be an integer, not '${values.seed}'`);
  let read;
  try {
    read = readLab(locateLab(positionals[0]!, (values.labs as string | undefined) ?? './labs'));
  } catch (e) {
    if (e instanceof LabNotFound) {
      console.error(e.message);
      return 2;
    }
    throw e;
  }
  if (!read.ok) {
    console.error(read.text);
    return 2;
  }
  // Warnings (duplicate addresses) do not refuse the lab: it runs, as the real network would.
  for (const w of read.warnings) console.error(formatLabWarning(w));
  let runtime: LabRuntime;
  try {
    // Cloud nodes and bridged networks reach real equipment; one that cannot start says why and the rest runs.
    const realWorld = realWorldFactories({ onError: (node, message) => console.error(`${node}: ${message}`) });
    // NAT gateways (.2) and host adapters (.1) use this process's own sockets, which only make sense against the wall clock.
    const { hostSockets, hostAdapterTap } = hostNetworking({ onError: (net, message) => console.error(`${net}: ${message}`) });
    const hostNet = { hostAdapterTap, ...((time ?? read.lab.time) === 'real' ? { hostSockets } : {}) };
    runtime = new LabRuntime(read.lab, { ...(time ? { time } : {}), ...(seed !== undefined ? { seed } : {}), ...realWorld, ...hostNet });
  } catch (e) {
    if (e instanceof BuildError || e instanceof Error) {
      console.error(`${read.located.file}: ${e.message}`);
      return 2;
    }
    throw e;
  }
  let capture: Prepared['capture'] = null;
  if (values.capture) {
    const out = createWriteStream(values.capture as string);
    const cap = new Capture(runtime.engine, { sink: (chunk) => out.write(chunk) });
    for (const id of runtime.linkIds()) cap.attachLink(runtime.link(id)!);
    capture = { capture: cap, out };
  }
  return { runtime, capture };
}

async function finishCapture(p: Prepared, file: unknown): Promise<void> {
  if (!p.capture) return;
  p.capture.capture.close();
  await new Promise<void>((resolve, reject) => p.capture!.out.end((e?: Error | null) => (e ? reject(e) : resolve())));
  const c = p.capture.capture;
  console.log(`capture: ${c.frames} frames on ${c.interfaces.length} links written to ${file}${c.dropped ? ` (${c.dropped} dropped at the size cap)` : ''}`);
}

export async function checkCommand(args: string[]): Promise<number> {
  const parsed = parse(args, { ...COMMON, junit: { type: 'string' } }, CHECK_HELP);
  if (!parsed) return 0;
  const p = prepare(parsed.values, parsed.positionals, CHECK_HELP);
  if (typeof p === 'number') return p;
  const { runtime } = p;
  const lab = runtime.lab;
  const wall0 = performance.now();
  console.log(`lab ${lab.name}: ${Object.keys(lab.nodes).length} nodes, ${Object.keys(lab.networks).length} networks, ${lab.links.length} links, ${lab.checks.length} checks (${runtime.engine.mode} time)`);
  runtime.start();
  const settled = await runtime.settle();
  console.log(settled ? `settled after ${(runtime.engine.now / 1e9).toFixed(3)} s of lab time` : `did not settle within 180 s of lab time (spanning tree or DHCP still busy); checking anyway`);
  const width = Math.max(4, ...lab.checks.map((c) => c.name.length));
  const results = await runtime.runChecks({
    settle: false,
    onResult: (r) => console.log(`${r.passed ? 'PASS' : 'FAIL'}  ${r.name.padEnd(width)}  ${r.expect === 'failure' ? '(expected to fail) ' : ''}${r.detail}`),
  });
  runtime.stop();
  await finishCapture(p, parsed.values.capture);
  const failed = results.filter((r) => !r.passed).length;
  console.log(`${results.length - failed} passed, ${failed} failed (${((performance.now() - wall0) / 1000).toFixed(2)} s wall)`);
  if (parsed.values.junit) await writeFile(parsed.values.junit as string, junit(lab.name, results));
  return failed ? 1 : 0;
}

export async function runCommand(args: string[]): Promise<number> {
  const parsed = parse(args, { ...COMMON, for: { type: 'string' } }, RUN_HELP);
  if (!parsed) return 0;
  let forNs = Infinity;
  if (parsed.values.for !== undefined) {
    const d = parseDuration(parsed.values.for as string);
    if (!d.ok) throw new UsageError(`--for: ${d.error}`);
    forNs = d.value;
  }
  const p = prepare(parsed.values, parsed.positionals, RUN_HELP);
  if (typeof p === 'number') return p;
  const { runtime } = p;
  console.log(`lab ${runtime.lab.name} running in ${runtime.engine.mode} time${forNs === Infinity ? ' until interrupted' : ` for ${parsed.values.for}`}`);
  runtime.start();
  // Telnet consoles (GNS3 convention): a virtual-time run is over before anyone could connect.
  const consoles = runtime.engine.mode === 'real' ? await startRunConsoles(runtime, parsed.positionals[0]!, (parsed.values.labs as string | undefined) ?? './labs') : null;
  if (runtime.engine.mode === 'virtual') {
    if (forNs === Infinity) throw new UsageError('a virtual-time run needs --for');
    runtime.engine.runFor(forNs);
  } else {
    await new Promise<void>((resolve) => {
      const done = () => resolve();
      process.once('SIGINT', done);
      process.once('SIGTERM', done);
      if (forNs !== Infinity) setTimeout(done, forNs / 1e6).unref();
    });
  }
  await consoles?.close();
  runtime.stop();
  await finishCapture(p, parsed.values.capture);
  console.log(`stopped after ${(runtime.engine.now / 1e9).toFixed(3)} s of lab time; ${runtime.engine.delivered} frames delivered`);
  return 0;
}

function xml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/** JUnit XML, as CI systems read it: one testcase per check. */
export function junit(lab: string, results: CheckResult[]): string {
  const failures = results.filter((r) => !r.passed).length;
  const time = results.reduce((s, r) => s + r.durationNs, 0) / 1e9;
  const cases = results.map((r) => {
    const head = `    <testcase classname="${xml(lab)}" name="${xml(r.name)}" time="${(r.durationNs / 1e9).toFixed(6)}">`;
    const body = r.passed ? `<system-out>${xml(r.detail)}</system-out>` : `<failure message="${xml(r.detail)}" type="${r.kind}">expected ${r.expect}: ${xml(r.detail)}</failure>`;
    return `${head}${body}</testcase>`;
  });
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites tests="${results.length}" failures="${failures}">\n  <testsuite name="${xml(lab)}" tests="${results.length}" failures="${failures}" time="${time.toFixed(6)}">\n${cases.join('\n')}\n  </testsuite>\n</testsuites>\n`;
}
