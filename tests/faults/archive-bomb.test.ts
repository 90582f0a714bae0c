/**
 * Zip bombs posted to the import API (issue 15, item 6). An archive of a few hundred KB whose
 * entries are zero-filled (deflate packs them about 1000:1), listed correctly in its manifest and
 * central directory, posted three times at once: the server keeps answering (GET /labs and the
 * event loop stay under a second, a bound only a real stall breaks), its RSS grows by less than
 * 100 MB, every import is refused or turned away with a reason, and nothing is left in the labs
 * folder. Declared sizes that lie are refused as the stream inflates past them.
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { importCommand } from '../../server/cmd-archive.js';
import { MAX_CONCURRENT_IMPORTS, MAX_TEXT_BYTES, importSlot } from '../../server/snapshots-archive.js';
import { type TestServer, startTestServer } from '../integration/server-harness.js';
import { LAB_YAML, archive, sha, text, zeros } from './archive-zip.js';

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

/**
 * The archive of the issue: 4 zero-filled entries of 120 MiB (about 490 KB in all), every one a
 * file a lab archive may hold and listed with its true size and SHA-256.
 */
function issueBomb(): Uint8Array {
  const size = 120 * MiB;
  const z = zeros(size);
  const names = ['lab/lab.yaml', 'lab/state/runtime.json', 'lab/snapshots/s1/lab.yaml', 'lab/snapshots/s1/snapshot.json'];
  return archive(names.map((name) => ({ name, deflated: z.deflated, crc: z.crc, declare: size, listed: { size, sha256: z.sha256 } }) as never));
}

/** A state.bin whose central directory and manifest say 1 MiB, and that inflates to 64 MiB. */
function liar(): Uint8Array {
  const z = zeros(64 * MiB);
  return archive([
    { name: 'lab/lab.yaml', data: text(LAB_YAML) },
    { name: 'lab/snapshots/s1/snapshot.json', data: snapshotMeta('s1') },
    { name: 'lab/snapshots/s1/lab.yaml', data: text(LAB_YAML) },
    { name: 'lab/snapshots/s1/state.bin', deflated: z.deflated, crc: z.crc, declare: MiB, listed: { size: MiB, sha256: sha(new Uint8Array(MiB)) } } as never,
  ]);
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

/** A server with one lab of its own (what GET /labs lists while the bombs go off). */
async function serverWithLab(): Promise<TestServer> {
  const s = await startTestServer();
  await s.api.expect(201, 'POST', '/labs', { name: 'office', nodes: { pc1: { kind: 'host' } } });
  return s;
}

/** Posts `bomb` three times at once while watching; the bounds every bomb must keep, then the answers. */
async function postThreeTimes(what: string, bomb: Uint8Array) {
  expect(bomb.length).toBeLessThan(600_000);
  const body = { archive: b64(bomb) };
  const { result: replies } = await watch(() => Promise.all([0, 1, 2].map(() => t!.api.post('/labs/import', body))));
  console.log(`${what} x3: GET /labs max ${last.apiMaxMs.toFixed(0)} ms, event loop max delay ${last.loopMaxMs.toFixed(0)} ms, RSS growth ${last.rssGrowthMb.toFixed(0)} MB; answers ${replies.map((r) => `${r.status} ${r.body?.error}`).join(' | ')}`);
  for (const r of replies) expect([400, 503]).toContain(r.status);
  expect(last.apiMaxMs).toBeLessThan(1000);
  expect(last.loopMaxMs).toBeLessThan(1000);
  expect(last.rssGrowthMb).toBeLessThan(100);
  expect(leftovers(t!.dir)).toEqual([]);
  return replies;
}

describe('zip bombs posted to the import API', () => {
  it('three imports at once of an archive inflating to 4 x 48 MiB: the API keeps answering, RSS stays bounded, nothing is written', async () => {
    t = await serverWithLab();
    const replies = await postThreeTimes('archive bomb', stateBomb(48 * MiB));
    expect(replies.some((r) => r.status === 400 && /state\.bin/.test(r.body.error))).toBe(true);
  });

  it('the issue\'s archive (4 x 120 MiB listed truthfully) is refused on its declared sizes, before anything is inflated', async () => {
    t = await serverWithLab();
    const replies = await postThreeTimes('issue bomb', issueBomb());
    const refused = replies.find((r) => r.status === 400)!;
    expect(refused.body.error).toBe(`lab/lab.yaml: refused: ${120 * MiB} bytes once inflated; a lab file, runtime.json or snapshot.json may have at most ${MAX_TEXT_BYTES}`);
    expect(refused.body.details).toEqual([{ field: 'lab/lab.yaml', message: refused.body.error }]);
  });

  it('a central directory that says 1 MiB for an entry that inflates to 64 MiB: refused as the stream passes 1 MiB', async () => {
    t = await serverWithLab();
    const r = await t.api.post('/labs/import', { archive: b64(liar()) });
    expect(r.status).toBe(400);
    expect(r.body.error).toBe(`lab/snapshots/s1/state.bin: inflates to more than the ${MiB} bytes it declares`);
    expect(leftovers(t.dir)).toEqual([]);
  });

  it('a state.bin that is a gzip bomb of its own (64 MiB of zeros): refused on its first bytes, the RSS barely moves', async () => {
    t = await serverWithLab();
    const state = new Uint8Array(gzipSync(new Uint8Array(64 * MiB), { level: 9 }));
    const bomb = archive([
      { name: 'lab/lab.yaml', data: text(LAB_YAML) },
      { name: 'lab/snapshots/s1/snapshot.json', data: snapshotMeta('s1') },
      { name: 'lab/snapshots/s1/lab.yaml', data: text(LAB_YAML) },
      { name: 'lab/snapshots/s1/state.bin', data: state, deflate: true },
    ]);
    const { result: r } = await watch(() => t!.api.post('/labs/import', { archive: b64(bomb) }));
    expect(r.status).toBe(400);
    expect(r.body.error).toBe('lab/snapshots/s1/state.bin: not a wirelab runtime state file');
    expect(last.rssGrowthMb).toBeLessThan(32);
    expect(leftovers(t.dir)).toEqual([]);
  });

  it(`runs at most ${MAX_CONCURRENT_IMPORTS} imports at once and turns more away with 503, a reason and Retry-After`, async () => {
    t = await startTestServer();
    const good = { archive: b64(archive([{ name: 'lab/lab.yaml', data: text(LAB_YAML) }])) };
    const held = Array.from({ length: MAX_CONCURRENT_IMPORTS }, () => importSlot());
    try {
      expect(held.every((h) => h !== null)).toBe(true);
      const busy = await t.api.post('/labs/import', good);
      expect(busy.status).toBe(503);
      expect(busy.body.error).toMatch(new RegExp(`^${MAX_CONCURRENT_IMPORTS} imports are running, the most this server runs at once; try again in a few seconds$`));
      expect(busy.headers.get('retry-after')).toBe('5');
    } finally {
      for (const release of held) release?.();
    }
    const ok = await t.api.post('/labs/import', good);
    expect(ok.status).toBe(201);
    expect(ok.body.lab.name).toBe('evil');
    // A refused import gives its slot back too.
    for (let i = 0; i < MAX_CONCURRENT_IMPORTS + 1; i++) expect((await t.api.post('/labs/import', { archive: b64(liar()) })).status).toBe(400);
    expect((await t.api.post('/labs/import', { ...good, as: 'again' })).status).toBe(201);
  });
});

describe('zip bombs given to wirelab import', () => {
  it.each([
    ['the issue\'s archive', issueBomb, /refused: 125829120 bytes once inflated/],
    ['a lying central directory', liar, /inflates to more than the 1048576 bytes it declares/],
  ] as const)('%s: a clear error, no stack trace, nothing written', async (_what, make, message) => {
    const dir = mkdtempSync(join(tmpdir(), 'wirelab-bomb-'));
    const errors: string[] = [];
    const spy = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void errors.push(a.join(' ')));
    try {
      writeFileSync(join(dir, 'bomb.wlab'), make());
      const labs = join(dir, 'labs');
      expect(await importCommand([join(dir, 'bomb.wlab'), '--labs', labs])).toBe(1);
      const out = errors.join('\n');
      expect(out).toMatch(message);
      expect(out).toMatch(/nothing was written\.$/);
      expect(out).not.toMatch(/\n\s+at /);
      // Not even the labs folder the import would have made.
      expect(readdirSync(dir)).toEqual(['bomb.wlab']);
    } finally {
      spy.mockRestore();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
