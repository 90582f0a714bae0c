/**
 * Consoles in the browser (issue 6): double-click a router, type `show ip interface brief` in its
 * xterm.js tab and see the table; then ping from a host's console.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type Lab, browserMissing, buildClient, launchBrowser, screenPos, startLab } from './harness.js';

const missing = browserMissing();
if (missing && process.env['CI'] === 'true') throw new Error(`browser tests cannot run in CI: ${missing}`);
if (missing) console.warn(`skipping the browser console test: ${missing}`);

const SHOTS = join('test-output', 'screenshots');

async function openConsole(page: Page, node: string): Promise<void> {
  const p = await screenPos(page, node);
  await page.mouse.dblclick(p.x, p.y);
  await page.locator('[data-test="console-panel"] .ctab.on', { hasText: node }).waitFor();
  await page.locator('[data-test="console-panel"] .xterm').last().waitFor();
  await page.locator('[data-test="console-panel"] .xterm').last().click();
}

async function screenText(page: Page): Promise<string> {
  return page.evaluate(() => Array.from(document.querySelectorAll('[data-test="console-panel"] .xterm-rows')).map((e) => e.textContent ?? '').join('\n'));
}

describe.skipIf(missing !== null)('consoles in the browser', () => {
  let lab: Lab;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  let page: Page;

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    buildClient();
    lab = await startLab();
    const file = parseYaml(readFileSync(join(import.meta.dirname, '../../labs/triangle/lab.yaml'), 'utf8'));
    const created = await fetch(`${lab.apiUrl}/api/v1/labs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(file) });
    expect(created.status, await created.text()).toBe(201);
    const started = await fetch(`${lab.apiUrl}/api/v1/labs/triangle/start`, { method: 'POST' });
    expect(started.status).toBe(200);
    browser = await launchBrowser({ width: 1280, height: 800 });
    page = await browser.context.newPage();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await lab?.close();
  });

  test('show ip interface brief on a router, then ping from a host', async () => {
    await page.goto(lab.appUrl + '#/labs/triangle');
    await page.waitForFunction(() => !!(window as unknown as { wirelabCy?: unknown }).wirelabCy);
    await openConsole(page, 'r1');
    await page.keyboard.type('show ip interface brief\r');
    await page.waitForFunction(() => /10\.12\.0\.1/.test(document.querySelector('[data-test="console-panel"]')?.textContent ?? ''), undefined, { timeout: 20_000 });
    const table = await screenText(page);
    expect(table).toMatch(/Interface\s+IP-Address\s+OK\?\s+Method\s+Status\s+Protocol/);
    expect(table).toMatch(/10\.1\.0\.1/);
    await page.screenshot({ path: join(SHOTS, 'console-router.png') });

    await openConsole(page, 'h1');
    await page.keyboard.type('ping 10.3.0.10 -c 2\r');
    await page.waitForFunction(() => /icmp_seq=2/.test(document.querySelector('[data-test="console-panel"]')?.textContent ?? ''), undefined, { timeout: 20_000 });
    expect(await screenText(page)).toMatch(/10\.3\.0\.10 icmp_seq=1 ttl=62/);
    await page.screenshot({ path: join(SHOTS, 'console-host.png') });
  }, 90_000);
});
