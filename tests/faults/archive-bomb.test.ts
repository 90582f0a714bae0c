/**
 * Zip bombs posted to the import API (issue 15, item 6). An archive of a few hundred KB whose
 * entries are zero-filled (deflate packs them about 1000:1), listed correctly in its manifest and
 * central directory, posted three times at once: the server keeps answering (GET /labs and the
 * event loop stay under a second, a bound only a real stall breaks), its RSS grows by less than
 * 100 MB, every import is refused or turned away with a reason, and nothing is left in the labs
 * folder. Declared sizes that lie are refused as the stream inflates past them.
 */
import { readdirSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { type TestServer, startTestServer } from '../integration/server-harness.js';
import { LAB_YAML, archive, text, zeros } from './archive-zip.js';

const MiB = 1 << 20;
let t: TestServer | null = null;
afterEach(async () => {
  await t?.close();
  t = null;
});

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
const snapshotMeta = (name: string) => text(JSON.stringify({ format: 'wirelab-snapshot', version: 1, name, createdAt: '2026-01-01T00:00:00Z', live: true, parent: null }));

/** Four live snapshots whose state.bin is `size` zero bytes: within every declared cap, refused only once inflated. */
function stateBomb(size: number): Uint8Array {
  const z = zeros(size);
  const files = [{ name: 'lab/lab.yaml', data: text(LAB_YAML) }];
  for (const s of ['s1', 's2', 's3', 's4']) {
    files.push({ name: `lab/snapshots/${s}/snapshot.json`, data: snapshotMeta(s) });
    files.push({ name: `lab/snapshots/${s}/lab.yaml`, data: text(LAB_YAML) });
    files.push({ name: `lab/snapshots/${s}/state.bin`, deflated: z.deflated, crc: z.crc, declare: size, listed: { size, sha256: z.sha256 } } as never);
  }
  return archive(files);
}

/** What the labs folder holds besides the lab the test made. */
const leftovers = (dir: string) => readdirSync(dir).filter((n) => n !== 'office');

interface Figures {
  apiMaxMs: number;
  loopMaxMs: number;
  rssGrowthMb: number;
}

/** Runs `work` while GET /labs is asked every 50 ms, the event loop's delay watched and the RSS sampled. */
async function watch<T>(work: () => Promise<T>): Promise<{ result: T; figures: Figures }> {
  const loop = monitorEventLoopDelay({ resolution: 10 });
  const rss0 = process.memoryUsage().rss;
  let rssMax = rss0;
  let apiMaxMs = 0;
  let done = false;
  const sampler = setInterval(() => (rssMax = Math.max(rssMax, process.memoryUsage().rss)), 20);
  const pinger = (async () => {
    while (!done) {
      const t0 = performance.now();
      const r = await t!.api.get('/labs');
      expect(r.status).toBe(200);
      apiMaxMs = Math.max(apiMaxMs, performance.now() - t0);
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  loop.enable();
  try {
    const result = await work();
    return { result, figures: { apiMaxMs, loopMaxMs: 0, rssGrowthMb: 0 } };
  } finally {
    done = true;
    await pinger;
    loop.disable();
    clearInterval(sampler);
    last = { apiMaxMs, loopMaxMs: loop.max / 1e6, rssGrowthMb: (Math.max(rssMax, process.memoryUsage().rss) - rss0) / MiB };
  }
}
let last: Figures = { apiMaxMs: 0, loopMaxMs: 0, rssGrowthMb: 0 };

describe('zip bombs posted to the import API', () => {
  it('three imports at once of an archive inflating to 4 x 48 MiB: the API keeps answering, RSS stays bounded, nothing is written', async () => {
    t = await startTestServer();
    await t.api.expect(201, 'POST', '/labs', { name: 'office', nodes: { pc1: { kind: 'host' } } });
    const bomb = stateBomb(48 * MiB);
    expect(bomb.length).toBeLessThan(600_000);
    const body = { archive: b64(bomb) };
    const { result: replies } = await watch(() => Promise.all([0, 1, 2].map(() => t!.api.post('/labs/import', body))));
    console.log(`archive bomb x3: GET /labs max ${last.apiMaxMs.toFixed(0)} ms, event loop max delay ${last.loopMaxMs.toFixed(0)} ms, RSS growth ${last.rssGrowthMb.toFixed(0)} MB; answers ${replies.map((r) => `${r.status} ${r.body?.error}`).join(' | ')}`);
    for (const r of replies) expect([400, 503]).toContain(r.status);
    expect(replies.some((r) => r.status === 400 && /state\.bin/.test(r.body.error))).toBe(true);
    expect(last.apiMaxMs).toBeLessThan(1000);
    expect(last.loopMaxMs).toBeLessThan(1000);
    expect(last.rssGrowthMb).toBeLessThan(100);
    expect(leftovers(t.dir)).toEqual([]);
  });
});
