#!/usr/bin/env node
// The production build: the CLI and every workspace package it imports, compiled from TypeScript into plain
// JavaScript in dist/ (one module per dynamic import, so `serve` never loads the deployment verbs). Dependencies in
// node_modules stay external. `npm ci` runs it (prepare); packages/cli/bin/tessera.mjs runs dist/ when it is
// up to date and falls back to the TypeScript sources (through tsx) when a source is newer.
//   node scripts/build.mjs            build
//   node scripts/build.mjs --if-stale build only when a source is newer than dist/
import { build } from 'esbuild';
import { copyFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildIsFresh, DIST, ENTRY, ROOT, STAMP, WORKERS } from '../packages/cli/bin/freshness.mjs';

if (process.argv.includes('--if-stale') && buildIsFresh()) process.exit(0);

/** Dependencies compiled into dist/ rather than imported from node_modules (ESM, no native code, no files read at run time). */
const BUNDLED = ['@sinclair/typebox', 'kysely', 'jose'];

const started = Date.now();
rmSync(DIST, { recursive: true, force: true });
await build({
  absWorkingDir: ROOT,
  entryPoints: { tessera: join(ROOT, 'packages/cli/src/main.ts') },
  outdir: DIST,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20.19',
  sourcemap: 'linked',
  logLevel: 'warning',
  chunkNames: '[name]-[hash]',
  outExtension: { '.js': '.mjs' },
  // packages of this repository are compiled in, and so are the few pure-JavaScript ES-module dependencies that
  // every start loads file by file (hundreds of small modules: resolving and compiling them was a third of a cold
  // start); everything else installed in node_modules is imported at run time
  plugins: [{
    name: 'external-dependencies',
    setup(b) {
      b.onResolve({ filter: /^[^./]/ }, (args) => (args.path.startsWith('@tessera/') || BUNDLED.some((p) => args.path === p || args.path.startsWith(`${p}/`)) ? undefined : { path: args.path, external: true }));
    },
  }],
});
// Files loaded by path at run time (worker threads), next to the bundle that resolves them from import.meta.url.
for (const file of WORKERS()) copyFileSync(file, join(DIST, basename(file)));
writeFileSync(STAMP, `${new Date().toISOString()}\n`);
if (fileURLToPath(import.meta.url) === process.argv[1]) {
  process.stderr.write(`tessera: built ${ENTRY.slice(ROOT.length + 1)} in ${Date.now() - started} ms\n`);
}
