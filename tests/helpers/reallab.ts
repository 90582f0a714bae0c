/**
 * A lab.yaml text brought up in real time with the server's real-world endpoints, for interop tests
 * and benches: `const lab = await realLab(yaml)` ... `lab.stop()`.
 */
import { loadLabText, formatLabErrors } from '../../devices/lab/load.js';
import { LabRuntime } from '../../devices/lab/runtime.js';
import type { Host } from '../../devices/host/index.js';
import { realWorldFactories, RealEndpoint, type RealWorldOptions } from '../../server/endpoints/index.js';

export interface RealLab {
  runtime: LabRuntime;
  /** Endpoint failures reported while starting and running. */
  errors: { node: string; message: string }[];
  endpoint(name: string): RealEndpoint;
  host(name: string): Host;
  stop(): void;
}

export function realLab(yaml: string, opts: Omit<RealWorldOptions, 'onError'> = {}): RealLab {
  const loaded = loadLabText(yaml, 'lab.yaml');
  if (!loaded.ok) throw new Error(formatLabErrors(loaded.errors));
  const errors: RealLab['errors'] = [];
  const runtime = new LabRuntime(loaded.lab, { time: 'real', ...realWorldFactories({ ...opts, onError: (node, message) => errors.push({ node, message }) }) });
  runtime.start();
  return {
    runtime,
    errors,
    endpoint(name) {
      const d = runtime.node(name) ?? runtime.networkUplink(name);
      if (!(d instanceof RealEndpoint)) throw new Error(`${name} is not a real-world endpoint`);
      return d;
    },
    host(name) {
      const h = runtime.host(name);
      if (!h) throw new Error(`no host ${name}`);
      return h;
    },
    stop() {
      runtime.stop();
    },
  };
}

/** Waits (real time) for an emulated host's operation, e.g. `await done(() => ping.isDone)`. */
export async function until(done: () => boolean, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
  return true;
}
