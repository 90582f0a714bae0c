/** Undo/redo of the client: order, refusals, one command at a time. */
import { describe, expect, test } from 'vitest';
import { type Command, useHistory } from '../../client/src/lib/history.js';

function counter() {
  const log: string[] = [];
  let value = 0;
  const add = (n: number, fail: { redo?: boolean; undo?: boolean } = {}): Command => ({
    label: `add ${n}`,
    redo: async () => {
      await new Promise((r) => setTimeout(r, 5));
      if (fail.redo) throw new Error(`cannot add ${n}`);
      value += n;
      log.push(`+${n}`);
    },
    undo: async () => {
      if (fail.undo) throw new Error(`cannot take ${n} back`);
      value -= n;
      log.push(`-${n}`);
    },
  });
  return { log, add, get value() { return value; } };
}

describe('history', () => {
  test('undo and redo walk the edits back and forth', async () => {
    const h = useHistory();
    const c = counter();
    await h.run(c.add(1));
    await h.run(c.add(2));
    expect(c.value).toBe(3);
    expect(h.undoLabel.value).toBe('add 2');
    expect(await h.undo()).toBe(true);
    expect(await h.undo()).toBe(true);
    expect(await h.undo()).toBe(false);
    expect(c.value).toBe(0);
    expect(h.canUndo.value).toBe(false);
    expect(h.redoLabel.value).toBe('add 1');
    await h.redo();
    expect(c.value).toBe(1);
    expect(h.redoLabel.value).toBe('add 2');
    await h.run(c.add(10));
    expect(h.canRedo.value).toBe(false);
    expect(c.log).toEqual(['+1', '+2', '-2', '-1', '+1', '+10']);
  });

  test('a refused edit is not recorded; a refused undo stays undoable', async () => {
    const h = useHistory();
    const c = counter();
    await h.run(c.add(1, { undo: true }));
    await expect(h.run(c.add(5, { redo: true }))).rejects.toThrow('cannot add 5');
    expect(h.undoLabel.value).toBe('add 1');
    await expect(h.undo()).rejects.toThrow('cannot take 1 back');
    expect(h.undoLabel.value).toBe('add 1');
    expect(h.canRedo.value).toBe(false);
    expect(c.value).toBe(1);
  });

  test('edits run one at a time, in the order they were asked for', async () => {
    const h = useHistory();
    const c = counter();
    await Promise.all([h.run(c.add(1)), h.undo(), h.run(c.add(2)), h.run(c.add(3)), h.undo()]);
    expect(c.log).toEqual(['+1', '-1', '+2', '+3', '-3']);
    expect(h.undoLabel.value).toBe('add 2');
    expect(h.busy.value).toBe(false);
  });

  test('recorded edits (done already) undo like the others; the history is bounded', async () => {
    const h = useHistory(3);
    const c = counter();
    for (let i = 1; i <= 5; i++) h.record(c.add(i));
    let undone = 0;
    while (await h.undo()) undone++;
    expect(undone).toBe(3);
    expect(c.log).toEqual(['-5', '-4', '-3']);
  });
});
