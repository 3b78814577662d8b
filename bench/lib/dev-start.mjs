// `tessera dev` cold start: from spawning the process to the first 200 of the discovery document over HTTPS (the
// local CA made by a first, unmeasured run), a fresh temporary tenant every time. Also with --http and with a
// --signing-seed (the key derived, no key generated). Each run stays up 1.5 s after its first answer, as a run in
// real use does: long enough to leave the signing keys the next run takes (dev-keys beside the CA folder); the
// "no keys made ahead" variant empties that folder before each run (the first run on a machine, or after very
// short runs).
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, fetch } from 'undici';
import { ROOT, freePort } from './servers.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const HOLD_MS = 1500;

async function startTimed(args, caDir, { emptyKeys = false } = {}) {
  if (emptyKeys) for (const f of readdirSync(join(caDir, '..', 'dev-keys'), { withFileTypes: true }).filter((e) => e.name.startsWith('ahead-'))) rmSync(join(caDir, '..', 'dev-keys', f.name));
  const port = await freePort();
  const t0 = performance.now();
  const child = spawn(process.execPath, ['packages/cli/bin/tessera.mjs', 'dev', '--port', String(port), ...args], {
    cwd: ROOT, env: { ...process.env, TESSERA_DEV_CA_DIR: caDir }, stdio: 'ignore', detached: true,
  });
  const exited = new Promise((r) => child.once('exit', r));
  let done = false;
  void exited.then(() => { done = true; });
  const https = !args.includes('--http');
  let dispatcher;
  for (;;) {
    if (done) throw new Error(`tessera dev exited with ${child.exitCode} before answering`);
    try {
      if (https) dispatcher ??= new Agent({ connect: { ca: readFileSync(join(caDir, 'ca.pem')) } });
      const res = await fetch(`${https ? 'https' : 'http'}://localhost:${port}/.well-known/openid-configuration`, { dispatcher });
      if (res.status === 200) break;
    } catch { /* not listening yet (or the CA not written yet) */ }
    if (performance.now() - t0 > 60_000) throw new Error('no answer within 60 s');
    await sleep(5);
  }
  const ms = performance.now() - t0;
  await sleep(HOLD_MS);
  try { process.kill(-child.pid, 'SIGTERM'); } catch { /* gone */ }
  await exited;
  await dispatcher?.close();
  return ms;
}

export async function devStartScenario({ rounds, log, rows }) {
  const caDir = join(mkdtempSync(join(tmpdir(), 'tessera-bench-ca-')), 'dev-ca');
  try {
    await startTimed([], caDir); // makes the CA (once per user in real use) and the first signing keys made ahead
    const variants = [
      { label: 'HTTPS', args: [] }, { label: '--http', args: ['--http'] }, { label: 'HTTPS, --signing-seed', args: ['--signing-seed', 'bench phrase for tessera dev'] },
      { label: 'HTTPS, no keys made ahead', args: [], emptyKeys: true },
    ];
    for (const v of variants) {
      const times = [];
      for (let i = 0; i < rounds; i++) times.push(Math.round(await startTimed(v.args, caDir, v)));
      times.sort((a, b) => a - b);
      const row = { kind: 'dev-start', variant: v.label, median: times[Math.floor(times.length / 2)], min: times[0], max: times.at(-1), rounds };
      rows.push(row);
      log(`  tessera dev (${v.label}): first answer after ${row.median} ms median (${row.min}–${row.max}, ${rounds} runs)`);
    }
  } finally {
    rmSync(join(caDir, '..'), { recursive: true, force: true });
  }
}

export function devStartLines(rows) {
  const s = rows.filter((r) => r.kind === 'dev-start');
  if (!s.length) return [];
  return ['', '### `tessera dev` cold start (compiled build, fresh temporary tenant each run)', '',
    'From spawning the process to the first 200 of `/.well-known/openid-configuration`; the local CA already exists, and so do the',
    'signing keys a previous run made ahead (each run stays up 1.5 s), except in the last variant. Goal: ≤ 1 s.', '',
    '| variant | median ms | min ms | max ms | runs | goal |', '|---|---:|---:|---:|---:|---|',
    ...s.map((r) => `| ${r.variant} | ${r.median} | ${r.min} | ${r.max} | ${r.rounds} | ${r.median <= 1000 ? 'met' : 'miss'} |`)];
}
