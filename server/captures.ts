/**
 * Packet captures of a running lab: a pcapng file per capture, on one link or one node
 * interface, kept in memory up to a size cap. A download streams what is there and, while the
 * capture runs, follows it as it grows (chunks are handed over at least every
 * `flushMs`), so `curl -N URL | wireshark -k -i -` shows packets live. A capture follows its link
 * when the running lab rebuilds it, and ends when the lab stops.
 */
import type { ServerResponse } from 'node:http';
import type { CaptureView } from '../contract/index.js';
import { Capture, type Link, type Port } from '../devices/engine/index.js';
import { ApiError, badField, conflict, notFound } from './errors.js';
import { type LabService, requireObject } from './labs.js';
import type { LabRuntimeApi } from './runtime.js';

export interface CaptureOptions {
  /** Bytes a capture may grow to when the request does not say (default 64 MiB). */
  defaultMaxBytes?: number;
  /** Largest cap a request may ask for (default 256 MiB). */
  maxBytesLimit?: number;
  /** Captures kept (running and finished) across the server; the oldest finished one makes room (default 16). */
  maxCaptures?: number;
  /** Longest a captured frame waits before downloads see it, ms (default 200). */
  flushMs?: number;
}

class Session {
  readonly chunks: Uint8Array[] = [];
  size = 0;
  readonly capture: Capture;
  readonly followers = new Set<() => void>();
  flushTimer: ReturnType<typeof setInterval> | undefined;
  /** The engine link or port now recorded (replaced when the runtime rebuilds it). */
  attached: Link | Port | null = null;

  constructor(
    readonly id: string,
    readonly lab: string,
    readonly target: { link: string } | { node: string; iface: string },
    readonly maxBytes: number,
    runtime: LabRuntimeApi,
  ) {
    this.capture = new Capture(runtime.engine, {
      sink: (chunk) => {
        this.chunks.push(chunk);
        this.size += chunk.length;
        for (const f of this.followers) f();
      },
      maxBytes,
      chunkBytes: 64 * 1024,
    });
  }

  get running(): boolean {
    return !this.capture.closed;
  }

  /** Records the link or port the runtime has under this capture's name now; false when it has none. */
  bind(rt: LabRuntimeApi): boolean {
    if ('link' in this.target) {
      const link = rt.link(this.target.link);
      if (link && link !== this.attached) {
        this.capture.attachLink(link, this.target.link);
        this.attached = link;
      }
      return link !== undefined;
    }
    const port = rt.port(this.target.node, this.target.iface);
    if (port && port !== this.attached) {
      this.capture.attachPort(port, `${this.target.node}:${this.target.iface}`);
      this.attached = port;
    }
    return port !== undefined;
  }

  stop(): void {
    clearInterval(this.flushTimer);
    this.capture.close();
    for (const f of this.followers) f();
  }

  view(): CaptureView {
    const t = this.target;
    return {
      id: this.id,
      lab: this.lab,
      link: 'link' in t ? t.link : null,
      node: 'node' in t ? t.node : null,
      interface: 'node' in t ? t.iface : null,
      state: this.running ? 'running' : 'stopped',
      frames: this.capture.frames,
      bytes: this.capture.bytes,
      dropped: this.capture.dropped,
      maxBytes: this.maxBytes,
      url: `/api/v1/labs/${this.lab}/captures/${this.id}.pcapng`,
    };
  }
}

export class CaptureManager {
  private readonly sessions = new Map<string, Session>();
  private counter = 0;
  private readonly unlisten: () => void;
  private readonly defaultMax: number;
  private readonly limitMax: number;
  private readonly maxCaptures: number;
  private readonly flushMs: number;

  constructor(
    private readonly labs: LabService,
    opts: CaptureOptions = {},
  ) {
    this.defaultMax = opts.defaultMaxBytes ?? 64 << 20;
    this.limitMax = opts.maxBytesLimit ?? 256 << 20;
    this.maxCaptures = opts.maxCaptures ?? 16;
    this.flushMs = opts.flushMs ?? 200;
    this.unlisten = labs.onRuntime((lab, rt) => this.follow(lab, rt));
  }

  close(): void {
    this.unlisten();
    for (const s of this.sessions.values()) s.stop();
  }

  list(lab: string): CaptureView[] {
    this.labs.lab(lab);
    return [...this.sessions.values()].filter((s) => s.lab === lab).map((s) => s.view());
  }

  get(lab: string, id: string): CaptureView {
    return this.session(lab, id).view();
  }

  /** `{link}` or `{node, interface}`, optional `maxBytes`. */
  start(lab: string, body: unknown): CaptureView {
    const b = requireObject(body);
    const known = new Set(['link', 'node', 'interface', 'maxBytes']);
    for (const k of Object.keys(b)) if (!known.has(k)) throw badField(k, `unknown key ${JSON.stringify(k)}; the keys here are link, node, interface, maxBytes`);
    const model = this.labs.lab(lab);
    let target: Session['target'];
    if (b['link'] !== undefined) {
      if (b['node'] !== undefined || b['interface'] !== undefined) throw badField('link', 'a capture is on a link, or on a node and interface, not both');
      if (typeof b['link'] !== 'string') throw badField('link', 'a link id is text, like pc1:eth0--sw1:e1');
      if (!model.links.some((l) => l.id === b['link'])) throw new ApiError(404, `no link ${JSON.stringify(b['link'])}`, [{ field: 'link', message: 'no such link' }]);
      target = { link: b['link'] };
    } else if (b['node'] !== undefined || b['interface'] !== undefined) {
      const node = b['node'];
      const iface = b['interface'];
      if (typeof node !== 'string') throw badField('node', node === undefined ? 'missing: interface goes with node' : 'a node name is text');
      if (typeof iface !== 'string') throw badField('interface', iface === undefined ? 'missing: which interface of the node' : 'an interface name is text');
      const n = model.nodes[node];
      if (!n) throw new ApiError(404, `no node named ${JSON.stringify(node)}`, [{ field: 'node', message: 'no such node' }]);
      if (!n.interfaces.some((i) => i.name === iface)) {
        throw new ApiError(404, `${node} has no interface ${iface}`, [{ field: 'interface', message: `no such interface; ${node} has ${n.interfaces.map((i) => i.name).join(', ')}` }]);
      }
      target = { node, iface };
    } else throw badField('link', 'missing: a capture needs a link, or a node and an interface');
    let maxBytes = this.defaultMax;
    if (b['maxBytes'] !== undefined) {
      const m = b['maxBytes'];
      if (typeof m !== 'number' || !Number.isInteger(m) || m < 4096 || m > this.limitMax) {
        throw badField('maxBytes', `maxBytes is a whole number of bytes, 4096..${this.limitMax}`);
      }
      maxBytes = m;
    }
    const rt = this.labs.runningRuntime(lab);
    this.makeRoom();
    const id = `c${++this.counter}`;
    const s = new Session(id, lab, target, maxBytes, rt);
    if (!s.bind(rt)) {
      s.stop();
      throw conflict(`the running lab has no ${'link' in target ? `link ${target.link}` : `port ${target.node}:${target.iface}`} yet`);
    }
    // Headers go out at once, so a viewer started now shows the interfaces before the first packet.
    s.capture.flush();
    s.flushTimer = setInterval(() => s.capture.flush(), this.flushMs);
    s.flushTimer.unref();
    this.sessions.set(id, s);
    return s.view();
  }

  /** Stops a running capture (it stays downloadable); deletes a stopped one. */
  stopOrDelete(lab: string, id: string): { deleted: boolean; view: CaptureView } {
    const s = this.session(lab, id);
    if (s.running) {
      s.stop();
      return { deleted: false, view: s.view() };
    }
    this.sessions.delete(id);
    return { deleted: true, view: s.view() };
  }

  /** Streams the capture file; follows it while it runs. */
  download(lab: string, file: string, res: ServerResponse): void {
    const m = /^(c\d+)\.pcapng$/.exec(file);
    if (!m) throw notFound(`no capture ${JSON.stringify(file)}; downloads are named <id>.pcapng`, [{ field: 'capture', message: 'no such capture' }]);
    const s = this.session(lab, m[1]!);
    res.statusCode = 200;
    res.setHeader('Content-Type', 'application/x-pcapng');
    res.setHeader('Content-Disposition', `attachment; filename="${lab}-${s.id}.pcapng"`);
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    if (!s.running) res.setHeader('Content-Length', String(s.size));
    let next = 0;
    let waiting = false;
    const pump = () => {
      if (waiting || res.destroyed) return;
      while (next < s.chunks.length) {
        const ok = res.write(s.chunks[next++]);
        if (!ok) {
          waiting = true;
          res.once('drain', () => {
            waiting = false;
            pump();
          });
          return;
        }
      }
      if (!s.running) {
        s.followers.delete(pump);
        res.end();
      }
    };
    s.followers.add(pump);
    res.on('close', () => s.followers.delete(pump));
    if (s.running) res.flushHeaders();
    pump();
  }

  private session(lab: string, id: string): Session {
    this.labs.lab(lab);
    const s = this.sessions.get(id);
    if (!s || s.lab !== lab) throw notFound(`no capture ${JSON.stringify(id)} in lab ${lab}`, [{ field: 'capture', message: 'no such capture' }]);
    return s;
  }

  private makeRoom(): void {
    if (this.sessions.size < this.maxCaptures) return;
    const oldestStopped = [...this.sessions.values()].find((s) => !s.running);
    if (!oldestStopped) throw conflict(`${this.maxCaptures} captures are running; stop one first`);
    this.sessions.delete(oldestStopped.id);
  }

  /** The lab started, stopped or changed: captures follow rebuilt links and end with the lab. */
  private follow(lab: string, rt: LabRuntimeApi | null): void {
    for (const s of this.sessions.values()) {
      if (s.lab !== lab || !s.running) continue;
      if (rt === null) s.stop();
      else s.bind(rt);
    }
  }

  /** Deleting a lab forgets its captures. */
  forgetLab(lab: string): void {
    for (const s of [...this.sessions.values()]) {
      if (s.lab !== lab) continue;
      s.stop();
      this.sessions.delete(s.id);
    }
  }
}
