/**
 * Console transcripts in virtual time: a lab from YAML text, a console per node, and `type`,
 * which feeds keystrokes, runs the engine until the console is idle again and returns what the
 * terminal showed (echo included, CR LF turned into LF).
 */
import { loadLabText } from '../../devices/lab/load.js';
import { LabRuntime } from '../../devices/lab/runtime.js';
import { NodeConsole, applySaveToLabFile, type SaveRequest } from '../../devices/console/index.js';
import { validateLab, type LabFile } from '../../devices/lab/schema.js';

export class Bench {
  readonly rt: LabRuntime;
  readonly saves: SaveRequest[] = [];
  file: LabFile;
  private readonly consoles = new Map<string, { c: NodeConsole; out: string }>();

  constructor(yaml: string, opts: { settle?: boolean } = {}) {
    const r = loadLabText(yaml, 'lab.yaml');
    if (!r.ok) throw new Error(r.errors.map((e) => e.message).join('\n'));
    this.rt = new LabRuntime(r.lab);
    this.file = r.lab.file;
    this.rt.start();
    if (opts.settle !== false) this.rt.engine.runUntilCondition(() => this.rt.settled, 120e9);
  }

  console(node: string): NodeConsole {
    let e = this.consoles.get(node);
    if (!e) {
      const c = new NodeConsole({
        runtime: this.rt,
        node,
        save: (req) => {
          this.saves.push(req);
          let file: LabFile;
          try {
            file = applySaveToLabFile(this.file, req);
          } catch (e) {
            return { ok: false, error: (e as Error).message };
          }
          const v = validateLab(file);
          if (!v.ok) return { ok: false, error: v.issues.map((i) => i.message).join('; ') };
          this.file = file;
          return { ok: true };
        },
      });
      e = { c, out: '' };
      const entry = e;
      c.onOutput((t) => (entry.out += t));
      c.start();
      this.consoles.set(node, e);
    }
    return e.c;
  }

  /** Keystrokes in ('\r' ends a line); the terminal's output until the console is idle. */
  type(node: string, keys: string, limitNs = 120e9): string {
    const c = this.console(node);
    const e = this.consoles.get(node)!;
    e.out = '';
    c.input(keys);
    this.rt.engine.runUntilCondition(() => !c.busy, limitNs);
    return e.out.replace(/\r\n/g, '\n');
  }

  /** Lines typed one by one; the transcript of all of them, prompts included. */
  lines(node: string, ...lines: string[]): string {
    return lines.map((l) => this.type(node, `${l}\r`)).join('');
  }

  /** Runs the lab for a while (timers, ARP, DHCP). */
  wait(ns: number): void {
    this.rt.engine.runFor(ns);
  }
}

export function dedent(s: string): string {
  const lines = s.replace(/^\n/, '').split('\n');
  const indent = Math.min(...lines.filter((l) => l.trim()).map((l) => /^ */.exec(l)![0].length));
  return lines.map((l) => l.slice(indent)).join('\n');
}
