/**
 * The consoles of running labs for the WebSocket: one ConsoleHub per running lab, made when a
 * browser first opens a console there and closed when the lab stops or is restarted. `write
 * memory` goes through the lab service like any other edit, so lab.yaml is validated and
 * written atomically.
 */
import type { LabRuntime } from '../devices/lab/runtime.js';
import type { LabFile } from '../devices/lab/schema.js';
import { ConsoleHub, type ConsoleAttachment, type ConsoleClient } from './console-hub.js';
import type { LabService } from './labs.js';

export class LabConsoles {
  private readonly hubs = new Map<string, { runtime: LabRuntime; hub: ConsoleHub }>();
  private readonly unlisten: () => void;

  constructor(private readonly labs: LabService) {
    this.unlisten = labs.onRuntime((lab, runtime) => {
      const h = this.hubs.get(lab);
      if (h && h.runtime !== runtime) {
        h.hub.close();
        this.hubs.delete(lab);
      }
    });
  }

  /** Attaches a viewer to a node's console; throws with a message for the client when it cannot. */
  attach(lab: string, node: string, client: ConsoleClient): ConsoleAttachment {
    const runtime = this.labs.runtime(lab);
    if (!runtime) throw new Error(`lab ${lab} is not running; start it to use its consoles`);
    let h = this.hubs.get(lab);
    if (!h || h.runtime !== runtime) {
      h?.hub.close();
      const hub = new ConsoleHub(runtime, {
        folderName: lab,
        persist: async (file: LabFile) => {
          await this.labs.replace(lab, file);
        },
      });
      h = { runtime, hub };
      this.hubs.set(lab, h);
    }
    return h.hub.attach(node, client);
  }

  close(): void {
    this.unlisten();
    for (const h of this.hubs.values()) h.hub.close();
    this.hubs.clear();
  }
}
