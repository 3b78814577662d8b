#!/usr/bin/env node
// `npm test`: the type-check and every suite (unit, black-box, Postgres, compatibility) at once, then the one closing
// line CI reads. The parts are independent and mostly wait on I/O and child processes, so they run side by side;
// each line a part prints carries its name, and a table of the parts closes the run.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const dir = mkdtempSync(join(tmpdir(), 'tessera-test-'));
const args = process.argv.slice(2);
const wholeRun = args.length === 0;
// Workers of the main suite: its files wait on servers, databases and browsers more than on the CPU.
const mainWorkers = process.env.TESSERA_TEST_WORKERS || (wholeRun ? '3' : undefined);

/** A part of the run: a name, a command, and the file its vitest reporter appends counts to. */
const parts = [
  { name: 'tsc', cmd: [process.execPath, 'node_modules/typescript/bin/tsc', '-p', 'tsconfig.json', '--noEmit'] },
  { name: 'main', cmd: [process.execPath, 'node_modules/vitest/vitest.mjs', 'run', ...(mainWorkers ? ['--maxWorkers', mainWorkers] : []), ...args], counts: true },
];
if (process.env.TESSERA_COMPAT !== '0' && existsSync('tests/compat/vitest.config.ts') && wholeRun) {
  parts.push({ name: 'compat', cmd: [process.execPath, 'node_modules/vitest/vitest.mjs', 'run', '--config', 'tests/compat/vitest.config.ts'], counts: true });
}
// TESSERA_TEST_EXTRA: more parts as JSON `[{ "name", "cmd": [...], "env"?: {...}, "cwd"? }]` (CI adds the Node 24 runs).
if (process.env.TESSERA_TEST_EXTRA && wholeRun) {
  for (const p of JSON.parse(process.env.TESSERA_TEST_EXTRA)) parts.push({ ...p, counts: true });
}

const width = Math.max(...parts.map((p) => p.name.length));
const started = Date.now();
const results = await Promise.all(parts.map(run));

let passed = 0, failed = 0, skipped = 0, exit = 0;
console.log('');
for (const r of results) {
  const c = r.counts ?? [0, r.code === 0 ? 0 : 1, 0];
  passed += c[0]; failed += c[1]; skipped += c[2];
  if (r.code !== 0) exit = 1;
  const counts = r.part.counts ? `${c[0]} passed, ${c[1]} failed, ${c[2]} skipped` : r.code === 0 ? 'ok' : 'failed';
  console.log(`${r.part.name.padEnd(width)}  ${counts}  (${Math.round(r.ms / 1000)} s, exit ${r.code})`);
  if (r.code !== 0 && r.part.counts && c[1] === 0) { failed += 1; console.log(`${' '.repeat(width)}  exited ${r.code} without a failed test: counted as one failure`); }
}
console.log(`total ${Math.round((Date.now() - started) / 1000)} s`);
if (failed > 0) exit = 1;
console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(exit);

function run(part) {
  const counts = join(dir, `${part.name}.counts`);
  const env = { ...process.env, ...part.env, ...(part.counts && { TESSERA_TEST_COUNTS: counts }), NO_COLOR: '1' };
  delete env.FORCE_COLOR; // prefixed lines stay plain text
  const t0 = Date.now();
  return new Promise((resolve) => {
    const child = spawn(part.cmd[0], part.cmd.slice(1), { env, cwd: part.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const prefix = `${part.name.padEnd(width)} | `;
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on('line', (line) => process.stdout.write(prefix + line + '\n'));
    }
    child.once('error', (e) => process.stdout.write(`${prefix}cannot start: ${e.message}\n`));
    child.once('close', (code) => {
      let c;
      if (part.counts && existsSync(counts)) {
        c = [0, 0, 0];
        for (const line of readFileSync(counts, 'utf8').trim().split('\n').filter(Boolean)) {
          line.split(' ').map(Number).forEach((n, i) => { c[i] += n; });
        }
      }
      resolve({ part, code: code ?? 1, counts: c, ms: Date.now() - t0 });
    });
  });
}
