/**
 * Real-world endpoints in the browser (issue 8): a cloud node whose UDP tunnel faces a socket
 * this test owns, cabled to a host. The lab is started from the toolbar; the test sends ARP
 * requests for the host (answered, so frames go out too) and garbage (runts, an oversized frame,
 * a multicast source), selects the cloud node and reads the exact counters in the inspector. A
 * bridged network on a NIC that cannot be opened shows as failed, with the reason.
 * Screenshots go to test-output/screenshots/.
 */
import { createSocket, type Socket } from 'node:dgram';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type Lab, SHOTS, browserMissing, buildClient, launchBrowser, startLab } from './harness.js';

const missing = browserMissing();
if (missing && process.env['CI'] === 'true') throw new Error(`browser tests cannot run in CI: ${missing}`);
if (missing) console.warn(`skipping the browser endpoint test: ${missing}`);

const LOCAL = 40_000 + Math.floor(Math.random() * 10_000);
const REMOTE = LOCAL + 1;
const NIC = 'wlnope0';

/** An ARP request from the tunnel's far end (02:00:00:00:aa:01, 10.0.0.99) for pc1 (10.0.0.1): 42 bytes, as a Linux TAP sends it. */
const ARP_FOR_PC1 = Buffer.from('ffffffffffff02000000aa010806000108000604000102000000aa010a0000630000000000000a000001', 'hex');

const LAB = {
  name: 'endpoints',
  description: 'A UDP tunnel to the test, and a bridged network on a NIC that is not there',
  networks: { vmnet0: { type: 'bridged', interface: NIC, ui: { x: 420, y: 120 } } },
  nodes: {
    ext: { kind: 'cloud', endpoint: { type: 'udp', local: `127.0.0.1:${LOCAL}`, remote: `127.0.0.1:${REMOTE}` }, ui: { x: 120, y: 120 } },
    pc1: { kind: 'host', interfaces: { eth0: { ip: '10.0.0.1/24' } }, ui: { x: 120, y: 300 } },
    pc2: { kind: 'host', interfaces: { eth0: { network: 'vmnet0', ip: '10.0.1.2/24' } }, ui: { x: 420, y: 300 } },
  },
  links: [['ext:eth0', 'pc1:eth0']],
};

interface Cy {
  getElementById(id: string): { renderedPosition(): { x: number; y: number } };
  container(): HTMLElement;
}

async function selectNode(page: Page, id: string): Promise<void> {
  const p = await page.evaluate((id) => {
    const cy = (window as unknown as { wirelabCy: Cy }).wirelabCy;
    const pos = cy.getElementById(id).renderedPosition();
    const r = cy.container().getBoundingClientRect();
    return { x: r.left + pos.x, y: r.top + pos.y };
  }, id);
  await page.mouse.click(p.x, p.y);
  await page.waitForFunction((id) => (document.querySelector('[data-test="node-name"]') as HTMLInputElement | null)?.value === id, id);
}

async function until(what: string, cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe.skipIf(missing !== null)('real-world endpoints in the browser', () => {
  let lab: Lab;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  let page: Page;
  let far: Socket;
  const received: Buffer[] = [];
  const send = (b: Buffer) => new Promise<void>((resolve, reject) => far.send(b, LOCAL, '127.0.0.1', (e) => (e ? reject(e) : resolve())));
  const api = (path: string) => fetch(`${lab.apiUrl}/api/v1${path}`).then((r) => r.json());

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    buildClient();
    far = createSocket('udp4');
    far.on('message', (m) => received.push(m));
    await new Promise<void>((r) => far.bind(REMOTE, '127.0.0.1', r));
    lab = await startLab();
    browser = await launchBrowser({ width: 1280, height: 800 });
    page = await browser.context.newPage();
    page.on('pageerror', (e) => console.error('page error:', e.message));
  }, 120_000);

  afterAll(async () => {
    far?.close();
    await browser?.close();
    await lab?.close();
  });

  test('a cloud node shows its frames in and out and its drops by reason', async () => {
    const created = await fetch(`${lab.apiUrl}/api/v1/labs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(LAB) });
    expect(created.status, await created.text()).toBe(201);
    await page.goto(lab.appUrl + '#/labs/endpoints');
    await page.waitForFunction(() => !!(window as unknown as { wirelabCy?: unknown }).wirelabCy);
    await page.waitForFunction(() => !(window as unknown as { wirelabCy: { getElementById(id: string): { empty(): boolean } } }).wirelabCy.getElementById('ext').empty());

    // Stopped: the inspector says where the tunnel goes, and that it is down.
    await selectNode(page, 'ext');
    const panel = page.locator('[data-test="node-inspector"] [data-test="endpoint-counters"]');
    await panel.locator('[data-test="endpoint-state"][data-state="stopped"]').waitFor();
    expect(await panel.locator('[data-test="endpoint-description"]').textContent()).toBe(`udp 127.0.0.1:${LOCAL} -> 127.0.0.1:${REMOTE}`);
    expect(await page.inputValue('[data-test="endpoint-local"]')).toBe(`127.0.0.1:${LOCAL}`);
    expect(await page.inputValue('[data-test="endpoint-remote"]')).toBe(`127.0.0.1:${REMOTE}`);

    // Started from the toolbar: the panel, still shown, turns up on its own.
    await page.click('[data-test="power"]');
    await page.waitForSelector('[data-test="lab-state"]:text("running")');
    await panel.locator('[data-test="endpoint-state"][data-state="running"]').waitFor({ timeout: 10_000 });
    expect(await panel.locator('[data-test="endpoint-state"]').textContent()).toBe('up');
    // pc1 announced its address as it started: one gratuitous ARP through the tunnel.
    await until("pc1's gratuitous ARP", () => received.length === 1);

    await send(Buffer.alloc(5, 0xee)); // runt
    await send(ARP_FOR_PC1.subarray(0, 13)); // a byte short of an Ethernet header: runt
    await send(Buffer.concat([ARP_FOR_PC1, Buffer.alloc(1600 - ARP_FOR_PC1.length)])); // oversized
    const multicastSource = Buffer.from(ARP_FOR_PC1);
    multicastSource[6] = 0x01;
    await send(multicastSource); // bad source
    for (let i = 0; i < 3; i++) await send(ARP_FOR_PC1);
    await until("pc1's three ARP replies", () => received.length === 4);
    expect(received.slice(1).map((f) => [f.subarray(0, 6).toString('hex'), f.readUInt16BE(20)])).toEqual([
      ['02000000aa01', 2],
      ['02000000aa01', 2],
      ['02000000aa01', 2],
    ]);

    // The next refresh (every 2 s) shows them.
    await page.waitForFunction(() => document.querySelector('[data-test="node-inspector"] [data-test="frames-in"]')?.textContent === '3', undefined, { timeout: 10_000 });
    const text = async (sel: string) => (await panel.locator(sel).textContent())?.trim();
    expect(await text('[data-test="frames-in"]')).toBe('3');
    expect(await text('[data-test="bytes-in"]')).toBe('126 B');
    expect(await text('[data-test="frames-out"]')).toBe('4');
    expect(await text('[data-test="bytes-out"]')).toBe('240 B');
    expect(await text('[data-test="drops-total"]')).toBe('4');
    const drops = await panel.locator('[data-drop]').evaluateAll((els) => els.map((e) => [e.getAttribute('data-drop'), e.textContent!.replace(/\s+/g, ' ').trim()]));
    expect(drops).toEqual([
      ['runt', 'runt 2'],
      ['oversized', 'oversized 1'],
      ['badSource', 'bad source MAC 1'],
    ]);
    expect(await text('[data-test="padded-in"]')).toBe('3 short frames padded to 60 bytes');
    expect(await panel.locator('[data-test="endpoint-error"]').count()).toBe(0);
    // The same numbers as the API.
    const fromApi = (await api('/labs/endpoints/nodes/ext/endpoint')) as { counters: { framesIn: number; framesOut: number } };
    expect(fromApi.counters).toMatchObject({ framesIn: 3, framesOut: 4 });

    // The whole inspector fits: the panel is inside it, nothing cut off on the right.
    const inspector = (await page.locator('[data-test="inspector"]').boundingBox())!;
    const box = (await panel.boundingBox())!;
    expect(box.x).toBeGreaterThanOrEqual(inspector.x);
    expect(box.x + box.width).toBeLessThanOrEqual(inspector.x + inspector.width);
    expect(await fitsWidth(page)).toBe(true);
    await panel.scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(SHOTS, 'cloud-endpoint-1280x800.png') });
  }, 120_000);

  test('a bridged network whose NIC cannot open is failed, with the reason, in the inspector and the network editor', async () => {
    await selectNetwork(page, 'vmnet0');
    expect(await page.inputValue('[data-test="network-interface"]')).toBe(NIC);
    const inInspector = page.locator('[data-test="inspector"] [data-test="endpoint-counters"]');
    await inInspector.locator('[data-test="endpoint-state"][data-state="failed"]').waitFor({ timeout: 10_000 });
    expect(await inInspector.locator('[data-test="endpoint-description"]').textContent()).toBe(`nic ${NIC}`);
    // Without CAP_NET_RAW the privilege is named; with it, the missing interface is.
    expect(await inInspector.locator('[data-test="endpoint-error"]').textContent()).toMatch(new RegExp(`^nic ${NIC}: .*(CAP_NET_RAW|no interface ${NIC}|addon)`));
    expect(await inInspector.locator('[data-test="frames-in"]').textContent()).toBe('0');
    expect(await fitsWidth(page)).toBe(true);

    await page.click('[data-tab="networks"]');
    await page.locator('[data-test="network-editor"] [data-network="vmnet0"]').click();
    const inEditor = page.locator('[data-test="network-editor"] [data-test="network-status"] [data-test="endpoint-counters"]');
    await inEditor.locator('[data-test="endpoint-state"][data-state="failed"]').waitFor();
    await page.screenshot({ path: join(SHOTS, 'bridged-network-1280x800.png') });
  }, 60_000);
});

async function selectNetwork(page: Page, id: string): Promise<void> {
  const p = await page.evaluate((id) => {
    const cy = (window as unknown as { wirelabCy: Cy }).wirelabCy;
    const pos = cy.getElementById(id).renderedPosition();
    const r = cy.container().getBoundingClientRect();
    return { x: r.left + pos.x, y: r.top + pos.y };
  }, id);
  await page.mouse.click(p.x, p.y);
  await page.waitForSelector('[data-test="inspector"] [data-test="network-form"]');
}

/** Nothing in the inspector is wider than the inspector (no sideways scrolling, no clipped Apply). */
function fitsWidth(page: Page): Promise<boolean> {
  return page.evaluate(() => {
    const el = document.querySelector('[data-test="inspector"]')!;
    return el.scrollWidth <= el.clientWidth;
  });
}
