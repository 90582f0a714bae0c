/**
 * The consoles of running labs for the WebSocket: one ConsoleHub per running lab, made when a
 * browser first opens a console there and closed when the lab stops or is restarted. `write
 * memory` goes through the lab service like any other edit, so lab.yaml is validated and
 * written atomically. Each running lab also gets its telnet consoles (the GNS3 convention: ports
 * from 5000 up as the lab model numbers them, or the next free one when another lab holds it), on
 * loopback only; on a server with a token a telnet client must give it first. The ports follow
 * live edits: a node added to a running lab gets its console, a removed one frees its port.
 */
import type { LabRuntime, RuntimeListener } from '../devices/lab/runtime.js';
import type { LabFile } from '../devices/lab/schema.js';
import { ConsoleHub, type ConsoleAttachment, type ConsoleClient } from './console-hub.js';
import { ConsolePortPool, TelnetConsoles } from './console-telnet.js';
import type { LabConsolesView, LabService } from './labs.js';

export class LabConsoles implements LabConsolesView {
  private readonly hubs = new Map<string, { runtime: LabRuntime; hub: ConsoleHub; telnet: TelnetConsoles; onEvent: RuntimeListener }>();
  private readonly unlisten: () => void;
  private readonly ports = new ConsolePortPool();

  constructor(
    private readonly labs: LabService,
    private readonly onTelnetError: (lab: string, node: string, port: number, error: string) => void = () => undefined,
    /** The server's token: telnet clients must give it first (null: consoles are open on loopback). */
    private readonly token: string | null = null,
  ) {
    this.unlisten = labs.onRuntime((lab, runtime) => {
      const h = this.hubs.get(lab);
      if (h && h.runtime !== runtime) this.drop(lab);
      if (runtime && !this.hubs.has(lab)) this.hubFor(lab, runtime);
    });
  }

  private drop(lab: string): void {
    const h = this.hubs.get(lab);
    if (!h) return;
    h.runtime.offEvent(h.onEvent);
    void h.telnet.close();
    h.hub.close();
    this.hubs.delete(lab);
  }

  private hubFor(lab: string, runtime: LabRuntime): ConsoleHub {
    const hub = new ConsoleHub(runtime, {
      folderName: lab,
      persist: async (file: LabFile) => {
        await this.labs.replace(lab, file);
      },
    });
    const telnet = new TelnetConsoles(hub, { host: '127.0.0.1', pool: this.ports, token: this.token });
    const sync = () =>
      void telnet.sync().then((listeners) => {
        for (const l of listeners) if (l.error) this.onTelnetError(lab, l.node, l.port, l.error);
      });
    const onEvent: RuntimeListener = (e) => {
      if (e.type === 'node-changed') sync();
    };
    runtime.onEvent(onEvent);
    this.hubs.set(lab, { runtime, hub, telnet, onEvent });
    sync();
    return hub;
  }

  /** Command histories of a running lab's consoles (for snapshots). */
  histories(lab: string): Record<string, string[]> {
    return this.hubs.get(lab)?.hub.histories() ?? {};
  }

  /** After a restore: the consoles of the running lab get the snapshot's histories. */
  restoreHistories(lab: string, histories: Readonly<Record<string, readonly string[]>>): void {
    const runtime = this.labs.runtime(lab);
    if (runtime) this.hubOf(lab, runtime).restoreHistories(histories);
  }

  /** The running lab's hub: made on first use, made again when the lab was restarted. */
  private hubOf(lab: string, runtime: LabRuntime): ConsoleHub {
    const h = this.hubs.get(lab);
    if (h && h.runtime === runtime) return h.hub;
    if (h) this.drop(lab);
    return this.hubFor(lab, runtime);
  }

  /** The telnet port a node's console listens on, or null (lab stopped, port not open yet or refused). */
  telnetPort(lab: string, node: string): number | null {
    return this.hubs.get(lab)?.telnet.portOf(node) ?? null;
  }

  /** Attaches a viewer to a node's console; throws with a message for the client when it cannot. */
  attach(lab: string, node: string, client: ConsoleClient): ConsoleAttachment {
    const runtime = this.labs.runtime(lab);
    if (!runtime) throw new Error(`lab ${lab} is not running; start it to use its consoles`);
    if (!Object.hasOwn(runtime.lab.nodes, node)) throw new Error(`lab ${lab} has no node ${JSON.stringify(node)}`);
    return this.hubOf(lab, runtime).attach(node, client);
  }

  close(): void {
    this.unlisten();
    for (const lab of [...this.hubs.keys()]) this.drop(lab);
  }
}
