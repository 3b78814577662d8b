#!/usr/bin/env node
// Entry point: the compiled build (dist/, made by `npm ci` or `node scripts/build.mjs`) when it is up to date;
// otherwise the TypeScript sources through the tsx loader (development: a source was changed after the build).
import { buildIsFresh, ENTRY } from './freshness.mjs';

if (process.env.TESSERA_FROM_SOURCE !== '1' && buildIsFresh()) {
  await import(ENTRY);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/main.ts');
}
