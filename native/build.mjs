#!/usr/bin/env node
// Builds native/wirelab_net.cc (TAP and AF_PACKET endpoints) with npm's own node-gyp against the
// headers of the Node that runs this script, so nothing is downloaded. Run by `npm ci` / `npm install`
// (the package's install script) and by hand with `node native/build.mjs`.
// A machine without a compiler still installs: the rest of wirelab works, and TAP/NIC endpoints
// say that the addon is missing. Set WIRELAB_NATIVE_REQUIRED=1 to make a failed build fail the install.
import { spawnSync } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const required = process.env.WIRELAB_NATIVE_REQUIRED === '1';

function give_up(why) {
  console.warn(`wirelab: native addon not built (${why}); TAP and NIC endpoints will refuse to start, everything else works`);
  process.exit(required ? 1 : 0);
}

if (process.platform !== 'linux') give_up(`TAP and AF_PACKET are Linux interfaces, this is ${process.platform}`);

// The Node installation's own headers: <prefix>/include/node/node_api.h next to <prefix>/bin/node.
const prefix = dirname(dirname(realpathSync(process.execPath)));
const nodedir = existsSync(join(prefix, 'include', 'node', 'node_api.h')) ? prefix : null;

const candidates = [
  process.env.npm_config_node_gyp,
  join(prefix, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
].filter((p) => p && existsSync(p));
const gyp = candidates[0];
if (!gyp) give_up("npm's node-gyp was not found");
if (!nodedir) console.warn(`wirelab: no Node headers under ${prefix}/include/node; node-gyp will look for them itself`);

const args = [gyp, 'rebuild', ...(nodedir ? [`--nodedir=${nodedir}`] : [])];
const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
if (r.status !== 0) give_up(`node-gyp exited with ${r.status ?? r.signal}`);
if (!existsSync(join(root, 'build', 'Release', 'wirelab_net.node'))) give_up('build/Release/wirelab_net.node is missing after the build');
console.log('wirelab: native addon built (build/Release/wirelab_net.node)');
