#!/usr/bin/env node
// The `wirelab` command. The TypeScript sources are compiled to dist/ by `npm run build`
// (which `npm start` runs first).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = new URL('../dist/server/cli.js', import.meta.url);
if (!existsSync(fileURLToPath(cli))) {
  console.error('wirelab is not built yet: run `npm run build` in the checkout first.');
  process.exit(2);
}
// A closed pipe (`wirelab demo | head`) ends output quietly.
process.stdout.on('error', (e) => { if (e.code === 'EPIPE') process.exit(0); throw e; });
const { main } = await import(cli.href);
process.exitCode = await main(process.argv.slice(2));
