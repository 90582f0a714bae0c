import { Engine, Link, Port, Capture, type FrameSink } from '../../devices/engine/index.js';
import type { Figure } from './run.js';

class Counter implements FrameSink {
  frames = 0;
  onFrame(): void {
    this.frames++;
  }
}

function frame64(): Uint8Array {
  const f = new Uint8Array(64);
  f.set([0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00]);
  return f;
}

/** Frames per second pushed through one zero-delay link and the engine's delivery queue. */
function linkFps(withCapture: boolean, seconds: number): number {
  const engine = new Engine({ mode: 'virtual' });
  const src = new Counter();
  const dst = new Counter();
  const a = new Port(src, 'a');
  const b = new Port(dst, 'b');
  const link = new Link(engine, 'a-b', a, b);
  let captured = 0;
  if (withCapture) {
    const cap = new Capture(engine, { sink: (c) => (captured += c.length) });
    cap.attachLink(link);
  }
  const frame = frame64();
  const batch = 256;
  let sent = 0;
  // Warm up so the figure measures optimised code.
  for (let i = 0; i < 2000; i++) {
    for (let k = 0; k < batch; k++) a.send(frame);
    engine.runUntilIdle();
  }
  const start = performance.now();
  const deadline = start + seconds * 1000;
  let now = start;
  while (now < deadline) {
    for (let r = 0; r < 200; r++) {
      for (let k = 0; k < batch; k++) a.send(frame);
      engine.runUntilIdle();
    }
    sent += 200 * batch;
    now = performance.now();
  }
  if (dst.frames < sent || (withCapture && captured === 0)) throw new Error('frames went missing');
  return sent / ((now - start) / 1000);
}

/** CPU used by an idle real-time engine with a link, over `seconds`. */
async function idleCpuPct(seconds: number): Promise<number> {
  const engine = new Engine({ mode: 'real' });
  const a = new Port(new Counter(), 'a');
  const b = new Port(new Counter(), 'b');
  new Link(engine, 'a-b', a, b, { delayNs: 1e6 });
  engine.start();
  const before = process.cpuUsage();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const used = process.cpuUsage(before);
  const wall = performance.now() - t0;
  engine.stop();
  return (((used.user + used.system) / 1000) / wall) * 100;
}

export async function engineBench(): Promise<Figure[]> {
  const link = linkFps(false, 3);
  const cap = linkFps(true, 3);
  const idle = await idleCpuPct(10);
  return [
    { name: 'engine.link_fps', value: Math.round(link), unit: 'frames/s', target: 10_000_000 },
    { name: 'engine.capture_fps', value: Math.round(cap), unit: 'frames/s', target: 1_000_000 },
    { name: 'engine.idle_cpu_pct', value: Number(idle.toFixed(2)), unit: '%', target: 0 },
  ];
}
