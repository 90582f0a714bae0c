/** The IOS console's `write memory` (to lab.yaml) and `reload` (power-cycle with the startup configuration). */
import type { SaveOutcome, SaveRequest } from '../env.js';
import { renderRunningConfig } from './render.js';
import type { IosShell } from './shell.js';

export function writeMemory(sh: IosShell): 'busy' | undefined {
  const env = sh.env;
  sh.out('Building configuration...\n');
  if (!env?.save) {
    sh.out('%Error: this console cannot write lab.yaml\n');
    return undefined;
  }
  const req = sh.saveRequest();
  for (const w of req.warnings) sh.out(`% Warning: ${w}\n`);
  let outcome: SaveOutcome | Promise<SaveOutcome>;
  try {
    outcome = env.save(req);
  } catch (e) {
    sh.out(`%Error writing lab.yaml: ${(e as Error).message}\n`);
    return undefined;
  }
  if (!(outcome instanceof Promise)) {
    saved(sh, outcome, req);
    return undefined;
  }
  sh.op = { kind: 'save' };
  outcome.then(
    (o) => {
      saved(sh, o, req);
      sh.opDone();
    },
    (e: unknown) => {
      saved(sh, { ok: false, error: (e as Error).message }, req);
      sh.opDone();
    },
  );
  return 'busy';
}

function saved(sh: IosShell, o: SaveOutcome, req: SaveRequest): void {
  if (o.ok) {
    sh.startup = req.spec;
    sh.fileName = req.rename ?? req.node;
    sh.out('[OK]\n');
  } else sh.out(`%Error writing lab.yaml: ${o.error}\n`);
}

export function reload(sh: IosShell): void {
  const modified = sh.startup === undefined || renderRunningConfig(sh.model) !== renderRunningConfig(sh.modelFromSpec(sh.startup));
  const proceed = (): 'done' | 'busy' => {
    sh.question = {
      prompt: 'Proceed with reload? [confirm]',
      answer: (a) => {
        if (a !== '' && !'yes'.startsWith(a.toLowerCase())) return 'done';
        doReload(sh);
        return 'done';
      },
    };
    return 'done';
  };
  if (!modified) {
    proceed();
    return;
  }
  sh.question = {
    prompt: '\nSystem configuration has been modified. Save? [yes/no]: ',
    answer: (a) => {
      const w = a.toLowerCase();
      if (w !== '' && 'yes'.startsWith(w)) {
        const busy = writeMemory(sh);
        if (busy) return busy;
      } else if (!(w !== '' && 'no'.startsWith(w))) {
        sh.out('% Please answer \'yes\' or \'no\'.\n');
        return 'done';
      }
      return proceed();
    },
  };
}

/** Power-cycles the node with the startup configuration, as a reload does. */
function doReload(sh: IosShell): void {
  const env = sh.env;
  sh.out('\n%SYS-5-RELOAD: Reload requested by console. Reload Reason: Reload Command.\n');
  const before = sh.model;
  if (sh.startup) sh.model = sh.modelFromSpec(sh.startup);
  sh.syncDevice(before);
  if (env) {
    env.runtime.stopNode(env.node);
    env.runtime.startNode(env.node);
  }
  sh.markStartupAddresses();
  sh.exitToConfig();
  sh.mode = 'user';
  sh.out(`\n\n${sh.model.hostname} con0 is now available\n\n\nPress RETURN to get started.\n\n`);
  sh.pressReturn = true;
}
