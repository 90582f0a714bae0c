/**
 * `devices.switch_fps`: 64-byte frames per second from one endpoint to another through one
 * switch whose MAC table already knows both, untagged on access ports, spanning tree on and
 * converged. Each frame is two engine deliveries (endpoint -> switch, switch -> endpoint).
 */
import { Engine, Link, Port, type FrameSink } from '../../devices/engine/index.js';
import { createSwitch } from '../../devices/switch/index.js';
import type { Figure } from './run.js';

class Endpoint implements FrameSink {
  readonly port: Port;
  /** Unicast data frames received (the switch also sends BPDUs every 2 s). */
  frames = 0;
  constructor(name: string) {
    this.port = new Port(this, name);
  }
  onFrame(_port: Port, frame: Uint8Array): void {
    if (frame[0] === 0x02) this.frames++;
  }
}

function frame64(dst: number, src: number): Uint8Array {
  const f = new Uint8Array(64);
  f.set([0x02, 0, 0, 0, 0, dst, 0x02, 0, 0, 0, 0, src, 0x08, 0x00]);
  return f;
}

function switchFps(seconds: number): number {
  const engine = new Engine({ mode: 'virtual' });
  const sw = createSwitch(engine, { name: 'sw', ports: 8, mac: 0x02_00_00_00_10_00 });
  const a = new Endpoint('a');
  const b = new Endpoint('b');
  new Link(engine, 'a', a.port, sw.ports[0]!);
  new Link(engine, 'b', b.port, sw.ports[1]!);
  sw.start();
  engine.runFor(5e9); // host ports become edge and forward
  const ab = frame64(2, 1);
  const ba = frame64(1, 2);
  a.port.send(ab);
  b.port.send(ba);
  engine.runFor(1000);
  if (sw.macTable().length !== 2) throw new Error('switch did not learn both endpoints');
  const batch = 256;
  for (let i = 0; i < 2000; i++) {
    for (let k = 0; k < batch; k++) a.port.send(ab);
    engine.runUntilIdle(1);
  }
  const before = b.frames;
  const start = performance.now();
  const deadline = start + seconds * 1000;
  let now = start;
  let sent = 0;
  while (now < deadline) {
    for (let r = 0; r < 200; r++) {
      for (let k = 0; k < batch; k++) a.port.send(ab);
      // Spanning tree's tick is a periodic timer, so the engine never goes idle: bound the run.
      engine.runUntilIdle(1);
    }
    sent += 200 * batch;
    now = performance.now();
  }
  if (b.frames - before !== sent) throw new Error(`frames went missing: sent ${sent}, got ${b.frames - before}`);
  if (a.frames > 1) throw new Error('unicast was flooded back to the sender');
  return sent / ((now - start) / 1000);
}

export async function switchBench(): Promise<Figure[]> {
  const fps = switchFps(3);
  return [{ name: 'devices.switch_fps', value: Math.round(fps), unit: 'frames/s', target: 5_000_000 }];
}
