/**
 * A node beyond the server's telnet listener cap, in the browser: the inspector shows the shared
 * telnet port and the `lab/node` to type there (the server's reason as its tooltip), a node with
 * a port of its own shows that port.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type Lab, browserMissing, buildClient, launchBrowser, screenPos, startLab } from './harness.js';

const missing = browserMissing();
if (missing && process.env['CI'] === 'true') throw new Error(`browser tests cannot run in CI: ${missing}`);
if (missing) console.warn(`skipping the shared console port browser test: ${missing}`);

const SHOTS = join('test-output', 'screenshots');

async function select(page: Page, node: string): Promise<void> {
  const p = await screenPos(page, node);
  await page.mouse.click(p.x, p.y);
  await page.locator('[data-test="node-name"]').and(page.locator(`[value="${node}"]`)).or(page.locator('[data-test="node-telnet"]')).first().waitFor();
}

describe.skipIf(missing !== null)('the shared telnet console port in the browser', () => {
  let lab: Lab;
  let views: { name: string; console: number | null; consoleShared: number | null }[];

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    buildClient();
    lab = await startLab({ consoleListeners: 1 });
    const file = parseYaml(readFileSync(join(import.meta.dirname, '../../labs/triangle/lab.yaml'), 'utf8'));
    const created = await fetch(`${lab.apiUrl}/api/v1/labs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(file) });
    expect(created.status, await created.text()).toBe(201);
    const started = await fetch(`${lab.apiUrl}/api/v1/labs/triangle/start`, { method: 'POST' });
    expect(started.status).toBe(200);
    views = ((await started.json()) as { nodes: typeof views }).nodes;
  }, 120_000);

  afterAll(async () => {
    await lab?.close();
  });

  for (const viewport of [
    { width: 1280, height: 800 },
    { width: 1920, height: 1080 },
  ]) {
    test(`the inspector says where each node's telnet console is (${viewport.width}x${viewport.height})`, async () => {
      const browser = await launchBrowser(viewport);
      try {
        const page = await browser.context.newPage();
        await page.goto(lab.appUrl + '#/labs/triangle');
        await page.waitForFunction(() => !!(window as unknown as { wirelabCy?: unknown }).wirelabCy);
        const own = views.find((v) => v.console !== null)!;
        const beyond = views.find((v) => v.console === null)!;
        await select(page, beyond.name);
        const telnet = page.locator('[data-test="node-telnet"]');
        await page.waitForFunction((want) => document.querySelector('[data-test="node-telnet"]')?.textContent?.includes(want), `triangle/${beyond.name}`);
        expect(await telnet.textContent()).toBe(`telnet ${beyond.consoleShared} → triangle/${beyond.name}`);
        expect(await telnet.getAttribute('title')).toMatch(/no telnet port of its own: the server's cap of 1 telnet console listeners/);
        await page.screenshot({ path: join(SHOTS, `console-shared-${viewport.width}.png`) });
        await select(page, own.name);
        await page.waitForFunction((want) => document.querySelector('[data-test="node-telnet"]')?.textContent === want, `telnet ${own.console}`);
      } finally {
        await browser.close();
      }
    }, 90_000);
  }
});
