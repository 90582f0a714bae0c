/**
 * `host-adapter: tap`: the host's own adapter on a VMware network (VMware's vmnet1/vmnet8 adapter)
 * as a real TAP device holding the network's .1, so programs on the host reach the lab's
 * addresses directly. The TAP is server/endpoints' TapEndpoint; this adds its address. Needs
 * CAP_NET_ADMIN: without it the adapter refuses to start with the reason, and the rest of the lab
 * runs.
 */
import { execFileSync } from 'node:child_process';
import type { Engine } from '../devices/engine/engine.js';
import { ip4ToString, type Ip4 } from '../devices/wire/bytes.js';
import { TapEndpoint, type EndpointOptions } from './endpoints/index.js';

export interface HostAdapterTapOptions extends EndpointOptions {
  lab: string;
  network: string;
  ip: Ip4;
  prefix: number;
}

/** A TAP name of at most 15 characters that two labs (or two networks) never share: `wl` and a hash. */
export function hostAdapterTapName(lab: string, network: string): string {
  let h = 0x811c9dc5;
  const text = `${lab}\u0000${network}`;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  let g = 0x01000193;
  for (let i = 0; i < text.length; i++) g = Math.imul(g ^ text.charCodeAt(i), 0x5bd1e995) >>> 0;
  return `wl${h.toString(16).padStart(8, '0')}${(g & 0xfff).toString(16).padStart(3, '0')}`;
}

export class HostAdapterTap extends TapEndpoint {
  readonly address: string;

  constructor(engine: Engine, opts: HostAdapterTapOptions) {
    super(engine, { ...opts, tap: hostAdapterTapName(opts.lab, opts.network) });
    this.address = `${ip4ToString(opts.ip)}/${opts.prefix}`;
  }

  override describe(): string {
    return `host adapter ${this.address} on tap ${this.tap}`;
  }

  protected override open(): void {
    super.open();
    try {
      execFileSync('ip', ['addr', 'replace', this.address, 'dev', this.tap], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', timeout: 10_000 });
    } catch (e) {
      const err = e as { stderr?: string; code?: string; message: string };
      if (err.code === 'ENOENT') throw new Error(`${this.describe()}: the \`ip\` command (iproute2) is not installed`);
      throw new Error(`${this.describe()}: ip addr replace ${this.address} dev ${this.tap}: ${(err.stderr ?? err.message).trim()}`);
    }
  }
}
