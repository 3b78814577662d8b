// Two Tessera instances on one PostgreSQL database (each one process, as on two machines behind a load balancer)
// against one instance with TESSERA_WORKERS=2, in the same run: RS256 client_credentials, two load generators with
// half the connections each (one per instance, or both on the one port), summed.
import { background, warmUp } from './load.mjs';
import { cpuWindow } from './proc.mjs';
import { freePort, startTessera } from './servers.mjs';

const NO_LIMITS = { TESSERA_RATE_LIMIT_AUTH: 'off', TESSERA_RATE_LIMIT_MANAGEMENT: 'off' };

async function drive(label, handles, requests, { connections, duration }) {
  const w = cpuWindow(handles.map((h) => h.pid));
  const results = await Promise.all(requests.map((r) => background(r, { connections: Math.max(1, connections / requests.length), duration })));
  const win = w.stop();
  const total = results.reduce((s, x) => s + x.result.requests.total, 0);
  return {
    kind: 'instances', server: label, connections, duration,
    reqPerSec: Math.round(results.reduce((s, x) => s + x.result.requests.total / (x.result.duration || duration), 0)),
    p99: Math.max(...results.map((x) => x.result.latency.p99)), p95: Math.max(...results.map((x) => x.p95 ?? 0)),
    non2xx: results.reduce((s, x) => s + x.result.non2xx + x.result.errors + x.result.timeouts, 0),
    cpuSecPer1k: total ? +((win.ownCpu / total) * 1000).toFixed(3) : undefined,
    foreignCores: +Math.max(0, (win.busyCpu - win.ownCpu - results.reduce((s, x) => s + x.cpuSec, 0)) / win.secs).toFixed(2),
  };
}

export async function instancesScenario({ common, tokenRequest, client, cfg, log, rows }) {
  const connections = 10;
  log('# postgres: 2 instances on one database vs 1 instance with 2 workers (RS256 client_credentials, 10 connections)');
  for (let round = 0; round < cfg.rounds; round++) {
    const [pa, pb] = [await freePort(), await freePort()];
    const a = await startTessera({ ...common, port: pa, workers: 1, extraEnv: NO_LIMITS });
    const b = await startTessera({ ...common, port: pb, workers: 1, extraEnv: NO_LIMITS });
    try {
      const reqs = [tokenRequest(a.baseUrl, client, 'RS256'), tokenRequest(b.baseUrl, client, 'RS256')];
      for (const r of reqs) await warmUp(r, cfg.warmup);
      const row = { round, ...(await drive('2 instances', [a, b], reqs, { connections, duration: cfg.duration })) };
      rows.push(row);
      log(`  2 instances     ${row.reqPerSec} req/s  p95 ${row.p95} p99 ${row.p99} ms  ${row.cpuSecPer1k} CPU-s/1k  foreign ${row.foreignCores}  non2xx ${row.non2xx}`);
    } finally {
      await a.stop();
      await b.stop();
    }
    const w = await startTessera({ ...common, port: pa, workers: 2, extraEnv: NO_LIMITS });
    try {
      const r = tokenRequest(w.baseUrl, client, 'RS256');
      await warmUp(r, cfg.warmup);
      const row = { round, ...(await drive('1 instance, 2 workers', [w], [r, r], { connections, duration: cfg.duration })) };
      rows.push(row);
      log(`  2 workers       ${row.reqPerSec} req/s  p95 ${row.p95} p99 ${row.p99} ms  ${row.cpuSecPer1k} CPU-s/1k  foreign ${row.foreignCores}  non2xx ${row.non2xx}`);
    } finally {
      await w.stop();
    }
  }
}

export function instancesLines(rows) {
  const r = rows.filter((x) => x.kind === 'instances');
  if (!r.length) return [];
  const mean = (xs, k) => xs.reduce((s, x) => s + (x[k] ?? 0), 0) / Math.max(1, xs.length);
  const two = r.filter((x) => x.server === '2 instances');
  const one = r.filter((x) => x.server !== '2 instances');
  return ['', '### 2 instances on one PostgreSQL vs 1 instance with 2 workers (RS256 client_credentials, 10 connections)', '',
    '| setup | req/s | p95 ms | p99 ms | CPU-s / 1k tokens | foreign cores (max) |', '|---|---:|---:|---:|---:|---:|',
    `| 2 instances, 1 process each | ${Math.round(mean(two, 'reqPerSec'))} | ${mean(two, 'p95').toFixed(1)} | ${Math.max(...two.map((x) => x.p99))} | ${mean(two, 'cpuSecPer1k').toFixed(2)} | ${Math.max(...two.map((x) => x.foreignCores)).toFixed(2)} |`,
    `| 1 instance, TESSERA_WORKERS=2 | ${Math.round(mean(one, 'reqPerSec'))} | ${mean(one, 'p95').toFixed(1)} | ${Math.max(...one.map((x) => x.p99))} | ${mean(one, 'cpuSecPer1k').toFixed(2)} | ${Math.max(...one.map((x) => x.foreignCores)).toFixed(2)} |`,
    '', `Ratio (2 instances ÷ 2 workers): **${(mean(two, 'reqPerSec') / mean(one, 'reqPerSec')).toFixed(2)}** in throughput.`];
}
