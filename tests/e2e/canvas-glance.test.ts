/**
 * The lab at a glance, in Chromium: hovering a node shows its addresses (configured while the
 * lab is stopped, live while it runs: a DHCP host's lease from a router's DHCP server and from
 * a host-only network), the inspector lists them too, impaired and suspended cables are drawn
 * apart from plain ones (asserted on Cytoscape's computed style), a short cable keeps its
 * interface names apart and a very short one shows them when hovered, network nodes get a
 * running frame, and nothing is polled once the tooltip is gone. Screenshots at 1280x800 and
 * 1920x1080.
 */
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type Lab, SHOTS, browserMissing, screenPos, startBrowserLab } from './harness.js';

const missing = browserMissing();
if (missing && process.env['CI'] === 'true') throw new Error(`browser tests cannot run in CI: ${missing}`);
if (missing) console.warn(`skipping the browser tests: ${missing}`);


const LAB = {
  name: 'glance',
  description: 'addresses, impairments and network state at a glance',
  networks: { vmnet1: { type: 'host-only', subnet: '192.168.91.0/24', ui: { x: 760, y: 120 } } },
  nodes: {
    r1: {
      kind: 'router',
      interfaces: { 'g0/0': { ip: '10.5.0.1/24' }, 'g0/1': { ip: '10.6.0.1/24' } },
      'dhcp-server': { pools: [{ interface: 'g0/0', range: '10.5.0.100-10.5.0.150', gateway: '10.5.0.1', lease: '1h' }] },
      ui: { x: 400, y: 110 },
    },
    sw1: { kind: 'switch', ui: { x: 400, y: 290 } },
    pc1: { kind: 'host', interfaces: { eth0: { ip: 'dhcp' } }, ui: { x: 200, y: 440 } },
    pc2: { kind: 'host', interfaces: { eth0: { ip: '10.5.0.20/24', gateway: '10.5.0.1' } }, ui: { x: 400, y: 470 } },
    pc3: { kind: 'host', interfaces: { eth0: { ip: '10.5.0.30/24' } }, ui: { x: 600, y: 440 } },
    pc4: { kind: 'host', interfaces: { eth0: { ip: '10.5.0.40/24' } }, ui: { x: 478, y: 236 } },
    pc5: { kind: 'host', interfaces: { eth0: { ip: '10.5.0.50/24' } }, ui: { x: 334, y: 240 } },
    'ho-pc': { kind: 'host', interfaces: { eth0: { network: 'vmnet1', ip: 'dhcp' } }, ui: { x: 760, y: 330 } },
  },
  links: [
    ['pc1:eth0', 'sw1:e1'],
    { endpoints: ['r1:g0/0', 'sw1:e0'], delay: '5ms', jitter: '1ms' },
    { endpoints: ['pc2:eth0', 'sw1:e2'], loss: '1%', rate: '100Mbps' },
    { endpoints: ['pc3:eth0', 'sw1:e3'], suspended: true },
    ['pc4:eth0', 'sw1:e4'],
    ['pc5:eth0', 'sw1:e5'],
  ],
};

const PLAIN = 'pc1:eth0--sw1:e1';
const DELAYED = 'r1:g0/0--sw1:e0';
const LOSSY = 'pc2:eth0--sw1:e2';
const SUSPENDED = 'pc3:eth0--sw1:e3';
const SHORT = 'pc4:eth0--sw1:e4';
const SHORTEST = 'pc5:eth0--sw1:e5';
const STYLE_KEYS = ['line-style', 'line-color', 'width', 'label', 'source-label', 'target-label', 'source-text-margin-x', 'source-text-margin-y', 'target-text-margin-x', 'target-text-margin-y'] as const;

async function styleOf(page: Page, id: string): Promise<Record<(typeof STYLE_KEYS)[number], string> & { classes: string[] }> {
  return page.evaluate(
    ([id, keys]) => {
      const el = window.wirelabCy!.getElementById(id);
      const out: Record<string, unknown> = { classes: ['impaired', 'suspended', 'running', 'stopped', 'tiny', 'micro', 'reveal'].filter((c) => el.hasClass(c)) };
      for (const k of keys) out[k] = el.style(k);
      return out as never;
    },
    [id, STYLE_KEYS] as const,
  );
}

async function hover(page: Page, id: string, edge = false): Promise<void> {
  await page.mouse.move(5, 5);
  await page.waitForSelector('[data-test="canvas-tooltip"]', { state: 'detached', timeout: 5000 });
  const p = await screenPos(page, id, edge);
  await page.mouse.move(p.x, p.y, { steps: 4 });
  await page.waitForSelector(`[data-test="canvas-tooltip"][data-for="${id}"]`, { timeout: 5000 });
}

const tooltipText = (page: Page) => page.locator('[data-test="canvas-tooltip"]').innerText();

describe.skipIf(missing !== null)('the lab at a glance in Chromium', () => {
  let lab: Lab;
  let env: Awaited<ReturnType<typeof startBrowserLab>>;
  let page: Page;
  const post = (path: string, body?: unknown) =>
    fetch(`${lab.apiUrl}/api/v1${path}`, { method: 'POST', ...(body !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}) });

  beforeAll(async () => {
    env = await startBrowserLab();
    lab = env.lab;
    page = env.page;
    expect((await post('/labs', LAB)).status).toBe(201);
    page.on('pageerror', (e) => console.error('page error:', e.message));
  }, 120_000);

  afterAll(async () => {
    await env?.close();
  });

  test('addresses on hover and in the inspector, marked links, running networks', { timeout: 120_000 }, async () => {
    let addressRequests = 0;
    page.on('request', (r) => {
      if (r.url().includes('/addresses')) addressRequests++;
    });
    await page.goto(`${lab.appUrl}#/labs/glance`);
    await page.waitForFunction(() => window.wirelabCy !== undefined && !window.wirelabCy.getElementById('vmnet1').empty());

    // Cables: impaired and suspended ones are drawn apart from a plain one, and say why.
    const plain = await styleOf(page, PLAIN);
    const delayed = await styleOf(page, DELAYED);
    const lossy = await styleOf(page, LOSSY);
    const suspended = await styleOf(page, SUSPENDED);
    expect(plain.classes).toEqual([]);
    expect(plain['line-style']).toBe('solid');
    expect(plain.label).toBe('');
    for (const s of [delayed, lossy, suspended]) {
      expect(s['line-style']).toBe('dashed');
      expect(s['line-color']).not.toBe(plain['line-color']);
    }
    expect(delayed.classes).toContain('impaired');
    expect(delayed.label).toBe('5ms ±1ms');
    expect(lossy.label).toBe('1% loss 100mbit');
    expect(suspended.classes).toContain('suspended');
    expect(suspended.label).toBe('suspended');
    expect(suspended['line-color']).not.toBe(delayed['line-color']);

    // A network is framed as a stopped node is while the lab is stopped.
    expect((await styleOf(page, 'vmnet1')).classes).toContain('stopped');
    const frame = (id: string) => page.evaluate((id) => ['border-width', 'border-color'].map((k) => window.wirelabCy!.getElementById(id).style(k)).join(' '), id);
    const netBorder = () => page.evaluate(() => window.wirelabCy!.getElementById('vmnet1').style('border-width'));
    expect(await frame('vmnet1')).toBe(await frame('pc1'));

    // Stopped: the tooltip shows what lab.yaml configures.
    await hover(page, 'pc2');
    expect(await tooltipText(page)).toMatch(/configured[\s\S]*eth0[\s\S]*10\.5\.0\.20\/24[\s\S]*static[\s\S]*gw 10\.5\.0\.1/);
    await hover(page, 'pc1');
    expect(await tooltipText(page)).toMatch(/eth0[\s\S]*DHCP/);

    // A short cable keeps its interface names, each near its own end and on its own side of the
    // line, so the two do not meet in the middle.
    await page.mouse.move(5, 5);
    const short = await styleOf(page, SHORT);
    expect(short.classes).toEqual(['tiny']);
    expect([short['source-label'], short['target-label']]).toEqual(['eth0', 'e4']);
    const apart = Math.hypot(
      parseFloat(short['source-text-margin-x']) - parseFloat(short['target-text-margin-x']),
      parseFloat(short['source-text-margin-y']) - parseFloat(short['target-text-margin-y']),
    );
    expect(apart).toBeGreaterThan(10);
    // One too short for them drops them until it (or one of its nodes) is hovered.
    const shortest = await styleOf(page, SHORTEST);
    expect(shortest.classes).toEqual(['micro']);
    expect(shortest['source-label']).toBe('');
    await hover(page, SHORTEST, true);
    const revealed = await styleOf(page, SHORTEST);
    expect(revealed.classes).toContain('reveal');
    expect([revealed['source-label'], revealed['target-label']]).toEqual(['eth0', 'e5']);
    expect(await tooltipText(page)).toContain('pc5:eth0 ↔ sw1:e5');
    await hover(page, 'pc5');
    expect((await styleOf(page, SHORTEST))['source-label']).toBe('eth0');
    await page.screenshot({ path: join(SHOTS, 'glance-short-cable-1280.png') });
    await page.mouse.move(5, 5);
    await page.waitForFunction((id) => !window.wirelabCy!.getElementById(id).hasClass('reveal'), SHORTEST);
    expect((await styleOf(page, SHORTEST))['source-label']).toBe('');
    await hover(page, DELAYED, true);
    expect(await tooltipText(page)).toContain('5ms ±1ms');

    // Running: networks are framed, and hovering a DHCP host shows its lease as it arrives.
    expect((await post('/labs/glance/start')).status).toBe(200);

    // Impairments and suspension changed on the running lab restyle the cable.
    const link = `/labs/glance/links/${encodeURIComponent(PLAIN)}`;
    const put = await fetch(`${lab.apiUrl}/api/v1${link}/impairments`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ delay: '20ms' }) });
    expect(put.status).toBe(200);
    await page.waitForFunction((id) => window.wirelabCy!.getElementById(id).style('label') === '20ms', PLAIN, { timeout: 10_000 });
    expect((await post(`${link}/suspend`)).status).toBe(200);
    await page.waitForFunction((id) => window.wirelabCy!.getElementById(id).style('label') === 'suspended · 20ms', PLAIN, { timeout: 10_000 });
    expect((await post(`${link}/resume`)).status).toBe(200);
    await fetch(`${lab.apiUrl}/api/v1${link}/impairments`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{}' });
    await page.waitForFunction((id) => window.wirelabCy!.getElementById(id).style('label') === '', PLAIN, { timeout: 10_000 });
    // (Its colour is not compared: frames through it flash it amber now that the lab runs.)
    const back = await styleOf(page, PLAIN);
    expect([back.classes, back['line-style'], back.label]).toEqual([[], 'solid', '']);
    await page.waitForFunction(() => window.wirelabCy!.getElementById('vmnet1').hasClass('running'), undefined, { timeout: 10_000 });
    expect(await netBorder()).toBe('3px');
    await page.waitForFunction(() => window.wirelabCy!.getElementById('pc1').hasClass('running'));
    expect(await frame('vmnet1')).toBe(await frame('pc1'));
    await hover(page, 'vmnet1');
    expect(await tooltipText(page)).toMatch(/vmnet1 Host-only 192\.168\.91\.0\/24\s+running · 1 attached/);
    await hover(page, 'pc1');
    await page.waitForFunction(
      () => /10\.5\.0\.1\d\d\/24/.test(document.querySelector('[data-test="canvas-tooltip"]')?.textContent ?? ''),
      undefined,
      { timeout: 30_000 },
    );
    const pc1Tip = await tooltipText(page);
    expect(pc1Tip).toMatch(/live/);
    expect(pc1Tip).toMatch(/DHCP from 10\.5\.0\.1\s+(59m \d+s|1h 0m) left · gw 10\.5\.0\.1/);
    expect(pc1Tip).toMatch(/gw 10\.5\.0\.1/);
    await page.screenshot({ path: join(SHOTS, 'glance-hover-1280.png') });

    // A host on a host-only network leases from the network's DHCP server.
    await hover(page, 'ho-pc');
    await page.waitForFunction(
      () => /192\.168\.91\.\d+\/24/.test(document.querySelector('[data-test="canvas-tooltip"]')?.textContent ?? ''),
      undefined,
      { timeout: 30_000 },
    );
    expect(await tooltipText(page)).toMatch(/DHCP from 192\.168\.91\.\d+/);

    // A router: each interface with its address and state.
    await hover(page, 'r1');
    await page.waitForFunction(() => /live/.test(document.querySelector('[data-test="canvas-tooltip"]')?.textContent ?? ''));
    const r1Tip = await tooltipText(page);
    expect(r1Tip).toMatch(/g0\/0\s+10\.5\.0\.1\/24\s+up/);
    expect(r1Tip).toMatch(/g0\/1\s+10\.6\.0\.1\/24\s+down/);

    // The inspector lists the live addresses.
    await page.mouse.move(5, 5);
    const p = await screenPos(page, 'pc1');
    await page.mouse.click(p.x, p.y);
    const section = page.locator('[data-test="node-inspector"] [data-test="node-addresses"][data-node="pc1"]');
    await section.waitFor();
    await page.waitForFunction(() => document.querySelector('[data-test="node-addresses"][data-node="pc1"]')?.getAttribute('data-live') === 'true');
    expect(await section.innerText()).toMatch(/10\.5\.0\.1\d\d\/24[\s\S]*DHCP from 10\.5\.0\.1/);
    await hover(page, 'pc1');
    await page.waitForSelector('[data-test="canvas-tooltip"] [data-live="true"]');
    await page.screenshot({ path: join(SHOTS, 'glance-inspector-1280.png') });

    // Nothing is polled once neither the tooltip nor the inspector shows addresses.
    const corner = await page.evaluate(() => {
      const r = window.wirelabCy!.container().getBoundingClientRect();
      return { x: r.left + 15, y: r.top + 15 };
    });
    await page.mouse.click(corner.x, corner.y);
    await page.mouse.move(5, 5);
    await page.waitForSelector('[data-test="node-addresses"]', { state: 'detached', timeout: 5000 });
    const before = addressRequests;
    await page.waitForTimeout(4500);
    expect(addressRequests - before).toBe(0);

    await page.setViewportSize({ width: 1920, height: 1080 });
    await page.waitForTimeout(300);
    await hover(page, 'r1');
    await page.waitForFunction(() => /live/.test(document.querySelector('[data-test="canvas-tooltip"]')?.textContent ?? ''));
    await page.screenshot({ path: join(SHOTS, 'glance-hover-1920.png') });
    await page.setViewportSize({ width: 1280, height: 800 });
  });
});
