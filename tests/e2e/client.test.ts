/**
 * The web client end to end, in Debian's Chromium against a real wirelab server: a lab drawn
 * from an empty page by drag and drop, addressed, started, pinged, traced, downloaded as
 * pcapng (read by tshark), an undone delete, and a cable at 100% loss failing the check.
 * Screenshots of the main views go to test-output/screenshots/.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { tsharkAvailable, tsharkFields, tsharkProblems } from '../helpers/tshark.js';
import { type Lab, SHOTS, browserMissing, dragLink, screenPos, startBrowserLab } from './harness.js';

const missing = browserMissing();
if (missing && process.env['CI'] === 'true') throw new Error(`browser tests cannot run in CI: ${missing}`);
if (missing) console.warn(`skipping the browser tests: ${missing}`);


async function hasElement(page: Page, id: string): Promise<boolean> {
  return page.evaluate((id) => !window.wirelabCy!.getElementById(id).empty(), id);
}

async function dragFromPalette(page: Page, kind: string, x: number, y: number): Promise<void> {
  const box = (await page.locator(`[data-palette="${kind}"]`).boundingBox())!;
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(x, y, { steps: 10 });
  await page.mouse.up();
}

async function drawLink(page: Page, from: string, to: string): Promise<void> {
  await dragLink(page, from, to);
  await page.waitForSelector('[data-test="link-popup"]');
  await page.click('[data-test="link-connect"]');
  await page.waitForSelector('[data-test="link-popup"]', { state: 'detached' });
  await page.click('[data-test="tool-select"]');
}

async function selectNode(page: Page, id: string): Promise<void> {
  const p = await screenPos(page, id);
  await page.mouse.click(p.x, p.y);
  await page.waitForFunction((id) => (document.querySelector('[data-test="node-name"]') as HTMLInputElement | null)?.value === id, id);
}

async function setStatic(page: Page, node: string, cidr: string): Promise<void> {
  await selectNode(page, node);
  await page.selectOption('[data-test="node-inspector"] [data-iface="eth0"] [data-test="ip-mode"]', 'static');
  await page.fill('[data-test="node-inspector"] [data-iface="eth0"] [data-test="ip"]', cidr);
  await page.click('[data-test="apply-node"]');
  await page.waitForSelector('[data-test="apply-node"]:disabled:text-is("Apply")');
}

async function checkResult(page: Page, name: string): Promise<string> {
  const cell = page.locator(`[data-check="${name}"] [data-test="check-result"]`);
  await cell.waitFor();
  return (await cell.textContent())!.trim();
}

describe.skipIf(missing !== null)('web client in Chromium', () => {
  let lab: Lab;
  let env: Awaited<ReturnType<typeof startBrowserLab>>;
  let page: Page;
  const api = (path: string) => fetch(`${lab.apiUrl}/api/v1${path}`).then((r) => r.json());

  beforeAll(async () => {
    env = await startBrowserLab();
    lab = env.lab;
    page = env.page;
    page.on('pageerror', (e) => console.error('page error:', e.message));
  }, 120_000);

  afterAll(async () => {
    await env?.close();
  });

  test('draw, address, start, ping, trace, download, undo, impair', async () => {
    await page.goto(lab.appUrl);
    await page.waitForSelector('[data-test="labs-table"]');
    await page.fill('[data-test="new-lab-name"]', 'e2e');
    await page.fill('[data-test="new-lab-description"]', 'Two hosts on a switch, drawn in the browser');
    await page.click('[data-test="create-lab"]');
    await page.waitForSelector('[data-test="canvas"]');
    await page.waitForFunction(() => !!window.wirelabCy);

    // Two hosts and a switch, dragged from the palette.
    const c = (await page.locator('[data-test="canvas"]').boundingBox())!;
    await dragFromPalette(page, 'switch', c.x + c.width * 0.5, c.y + c.height * 0.28);
    await page.waitForFunction(() => !window.wirelabCy!.getElementById('sw1').empty());
    await dragFromPalette(page, 'host', c.x + c.width * 0.3, c.y + c.height * 0.72);
    await page.waitForFunction(() => !window.wirelabCy!.getElementById('pc1').empty());
    await dragFromPalette(page, 'host', c.x + c.width * 0.7, c.y + c.height * 0.72);
    await page.waitForFunction(() => !window.wirelabCy!.getElementById('pc2').empty());
    const dropped = await screenPos(page, 'pc1');
    expect(Math.abs(dropped.x - (c.x + c.width * 0.3))).toBeLessThan(3);

    // Cables: the popup offers the free interfaces first (pc1:eth0 to sw1:e0, then pc2:eth0 to sw1:e1).
    await drawLink(page, 'pc1', 'sw1');
    await page.waitForFunction(() => !window.wirelabCy!.getElementById('pc1:eth0--sw1:e0').empty());
    await drawLink(page, 'pc2', 'sw1');
    await page.waitForFunction(() => !window.wirelabCy!.getElementById('pc2:eth0--sw1:e1').empty());

    await setStatic(page, 'pc1', '10.0.0.1/24');
    await setStatic(page, 'pc2', '10.0.0.2/24');
    const nodes = (await api('/labs/e2e/nodes')) as { name: string; spec: { interfaces?: { eth0?: { ip?: string } } } }[];
    expect(nodes.find((n) => n.name === 'pc1')!.spec.interfaces!.eth0!.ip).toBe('10.0.0.1/24');
    expect(nodes.find((n) => n.name === 'pc2')!.spec.interfaces!.eth0!.ip).toBe('10.0.0.2/24');
    const yaml = readFileSync(join(lab.labsDir, 'e2e', 'lab.yaml'), 'utf8');
    expect(yaml).toMatch(/pc1:[\s\S]*ui:/);

    // A validation message from the server appears under the field it is about.
    await selectNode(page, 'pc2');
    await page.fill('[data-test="node-inspector"] [data-iface="eth0"] [data-test="ip"]', '10.0.0.300/24');
    await page.click('[data-test="apply-node"]');
    const fieldError = page.locator('[data-test="node-inspector"] [data-iface="eth0"] .field-error').first();
    await fieldError.waitFor();
    expect(await fieldError.textContent()).toContain('10.0.0.300');
    await page.fill('[data-test="node-inspector"] [data-iface="eth0"] [data-test="ip"]', '10.0.0.2/24');
    await page.waitForSelector('[data-test="apply-node"]:disabled:text-is("Apply")');

    // A ping check.
    await page.click('[data-tab="checks"]');
    await page.selectOption('[data-test="check-kind"]', 'ping');
    await page.selectOption('[data-test="check-from"]', 'pc1');
    await page.fill('[data-test="check-to"]', '10.0.0.2');
    await page.fill('[data-test="check-name"]', 'pc1 pings pc2');
    await page.click('[data-test="add-check-submit"]');
    await page.waitForSelector('[data-check="pc1 pings pc2"]');

    // Start: the lab and its nodes turn running.
    await page.click('[data-tab="trace"]');
    await page.click('[data-test="power"]');
    await page.waitForSelector('[data-test="lab-state"]:text("running")');
    await page.waitForFunction(() => ['pc1', 'pc2', 'sw1'].every((n) => window.wirelabCy!.getElementById(n).hasClass('running')));

    await page.click('[data-test="run-checks"]');
    // The pings light up the cables they cross.
    await page.waitForFunction(() => (window.wirelabCy as unknown as { edges(s: string): { length: number } }).edges('.active').length > 0);
    expect(await checkResult(page, 'pc1 pings pc2')).toBe('✔');

    // The echo request and reply in the trace, with the right addresses.
    await page.click('[data-tab="trace"]');
    await page.fill('[data-test="trace-filter"]', 'icmp && ip.addr == 10.0.0.2');
    await page.press('[data-test="trace-filter"]', 'Enter');
    await page.waitForSelector('[data-test="trace-rows"] [data-protocol="ICMP"]');
    const rows = await page.$$eval('[data-test="trace-rows"] .row', (els) => els.map((e) => Array.from(e.children).map((c) => c.textContent!.trim())));
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((r) => r[5] === 'ICMP')).toBe(true);
    const request = rows.find((r) => r[7]!.startsWith('Echo (ping) request'));
    const reply = rows.find((r) => r[7]!.startsWith('Echo (ping) reply'));
    expect(request?.slice(3, 5)).toEqual(['10.0.0.1', '10.0.0.2']);
    expect(reply?.slice(3, 5)).toEqual(['10.0.0.2', '10.0.0.1']);
    // The selected frame's layers and bytes.
    await page.locator('[data-test="trace-rows"] [data-protocol="ICMP"]').first().click();
    await page.waitForSelector('[data-test="trace-hex"]');
    expect(await page.textContent('[data-test="trace-detail"]')).toContain('IPv4');
    await page.screenshot({ path: join(SHOTS, 'canvas-trace-1280x800.png') });

    // A filter the language does not know says why.
    await page.fill('[data-test="trace-filter"]', 'ip.adr == 1');
    await page.press('[data-test="trace-filter"]', 'Enter');
    expect(await page.textContent('[data-test="filter-error"]')).toContain('unknown protocol or field');

    // The whole trace as pcapng, read cleanly by tshark.
    await page.fill('[data-test="trace-filter"]', '');
    await page.press('[data-test="trace-filter"]', 'Enter');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-test="trace-download"]')]);
    const pcap = join(SHOTS, '..', 'e2e-trace.pcapng');
    await download.saveAs(pcap);
    const tshark = tsharkAvailable();
    if (!tshark.ok && process.env['CI'] === 'true') throw new Error(tshark.reason);
    if (tshark.ok) {
      expect(tsharkProblems(pcap)).toEqual([]);
      const icmp = tsharkFields(pcap, ['ip.src', 'ip.dst', 'icmp.type'], ['-Y', 'icmp']);
      expect(icmp).toContainEqual(['10.0.0.1', '10.0.0.2', '8']);
      expect(icmp).toContainEqual(['10.0.0.2', '10.0.0.1', '0']);
    }

    // Delete a cable, see it go, undo, see it back (on the canvas and on the server).
    const link = 'pc2:eth0--sw1:e1';
    const mid = await screenPos(page, link, true);
    await page.mouse.click(mid.x, mid.y);
    await page.waitForSelector('[data-test="link-inspector"]');
    await page.keyboard.press('Delete');
    await page.waitForFunction((id) => window.wirelabCy!.getElementById(id).empty(), link);
    expect(((await api('/labs/e2e/links')) as { id: string }[]).map((l) => l.id)).not.toContain(link);
    await page.click('[data-test="undo"]');
    await page.waitForFunction((id) => !window.wirelabCy!.getElementById(id).empty(), link);
    expect(((await api('/labs/e2e/links')) as { id: string }[]).map((l) => l.id)).toContain(link);
    expect(await hasElement(page, link)).toBe(true);

    // 100% loss on that cable: the ping check fails.
    const mid2 = await screenPos(page, link, true);
    await page.mouse.click(mid2.x, mid2.y);
    await page.waitForSelector('[data-test="link-inspector"]');
    await page.fill('[data-test="imp-loss"]', '100%');
    await page.click('[data-test="apply-link"]');
    await page.waitForSelector('[data-test="apply-link"]:disabled:text-is("Apply")');
    const after = ((await api('/labs/e2e/links')) as { id: string; impairments: { loss?: string } }[]).find((l) => l.id === link);
    expect(after?.impairments.loss).toBe('100%');
    await page.click('[data-test="run-checks"]');
    await page.waitForFunction(() => document.querySelector('[data-check="pc1 pings pc2"] [data-test="check-result"]')?.textContent?.trim() === '✘', undefined, { timeout: 60_000 });
    await page.screenshot({ path: join(SHOTS, 'checks-failed-1280x800.png') });

    // A NAT network from the palette, then edited in the Virtual Network Editor.
    const c2 = (await page.locator('[data-test="canvas"]').boundingBox())!;
    await dragFromPalette(page, 'nat', c2.x + c2.width * 0.85, c2.y + c2.height * 0.3);
    await page.waitForFunction(() => !window.wirelabCy!.getElementById('vmnet8').empty());
    await page.click('[data-tab="networks"]');
    const row = page.locator('[data-test="network-editor"] [data-network="vmnet8"]');
    await row.click();
    expect(await row.textContent()).toMatch(/NAT.*on \(\.128-\.253\).*192\.168\.\d+\.0\/24/);
    await page.fill('[data-test="network-editor"] [data-test="network-subnet"]', '192.168.77.0/24');
    await page.uncheck('[data-test="network-editor"] [data-test="network-dhcp"]');
    await page.click('[data-test="network-editor"] [data-test="apply-network"]');
    await page.waitForFunction(() => /off.*192\.168\.77\.0\/24/.test(document.querySelector('[data-network="vmnet8"]')?.textContent ?? ''));
    // Its live status: the NAT gateway at .2 of the new subnet.
    await page.locator('[data-test="network-status"]', { hasText: 'NAT gateway / DNS 192.168.77.2' }).waitFor();
    // How ping leaves the host (root has a raw ICMP socket at least), or why it does not.
    const relay = process.getuid?.() === 0 ? /Ping leaves through the host's (raw ICMP|ICMP datagram) socket/ : /Ping (leaves through|is not relayed: .+)/;
    await page.locator('[data-test="icmp-relay"]', { hasText: relay }).waitFor();
    const nets = (await api('/labs/e2e/networks')) as { name: string; spec: Record<string, unknown> }[];
    expect(nets.find((n) => n.name === 'vmnet8')!.spec).toMatchObject({ type: 'nat', subnet: '192.168.77.0/24', dhcp: { enabled: false } });
  }, 180_000);

  test('the main views at 1280x800 and 1920x1080', async () => {
    for (const size of [
      { width: 1280, height: 800 },
      { width: 1920, height: 1080 },
    ]) {
      const tag = `${size.width}x${size.height}`;
      await page.setViewportSize(size);
      await page.goto(lab.appUrl + '#/');
      await page.waitForSelector('[data-lab="e2e"]');
      await page.screenshot({ path: join(SHOTS, `labs-${tag}.png`) });
      await page.goto(lab.appUrl + '#/labs/e2e');
      await page.reload();
      await page.waitForFunction(() => !!window.wirelabCy && !window.wirelabCy.getElementById('pc1').empty());
      await page.waitForTimeout(1200);
      // Reopened, the lab is drawn where lab.yaml says its nodes are.
      const saved = parseYaml(readFileSync(join(lab.labsDir, 'e2e', 'lab.yaml'), 'utf8')) as { nodes: Record<string, { ui: { x: number; y: number } }> };
      const shown = await page.evaluate(() => {
        const cy = window.wirelabCy as unknown as { getElementById(id: string): { position(): { x: number; y: number } } };
        return ['pc1', 'pc2', 'sw1'].map((n) => cy.getElementById(n).position());
      });
      expect(shown).toEqual(['pc1', 'pc2', 'sw1'].map((n) => saved.nodes[n]!.ui));
      await page.screenshot({ path: join(SHOTS, `canvas-trace-${tag}.png`) });
      await selectNode(page, 'pc1');
      await page.screenshot({ path: join(SHOTS, `node-inspector-${tag}.png`) });
      await page.click('[data-tab="networks"]');
      await page.waitForSelector('[data-test="network-editor"]');
      await page.screenshot({ path: join(SHOTS, `network-editor-${tag}.png`) });
      await page.click('[data-tab="checks"]');
      await page.screenshot({ path: join(SHOTS, `checks-${tag}.png`) });
      // A double-click opens the node's console tab: a terminal when the server has a console
      // channel, otherwise the reason and the node's telnet port.
      const p = await screenPos(page, 'pc2');
      await page.mouse.dblclick(p.x, p.y);
      await page.locator('[data-test="console-panel"] .ctab.on', { hasText: 'pc2' }).waitFor();
      await page.waitForSelector('[data-test="console-panel"] .xterm, [data-test="console-unavailable"]');
      if (await page.locator('[data-test="console-unavailable"]').isVisible()) {
        expect(await page.textContent('[data-test="console-unavailable"]')).toMatch(/telnet console port is \d+/);
      }
      await page.screenshot({ path: join(SHOTS, `consoles-${tag}.png`) });
      await page.click('[data-tab="trace"]');
    }
  }, 120_000);

  test('a running sample lab with its trace (the README screenshot)', async () => {
    const office = parseYaml(readFileSync(join('labs', 'office', 'lab.yaml'), 'utf8')) as Record<string, unknown>;
    const created = await fetch(`${lab.apiUrl}/api/v1/labs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(office) });
    expect(created.status).toBe(201);
    await page.setViewportSize({ width: 1600, height: 1000 });
    await page.goto(lab.appUrl + '#/labs/office');
    await page.reload();
    await page.waitForFunction(() => !!window.wirelabCy && !window.wirelabCy.getElementById('r1').empty());
    await page.click('[data-test="power"]');
    await page.waitForSelector('[data-test="lab-state"]:text("running")');
    await page.click('[data-test="run-checks"]');
    await page.locator('[data-check] [data-test="check-result"]').first().waitFor({ timeout: 60_000 });
    await page.click('[data-tab="trace"]');
    await page.fill('[data-test="trace-filter"]', '!stp && !arp');
    await page.press('[data-test="trace-filter"]', 'Enter');
    await page.locator('[data-test="trace-rows"] .row').last().click();
    await page.waitForSelector('[data-test="trace-hex"]');
    await selectNode(page, 'r1');
    await page.screenshot({ path: join(SHOTS, 'readme-office-1600x1000.png') });
  }, 120_000);

  test('a lab without positions is laid out; Auto layout saves positions, undo takes them back', async () => {
    const triangle = parseYaml(readFileSync(join('labs', 'triangle', 'lab.yaml'), 'utf8')) as { nodes: Record<string, { ui?: unknown }> };
    for (const n of Object.values(triangle.nodes)) delete n.ui;
    const created = await fetch(`${lab.apiUrl}/api/v1/labs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(triangle) });
    expect(created.status).toBe(201);
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.goto(lab.appUrl + '#/labs/triangle');
    await page.reload();
    await page.waitForFunction(() => !!window.wirelabCy && !window.wirelabCy.getElementById('h3').empty());
    await page.waitForTimeout(500);
    const names = Object.keys(triangle.nodes);
    const box = (await page.locator('[data-test="canvas"]').boundingBox())!;
    const at = await Promise.all(names.map((n) => screenPos(page, n)));
    for (const p of at) {
      expect(p.x).toBeGreaterThan(box.x);
      expect(p.x).toBeLessThan(box.x + box.width);
      expect(p.y).toBeGreaterThan(box.y);
      expect(p.y).toBeLessThan(box.y + box.height);
    }
    for (let i = 0; i < at.length; i++) for (let j = i + 1; j < at.length; j++) expect(Math.hypot(at[i]!.x - at[j]!.x, at[i]!.y - at[j]!.y)).toBeGreaterThan(40);
    // Opening a lab writes nothing; Auto layout does, as one undoable step.
    const file = () => parseYaml(readFileSync(join(lab.labsDir, 'triangle', 'lab.yaml'), 'utf8')) as { nodes: Record<string, { ui?: { x: number; y: number } }> };
    expect(Object.values(file().nodes).every((n) => n.ui === undefined)).toBe(true);
    await page.click('text=Auto layout');
    await page.waitForFunction(() => !(document.querySelector('[data-test="undo"]') as HTMLButtonElement).disabled);
    expect(Object.values(file().nodes).every((n) => typeof n.ui?.x === 'number')).toBe(true);
    await page.click('[data-test="undo"]');
    await page.waitForFunction(() => !(document.querySelector('[data-test="redo"]') as HTMLButtonElement).disabled);
    expect(Object.values(file().nodes).every((n) => n.ui === undefined)).toBe(true);
  }, 60_000);
});
