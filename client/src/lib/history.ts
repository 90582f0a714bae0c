/**
 * Undo and redo of topology edits. An edit is a command that knows how to do itself again and
 * how to take itself back, both through the API, so an undo reaches lab.yaml and the running lab
 * like any other edit. Commands run one at a time: a second click while one is in flight waits
 * its turn instead of interleaving requests. A command whose undo fails stays where it was, so
 * the user can retry or fix the cause (the error says why).
 */
import { type ShallowRef, computed, ref, shallowRef } from 'vue';

export interface Command {
  /** What the user would call it: "add pc1", "move 3 nodes", "delete link pc1:eth0--sw1:e0". */
  label: string;
  /** Does the edit (again); called for the first time by `run`. */
  redo(): Promise<void>;
  undo(): Promise<void>;
}

export function useHistory(limit = 200) {
  const done = shallowRef<Command[]>([]);
  const undone = shallowRef<Command[]>([]);
  const busy = ref(false);
  let queue: Promise<unknown> = Promise.resolve();

  function serialize<T>(fn: () => Promise<T>): Promise<T> {
    const run = queue.then(async () => {
      busy.value = true;
      try {
        return await fn();
      } finally {
        busy.value = false;
      }
    });
    queue = run.catch(() => undefined);
    return run;
  }

  /** Does a new edit and records it; a new edit forgets what was undone. */
  function run(cmd: Command): Promise<void> {
    return serialize(async () => {
      await cmd.redo();
      record(cmd);
    });
  }

  /** Records an edit that has been done already (a node dragged on the canvas). */
  function record(cmd: Command): void {
    const next = [...done.value, cmd];
    done.value = next.length > limit ? next.slice(next.length - limit) : next;
    undone.value = [];
  }

  function undo(): Promise<boolean> {
    return step(done, undone, 'undo');
  }

  function redo(): Promise<boolean> {
    return step(undone, done, 'redo');
  }

  /** Runs the last command of `from` one way and moves it to `to` (left where it was if that fails). */
  function step(from: ShallowRef<Command[]>, to: ShallowRef<Command[]>, way: 'undo' | 'redo'): Promise<boolean> {
    return serialize(async () => {
      const cmd = from.value[from.value.length - 1];
      if (!cmd) return false;
      await cmd[way]();
      from.value = from.value.slice(0, -1);
      to.value = [...to.value, cmd];
      return true;
    });
  }

  function clear(): void {
    done.value = [];
    undone.value = [];
  }

  return {
    busy,
    canUndo: computed(() => done.value.length > 0),
    canRedo: computed(() => undone.value.length > 0),
    undoLabel: computed(() => done.value[done.value.length - 1]?.label ?? null),
    redoLabel: computed(() => undone.value[undone.value.length - 1]?.label ?? null),
    run,
    record,
    undo,
    redo,
    clear,
  };
}
export type History = ReturnType<typeof useHistory>;
