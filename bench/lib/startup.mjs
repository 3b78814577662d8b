// Start-up and memory of `tessera serve` started as `npm start` starts it (its node flags, the compiled build, one process): how long
// it takes to its first answer and how much CPU it used until then (on an empty database: migrations, key generation,
// bootstrap; then again on the same database, the warm start), its resident memory once idle, and its resident memory
// under a c=50 client_credentials load (RS256) on the warm start. Runs on a database of its own.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, readlinkSync } from 'node:fs';
import os from 'node:os';
import { createDatabase } from './databases.mjs';
import { measure, warmUp } from './load.mjs';
import { ROOT, SERVE_NODE_FLAGS } from './servers.mjs';
import { rssMb, processTree } from './proc.mjs';

const isNode = (pid) => { try { return readlinkSync(`/proc/${pid}/exe`) === process.execPath; } catch { return false; } };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const HZ = 100; // USER_HZ
const IDLE_MS = 3000;
const STARTUP_API = 'https://api.bench.tessera/startup';

/** CPU seconds (user + system) the process has used so far, all its threads. */
function cpuSecondsOf(pid) {
  const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / HZ;
}

/** Spawns `tessera serve`, polls /health/live until the first 200; returns { ms, cpuSec, pid, stop }. */
async function startTimed(env, port) {
  const t0 = performance.now();
  const child = spawn(process.execPath, [...SERVE_NODE_FLAGS, 'packages/cli/bin/tessera.mjs', 'serve'], {
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
  const cpuSec = cpuSecondsOf(child.pid);
  return {
    ms, cpuSec, pid: child.pid,
    workerPids: () => processTree([child.pid]).filter(isNode),
    async stop() { try { process.kill(-child.pid, 'SIGTERM'); } catch { return; } await exited; },
  };
}

const rssOf = (s) => Math.max(0, ...rssMb(s.workerPids()).map((x) => x.mb));

async function call(base, token, method, path, body) {
  const res = await fetch(`${base}${path}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

/** One RS256 API, one M2M client and its grant, through the Management API; the token request of the load. */
async function seedForLoad(base, admin) {
  const form = (params) => ({ method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: 'client_credentials', ...params }).toString() });
  const t = await fetch(`${base}/oauth/token`, form({ client_id: admin.id, client_secret: admin.secret, audience: `${base}/api/v2/` }));
  if (t.status !== 200) throw new Error(`admin token: ${t.status} ${await t.text()}`);
  const token = (await t.json()).access_token;
  await call(base, token, 'POST', '/api/v2/resource-servers', { name: 'Bench start-up', identifier: STARTUP_API, signing_alg: 'RS256', scopes: [{ value: 'read:orders', description: 'read' }] });
  const client = await call(base, token, 'POST', '/api/v2/clients', { name: 'Bench start-up M2M', app_type: 'non_interactive', grant_types: ['client_credentials'], token_endpoint_auth_method: 'client_secret_post' });
  await call(base, token, 'POST', '/api/v2/client-grants', { client_id: client.client_id, audience: STARTUP_API, scope: ['read:orders'] });
  const request = { url: `${base}/oauth/token`, ...form({ client_id: client.client_id, client_secret: client.client_secret, audience: STARTUP_API }) };
  const check = await fetch(request.url, request);
  if (check.status !== 200) throw new Error(`start-up load token: ${check.status} ${await check.text()}`);
  return request;
}

/** Runs `fn` while sampling the RSS of `s` every 250 ms; returns [fn's result, the largest sample]. */
async function sampled(s, fn) {
  let peak = rssOf(s);
  const timer = setInterval(() => { peak = Math.max(peak, rssOf(s)); }, 250);
  try {
    const result = await fn();
    return [result, Math.max(peak, rssOf(s))];
  } finally {
    clearInterval(timer);
  }
}

export async function startupScenario({ dialect, common, port, log, rows, duration = 8 }) {
  const db = await createDatabase(dialect);
  const env = {
    TESSERA_HOST: '127.0.0.1', TESSERA_PUBLIC_URL: `http://127.0.0.1:${port}`, TESSERA_DATABASE_URL: db.url,
    TESSERA_MASTER_KEY: randomBytes(32).toString('base64'), TESSERA_ADMIN_CLIENT_ID: common.admin.id, TESSERA_ADMIN_CLIENT_SECRET: common.admin.secret,
    // the load comes from one client: no limit here
    TESSERA_RATE_LIMIT_AUTH: 'off', TESSERA_RATE_LIMIT_MANAGEMENT: 'off',
  };
  try {
    for (const phase of ['empty database', 'warm']) {
      const s = await startTimed(env, port);
      try {
        await sleep(IDLE_MS); // idle: nothing but the change feed's polling
        const row = {
          kind: 'startup', dialect, phase, firstAnswerMs: Math.round(s.ms), cpuSec: +s.cpuSec.toFixed(2), rssIdleMb: rssOf(s),
          loadAvg: +os.loadavg()[0].toFixed(1),
        };
        if (phase === 'warm') {
          // the Management calls of the seeding, then a c=50 token load: what a serving process holds
          const request = await seedForLoad(`http://127.0.0.1:${port}`, common.admin);
          await warmUp(request, 2);
          const [m, peak] = await sampled(s, () => measure(s, request, { connections: 50, duration }));
          Object.assign(row, { rssLoadMb: peak, loadReqPerSec: m.reqPerSec, loadCpuSecPer1k: m.cpuSecPer1k, loadForeignCores: m.foreignCores, loadAvgUnderLoad: +os.loadavg()[0].toFixed(1) });
        }
        rows.push(row);
        log(`  start-up (${dialect}, ${phase}): first answer after ${row.firstAnswerMs} ms (${row.cpuSec} CPU-s), RSS idle ${row.rssIdleMb} MB` +
          (row.rssLoadMb ? `, RSS under c=50 token load ${row.rssLoadMb} MB (${row.loadReqPerSec} req/s)` : '') + `, load average ${row.loadAvg}`);
      } finally {
        await s.stop();
      }
    }
  } finally {
    await db.drop();
  }
}

const GOALS = { idleMb: 100, loadMb: 130, warmMs: 1500 };

/** The report's table. */
export function startupLines(rows) {
  const s = rows.filter((r) => r.kind === 'startup');
  if (!s.length) return [];
  const verdict = (ok) => (ok ? 'met' : 'miss');
  return ['', '### Start-up and memory (`tessera serve`, one process, compiled build)', '',
    'First answer: from spawning the process to the first 200 from `/health/live`; CPU-s: the CPU time the process used until then ' +
      '(all its threads; it holds up better than the wall time when other work competes for the cores). RSS idle: 3 s after that answer. ' +
      'RSS under load (warm start only): the largest RSS sampled every 250 ms while seeding one API and client through the Management API, ' +
      'warming up and then a c=50 RS256 client_credentials load (limits off). Goals: first answer ≤ 1.5 s warm, ≤ 100 MB idle, ≤ 130 MB under load. ' +
      'Load average: the machine\'s 1-minute load average when the row was taken; a time taken at a load average above 2 (on this many cores) ' +
      'is not evidence for or against the time goal (the memory figures are much less sensitive).', '',
    '| dialect | start | first answer ms | CPU-s to first answer | RSS idle MB | RSS under c=50 load MB | req/s under load | load average | goals |',
    '|---|---|---:|---:|---:|---:|---:|---:|---|',
    ...s.map((r) => {
      const parts = [`idle ${verdict(r.rssIdleMb <= GOALS.idleMb)}`];
      if (r.rssLoadMb !== undefined) parts.push(`load ${verdict(r.rssLoadMb <= GOALS.loadMb)}`);
      if (r.phase === 'warm') parts.push(r.loadAvg > 2 ? 'time: load too high to judge' : `time ${verdict(r.firstAnswerMs <= GOALS.warmMs)}`);
      return `| ${r.dialect} | ${r.phase} | ${r.firstAnswerMs} | ${r.cpuSec ?? '–'} | ${r.rssIdleMb} | ${r.rssLoadMb ?? '–'} | ${r.loadReqPerSec ?? '–'} | ${r.loadAvg ?? '–'} | ${parts.join(', ')} |`;
    })];
}
