// Whether dist/ (scripts/build.mjs) is at least as new as every source it is built from. Plain JavaScript, no
// dependencies: the entry point asks it before it decides between the compiled output and the TypeScript sources.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../../..');
export const DIST = join(ROOT, 'dist');
export const ENTRY = join(DIST, 'tessera.mjs');
export const STAMP = join(DIST, '.built');
const PACKAGES = join(ROOT, 'packages');

/** Every source file of the workspace packages (and the build script), relative to ROOT. */
export function sources() {
  const out = [join(ROOT, 'scripts/build.mjs')];
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.name === 'node_modules') continue;
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(p);
    }
  };
  for (const pkg of readdirSync(PACKAGES, { withFileTypes: true })) {
    if (!pkg.isDirectory()) continue;
    if (existsSync(join(PACKAGES, pkg.name, 'src'))) walk(join(PACKAGES, pkg.name, 'src'));
    if (existsSync(join(PACKAGES, pkg.name, 'package.json'))) out.push(join(PACKAGES, pkg.name, 'package.json'));
  }
  return out;
}

/** Plain JavaScript files the packages load by path at run time (worker threads): copied next to the bundle. */
export const WORKERS = () => sources().filter((f) => f.startsWith(PACKAGES) && /\/src\/.*\.(mjs|cjs)$/.test(f));

export function buildIsFresh() {
  if (!existsSync(STAMP) || !existsSync(ENTRY)) return false;
  const built = statSync(STAMP).mtimeMs;
  return sources().every((f) => statSync(f).mtimeMs <= built);
}
