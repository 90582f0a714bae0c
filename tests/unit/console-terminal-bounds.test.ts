/**
 * The terminal's bounds: an input line holds at most MAX_LINE characters (a key beyond rings the
 * bell once and is ignored, as IOS and VPCS refuse input past their line buffer), the echo of one
 * input comes out as one piece, and editing a full line redraws no more than the line.
 */
import { describe, expect, it } from 'vitest';
import { MAX_LINE, MAX_TYPEAHEAD, Terminal, type Shell } from '../../devices/console/terminal.js';

function setup() {
  const lines: string[] = [];
  let busy = false;
  const shell: Shell = {
    prompt: () => '> ',
    execute: (l) => {
      lines.push(l);
      return busy ? 'busy' : 'done';
    },
    interrupt: () => undefined,
  };
  const outs: string[] = [];
  const t = new Terminal(shell, (s) => outs.push(s));
  t.start();
  outs.length = 0;
  return { t, lines, outs, setBusy: (b: boolean) => (busy = b) };
}

describe('terminal bounds', () => {
  it('keeps MAX_LINE characters of a line, rings the bell once for the rest, and echoes in one piece', () => {
    const { t, lines, outs } = setup();
    t.input('a'.repeat(100_000));
    expect(outs).toHaveLength(1);
    expect(outs[0]).toBe('a'.repeat(MAX_LINE) + '\x07');
    t.input('\r');
    expect(lines).toEqual(['a'.repeat(MAX_LINE)]);
  });

  it('editing in the middle of a full line redraws at most the line once per key', () => {
    const { t, lines, outs } = setup();
    t.input('a'.repeat(MAX_LINE + 10));
    for (const key of ['\x01', '\x06', '\x06', '\x7f', 'b', 'c', '\x1b[3~']) {
      outs.length = 0;
      t.input(key);
      expect(outs.join('').length).toBeLessThanOrEqual(2 * MAX_LINE + 8);
    }
    t.input('\r');
    expect(lines[0]).toBe('ab' + 'a'.repeat(MAX_LINE - 3));
  });

  it('keeps at most MAX_TYPEAHEAD keystrokes typed while a command runs', () => {
    const { t, lines, setBusy } = setup();
    setBusy(true);
    t.input('ping\r');
    setBusy(false);
    t.input(('x'.repeat(100) + '\r').repeat(2 * MAX_TYPEAHEAD / 101));
    t.finished();
    expect(lines.length).toBe(1 + Math.floor(MAX_TYPEAHEAD / 101));
  });
});
