/**
 * Something that sees every frame crossing a link or port: a capture, a live trace, a counter.
 * Taps are kept in a list that is null when empty, so frames pay nothing when nobody watches.
 */
export interface FrameTap {
  /** Direction: 1 inbound, 2 outbound (for a link: towards its first end, towards its second). */
  record(frame: Uint8Array, direction: 1 | 2): void;
}

/** Adds a tap to a link or port. */
export function addTap(on: { taps: FrameTap[] | null }, tap: FrameTap): void {
  on.taps = on.taps === null ? [tap] : [...on.taps, tap];
}

/** Removes a tap from a link or port; the list goes back to null when it empties. */
export function removeTap(on: { taps: FrameTap[] | null }, tap: FrameTap): void {
  if (on.taps === null) return;
  const rest = on.taps.filter((t) => t !== tap);
  on.taps = rest.length ? rest : null;
}
