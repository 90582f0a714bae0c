import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const TSHARK = '/usr/bin/tshark';
const CHECKSUMS = ['-o', 'ip.check_checksum:TRUE', '-o', 'udp.check_checksum:TRUE', '-o', 'tcp.check_checksum:TRUE'];

export function tsharkAvailable(): { ok: boolean; reason: string } {
  if (!existsSync(TSHARK)) return { ok: false, reason: `${TSHARK} not found (apt-get install tshark)` };
  const r = spawnSync(TSHARK, ['--version'], { encoding: 'utf8' });
  if (r.status !== 0) return { ok: false, reason: `tshark --version failed: ${r.stderr}` };
  return { ok: true, reason: '' };
}

/**
 * The body of a test's "reports why it is skipped" case: says why on the console, and fails under
 * CI=true, where tshark must be installed (.ci/run installs it).
 */
export function reportTsharkSkip(t: { ok: boolean; reason: string }, what = 'tshark interop'): void {
  if (t.ok) return;
  console.warn(`${what} skipped: ${t.reason}`);
  if (process.env.CI === 'true') throw new Error(`tshark must be installed in CI (.ci/run installs it): ${t.reason}`);
}

/**
 * Lines tshark prints for frames that are malformed or carry an expert note of at least
 * `severity` (bad checksums are errors). A capture of a whole lab shows each forwarded packet once
 * per link it crossed, which TCP analysis reads as retransmissions (warnings): check such files
 * at 'error'.
 */
export function tsharkProblems(file: string, severity: 'warning' | 'error' = 'warning'): string[] {
  const out = execFileSync(TSHARK, ['-n', '-r', file, ...CHECKSUMS, '-Y', `_ws.malformed || _ws.expert.severity >= ${severity}`], { encoding: 'utf8' });
  return out.split('\n').filter((l) => l.trim() !== '');
}

/** One row per frame with the requested fields. */
export function tsharkFields(file: string, fields: string[], extra: string[] = []): string[][] {
  const args = ['-n', '-r', file, ...CHECKSUMS, ...extra, '-T', 'fields', '-E', 'separator=\t'];
  for (const f of fields) args.push('-e', f);
  const out = execFileSync(TSHARK, args, { encoding: 'utf8' });
  return out.split('\n').filter((l) => l !== '').map((l) => l.split('\t'));
}

/**
 * Lines of tshark's detail view (-V) that report a checksum as incorrect. Some dissectors (OSPF
 * in 4.0) print "[incorrect, should be 0x...]" without raising an expert item, so
 * tsharkProblems cannot see those.
 */
export function tsharkBadChecksums(file: string): string[] {
  const out = execFileSync(TSHARK, ['-n', '-r', file, ...CHECKSUMS, '-V'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return out.split('\n').filter((l) => /\[incorrect/i.test(l));
}
