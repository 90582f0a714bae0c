/**
 * Browser figures of the web client (issue 5), measured in Debian's Chromium against a real
 * wirelab server:
 * - client.render1k_ms: a 1,000-node lab opened in the page, from navigation to the canvas's
 *   first frame with every element on it (median of 5 loads, each in a fresh tab);
 * - client.trace_longest_task_ms: the main thread's longest task (longtask entries, and the
 *   longest gap between animation frames) while the trace panel receives 10,000 records/s,
 *   made by real frames crossing a running lab's cables;
 * - client.trace_records_per_s: how many records a second the page actually took in meanwhile.
 */
import { browserMissing, buildClient, launchBrowser, startLab } from '../e2e/harness.js';
import type { Figure } from './run.js';

const post = async (base: string, path: string, body: unknown) => {
  const r = await fetch(`${base}/api/v1${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!r.ok) throw new Error(`POST ${path}: ${r.status} ${await r.text()}`);
  return r.json();
};

/** 1,000 nodes: a core switch, 39 access switches of 24 hosts, 24 hosts on the core; laid out in rows. */
export function thousandNodeLab(): Record<string, unknown> {
  const nodes: Record<string, unknown> = { core: { kind: 'switch', ports: 64, ui: { x: 2000, y: 0 } } };
  const links: unknown[] = [];
  let host = 0;
  for (let s = 0; s < 39; s++) {
    const sw = `sw${s + 1}`;
    const x = (s % 13) * 320;
    const y = 300 + Math.floor(s / 13) * 700;
    nodes[sw] = { kind: 'switch', ports: 26, ui: { x: x + 120, y } };
    links.push([`${sw}:e25`, `core:e${s}`]);
    for (let h = 0; h < 24; h++) {
      const name = `h${++host}`;
      nodes[name] = { kind: 'host', interfaces: { eth0: { ip: `10.${s + 1}.0.${h + 10}/16` } }, ui: { x: x + (h % 4) * 80, y: y + 120 + Math.floor(h / 4) * 90 } };
      links.push([`${name}:eth0`, `${sw}:e${h}`]);
    }
  }
  for (let h = 0; h < 24; h++) {
    const name = `h${++host}`;
    nodes[name] = { kind: 'host', interfaces: { eth0: { ip: `10.100.0.${h + 10}/16` } }, ui: { x: 1500 + h * 45, y: -150 } };
    links.push([`${name}:eth0`, `core:e${39 + h}`]);
  }
  return { wirelab: 1, name: 'big', nodes, links };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** A UDP frame from h1 to a MAC nobody has: the switch floods it to h2, which drops it quietly. */
function floodFrame(seq: number): Uint8Array {
  const f = new Uint8Array(60 + 42);
  const dst = [0x02, 0, 0, 0, 0, 0x99];
  const src = [0x02, 0, 0, 0, 0, 0x01];
  f.set(dst, 0);
  f.set(src, 6);
  f[12] = 0x08;
  f[13] = 0x00;
  const ip = 14;
  const total = f.length - 14;
  f.set([0x45, 0, total >> 8, total & 255, (seq >> 8) & 255, seq & 255, 0x40, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2], ip);
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += (f[ip + i]! << 8) | f[ip + i + 1]!;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
  const c = ~sum & 0xffff;
  f[ip + 10] = c >> 8;
  f[ip + 11] = c & 255;
  const udp = ip + 20;
  const ulen = total - 20;
  f.set([0x9c, 0x40, 0x00, 0x09, ulen >> 8, ulen & 255, 0, 0], udp);
  return f;
}

export async function clientBench(): Promise<Figure[]> {
  const missing = browserMissing();
  if (missing) {
    console.error(`client bench skipped: ${missing}`);
    return [];
  }
  buildClient();
  const lab = await startLab();
  let browser = await launchBrowser({ width: 1600, height: 1000 });
  const figures: Figure[] = [];
  try {
    // ---------------------------------------------------------------- 1,000 nodes
    await post(lab.apiUrl, '/labs', thousandNodeLab());
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const page = await browser.context.newPage();
      await page.goto(`${lab.appUrl}#/labs/big`);
      await page.waitForFunction(() => performance.getEntriesByName('wirelab:canvas-rendered').length > 0, undefined, { timeout: 60_000 });
      const t = await page.evaluate(() => {
        const cy = (window as unknown as { wirelabCy: { nodes(): { length: number } } }).wirelabCy;
        return { at: performance.getEntriesByName('wirelab:canvas-rendered')[0]!.startTime, nodes: cy.nodes().length };
      });
      if (t.nodes !== 1000) throw new Error(`the canvas shows ${t.nodes} nodes, not 1000`);
      times.push(t.at);
      await page.close();
    }
    figures.push({ name: 'client.render1k_ms', value: Math.round(median(times)), unit: 'ms', target: 2000 });

    // ---------------------------------------------------------------- 10,000 records/s
    await post(lab.apiUrl, '/labs', {
      name: 'flood',
      nodes: {
        h1: { kind: 'host', interfaces: { eth0: { ip: '10.0.0.1/24' } }, ui: { x: 0, y: 200 } },
        h2: { kind: 'host', interfaces: { eth0: { ip: '10.0.0.2/24' } }, ui: { x: 300, y: 200 } },
        sw1: { kind: 'switch', stp: false, ui: { x: 150, y: 0 } },
      },
      links: [
        ['h1:eth0', 'sw1:e0'],
        ['h2:eth0', 'sw1:e1'],
      ],
    });
    await post(lab.apiUrl, '/labs/flood/start', undefined);
    // A browser of its own: nothing left over from the big lab (its garbage, its caches) counts here.
    await browser.close();
    browser = await launchBrowser({ width: 1600, height: 1000 });
    const page = await browser.context.newPage();
    await page.goto(`${lab.appUrl}#/labs/flood`);
    await page.waitForSelector('[data-test="trace-panel"]');
    await page.waitForFunction(() => performance.getEntriesByName('wirelab:canvas-rendered').length > 0);
    await page.waitForTimeout(500);
    await page.evaluate(() => {
      const w = window as unknown as { benchLongest: number; benchGap: number; benchStop: boolean };
      w.benchLongest = 0;
      w.benchGap = 0;
      w.benchStop = false;
      new PerformanceObserver((list) => {
        for (const e of list.getEntries()) w.benchLongest = Math.max(w.benchLongest, e.duration);
      }).observe({ type: 'longtask' });
      let last = performance.now();
      const frame = (now: number) => {
        w.benchGap = Math.max(w.benchGap, now - last);
        last = now;
        if (!w.benchStop) requestAnimationFrame(frame);
      };
      requestAnimationFrame(frame);
    });
    const link = lab.server.labs.runtime('flood')!.link('h1:eth0--sw1:e0')!;
    const h1 = link.ends.find((p) => (p.owner as { name?: string }).name === 'h1')!;
    // Every frame crosses two traced cables (h1 to sw1, sw1 to h2): 5,000 frames/s are 10,000 records/s.
    const framesPerSecond = 5000;
    const seconds = 4;
    const start = performance.now();
    let sent = 0;
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        const elapsed = (performance.now() - start) / 1000;
        const due = Math.min(framesPerSecond * seconds, Math.floor(elapsed * framesPerSecond));
        while (sent < due) h1.send(floodFrame(sent++));
        if (sent >= framesPerSecond * seconds) {
          clearInterval(timer);
          resolve();
        }
      }, 5);
    });
    await page.waitForTimeout(1000);
    const seen = await page.evaluate(() => {
      const w = window as unknown as { benchLongest: number; benchGap: number; benchStop: boolean };
      w.benchStop = true;
      const count = Number((document.querySelector('[data-test="trace-count"]')?.textContent ?? '0').replace(/[^0-9 ]/g, '').trim().split(/\s+/).pop());
      return { longest: w.benchLongest, gap: w.benchGap, count, dropped: document.querySelector('[data-test="trace-dropped"]')?.textContent ?? '' };
    });
    const elapsed = (performance.now() - start) / 1000 - 1;
    if (seen.dropped) console.error(`client bench: ${seen.dropped}`);
    figures.push({ name: 'client.trace_longest_task_ms', value: Math.round(Math.max(seen.longest, seen.gap)), unit: 'ms', target: 100 });
    figures.push({ name: 'client.trace_records_per_s', value: Math.round(seen.count / elapsed), unit: 'records/s', target: 10000 });
  } finally {
    await browser.close();
    await lab.close();
  }
  return figures;
}
