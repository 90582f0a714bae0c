/**
 * How the server makes a running lab: devices/lab/runtime.ts's `LabRuntime`, behind a factory so
 * tests and embedders can pass their own options (a cloud factory, another epoch).
 */
import type { Lab } from '../devices/lab/schema.js';
import { LabRuntime, type LabState, type RuntimeOptions } from '../devices/lab/runtime.js';
import { realWorldFactories } from './endpoints/index.js';

export type { CheckResult } from '../devices/lab/checks.js';
export type { LabState, RuntimeEvent, RuntimeOptions } from '../devices/lab/runtime.js';
export type LabRuntimeApi = LabRuntime;
export type RuntimeFactory = (lab: Lab, opts: RuntimeOptions) => LabRuntime;

export const defaultRuntimeFactory: RuntimeFactory = (lab, opts) => new LabRuntime(lab, opts);

/** Runtimes whose cloud nodes and bridged networks open real UDP tunnels, TAPs and NICs. */
export function realWorldRuntimeFactory(onError: (node: string, message: string) => void): RuntimeFactory {
  const factories = realWorldFactories({ onError });
  return (lab, opts) => new LabRuntime(lab, { ...factories, ...opts });
}

/** A state file's content if it looks like a LabState, else undefined (a damaged file is not fed to the devices). */
export function asLabState(v: unknown): LabState | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const s = v as { version?: unknown; dhcp?: unknown };
  if (s.version !== 1 || typeof s.dhcp !== 'object' || s.dhcp === null || Array.isArray(s.dhcp)) return undefined;
  return v as LabState;
}
