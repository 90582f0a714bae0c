/**
 * `wirelab serve`: the HTTP/WebSocket server on the labs folder, until SIGINT or SIGTERM (which
 * stop the running labs and save their state).
 */
import { parse, UsageError } from './cli.js';
import { startServer } from './app.js';
import { isLoopbackHost } from './auth.js';

const HELP = `usage: wirelab serve [--host 127.0.0.1] [--port 8080] [--labs ./labs] [--log-level info]
                     [--console-listeners N]

Serves the API at http://HOST:PORT/api/v1 (OpenAPI document at /api/v1/openapi.json) and the
WebSocket at /api/v1/ws, on the labs in --labs (created if missing). It listens on loopback
only by default. With a --host other than loopback every request needs a token: the one in
WIRELAB_TOKEN, or one generated and printed at start; send it as 'Authorization: Bearer TOKEN'
or '?token=TOKEN'. --log-level is one of fatal, error, warn, info, debug, trace, silent; logs are
JSON lines on stdout. Each node of a running lab gets a telnet console port of its own (5000 up)
up to --console-listeners in all (default: half of the open-file limit beyond 512); the others are
reached through one shared telnet port (4999) that asks for lab/node, and in the browser.`;

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export async function serveCommand(args: string[]): Promise<number> {
  const parsed = parse(args, { host: { type: 'string' }, port: { type: 'string' }, labs: { type: 'string' }, 'log-level': { type: 'string' }, 'console-listeners': { type: 'string' } }, HELP);
  if (!parsed) return 0;
  if (parsed.positionals.length > 0) throw new UsageError(`unexpected argument '${parsed.positionals[0]}'\n\n${HELP}`);
  const v = parsed.values;
  const host = (v['host'] as string | undefined) ?? '127.0.0.1';
  const portText = (v['port'] as string | undefined) ?? '8080';
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) throw new UsageError(`--port must be 0..65535, not '${portText}'`);
  const logLevel = (v['log-level'] as string | undefined) ?? 'info';
  if (!LEVELS.includes(logLevel)) throw new UsageError(`--log-level must be one of ${LEVELS.join(', ')}, not '${logLevel}'`);
  const labsDir = (v['labs'] as string | undefined) ?? './labs';
  const listenersText = v['console-listeners'] as string | undefined;
  if (listenersText !== undefined && !/^\d{1,6}$/.test(listenersText)) throw new UsageError(`--console-listeners must be a number of listeners (0 up), not '${listenersText}'`);

  let server;
  try {
    server = await startServer({ host, port, labsDir, logLevel, ...(listenersText !== undefined ? { consoleListeners: Number(listenersText) } : {}) });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'EADDRINUSE') console.error(`wirelab serve: port ${port} on ${host} is in use (try --port)`);
    else if (err.code === 'EACCES') console.error(`wirelab serve: not allowed to listen on ${host}:${port}`);
    else if (err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND') console.error(`wirelab serve: ${host} is not an address of this machine`);
    else throw e;
    return 1;
  }
  const shown = isLoopbackHost(host) ? server.url.replace('127.0.0.1', 'localhost') : server.url;
  console.error(`wirelab serving ${server.labs.store.root} at ${shown}/api/v1 (OpenAPI: ${shown}/api/v1/openapi.json)`);
  if (server.token !== null) {
    console.error(server.tokenGenerated ? `token (generated; set WIRELAB_TOKEN to choose one): ${server.token}` : 'token: from WIRELAB_TOKEN');
    console.error(`every request needs 'Authorization: Bearer TOKEN' or '?token=TOKEN'`);
  }

  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      server.log.info({ signal }, 'stopping: labs are stopped and their state saved');
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      server.close().then(resolve, (err: unknown) => {
        server.log.error({ err }, 'stopping failed');
        resolve();
      });
    };
    const onInt = () => stop('SIGINT');
    const onTerm = () => stop('SIGTERM');
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
  });
  return 0;
}
