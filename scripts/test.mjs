#!/usr/bin/env node
// `npm test`: type-check, then every suite (unit, black-box, Postgres), then the one closing line CI reads.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const counts = join(mkdtempSync(join(tmpdir(), 'tessera-test-')), 'counts');
const env = { ...process.env, TESSERA_TEST_COUNTS: counts };
let typeFailed = 0;

const tsc = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json', '--noEmit'], { stdio: 'inherit', env });
if (tsc.status !== 0) { typeFailed = 1; console.error('type-check failed'); }

const suites = [['vitest', 'run', ...process.argv.slice(2)]];
if (process.env.TESSERA_COMPAT !== '0' && existsSync('tests/compat/vitest.config.ts') && process.argv.length <= 2) {
  suites.push(['vitest', 'run', '--config', 'tests/compat/vitest.config.ts']);
}
let exit = typeFailed;
for (const args of suites) {
  const r = spawnSync(process.execPath, ['node_modules/vitest/vitest.mjs', ...args.slice(1)], { stdio: 'inherit', env });
  if (r.status !== 0) exit = 1;
}
let passed = 0, failed = typeFailed, skipped = 0;
if (existsSync(counts)) {
  for (const line of readFileSync(counts, 'utf8').trim().split('\n').filter(Boolean)) {
    const [p, f, s] = line.split(' ').map(Number);
    passed += p; failed += f; skipped += s;
  }
} else if (exit !== 0) failed += 1;
if (failed > 0) exit = 1;
console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(exit);
