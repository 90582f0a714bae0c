/**
 * Stopping the server (SIGTERM, SIGINT) answers the requests already in flight before it closes
 * their connections: a snapshot written to disk is also answered.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type TestServer, startTestServer } from './server-harness.js';

let t: TestServer | null = null;
afterEach(async () => {
  await t?.close();
  t = null;
});

function bigLab(hosts: number) {
  const nodes: Record<string, unknown> = { sw: { kind: 'switch', ports: hosts } };
  const links: string[][] = [];
  for (let i = 0; i < hosts; i++) {
    nodes[`h${i}`] = { kind: 'host', interfaces: { eth0: { ip: `10.0.${Math.floor(i / 250) + 1}.${(i % 250) + 1}/16` } } };
    links.push([`h${i}:eth0`, `sw:e${i}`]);
  }
  return { name: 'big', nodes, links };
}

describe('shutdown', () => {
  it('answers a snapshot request in flight when the server is closed', async () => {
    t = await startTestServer();
    await t.api.expect(201, 'POST', '/labs', bigLab(400));
    await t.api.expect(200, 'POST', '/labs/big/start');
    const pending = t.api.post('/labs/big/snapshots', { name: 'last' }).then(
      (r) => ({ status: r.status }),
      (e: Error) => ({ status: 0, error: e.message }),
    );
    await new Promise((r) => setTimeout(r, 5));
    const closed = t.server.close();
    const answer = await pending;
    await closed;
    expect(answer).toEqual({ status: 201 });
  });
});
