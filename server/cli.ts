/**
 * The `wirelab` command line (docs/cli.md). Each command parses its own options and
 * returns an exit code.
 */
import { parseArgs } from 'node:util';
import { createWriteStream } from 'node:fs';
import { runEveryFrame } from '../devices/demo/every-frame.js';
import { decodeFrame } from '../devices/trace/decode.js';
import { checkCommand, runCommand } from './cmd-check.js';
import { serveCommand } from './cmd-serve.js';
import { exportCommand, importCommand } from './cmd-archive.js';

const USAGE = `usage: wirelab <command> [options]

commands:
  check LAB [--junit FILE] [--capture FILE.pcapng] [--time real|virtual] [--seed N]
                                           boot a lab headless and run its checks (exit 0/1/2)
  run LAB [--for 30s] [--capture FILE.pcapng] [--time real|virtual]
                                           run a lab headless
  demo [--capture FILE.pcapng] [--seed N]   run a small scenario headless and print what crossed the wire
  serve [--host 127.0.0.1] [--port 8080] [--labs ./labs] [--log-level info]
                                           the HTTP/WebSocket API on the labs folder
  export LAB FILE.wlab [--with-snapshots]  write a lab (and its snapshots) to one archive
  import FILE [--as NAME]                  import a .wlab archive or a GNS3 project (.gns3, .gns3project)

Run 'wirelab <command> --help' for a command's options.`;

type Command = (args: string[]) => Promise<number>;

const commands: Record<string, Command> = {
  demo,
  check: checkCommand,
  run: runCommand,
  serve: serveCommand,
  export: exportCommand,
  import: importCommand,
};

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(USAGE);
    return name ? 0 : 2;
  }
  const command = commands[name];
  if (!command) {
    console.error(`wirelab: unknown command '${name}'\n\n${USAGE}`);
    return 2;
  }
  try {
    return await command(rest);
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`wirelab ${name}: ${e.message}`);
      return 2;
    }
    throw e;
  }
}

export class UsageError extends Error {}

type OptionSpec = Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }>;
export interface ParsedArgs {
  values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  positionals: string[];
}

/** Parses a command's options; returns null after printing the help when asked for it. */
export function parse(args: string[], options: OptionSpec, help: string): ParsedArgs | null {
  let parsed: ParsedArgs;
  try {
    parsed = parseArgs({ args, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError(`${(e as Error).message}\n\n${help}`);
  }
  if (parsed.values.help) {
    console.log(help);
    return null;
  }
  return parsed;
}

async function demo(args: string[]): Promise<number> {
  const help = `usage: wirelab demo [--capture FILE.pcapng] [--seed N]

Runs a small scripted scenario in virtual time: a PC and a gateway on one cable exchange one
of every frame type wirelab speaks (DHCP, ARP, ICMP, 802.1Q, 802.1ad, IPv4 options and
fragments, UDP, DNS, TCP, STP), and prints each frame as it crossed the wire.`;
  const parsed = parse(args, { capture: { type: 'string' }, seed: { type: 'string' } }, help);
  if (!parsed) return 0;
  const out = parsed.values.capture ? createWriteStream(String(parsed.values.capture)) : null;
  console.log('wirelab demo: pc1:eth0 <-> r1:g0/0, 50 µs of cable, virtual time\n');
  console.log(`${'No.'.padStart(4)}  ${'Time'.padStart(9)}  ${'Source'.padEnd(17)}  ${'Destination'.padEnd(17)}  ${'Protocol'.padEnd(8)}  ${'Len'.padStart(4)}  Info`);
  let n = 0;
  const result = runEveryFrame({
    seed: Number(parsed.values.seed ?? 1),
    sink: (chunk) => out?.write(chunk),
    onSend: (_what, frame, t) => {
      const d = decodeFrame(frame);
      n++;
      console.log(`${String(n).padStart(4)}  ${(t / 1e9).toFixed(6).padStart(9)}  ${d.src.padEnd(17)}  ${d.dst.padEnd(17)}  ${d.protocol.padEnd(8)}  ${String(d.length).padStart(4)}  ${d.info}`);
    },
  });
  console.log(`\n${result.sent} frames sent, ${result.received} delivered, ${result.captured} captured.`);
  if (out) {
    await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
    console.log(`capture written to ${parsed.values.capture} (open it with wireshark or tshark -r)`);
  }
  return 0;
}
