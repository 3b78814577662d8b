// Start-up and memory: how long `tessera serve` takes to its first answer (on an empty database: migrations, key
// generation, bootstrap; then again on the same database, the warm start), and its resident memory once idle.
// The memory under load is the RSS column of the token tables (the c=50 rows).
import { spawn } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { ROOT } from './servers.mjs';
import { rssMb, processTree } from './proc.mjs';

const isNode = (pid) => { try { return readlinkSync(`/proc/${pid}/exe`) === process.execPath; } catch { return false; } };

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Spawns `tessera serve`, polls /health/live until the first 200; returns { ms, pid, stop }. */
async function startTimed(env, port) {
  const t0 = performance.now();
  const child = spawn(process.execPath, ['packages/cli/bin/tessera.mjs', 'serve'], {
    cwd: ROOT, env: { ...process.env, ...env, TESSERA_PORT: String(port), TESSERA_LOG_LEVEL: 'warn' }, stdio: 'ignore', detached: true,
  });
  const exited = new Promise((r) => child.once('exit', r));
  let done = false;
  void exited.then(() => { done = true; });
  for (;;) {
    if (done) throw new Error(`tessera exited with ${child.exitCode} before answering`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/health/live`);
      if (res.status === 200) break;
    } catch { /* not listening yet */ }
    if (performance.now() - t0 > 120_000) throw new Error('no answer within 120 s');
    await sleep(10);
  }
  const ms = performance.now() - t0;
  return {
    ms, pid: child.pid,
    async stop() { try { process.kill(-child.pid, 'SIGTERM'); } catch { return; } await exited; },
  };
}

export async function startupScenario({ dialect, common, port, log, rows }) {
  const env = {
    TESSERA_HOST: '127.0.0.1', TESSERA_PUBLIC_URL: `http://127.0.0.1:${port}`, TESSERA_DATABASE_URL: common.databaseUrl,
    TESSERA_MASTER_KEY: common.masterKey, TESSERA_ADMIN_CLIENT_ID: common.admin.id, TESSERA_ADMIN_CLIENT_SECRET: common.admin.secret,
  };
  for (const phase of ['empty database', 'warm']) {
    const s = await startTimed(env, port);
    await sleep(3000); // idle: nothing but the change feed's polling
    const pids = processTree([s.pid]).filter(isNode);
    const rss = Math.max(0, ...rssMb(pids).map((x) => x.mb));
    await s.stop();
    const row = { kind: 'startup', dialect, phase, firstAnswerMs: Math.round(s.ms), rssIdleMb: rss };
    rows.push(row);
    log(`  start-up (${dialect}, ${phase}): first answer after ${row.firstAnswerMs} ms, RSS idle ${rss} MB`);
  }
}

/** The report's table. */
export function startupLines(rows) {
  const s = rows.filter((r) => r.kind === 'startup');
  if (!s.length) return [];
  const tokens = rows.filter((r) => r.kind === 'token' && r.server === 'tessera' && r.connections === 50 && r.workers === 1);
  const loaded = (d) => Math.max(0, ...tokens.filter((r) => r.dialect === d).map((r) => r.rssMaxMb));
  return ['', '### Start-up and memory (`tessera serve`, one process, compiled build)', '',
    'First answer: from spawning the process to the first 200 from `/health/live`. RSS idle: 3 s after that answer. ' +
      'RSS under load: the largest of the one-worker c=50 token runs above. Targets: first answer ≤ 1.5 s warm, ≤ 100 MB idle, ≤ 130 MB under load.', '',
    '| dialect | start | first answer ms | RSS idle MB | RSS under c=50 load MB | target |', '|---|---|---:|---:|---:|---|',
    ...s.map((r) => {
      const load = loaded(r.dialect);
      const met = r.rssIdleMb <= 100 && (r.phase !== 'warm' || r.firstAnswerMs <= 1500) && (!load || load <= 130);
      return `| ${r.dialect} | ${r.phase} | ${r.firstAnswerMs} | ${r.rssIdleMb} | ${load || '–'} | ${met ? 'met' : 'miss'} |`;
    })];
}
