// Turns measured rows into the Markdown report: one line per scenario with Tessera's figures, the
// ceiling's from the same interleaved runs, the ratio, and whether the issue's target was met.
import os from 'node:os';
import { CORES } from './proc.mjs';
import { startupLines } from './startup.mjs';

const mean = (xs) => xs.reduce((s, x) => s + x, 0) / Math.max(1, xs.length);
const max = (xs) => Math.max(...xs);
const fmt = (n, d = 0) => (n === undefined || Number.isNaN(n) ? '–' : Number(n).toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d }));

/** Groups Tessera/peer runs with the ceiling runs they were interleaved with (one pair per subject server). */
export function pairs(rows) {
  const ps = subjectPairs(rows);
  for (const d of dpopPairs(ps)) ps.find((p) => p.server === d.server && p.pairId === d.pairId && p.connections === d.connections).dpop = d;
  return ps;
}

function subjectPairs(rows) {
  const groups = new Map();
  for (const r of rows.filter((x) => x.kind === 'token')) {
    const key = [r.pairId, r.connections].join('|');
    const g = groups.get(key) ?? { ceiling: [], subjects: new Map() };
    if (r.server === 'ceiling') g.ceiling.push(r); else g.subjects.set(r.server, [...(g.subjects.get(r.server) ?? []), r]);
    groups.set(key, g);
  }
  return [...groups.values()].filter((g) => g.ceiling.length).flatMap((g) => [...g.subjects.values()].map((s) => {
    const rps = mean(s.map((x) => x.reqPerSec));
    const ceil = mean(g.ceiling.map((x) => x.reqPerSec));
    return {
      ...s[s.length - 1], reqPerSec: rps, p50: mean(s.map((x) => x.p50)), p99: max(s.map((x) => x.p99)),
      cpuSecPer1k: mean(s.map((x) => x.cpuSecPer1k)), serverCores: mean(s.map((x) => x.serverCores)),
      foreignCores: max([...s, ...g.ceiling].map((x) => x.foreignCores)), rssMaxMb: max(s.map((x) => x.rssMaxMb)),
      non2xx: s.reduce((a, x) => a + x.non2xx + x.errors, 0),
      rssPrimaryMb: s[0].rssPrimaryMb,
      ceiling: ceil, ceilingCpuSecPer1k: mean(g.ceiling.map((x) => x.cpuSecPer1k)), ratio: rps / ceil,
      cpuRatio: mean(g.ceiling.map((x) => x.cpuSecPer1k)) / mean(s.map((x) => x.cpuSecPer1k)),
    };
  }));
}

/**
 * DPoP next to plain RS256 from the same interleaved rounds: req/s and CPU per token of client_credentials with
 * an ES256 proof on the DPoP-requiring RS256 API, divided by the plain RS256 figures. Target ≥ 0.85.
 */
export function dpopPairs(ps) {
  return ps.filter((p) => p.server === 'tessera-dpop').flatMap((d) => {
    const plain = ps.find((p) => p.server === 'tessera' && p.pairId === d.pairId && p.connections === d.connections);
    return plain ? [{ ...d, dpop: undefined, plain, dpopRatio: d.reqPerSec / plain.reqPerSec, dpopCpuRatio: plain.cpuSecPer1k / d.cpuSecPer1k }] : [];
  });
}

export const dpopTarget = (d) => (d.dpopRatio >= 0.85 && d.non2xx === 0 ? 'met' : `miss: ${d.non2xx ? `${d.non2xx} errors` : 'ratio < 0.85'}`);

export function target(p) {
  if (p.server === 'tessera-dpop') return dpopTarget(p.dpop ?? { dpopRatio: 1, non2xx: p.non2xx });
  if (p.server !== 'tessera') return '';
  const floor = p.alg === 'HS256' ? 0.6 : 0.9;
  const misses = [];
  if (p.ratio < floor) misses.push(`ratio < ${floor}`);
  if (p.alg !== 'HS256' && p.connections === 10 && p.p99 > 20) misses.push('p99 > 20 ms');
  if (p.rssMaxMb > 150) misses.push('RSS > 150 MB');
  if (p.non2xx > 0) misses.push(`${p.non2xx} errors`);
  return misses.length ? `miss: ${misses.join(', ')}` : 'met';
}

function tokenTable(ps) {
  const lines = [
    '| server | alg | store | workers | conns | req/s | p50 ms | p99 ms | ceiling req/s | ratio | CPU-s / 1k tokens (ceiling) | CPU ratio | RSS MB / process | foreign cores | target |',
    '|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|',
  ];
  for (const p of ps) {
    const name = p.server === 'tessera' ? `Tessera ${p.dialect}` : p.server === 'tessera-dpop' ? `Tessera ${p.dialect} + DPoP` : p.server;
    lines.push(`| ${name} | ${p.alg} | ${p.store ?? '–'} | ${p.workers} | ${p.connections} | ${fmt(p.reqPerSec)} | ${fmt(p.p50, 1)} | ${fmt(p.p99)} | ${fmt(p.ceiling)} | **${fmt(p.ratio, 2)}** | ${fmt(p.cpuSecPer1k, 2)} (${fmt(p.ceilingCpuSecPer1k, 2)}) | ${fmt(p.cpuRatio, 2)} | ${p.rssMaxMb}${p.rssPrimaryMb ? ` (+${p.rssPrimaryMb} primary)` : ''} | ${fmt(p.foreignCores, 2)} | ${target(p)} |`);
  }
  return lines;
}

/** Large store vs empty store, same dialect/alg/workers/connections, compared through the ratios. */
function growthLines(ps) {
  const out = [];
  for (const big of ps.filter((p) => p.server === 'tessera' && p.store !== 'empty')) {
    const small = ps.find((p) => p.server === 'tessera' && p.store === 'empty' && p.dialect === big.dialect && p.alg === big.alg && p.workers === big.workers && p.connections === big.connections);
    if (!small) continue;
    const change = big.ratio / small.ratio - 1;
    out.push(`| ${big.dialect} | ${big.alg} | ${big.workers} | ${big.connections} | ${fmt(small.ratio, 2)} | ${fmt(big.ratio, 2)} | ${change >= 0 ? '+' : ''}${fmt(change * 100, 1)} % | ${change >= -0.05 ? 'met' : 'miss: > 5 % loss'} |`);
  }
  if (!out.length) return [];
  return ['', `### Issuance with an empty store vs ${ps.find((p) => p.store !== 'empty')?.store} (ratio to the ceiling)`, '',
    '| dialect | alg | workers | conns | empty | large | change | target (≤ 5 % loss) |', '|---|---|---:|---:|---:|---:|---:|---|', ...out];
}

function dpopLines(ps) {
  const ds = dpopPairs(ps);
  if (!ds.length) return [];
  return ['', '### DPoP: client_credentials with an ES256 proof on an RS256 API that requires DPoP, vs plain RS256 (same rounds)', '',
    'Each request carries its own proof (fresh `jti`, `iat` when the run started), made by the load generator before the measured window; ' +
      'the figures hold Tessera\'s proof checks, replay cache and `cnf` binding, not the client\'s signing.', '',
    '| dialect | workers | conns | plain req/s | DPoP req/s | ratio | plain CPU-s / 1k | DPoP CPU-s / 1k | CPU ratio | p99 ms plain / DPoP | foreign cores | target (≥ 0.85) |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|',
    ...ds.map((d) => `| ${d.dialect} | ${d.workers} | ${d.connections} | ${fmt(d.plain.reqPerSec)} | ${fmt(d.reqPerSec)} | **${fmt(d.dpopRatio, 2)}** | ${fmt(d.plain.cpuSecPer1k, 2)} | ${fmt(d.cpuSecPer1k, 2)} | ${fmt(d.dpopCpuRatio, 2)} | ${fmt(d.plain.p99)} / ${fmt(d.p99)} | ${fmt(Math.max(d.foreignCores, d.plain.foreignCores), 2)} | ${dpopTarget(d)} |`)];
}

function mgmtLines(rows) {
  const m = rows.filter((r) => r.kind === 'mgmt-list');
  if (!m.length) return [];
  return ['', '### Management API: `GET /api/v2/resource-servers?page=…&per_page=100`', '',
    '| dialect | store | conns | pages/s | p50 ms | p99 ms | CPU-ms / page | pages | RSS MB / process | foreign cores | target (p99 ≤ 10 ms) |', '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|',
    ...m.map((r) => `| ${r.dialect} | ${r.store} | ${r.connections} | ${fmt(r.reqPerSec)} | ${fmt(r.p50, 1)} | ${fmt(r.p99)} | ${fmt(r.cpuSecPer1k, 2)} | ${r.pages} | ${r.rssMaxMb} | ${fmt(r.foreignCores, 2)} | ${r.p99 <= 10 && r.non2xx === 0 ? 'met' : 'miss'} |`)];
}

/** RS256 + JWE against plain RS256 on the same server, from interleaved runs. */
function jweLines(rows) {
  const j = rows.filter((r) => r.kind === 'jwe');
  if (!j.length) return [];
  const out = [];
  for (const key of [...new Set(j.map((r) => `${r.dialect}|${r.connections}`))]) {
    const [dialect, conns] = key.split('|');
    const of = (label) => j.filter((r) => r.dialect === dialect && String(r.connections) === conns && r.server === label);
    const plain = of('RS256');
    const jwe = of('RS256+JWE');
    const rps = (xs) => mean(xs.map((x) => x.reqPerSec));
    const cpu = (xs) => mean(xs.map((x) => x.cpuSecPer1k));
    out.push(`| ${dialect} | ${conns} | ${fmt(rps(plain))} | ${fmt(rps(jwe))} | **${fmt(rps(jwe) / rps(plain), 2)}** | ${fmt(cpu(plain), 2)} | ${fmt(cpu(jwe), 2)} | ${fmt(cpu(jwe) / cpu(plain), 2)} | ${fmt(max(plain.map((x) => x.p99)))} / ${fmt(max(jwe.map((x) => x.p99)))} | ${fmt(max([...plain, ...jwe].map((x) => x.foreignCores)), 2)} | ${[...plain, ...jwe].reduce((a, x) => a + x.non2xx + x.errors, 0)} |`);
  }
  return ['', '### Encrypted access tokens: RS256 + JWE (RSA-OAEP-256, A256GCM) vs plain RS256, same server, interleaved', '',
    '| dialect | conns | RS256 req/s | RS256+JWE req/s | JWE ÷ plain | CPU-s / 1k plain | CPU-s / 1k JWE | CPU cost × | p99 ms plain / JWE | foreign cores | errors |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|', ...out];
}

/** Rate-limit cost: each store's req/s and p99 against limits off, from the same interleaved runs. */
export function rateLimitLines(rows, { kind = 'rate-limit', baseline = 'limits off', column = 'counters' } = {}) {
  const r = rows.filter((x) => x.kind === kind);
  const groups = new Map();
  for (const x of r) {
    const key = `${x.dialect}|${x.alg}|${x.connections}`;
    const g = groups.get(key) ?? new Map();
    g.set(x.server, [...(g.get(x.server) ?? []), x]);
    groups.set(key, g);
  }
  const lines = [`| dialect | alg | conns | ${column} | req/s | p99 ms | CPU-s / 1k | ratio to ${baseline} (req/s) | CPU ratio | foreign cores | target (≥ 0.90) |`, '|---|---|---:|---|---:|---:|---:|---:|---:|---:|---|'];
  for (const [key, g] of groups) {
    const [dialect, alg, conns] = key.split('|');
    const off = g.get(baseline) ?? [];
    const offRps = mean(off.map((x) => x.reqPerSec));
    const offCpu = mean(off.map((x) => x.cpuSecPer1k));
    for (const [label, xs] of g) {
      const rps = mean(xs.map((x) => x.reqPerSec));
      const cpu = mean(xs.map((x) => x.cpuSecPer1k));
      const ratio = rps / offRps;
      const foreign = max(xs.map((x) => x.foreignCores));
      lines.push(`| ${dialect} | ${alg} | ${conns} | ${label} | ${fmt(rps)} | ${fmt(max(xs.map((x) => x.p99)))} | ${fmt(cpu, 3)} | **${fmt(ratio, 2)}** | ${fmt(offCpu / cpu, 2)} | ${fmt(foreign, 2)} | ${label === baseline ? '' : ratio >= 0.9 ? 'met' : 'miss'} |`);
    }
  }
  return lines;
}

export function markdown(rows, meta) {
  const ps = pairs(rows);
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  return [
    `## Tessera benchmark — ${meta.date}`, '',
    `Machine: ${CORES} cores (${cpu}), Node ${process.version}, ${Math.round(os.totalmem() / 2 ** 30)} GiB. ` +
      `Load generator (autocannon) on the same machine over loopback; ${meta.duration} s per run after warm-up, ` +
      `${meta.rounds} interleaved round(s) ceiling/Tessera per line. ${meta.notes ?? ''}`.trim(), '',
    'Ratio = Tessera req/s ÷ ceiling req/s from the same interleaved runs (the ceiling is `bench/ceiling-server.mjs`: bare node:http, ' +
      'in-memory lookups, jose RS256/PS256, node:crypto HMAC for HS256). Targets: RS256/PS256 ≥ 0.90 and p99 ≤ 20 ms at 10 connections, ' +
      'HS256 ≥ 0.60, RSS ≤ 150 MB per process. "CPU ratio" = ceiling CPU-seconds per token ÷ Tessera CPU-seconds per token: the same ' +
      'comparison measured in CPU time, which holds up when other processes compete for the cores. "foreign cores" is CPU used by ' +
      'unrelated processes during the run (max over the paired runs); above ~0.3 the req/s ratios are unreliable.', '',
    ...(ps.length ? ['### Token endpoint: `POST /oauth/token` client_credentials', '', ...tokenTable(ps)] : []), ...dpopLines(ps), ...growthLines(ps), ...jweLines(rows), ...mgmtLines(rows), ...startupLines(rows), '',
  ].join('\n');
}

/** Token reuse: req/s and p99 of Tessera with reuse on and off against the RS256 signing ceiling of the same run. */
export function reuseLines(rows) {
  const r = rows.filter((x) => x.kind === 'reuse');
  const groups = new Map();
  for (const x of r) {
    const key = `${x.dialect}|${x.connections}`;
    const g = groups.get(key) ?? new Map();
    g.set(x.server, [...(g.get(x.server) ?? []), x]);
    groups.set(key, g);
  }
  const lines = ['| dialect | conns | server | req/s | p50 ms | p99 ms | CPU-s / 1k | × ceiling (req/s) | foreign cores | target |', '|---|---:|---|---:|---:|---:|---:|---:|---:|---|'];
  for (const [key, g] of groups) {
    const [dialect, conns] = key.split('|');
    const ceilingRps = mean((g.get('ceiling') ?? []).map((x) => x.reqPerSec));
    for (const [label, xs] of g) {
      const rps = mean(xs.map((x) => x.reqPerSec));
      const p99 = max(xs.map((x) => x.p99));
      const ratio = rps / ceilingRps;
      const target = label !== 'reuse on' ? '' : Number(conns) === 50 ? (ratio >= 5 && p99 <= 5 ? 'met (≥ 5×, p99 ≤ 5 ms)' : 'miss (≥ 5×, p99 ≤ 5 ms)') : '';
      lines.push(`| ${dialect} | ${conns} | ${label} | ${fmt(rps)} | ${fmt(mean(xs.map((x) => x.p50)))} | ${fmt(p99)} | ${fmt(mean(xs.map((x) => x.cpuSecPer1k)), 3)} | **${fmt(ratio, 2)}** | ${fmt(max(xs.map((x) => x.foreignCores)), 2)} | ${target} |`);
    }
  }
  return lines;
}
