// Password hashing isolation: RS256 client_credentials measured quiet, then while a login flood runs (16
// connections sending password grants with wrong passwords for a real user), on the same server in the same run.
// Goal: token p95 ≤ 2× quiet and throughput ≥ 0.8× quiet.
import { background, measure, warmUp } from './load.mjs';
import { adminToken, apiIdentifier } from './seed.mjs';

async function call(base, token, method, path, body) {
  const res = await fetch(`${base}${path}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

/** A user and a client allowed the password grant; returns the flood's request (a wrong password each time). */
async function floodRequest(base, admin) {
  const token = await adminToken(base, admin);
  const email = `flood-${Date.now()}@bench.tessera`;
  await call(base, token, 'POST', '/api/v2/users', { connection: 'Username-Password-Authentication', email, password: 'Bench-Passw0rd-1' });
  const web = await call(base, token, 'POST', '/api/v2/clients', { name: 'Bench login', app_type: 'regular_web', grant_types: ['password'], callbacks: ['https://bench.example/cb'] });
  return {
    url: `${base}/oauth/token`, method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'password', username: email, password: 'wrong-password', client_id: web.client_id, client_secret: web.client_secret, audience: apiIdentifier('RS256') }).toString(),
  };
}

export async function floodScenario({ dialect, tessera, tokenRequest, admin, cfg, log, rows, printRow }) {
  const flood = await floodRequest(tessera.baseUrl, admin);
  const probe = await fetch(flood.url, { method: 'POST', headers: flood.headers, body: flood.body });
  if (probe.status !== 403) throw new Error(`flood request: expected 403, got ${probe.status} ${await probe.text()}`);
  await warmUp(tokenRequest, cfg.warmup);
  log(`# ${dialect}: RS256 client_credentials, quiet vs during a 16-connection login flood`);
  for (let round = 0; round < cfg.rounds; round++) {
    const quiet = { dialect, kind: 'flood', server: 'quiet', round, ...(await measure(tessera, tokenRequest, { connections: 10, duration: cfg.duration })) };
    rows.push(quiet);
    printRow(quiet);
    const running = background(flood, { connections: 16, duration: cfg.duration + 2 });
    await new Promise((r) => setTimeout(r, 1000)); // the flood is on before the window opens
    const during = { dialect, kind: 'flood', server: 'flood', round, ...(await measure(tessera, tokenRequest, { connections: 10, duration: cfg.duration })) };
    const f = await running;
    during.flood = { logins: f.result.requests.total, answered403: f.result.statusCodeStats?.['403']?.count ?? 0, shed503: f.result.statusCodeStats?.['503']?.count ?? 0 };
    rows.push(during);
    printRow(during);
    log(`    flood: ${during.flood.logins} logins (${during.flood.answered403} checked, ${during.flood.shed503} shed); token p95 quiet ${quiet.p95} ms, during ${during.p95} ms`);
  }
}

/** Report lines: means over the rounds, ratios within the run. */
export function floodLines(rows) {
  const out = [];
  for (const dialect of [...new Set(rows.filter((r) => r.kind === 'flood').map((r) => r.dialect))]) {
    const q = rows.filter((r) => r.kind === 'flood' && r.dialect === dialect && r.server === 'quiet');
    const f = rows.filter((r) => r.kind === 'flood' && r.dialect === dialect && r.server === 'flood');
    const mean = (xs, k) => xs.reduce((s, x) => s + (x[k] ?? 0), 0) / Math.max(1, xs.length);
    const tput = mean(f, 'reqPerSec') / mean(q, 'reqPerSec');
    const p95 = mean(f, 'p95') / mean(q, 'p95');
    const logins = f.reduce((s, x) => s + (x.flood?.answered403 ?? 0), 0);
    const shed = f.reduce((s, x) => s + (x.flood?.shed503 ?? 0), 0);
    out.push(`| ${dialect} | ${Math.round(mean(q, 'reqPerSec'))} / ${Math.round(mean(f, 'reqPerSec'))} | **${tput.toFixed(2)}** | ${mean(q, 'p95').toFixed(1)} / ${mean(f, 'p95').toFixed(1)} | **${p95.toFixed(2)}** | ${logins} / ${shed} | ${Math.max(...[...q, ...f].map((x) => x.foreignCores)).toFixed(2)} | ${tput >= 0.8 && p95 <= 2 ? 'met' : 'miss'} |`);
  }
  if (!out.length) return [];
  return ['', '### Token issuance during a login flood (RS256 client_credentials at 10 connections; 16 connections of wrong passwords)', '',
    '| dialect | tokens/s quiet / flood | throughput ratio | p95 ms quiet / flood | p95 ratio | logins checked / shed | foreign cores | target (≥ 0.8, ≤ 2) |',
    '|---|---:|---:|---:|---:|---:|---:|---|', ...out];
}
