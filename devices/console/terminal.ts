/**
 * The line discipline every console shares, whatever reaches it (telnet, the browser's xterm.js,
 * a test): raw keystrokes in, terminal text out. It echoes, edits the line (backspace, Ctrl-U,
 * Ctrl-W, Ctrl-A/E, arrows), keeps a history (up/down), hands Tab and `?` to the shell when the
 * shell wants them (IOS), and Ctrl-C (or IOS's Ctrl-Shift-6) to a running command. Keystrokes
 * typed while a command runs are kept and replayed when it ends, as a terminal's type-ahead.
 *
 * Output is one stream: several viewers of one console (telnet clients, browser tabs) all see
 * the same bytes, as on a GNS3 console.
 */

/** What a shell may ask of the terminal it runs in. */
export interface ShellHost {
  /** Text with '\n' line ends, shown at once (a running ping prints as replies come). */
  print(text: string): void;
  /** The running command is over: show the prompt and read input again. */
  finished(): void;
}

/** A command interpreter: VPCS for hosts, the IOS-like CLI for routers and switches. */
export interface Shell {
  /** Printed before each input line; may start with '\n' (VPCS leaves a blank line). */
  prompt(): string;
  /**
   * Runs one line. Returns 'busy' when the command goes on in engine time (ping, trace, DHCP,
   * a save): the shell then calls `host.finished()` when it is over.
   */
  execute(line: string): 'done' | 'busy';
  /** Stops the running command (Ctrl-C). */
  interrupt(): void;
  /** IOS context help: the lines `?` prints for the line typed so far; null if `?` is an ordinary character. */
  help?(line: string): string[] | null;
  /** IOS Tab completion: the completed line, or null when nothing (or more than one thing) fits. */
  complete?(line: string): string | null;
  /** Ctrl-Z (IOS: leave configuration mode); returns whether it did something. */
  suspend?(): boolean;
  /** Lines of history to keep (VPCS 50, IOS 10 by default; we keep more). */
  readonly historySize?: number;
}

const ESC = '\x1b';
const BELL = '\x07';

/** Keystrokes that stop a running command: Ctrl-C, and Ctrl-Shift-6 (IOS's escape sequence). */
function isInterrupt(c: string): boolean {
  return c === '\x03' || c === '\x1e';
}

/**
 * Longest input line, as IOS and VPCS bound theirs: a key that would make it longer rings the
 * bell (once per run) and is ignored. It also bounds what editing in the middle redraws.
 */
export const MAX_LINE = 4096;
/** Keystrokes kept while a command runs; the rest are dropped, as a full type-ahead buffer does. */
export const MAX_TYPEAHEAD = 64 * 1024;

export class Terminal implements ShellHost {
  private line = '';
  private cursor = 0;
  private readonly history: string[] = [];
  /** Position while browsing history; history.length when on the line being typed. */
  private historyIndex = 0;
  private draft = '';
  private busy = false;
  /** Keystrokes that arrived while a command ran. */
  private typeahead = '';
  /** An escape sequence being collected (ESC [ A). */
  private escape = '';
  /** The last character was CR: a following LF or NUL belongs to it (telnet sends CR LF or CR NUL). */
  private afterCr = false;
  private begun = false;
  /** The bell has rung for a key the full line refused; quiet until the line changes otherwise. */
  private overflowed = false;
  /** Output gathered while one input() runs, sent as one piece (not one write per key). */
  private batch: string[] | null = null;
  cols = 80;
  rows = 24;

  constructor(
    readonly shell: Shell,
    private readonly output: (text: string) => void,
  ) {}

  /** The first prompt has been shown. */
  get started(): boolean {
    return this.begun;
  }

  /** True while a command runs. */
  get running(): boolean {
    return this.busy;
  }

  /** Shows the first prompt (once). */
  start(): void {
    if (this.begun) return;
    this.begun = true;
    for (const t of this.early.splice(0)) this.emit(`${t}\n`);
    this.emit(this.shell.prompt());
  }

  /** Log lines from before the first prompt (nobody had looked yet): shown above it, the first few. */
  private early: string[] = [];

  /** The prompt and the line being typed, for a viewer that just attached. */
  currentView(): string {
    if (this.busy) return '';
    return crlf(lastLine(this.shell.prompt())) + this.line;
  }

  resize(cols: number, rows: number): void {
    if (cols > 0) this.cols = Math.floor(cols);
    if (rows > 0) this.rows = Math.floor(rows);
  }

  /** Keystrokes from a viewer. */
  input(data: string): void {
    const outer = this.batch === null;
    if (outer) this.batch = [];
    try {
      if (!this.begun) this.start();
      for (const c of data) {
        if (this.busy) {
          if (isInterrupt(c)) {
            this.typeahead = '';
            this.shell.interrupt();
          } else if (this.typeahead.length < MAX_TYPEAHEAD) this.typeahead += c;
          continue;
        }
        this.key(c);
      }
    } finally {
      if (outer) {
        const out = this.batch!.join('');
        this.batch = null;
        if (out) this.output(out);
      }
    }
  }

  private write(text: string): void {
    if (this.batch) this.batch.push(text);
    else this.output(text);
  }

  print(text: string): void {
    this.emit(text);
  }

  /**
   * An unsolicited message (a device's log line), as IOS's `logging synchronous` shows one: on
   * lines of its own, then the prompt and the line being typed again, the cursor where it was.
   */
  notice(text: string): void {
    if (!this.started) {
      if (this.early.length < 16) this.early.push(text);
      return;
    }
    this.emit(`\n${text}\n`);
    if (this.busy) return;
    this.write(this.currentView() + '\b'.repeat(this.line.length - this.cursor));
  }

  finished(): void {
    if (!this.busy) return;
    this.busy = false;
    this.emit(this.shell.prompt());
    const pending = this.typeahead;
    this.typeahead = '';
    if (pending) this.input(pending);
  }

  private emit(text: string): void {
    if (text) this.write(crlf(text));
  }

  private key(c: string): void {
    if (this.escape) {
      this.escape += c;
      // CSI sequences end with a letter or '~'; SS3 (ESC O x) with one letter.
      if (this.escape.length === 2 && c !== '[' && c !== 'O') this.escape = '';
      else if (this.escape.length > 2 && /[A-Za-z~]/.test(c)) {
        const seq = this.escape;
        this.escape = '';
        this.escapeSequence(seq);
      } else if (this.escape.length > 8) this.escape = '';
      return;
    }
    if (this.afterCr) {
      this.afterCr = false;
      if (c === '\n' || c === '\0') return;
    }
    if (c < ' ' || c === '\x7f') this.overflowed = false;
    switch (c) {
      case ESC:
        this.escape = ESC;
        return;
      case '\r':
        this.afterCr = true;
        this.enter();
        return;
      case '\n':
        this.enter();
        return;
      case '\x7f':
      case '\b':
        this.backspace();
        return;
      case '\x01': // Ctrl-A
        this.moveTo(0);
        return;
      case '\x05': // Ctrl-E
        this.moveTo(this.line.length);
        return;
      case '\x02': // Ctrl-B
        this.moveTo(this.cursor - 1);
        return;
      case '\x06': // Ctrl-F
        this.moveTo(this.cursor + 1);
        return;
      case '\x10': // Ctrl-P
        this.historyStep(-1);
        return;
      case '\x0e': // Ctrl-N
        this.historyStep(1);
        return;
      case '\x15': // Ctrl-U
        this.replaceLine('');
        return;
      case '\x17': // Ctrl-W: the word before the cursor
        this.killWord();
        return;
      case '\x0c': // Ctrl-L: show the line again
        this.emit(`\n${lastLine(this.shell.prompt())}${this.line}`);
        this.write('\b'.repeat(this.line.length - this.cursor));
        return;
      case '\x03':
        this.emit('^C\n');
        this.line = '';
        this.cursor = 0;
        this.historyIndex = this.history.length;
        this.emit(this.shell.prompt());
        return;
      case '\x1a': // Ctrl-Z
        if (this.shell.suspend) {
          this.emit('^Z\n');
          this.line = '';
          this.cursor = 0;
          this.shell.suspend();
          this.emit(this.shell.prompt());
        }
        return;
      case '\t':
        this.tab();
        return;
      case '?':
        if (this.questionMark()) return;
        break;
    }
    if (c < ' ') return;
    if (this.line.length + c.length > MAX_LINE) {
      if (!this.overflowed) this.write(BELL);
      this.overflowed = true;
      return;
    }
    this.insert(c);
  }

  private escapeSequence(seq: string): void {
    switch (seq.slice(1)) {
      case '[A':
      case 'OA':
        return this.historyStep(-1);
      case '[B':
      case 'OB':
        return this.historyStep(1);
      case '[C':
      case 'OC':
        return this.moveTo(this.cursor + 1);
      case '[D':
      case 'OD':
        return this.moveTo(this.cursor - 1);
      case '[H':
      case 'OH':
      case '[1~':
        return this.moveTo(0);
      case '[F':
      case 'OF':
      case '[4~':
        return this.moveTo(this.line.length);
      case '[3~':
        return this.deleteForward();
    }
  }

  private insert(c: string): void {
    const tail = this.line.slice(this.cursor);
    this.line = this.line.slice(0, this.cursor) + c + tail;
    this.cursor += c.length;
    this.write(c + tail + '\b'.repeat(tail.length));
  }

  private backspace(): void {
    if (this.cursor === 0) return;
    const tail = this.line.slice(this.cursor);
    this.line = this.line.slice(0, this.cursor - 1) + tail;
    this.cursor--;
    this.write(`\b${tail} ${'\b'.repeat(tail.length + 1)}`);
  }

  private deleteForward(): void {
    if (this.cursor >= this.line.length) return;
    const tail = this.line.slice(this.cursor + 1);
    this.line = this.line.slice(0, this.cursor) + tail;
    this.write(`${tail} ${'\b'.repeat(tail.length + 1)}`);
  }

  private killWord(): void {
    let i = this.cursor;
    while (i > 0 && this.line[i - 1] === ' ') i--;
    while (i > 0 && this.line[i - 1] !== ' ') i--;
    const tail = this.line.slice(this.cursor);
    const removed = this.cursor - i;
    if (removed === 0) return;
    this.line = this.line.slice(0, i) + tail;
    this.write('\b'.repeat(removed) + tail + ' '.repeat(removed) + '\b'.repeat(tail.length + removed));
    this.cursor = i;
  }

  private moveTo(pos: number): void {
    const p = Math.max(0, Math.min(this.line.length, pos));
    if (p < this.cursor) this.write('\b'.repeat(this.cursor - p));
    else if (p > this.cursor) this.write(this.line.slice(this.cursor, p));
    this.cursor = p;
  }

  /** Replaces what was typed with `text`, cursor at its end. */
  private replaceLine(text: string): void {
    this.moveTo(0);
    const old = this.line.length;
    this.line = text;
    this.cursor = text.length;
    const pad = Math.max(0, old - text.length);
    this.write(text + ' '.repeat(pad) + '\b'.repeat(pad));
  }

  private historyStep(delta: number): void {
    const next = this.historyIndex + delta;
    if (next < 0 || next > this.history.length) {
      this.write(BELL);
      return;
    }
    if (this.historyIndex === this.history.length) this.draft = this.line;
    this.historyIndex = next;
    this.replaceLine(next === this.history.length ? this.draft : this.history[next]!);
  }

  private tab(): void {
    if (!this.shell.complete) return;
    const done = this.shell.complete(this.line.slice(0, this.cursor));
    if (done === null) {
      this.write(BELL);
      return;
    }
    const head = this.line.slice(0, this.cursor);
    const tail = this.line.slice(this.cursor);
    // Redraw from the first character that changes (`int gi` -> `int GigabitEthernet`).
    let same = 0;
    while (same < head.length && same < done.length && head[same] === done[same]) same++;
    const back = head.length - same;
    const written = done.slice(same) + tail;
    const pad = Math.max(0, back - (done.length - head.length));
    this.write('\b'.repeat(back) + written + ' '.repeat(pad) + '\b'.repeat(pad + tail.length));
    this.line = done + tail;
    this.cursor = done.length;
  }

  /** IOS: `?` shows help at once and leaves the line as it was. */
  private questionMark(): boolean {
    if (!this.shell.help) return false;
    const lines = this.shell.help(this.line.slice(0, this.cursor));
    if (lines === null) return false;
    this.emit(`?\n${lines.map((l) => `${l}\n`).join('')}`);
    this.emit(`${lastLine(this.shell.prompt())}${this.line}`);
    this.write('\b'.repeat(this.line.length - this.cursor));
    return true;
  }

  private enter(): void {
    const text = this.line;
    this.line = '';
    this.cursor = 0;
    this.emit('\n');
    if (text.trim() !== '') {
      if (this.history[this.history.length - 1] !== text) this.history.push(text);
      const max = this.shell.historySize ?? 256;
      if (this.history.length > max) this.history.splice(0, this.history.length - max);
    }
    this.historyIndex = this.history.length;
    this.draft = '';
    const r = this.shell.execute(text);
    if (r === 'busy') {
      this.busy = true;
      return;
    }
    this.emit(this.shell.prompt());
  }

  /** Lines entered, oldest first (VPCS `history`). */
  historyLines(): string[] {
    return [...this.history];
  }

  /** Replaces the history (a restored snapshot's); the line being typed is kept. */
  setHistory(lines: readonly string[]): void {
    const max = this.shell.historySize ?? 256;
    this.history.splice(0, this.history.length, ...lines.slice(-max).map((l) => l.slice(0, MAX_LINE)));
    this.historyIndex = this.history.length;
  }
}

function lastLine(s: string): string {
  const i = s.lastIndexOf('\n');
  return i < 0 ? s : s.slice(i + 1);
}

/** Terminals want CR LF; text inside the console uses '\n'. */
export function crlf(text: string): string {
  return text.replace(/\r?\n/g, '\r\n');
}
