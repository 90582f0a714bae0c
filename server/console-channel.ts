/**
 * The consoles of running labs for the WebSocket: one ConsoleHub per running lab, made when a
 * browser first opens a console there and closed when the lab stops or is restarted. `write
 * memory` goes through the lab service like any other edit, so lab.yaml is validated and
 * written atomically. Each running lab also gets its telnet consoles (the GNS3 convention: ports
 * from 5000 up as the lab model numbers them), on loopback only since a console has no password;
 * a port another lab already holds is reported, not fatal.
 */
import type { LabRuntime } from '../devices/lab/runtime.js';
import type { LabFile } from '../devices/lab/schema.js';
import { ConsoleHub, type ConsoleAttachment, type ConsoleClient } from './console-hub.js';
import { TelnetConsoles } from './console-telnet.js';
import type { LabService } from './labs.js';

export class LabConsoles {
  private readonly hubs = new Map<string, { runtime: LabRuntime; hub: ConsoleHub; telnet: TelnetConsoles }>();
  private readonly unlisten: () => void;

  constructor(
    private readonly labs: LabService,
    private readonly onTelnetError: (lab: string, node: string, port: number, error: string) => void = () => undefined,
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
    const telnet = new TelnetConsoles(hub, { host: '127.0.0.1' });
    this.hubs.set(lab, { runtime, hub, telnet });
    void telnet.listen().then((listeners) => {
      for (const l of listeners) if (l.error) this.onTelnetError(lab, l.node, l.port, l.error);
    });
    return hub;
  }

  /** Attaches a viewer to a node's console; throws with a message for the client when it cannot. */
  attach(lab: string, node: string, client: ConsoleClient): ConsoleAttachment {
    const runtime = this.labs.runtime(lab);
    if (!runtime) throw new Error(`lab ${lab} is not running; start it to use its consoles`);
    let h = this.hubs.get(lab);
    if (h && h.runtime !== runtime) this.drop(lab);
    h = this.hubs.get(lab);
    const hub = h ? h.hub : this.hubFor(lab, runtime);
    return hub.attach(node, client);
  }

  close(): void {
    this.unlisten();
    for (const lab of [...this.hubs.keys()]) this.drop(lab);
  }
}
