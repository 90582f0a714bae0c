/**
 * Tests that drive a real peer (tshark, zstd, VPCS, QEMU, root and namespaces, Chromium): outside
 * CI a missing peer skips the test with its reason printed; in CI (`CI=true`), where .ci/run
 * installs every peer, the test runs and fails with the reason instead of skipping or passing
 * without having checked anything.
 */
export const IN_CI = process.env['CI'] === 'true';

export interface Peer {
  ok: boolean;
  reason: string;
}

/** For `it.skipIf` / `describe.skipIf`: skip only outside CI, saying why. */
export function skipWithout(peer: Peer, what: string): boolean {
  if (peer.ok || IN_CI) return false;
  console.warn(`${what} skipped: ${peer.reason}`);
  return true;
}

/** First line of a test that needs the peer: throws the reason when it is missing. */
export function requirePeer(peer: Peer, what: string): void {
  if (!peer.ok) throw new Error(`${what} needs ${peer.reason}${IN_CI ? ' (CI must have it: see .ci/run)' : ''}`);
}
