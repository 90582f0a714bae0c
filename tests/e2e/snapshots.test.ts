/**
 * The Snapshot Manager end to end, in Debian's Chromium against a real wirelab server (issue 9):
 * a running lab snapshotted in the UI, a router deleted in the UI, the snapshot restored in the UI
 * and the router back on the canvas, running and forwarding pings again; a linked clone made in the UI
 * shows "Clone of", its parent snapshot shows the lock and refuses deletion naming the clone;
 * a lab exported from the labs page and imported back. Screenshots go to test-output/screenshots/.
 */
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type Lab, SHOTS, apiCall, browserMissing, buildClient, launchBrowser, startLab } from './harness.js';

const missing = browserMissing();
if (missing && process.env['CI'] === 'true') throw new Error(`browser tests cannot run in CI: ${missing}`);
if (missing) console.warn(`skipping the browser snapshot test: ${missing}`);


interface Cy {
  getElementById(id: string): { empty(): boolean; hasClass(c: string): boolean; renderedPosition(): { x: number; y: number } };
  container(): HTMLElement;
}

async function selectNode(page: Page, id: string): Promise<void> {
  // Notices sit over the top of the canvas (where r2 is drawn) and a lab that was just restored
  // may still be redrawn: notices are closed first, and a click that did not select is made again.
  for (let attempt = 1; ; attempt++) {
    for (const close of await page.locator('.notice .close').all()) await close.click().catch(() => undefined);
    const p = await page.evaluate((id) => {
      const cy = (window as unknown as { wirelabCy: Cy }).wirelabCy;
      const pos = cy.getElementById(id).renderedPosition();
      const r = cy.container().getBoundingClientRect();
      return { x: r.left + pos.x, y: r.top + pos.y };
    }, id);
    await page.mouse.click(p.x, p.y);
    try {
      await page.waitForFunction((id) => (document.querySelector('[data-test="node-name"]') as HTMLInputElement | null)?.value === id, id, { timeout: attempt < 3 ? 5_000 : 30_000 });
      return;
    } catch (e) {
      if (attempt >= 3) throw e;
    }
  }
}

async function nodeRunning(page: Page, id: string): Promise<boolean> {
  return page.evaluate((id) => {
    const el = (window as unknown as { wirelabCy: Cy }).wirelabCy.getElementById(id);
    return !el.empty() && el.hasClass('running');
  }, id);
}

describe.skipIf(missing !== null)('the Snapshot Manager in Chromium', () => {
  let lab: Lab;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  let page: Page;
  const pageErrors: string[] = [];
  const call = (method: string, path: string, body?: unknown) => apiCall(lab.apiUrl, method, path, body);

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    buildClient();
    lab = await startLab();
    const file = parseYaml(readFileSync(join(import.meta.dirname, '../../labs/triangle/lab.yaml'), 'utf8'));
    const created = await call('POST', '/labs', file);
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    browser = await launchBrowser({ width: 1280, height: 800 });
    page = await browser.context.newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await lab?.close();
  });

  test('take a snapshot, delete a node, restore: the node is back and running', async () => {
    await page.goto(lab.appUrl + '#/labs/triangle');
    await page.waitForFunction(() => !!(window as unknown as { wirelabCy?: Cy }).wirelabCy?.getElementById('h3').empty() === false);
    await page.click('[data-test="power"]');
    await page.waitForSelector('[data-test="lab-state"]:text("running")');
    await page.waitForFunction(() => ['h1', 'h3', 'r1', 'r2', 'r3'].every((n) => (window as unknown as { wirelabCy: Cy }).wirelabCy.getElementById(n).hasClass('running')));

    // Take it, named and described, in the Snapshots tab.
    await page.click('[data-tab="snapshots"]');
    await page.waitForSelector('[data-test="snapshot-panel"]');
    await page.locator('[data-test="snapshot-tree"] .empty').waitFor();
    await page.fill('[data-test="snapshot-name"]', 'before-change');
    await page.fill('[data-test="snapshot-description"]', 'five nodes, all running');
    await page.click('[data-test="snapshot-take-submit"]');
    const row = page.locator('[data-snapshot="before-change"]');
    await row.locator('[data-test="snapshot-current"]').waitFor();
    expect(await row.textContent()).toContain('live');
    expect(await row.textContent()).toContain('five nodes, all running');
    const listed = (await call('GET', '/labs/triangle/snapshots')).body as { name: string; live: boolean; description: string }[];
    expect(listed).toMatchObject([{ name: 'before-change', live: true, description: 'five nodes, all running' }]);

    // Delete r2 on the canvas: h1's way to h3 goes through it, so h1 no longer reaches h3.
    await selectNode(page, 'r2');
    await page.click('[data-test="delete"]');
    await page.waitForFunction(() => (window as unknown as { wirelabCy: Cy }).wirelabCy.getElementById('r2').empty());
    expect(((await call('GET', '/labs/triangle/nodes')).body as { name: string }[]).map((n) => n.name)).not.toContain('r2');
    const cut = (await call('POST', '/labs/triangle/checks/run', { only: ['h1 reaches h3'] })).body as { passed: boolean }[];
    expect(cut[0]!.passed).toBe(false);

    // Restore, after the dialog says what it does.
    await row.click();
    await page.waitForSelector('[data-test="snapshot-details"]');
    await page.click('[data-test="snapshot-restore"]');
    const dialog = page.locator('[data-test="confirm-dialog"]');
    await dialog.waitFor();
    expect(await dialog.textContent()).toMatch(/current state is replaced/);
    await page.click('[data-test="confirm-ok"]');
    await dialog.waitFor({ state: 'detached' });

    // r2 is back on the canvas with its cables, running; the inspector and the server say so; h1 reaches h3 through it again.
    await page.waitForFunction(() => {
      const cy = (window as unknown as { wirelabCy: Cy }).wirelabCy;
      const el = cy.getElementById('r2');
      return !el.empty() && el.hasClass('running') && !cy.getElementById('r1:g0/1--r2:g0/0').empty();
    });
    expect(await nodeRunning(page, 'h1')).toBe(true);
    await page.waitForSelector('[data-test="lab-state"]:text("running")');
    await selectNode(page, 'r2');
    expect((await page.textContent('[data-test="node-status"]'))?.trim()).toBe('running');
    const r2 = (await call('GET', '/labs/triangle/nodes/r2')).body as { status: string };
    expect(r2.status).toBe('running');
    const ping = (await call('POST', '/labs/triangle/checks/run', { only: ['h1 reaches h3', 'the way there is through r2'] })).body as { name: string; passed: boolean; detail: string }[];
    for (const c of ping) expect(c.passed, `${c.name}: ${c.detail}`).toBe(true);
    // The edit before the restore cannot be undone onto the restored lab.
    expect(await page.isDisabled('[data-test="undo"]')).toBe(true);
    await page.locator('[data-snapshot="before-change"] [data-test="snapshot-current"]').waitFor();

    // Clone node in the inspector: a copy beside it, selected; undo takes it away again.
    await selectNode(page, 'h1');
    await page.click('[data-test="clone-node"]');
    await page.waitForFunction(() => (document.querySelector('[data-test="node-name"]') as HTMLInputElement | null)?.value === 'h2');
    expect(await page.evaluate(() => !(window as unknown as { wirelabCy: Cy }).wirelabCy.getElementById('h2').empty())).toBe(true);
    const copy = (await call('GET', '/labs/triangle/nodes/h2')).body as { kind: string; spec: { interfaces: { eth0: { ip: string } } } };
    expect(copy.kind).toBe('host');
    expect(copy.spec.interfaces.eth0.ip).toBe('10.1.0.10/24');
    await page.click('[data-test="undo"]');
    await page.waitForFunction(() => (window as unknown as { wirelabCy: Cy }).wirelabCy.getElementById('h2').empty());
    expect((await call('GET', '/labs/triangle/nodes/h2')).status).toBe(404);
  }, 120_000);

  test('a linked clone: "Clone of" in the UI, its parent snapshot locked and not deletable', async () => {
    // A second snapshot, under the first in the tree.
    await page.click('[data-test="snapshot-new"]');
    await page.fill('[data-test="snapshot-name"]', 'second');
    await page.click('[data-test="snapshot-take-submit"]');
    await page.locator('[data-snapshot="second"] [data-test="snapshot-current"]').waitFor();
    expect(await page.getAttribute('[data-snapshot="second"]', 'data-depth')).toBe('1');
    expect(await page.getAttribute('[data-snapshot="before-change"]', 'data-depth')).toBe('0');

    // Someone else makes a linked clone of "second" while the panel shows it unlocked: the
    // server tells the lab channel, and the panel shows the lock and turns Delete off by itself.
    expect(await page.isDisabled('[data-test="snapshot-delete"]')).toBe(false);
    const behind = await call('POST', '/labs/triangle/clone', { name: 'triangle-api', linked: true, snapshot: 'second' });
    expect(behind.status, JSON.stringify(behind.body)).toBe(201);
    await page.locator('[data-snapshot="second"] [data-test="snapshot-lock"]').waitFor();
    expect(await page.getAttribute('[data-snapshot="second"] [data-test="snapshot-lock"]', 'title')).toContain('triangle-api');
    await page.waitForSelector('[data-test="snapshot-delete"]:disabled');
    // A snapshot taken through the API appears too, without a refresh.
    expect((await call('POST', '/labs/triangle/snapshots', { name: 'from-api' })).status).toBe(201);
    await page.locator('[data-snapshot="from-api"]').waitFor();
    expect((await call('DELETE', '/labs/triangle/snapshots/from-api')).status).toBe(204);
    await page.locator('[data-snapshot="from-api"]').waitFor({ state: 'detached' });
    expect((await call('GET', '/labs/triangle/snapshots/second')).status).toBe(200);

    // A linked clone of before-change made here.
    await page.click('[data-snapshot="before-change"]');
    await page.click('[data-test="snapshot-clone"]');
    await page.fill('[data-test="clone-name"]', 'triangle-linked');
    expect(await page.isChecked('[data-test="clone-linked"]')).toBe(true);
    await page.click('[data-test="clone-submit"]');
    await page.locator('[data-test="clone-done"]').waitFor();
    expect(await page.textContent('[data-test="clone-done"]')).toContain('triangle-linked');

    // The parent snapshot shows the lock, names the clone, and its Delete is off.
    const lock = page.locator('[data-snapshot="before-change"] [data-test="snapshot-lock"]');
    await lock.waitFor();
    expect(await lock.getAttribute('title')).toContain('triangle-linked');
    expect(await page.textContent('[data-test="snapshot-locked"]')).toContain('triangle-linked');
    expect(await page.isDisabled('[data-test="snapshot-delete"]')).toBe(true);
    expect(await page.getAttribute('[data-test="snapshot-delete"]', 'title')).toContain('triangle-linked');
    const refused = await call('DELETE', '/labs/triangle/snapshots/before-change');
    expect(refused.status).toBe(409);
    expect(refused.body.error).toContain('triangle-linked');
    await page.waitForTimeout(300);
    await page.screenshot({ path: join(SHOTS, 'snapshots-1280x800.png') });

    // Opened from the panel, the clone says whose clone it is.
    await page.click('[data-test="clone-open"]');
    await page.waitForFunction(() => location.hash === '#/labs/triangle-linked');
    const chip = page.locator('[data-test="toolbar"] [data-test="clone-of"]');
    await chip.waitFor();
    expect((await chip.textContent())?.trim()).toBe('Clone of triangle @ before-change');
    await page.waitForFunction(() => !!(window as unknown as { wirelabCy?: Cy }).wirelabCy && !(window as unknown as { wirelabCy: Cy }).wirelabCy.getElementById('h3').empty());
    // The Snapshots tab now lists the clone's own snapshots (none yet), not its parent's.
    await page.locator('[data-test="snapshot-tree"] .empty').waitFor();
    expect(await page.locator('[data-test="snapshot-tree"] [data-snapshot]').count()).toBe(0);
    expect(await page.textContent('[data-test="snapshot-take"] h2')).toContain('triangle-linked');
    await page.screenshot({ path: join(SHOTS, 'snapshots-clone-1280x800.png') });

    // And so does the labs page; the plain lab does not.
    await page.click('text=‹ Labs');
    const cloneRow = page.locator('[data-lab="triangle-linked"] [data-test="clone-of"]');
    await cloneRow.waitFor();
    expect((await cloneRow.textContent())?.trim()).toBe('Clone of triangle @ before-change');
    expect(await page.locator('[data-lab="triangle-api"] [data-test="clone-of"]').textContent()).toContain('triangle @ second');
    expect(await page.locator('[data-lab="triangle"] [data-test="clone-of"]').count()).toBe(0);
    await page.screenshot({ path: join(SHOTS, 'snapshots-labs-1280x800.png') });
  }, 120_000);

  test('export from the labs page, import it back under a new name', async () => {
    await page.click('[data-export="triangle-linked"]');
    await page.locator('[data-test="export-menu"] [data-test="export-lab-snapshots"]').waitFor();
    await page.screenshot({ path: join(SHOTS, 'snapshots-export-1280x800.png') });
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-test="export-menu"] [data-test="export-lab"]')]);
    await page.locator('[data-test="export-menu"]').waitFor({ state: 'detached' });
    expect(download.suggestedFilename()).toBe('triangle-linked.wlab');
    const file = join(lab.labsDir, '..', `wirelab-e2e-export-${process.pid}.wlab`);
    await download.saveAs(file);

    await page.setInputFiles('[data-test="import-file"]', file);
    expect(await page.textContent('[data-test="import-file-name"]')).toContain('.wlab');
    await page.fill('[data-test="import-as"]', 'flattened');
    await page.click('[data-test="import-submit"]');
    await page.locator('[data-lab="flattened"]').waitFor();
    // An exported linked clone is flattened: the import stands on its own.
    expect(await page.locator('[data-lab="flattened"] [data-test="clone-of"]').count()).toBe(0);
    const imported = (await call('GET', '/labs/flattened')).body as { nodes: { name: string }[]; file: Record<string, unknown> };
    expect(imported.nodes.map((n) => n.name).sort()).toEqual(['h1', 'h3', 'r1', 'r2', 'r3']);
    expect(imported.file['clone-of']).toBeUndefined();

    // With its snapshots: the import has them too.
    await page.click('[data-export="triangle"]');
    const [withSnaps] = await Promise.all([page.waitForEvent('download'), page.click('[data-test="export-menu"] [data-test="export-lab-snapshots"]')]);
    const file2 = join(lab.labsDir, '..', `wirelab-e2e-export-snaps-${process.pid}.wlab`);
    await withSnaps.saveAs(file2);
    await page.setInputFiles('[data-test="import-file"]', file2);
    await page.fill('[data-test="import-as"]', 'with-snapshots');
    await page.click('[data-test="import-submit"]');
    await page.locator('[data-lab="with-snapshots"]').waitFor();
    const snaps = (await call('GET', '/labs/with-snapshots/snapshots')).body as { name: string }[];
    expect(snaps.map((x) => x.name)).toEqual(['before-change', 'second']);
    rmSync(file, { force: true });
    rmSync(file2, { force: true });
    expect(pageErrors).toEqual([]);
  }, 60_000);
});
