/**
 * Issue 14 in Chromium, the node inspector's part: a duplicate address warned about in the
 * inspector and reported at run time (a notice), each interface's peer listed for hosts, routers
 * and switches, and a host dropped on a NAT network and cabled that leases an address without its
 * form being touched. Screenshots at 1280x800 and 1920x1080 go to test-output/screenshots/.
 */
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type Lab, SHOTS, browserMissing, startBrowserLab } from './harness.js';

const missing = browserMissing();
if (missing && process.env['CI'] === 'true') throw new Error(`browser tests cannot run in CI: ${missing}`);
if (missing) console.warn(`skipping the browser tests: ${missing}`);


/** What these tests read of the canvas's Cytoscape (the client exposes it as (window as unknown as WithCy).wirelabCy). */
interface Cy {
  getElementById(id: string): { empty(): boolean; renderedPosition(): { x: number; y: number } };
  nodes(): { map<T>(f: (n: { id(): string }) => T): T[] };
  container(): HTMLElement;
}
type WithCy = { wirelabCy?: Cy };

const LAB = {
  wirelab: 1,
  name: 'glance',
  networks: { vmnet8: { type: 'nat', ui: { x: 620, y: 120 } } },
  nodes: {
    r1: { kind: 'router', interfaces: { 'g0/0': { ip: '10.0.0.1/24' } }, ui: { x: 300, y: 80 } },
    sw1: { kind: 'switch', stp: false, ui: { x: 300, y: 220 } },
    pc1: { kind: 'host', interfaces: { eth0: { ip: '10.0.0.5/24' } }, ui: { x: 180, y: 360 } },
    // Its router's address, on the same switch: saved, with a warning.
    pc2: { kind: 'host', interfaces: { eth0: { ip: '10.0.0.1/24' } }, ui: { x: 420, y: 360 } },
  },
  links: [
    ['pc1:eth0', 'sw1:e0'],
    ['pc2:eth0', 'sw1:e1'],
    ['r1:g0/0', 'sw1:e2'],
  ],
};

async function screenPos(page: Page, id: string): Promise<{ x: number; y: number }> {
  return page.evaluate((id) => {
    const cy = (window as unknown as WithCy).wirelabCy!;
    const p = cy.getElementById(id).renderedPosition();
    const r = cy.container().getBoundingClientRect();
    return { x: r.left + p.x, y: r.top + p.y };
  }, id);
}

async function selectNode(page: Page, id: string): Promise<void> {
  // Two quick taps on two nodes read as Cytoscape's double tap (which opens a console).
  await page.waitForTimeout(400);
  const p = await screenPos(page, id);
  await page.mouse.click(p.x, p.y);
  await page.waitForFunction((id) => (document.querySelector('[data-test="node-name"]') as HTMLInputElement | null)?.value === id, id);
}

const peerCell = (page: Page, iface: string) => page.locator(`[data-test="node-cabling"] [data-peer-of="${iface}"]`);

describe.skipIf(missing !== null)('the node inspector at a glance, in Chromium', () => {
  let lab: Lab;
  let env: Awaited<ReturnType<typeof startBrowserLab>>;
  let page: Page;
  const api = (path: string, init?: RequestInit) => fetch(`${lab.apiUrl}/api/v1${path}`, init);

  beforeAll(async () => {
    env = await startBrowserLab();
    lab = env.lab;
    page = env.page;
    page.on('pageerror', (e) => console.error('page error:', e.message));
    const created = await api('/labs', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(LAB) });
    expect(created.status).toBe(201);
  }, 120_000);

  afterAll(async () => {
    await env?.close();
  });

  test('peers per interface; a duplicate address warned about in the inspector, then reported when the lab runs', async () => {
    await page.goto(lab.appUrl + '#/labs/glance');
    await page.waitForFunction(() => !!(window as unknown as WithCy).wirelabCy && !(window as unknown as WithCy).wirelabCy!.getElementById('pc2').empty());

    // A host names its peer where it used to say "cabled".
    await selectNode(page, 'pc1');
    expect((await page.textContent('[data-iface="eth0"] [data-test="host-peer"]'))!.trim()).toBe('to sw1:e0');
    await expect(page.locator('[data-test="node-warnings"]').count()).resolves.toBe(0);

    // The duplicate: warned about at pc2's interface, naming the other holder.
    await selectNode(page, 'pc2');
    const warning = page.locator('[data-test="node-warnings"]');
    await warning.waitFor();
    expect(await warning.textContent()).toMatch(/eth0: duplicate address: 10\.0\.0\.1 is also r1 g0\/0's, on the same segment/);

    // A router lists each interface's peer, uncabled ones too; a switch its cabled ports.
    await selectNode(page, 'r1');
    expect(await peerCell(page, 'g0/0').textContent()).toMatch(/g0\/0\s*→\s*sw1:e2/);
    expect(await peerCell(page, 'g0/1').textContent()).toMatch(/not cabled/);
    expect(await page.textContent('[data-test="node-warnings"]')).toMatch(/g0\/0: duplicate address: 10\.0\.0\.1 is also pc2 eth0's/);
    await selectNode(page, 'sw1');
    expect(await peerCell(page, 'e0').textContent()).toMatch(/pc1:eth0/);
    expect(await peerCell(page, 'e1').textContent()).toMatch(/pc2:eth0/);
    expect(await peerCell(page, 'e2').textContent()).toMatch(/r1:g0\/0/);
    expect(await page.locator('[data-test="node-cabling"] [data-peer-of]').count()).toBe(3);
    // A peer is a link to that node.
    await peerCell(page, 'e2').locator('a').click();
    await page.waitForFunction(() => (document.querySelector('[data-test="node-name"]') as HTMLInputElement | null)?.value === 'r1');

    // Run time: pc2 and r1 hear each other's gratuitous ARP; the UI says so.
    await page.click('[data-test="power"]');
    await page.waitForSelector('[data-test="lab-state"]:text("running")');
    const notice = page.locator('.notice', { hasText: 'Duplicate address 10.0.0.1' });
    await notice.first().waitFor({ timeout: 15_000 });
    const texts = await notice.allTextContents();
    expect(texts.join('\n')).toMatch(/r1 g0\/0 hears it from pc2 eth0|pc2 eth0 hears it from r1 g0\/0/);

    for (const size of [
      { width: 1280, height: 800 },
      { width: 1920, height: 1080 },
    ]) {
      await page.setViewportSize(size);
      await selectNode(page, 'pc2');
      await page.screenshot({ path: join(SHOTS, `inspector-duplicate-${size.width}x${size.height}.png`) });
      await selectNode(page, 'r1');
      await page.screenshot({ path: join(SHOTS, `inspector-router-peers-${size.width}x${size.height}.png`) });
    }
    await page.setViewportSize({ width: 1280, height: 800 });
  }, 120_000);

  test('a host dropped on the canvas and cabled to a NAT network leases an address, its form untouched', async () => {
    // The notices of the first test would cover vmnet8.
    while ((await page.locator('.notice .close').count()) > 0) await page.locator('.notice .close').first().click();
    const before = new Set(((await (await api('/labs/glance/nodes')).json()) as { name: string }[]).map((n) => n.name));
    const canvas = (await page.locator('[data-test="canvas"]').boundingBox())!;
    const box = (await page.locator('[data-palette="host"]').boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(canvas.x + canvas.width * 0.8, canvas.y + canvas.height * 0.6, { steps: 10 });
    await page.mouse.up();
    const name = await page.waitForFunction(
      (known) => {
        const ids = (window as unknown as WithCy).wirelabCy?.nodes().map((n) => n.id()) ?? [];
        return ids.find((id) => !known.includes(id) && id !== 'vmnet8') ?? null;
      },
      [...before],
    );
    const host = (await name.jsonValue()) as string;
    // The new host has no address.
    await selectNode(page, host);
    expect(await page.inputValue('[data-iface="eth0"] [data-test="ip-mode"]')).toBe('none');
    await page.locator('[data-iface="eth0"] [data-test="use-dhcp"]').waitFor();

    // Cable it to vmnet8 (a popup, if one asks, is confirmed as it is).
    await page.click('[data-test="tool-link"]');
    const a = await screenPos(page, host);
    const b = await screenPos(page, 'vmnet8');
    await page.mouse.move(a.x, a.y);
    await page.mouse.down();
    await page.mouse.move(b.x, b.y, { steps: 12 });
    await page.mouse.up();
    const popup = page.locator('[data-test="link-popup"]');
    await Promise.race([popup.waitFor(), page.waitForFunction((h) => !(window as unknown as WithCy).wirelabCy!.getElementById(`${h}:eth0--vmnet8`).empty(), host)]);
    if (await popup.isVisible()) await page.click('[data-test="link-connect"]');
    await page.waitForFunction((h) => !(window as unknown as WithCy).wirelabCy!.getElementById(`${h}:eth0--vmnet8`).empty(), host);
    await page.click('[data-test="tool-select"]');

    // lab.yaml says dhcp, the inspector too, and the DHCP server of vmnet8 leases it an address.
    const spec = (await (await api(`/labs/glance/nodes/${host}`)).json()) as { spec: { interfaces?: Record<string, { ip?: string }> } };
    expect(spec.spec.interfaces?.['eth0']?.ip).toBe('dhcp');
    await selectNode(page, host);
    await page.waitForFunction(() => (document.querySelector('[data-iface="eth0"] [data-test="ip-mode"]') as HTMLSelectElement | null)?.value === 'dhcp');
    expect((await page.textContent('[data-iface="eth0"] [data-test="host-peer"]'))!.trim()).toBe('to vmnet8');
    const mac = ((await (await api(`/labs/glance/nodes/${host}`)).json()) as { interfaces: { name: string; mac: string }[] }).interfaces[0]!.mac;
    const deadline = Date.now() + 60_000;
    let lease: { ip: string; mac: string } | undefined;
    while (!lease && Date.now() < deadline) {
      const st = (await (await api('/labs/glance/networks/vmnet8/status')).json()) as { dhcp: { leases: { ip: string; mac: string }[] } | null };
      lease = st.dhcp?.leases.find((l) => l.mac.toLowerCase() === mac.toLowerCase());
      if (!lease) await new Promise((r) => setTimeout(r, 500));
    }
    expect(lease, `a lease for ${host} (${mac}) from vmnet8`).toBeDefined();
    expect(lease!.ip).toMatch(/^192\.168\.\d+\.(1(2[89]|[3-9]\d)|2([0-4]\d|5[0-3]))$/);

    // Elsewhere a new host has no address, and DHCP is one click away.
    const made = await api('/labs/glance/nodes', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'pc9', kind: 'host', ui: { x: 560, y: 300 } }) });
    expect(made.status).toBe(201);
    await api('/labs/glance/links', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(['pc9:eth0', 'sw1:e3']) });
    await page.waitForFunction(() => !(window as unknown as WithCy).wirelabCy!.getElementById('pc9').empty());
    await selectNode(page, 'pc9');
    expect(await page.inputValue('[data-iface="eth0"] [data-test="ip-mode"]')).toBe('none');
    await page.click('[data-iface="eth0"] [data-test="use-dhcp"]');
    await page.waitForFunction(() => (document.querySelector('[data-iface="eth0"] [data-test="ip-mode"]') as HTMLSelectElement | null)?.value === 'dhcp');
    // Applied at once: no Apply to press, lab.yaml says dhcp.
    await page.waitForSelector('[data-test="apply-node"]:disabled:text-is("Apply")');
    let pc9ip: string | undefined;
    for (const until = Date.now() + 10_000; pc9ip !== 'dhcp' && Date.now() < until; await new Promise((r) => setTimeout(r, 200))) {
      pc9ip = ((await (await api('/labs/glance/nodes/pc9')).json()) as { spec: { interfaces?: Record<string, { ip?: string }> } }).spec.interfaces?.['eth0']?.ip;
    }
    expect(pc9ip).toBe('dhcp');

    for (const size of [
      { width: 1280, height: 800 },
      { width: 1920, height: 1080 },
    ]) {
      await page.setViewportSize(size);
      await selectNode(page, host);
      await page.screenshot({ path: join(SHOTS, `inspector-nat-dhcp-${size.width}x${size.height}.png`) });
    }
  }, 120_000);
});
