#!/usr/bin/env node
// `npm run bench`: Tessera's token endpoint (and Management list) under load, always measured against
// the ceiling server in the same run, interleaved (ceiling, Tessera, ceiling, Tessera …), so every
// figure is a ratio that survives a busy or slower machine. Not a test: it prints and writes a report.
//
//   npm run bench                        # full matrix (≈ 30 min on 2 cores)
//   npm run bench -- --quick             # smoke run (≈ 2 min)
//   npm run bench -- --algs RS256 --dialects sqlite --workers 1 --connections 10 --duration 5
//   npm run bench -- --peers             # also node-oidc-provider and AuthHero (installs them once)
//   npm run bench -- --profile           # Tessera runs with --cpu-prof (profiles in bench/results/profiles)
//   npm run bench -- --instances-only    # only 2 instances on one PostgreSQL vs 1 instance with 2 workers (--no-instances skips it)
//   npm run bench -- --startup-only     # only start-up: time and CPU to the first answer, RSS idle and under a c=50
//                                        # token load (--no-startup skips it)
//   npm run bench -- --flood-only        # only token issuance quiet vs during a login flood (--no-flood skips it)
//   npm run bench -- --no-jwe            # skip the encrypted-token scenario (RS256 vs RS256 + JWE, 1 process)
//   npm run bench -- --no-dpop           # skip the DPoP scenario (next to RS256 with an empty store)
//   npm run bench -- --verifier-only     # only the API-side verifier: @tessera/verify vs express-oauth2-jwt-bearer vs
//                                        # bare jose, RS256 Bearer, DPoP and JWE (--no-verifier skips it)
//   npm run bench -- --reuse             # only client_credentials token reuse: repeated identical requests with
//                                        # TESSERA_TOKEN_REUSE=on vs off vs the RS256 signing ceiling, interleaved
//   npm run bench -- --rate-limits       # only the cost of rate limiting: limits off vs counters in memory,
//                                        # in the database and in Redis (127.0.0.1:6379), same run, interleaved
//   npm run bench -- --dev-start         # only `tessera dev`'s cold start to the first answer (HTTPS, --http,
//                                        # --signing-seed; --rounds runs each, 5 by default)
//   npm run bench -- --tenant-logs       # only the cost of tenant logs on the token endpoint: TESSERA_TENANT_LOGS
//                                        # off vs on (an event per token), same run, interleaved
//
// Flags: --dialects sqlite,postgres|none  --workers 1,2  --algs RS256,PS256,HS256  --connections 10,50
//        --duration <s>  --warmup <s>  --rounds <n>  --store-size <n APIs; 0 = skip the large store>
//        --out <file.md>
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { compactDecrypt } from 'jose';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createDatabase, postgresAnswers, redisAnswers } from './lib/databases.mjs';
import { floodLines, floodScenario } from './lib/flood.mjs';
import { instancesLines, instancesScenario } from './lib/instances.mjs';
import { measure, warmUp } from './lib/load.mjs';
import { runPeers } from './lib/peers.mjs';
import { CORES } from './lib/proc.mjs';
import { markdown, pairs, rateLimitLines, reuseLines, target } from './lib/report.mjs';
import { makeProofs } from './lib/dpop.mjs';
import { verifierLines, verifierScenario } from './lib/verifier.mjs';
import { ALGS, DPOP_API, JWE_API, SCOPES, apiIdentifier, adminToken, clientCredentials, seedLargeStore, seedThroughApi } from './lib/seed.mjs';
import { ROOT, freePort, startCeiling, startTessera } from './lib/servers.mjs';
import { startupScenario } from './lib/startup.mjs';
import { devStartLines, devStartScenario } from './lib/dev-start.mjs';

const argv = process.argv.slice(2);
const flag = (name) => argv.includes(`--${name}`);
const opt = (name, fallback) => { const i = argv.indexOf(`--${name}`); return i >= 0 && argv[i + 1] && !argv[i + 1].startsWith('--') ? argv[i + 1] : fallback; };
const list = (name, fallback) => String(opt(name, fallback)).split(',').filter(Boolean);

const quick = flag('quick');
const cfg = {
  dialects: list('dialects', 'sqlite,postgres'),
  workers: list('workers', quick ? '1' : `1,${CORES}`).map(Number),
  algs: list('algs', quick ? 'RS256,HS256' : ALGS.join(',')),
  connections: list('connections', '10,50').map(Number),
  duration: Number(opt('duration', quick ? 2 : 8)),
  warmup: Number(opt('warmup', quick ? 1 : 2)),
  rounds: Number(opt('rounds', quick ? 1 : 2)),
  storeSize: Number(opt('store-size', quick ? 2000 : 10000)),
  out: resolve(ROOT, opt('out', 'bench/results/latest.md')),
  profileDir: flag('profile') ? resolve(ROOT, 'bench/results/profiles', new Date().toISOString().replace(/[:.]/g, '-')) : undefined,
};
const ADMIN = { id: 'bench-admin', secret: randomBytes(24).toString('base64url') };
const JWE_KEYS = generateKeyPairSync('rsa', { modulusLength: 2048 });
const JWE_PEM = JWE_KEYS.publicKey.export({ type: 'spki', format: 'pem' }).toString();
const rows = [];
const log = (s) => process.stdout.write(`${s}\n`);

function tokenRequest(baseUrl, client, alg, audience = apiIdentifier(alg)) {
  return {
    url: `${baseUrl}/oauth/token`, method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: client.id, client_secret: client.secret, audience }).toString(),
  };
}

/** client_credentials for the RS256 API that requires DPoP, each request with its own pre-made ES256 proof. */
const dpopRequest = (tessera, client) => ({ ...tokenRequest(tessera.baseUrl, client, 'RS256', DPOP_API), dpop: { htu: `${tessera.baseUrl}/oauth/token` } });

/** The DPoP request must give a DPoP-bound RS256 token before anything is timed. */
async function checkDpopToken(tessera, client) {
  const { proofs } = makeProofs({ htu: `${tessera.baseUrl}/oauth/token`, count: 1 });
  const res = await fetch(`${tessera.baseUrl}/oauth/token`, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', dpop: proofs[0] },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: client.id, client_secret: client.secret, audience: DPOP_API }).toString(),
  });
  const body = await res.json();
  const claims = res.status === 200 ? JSON.parse(Buffer.from(body.access_token.split('.')[1], 'base64url').toString()) : undefined;
  if (body.token_type !== 'DPoP' || !claims?.cnf?.jkt || claims.aud !== DPOP_API) {
    throw new Error(`DPoP: unexpected token response ${res.status} ${JSON.stringify(body).slice(0, 300)}`);
  }
}

/** The encrypted API must answer with a JWE that the private key opens to an RS256 token before anything is timed. */
async function checkJweToken(baseUrl, client) {
  const r = await clientCredentials(baseUrl, { client_id: client.id, client_secret: client.secret, audience: JWE_API });
  if (r.status !== 200 || r.body.access_token.split('.').length !== 5) throw new Error(`${baseUrl} JWE: unexpected token response ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`);
  const { plaintext } = await compactDecrypt(r.body.access_token, JWE_KEYS.privateKey, { keyManagementAlgorithms: ['RSA-OAEP-256'], contentEncryptionAlgorithms: ['A256GCM'] });
  const inner = JSON.parse(Buffer.from(new TextDecoder().decode(plaintext).split('.')[0], 'base64url').toString());
  if (inner.alg !== 'RS256') throw new Error(`JWE: inner token is ${inner.alg}, expected RS256`);
}

/** Encrypted vs plain RS256 client_credentials on the same server, interleaved: the cost of token_encryption. */
async function jweScenario({ dialect, tessera, client }) {
  await checkToken(tessera.baseUrl, client, 'RS256');
  await checkJweToken(tessera.baseUrl, client);
  const subjects = [
    { label: 'RS256', handle: tessera, request: tokenRequest(tessera.baseUrl, client, 'RS256') },
    { label: 'RS256+JWE', handle: tessera, request: tokenRequest(tessera.baseUrl, client, 'RS256', JWE_API) },
  ];
  for (const s of subjects) await warmUp(s.request, cfg.warmup);
  log(`# ${dialect}, 1 worker, RS256 vs RS256 + JWE (RSA-OAEP-256, A256GCM)`);
  for (const c of cfg.connections) {
    for (let round = 0; round < cfg.rounds; round++) {
      for (const s of subjects) {
        const row = { dialect, workers: 1, alg: 'RS256', store: 'empty', server: s.label, kind: 'jwe', round, ...(await measure(s.handle, s.request, { connections: c, duration: cfg.duration })) };
        rows.push(row);
        printRow(row);
      }
    }
  }
}

/** The response must be a real token in the expected algorithm before anything is timed. */
async function checkToken(baseUrl, client, alg) {
  const r = await clientCredentials(baseUrl, { client_id: client.id, client_secret: client.secret, audience: apiIdentifier(alg) });
  const header = r.status === 200 ? JSON.parse(Buffer.from(r.body.access_token.split('.')[0], 'base64url').toString()) : undefined;
  if (header?.alg !== alg || r.body.scope !== SCOPES.join(' ')) throw new Error(`${baseUrl} ${alg}: unexpected token response ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`);
}

function printRow(r) {
  log(`  ${r.server.padEnd(14)} ${String(r.alg ?? '').padEnd(5)} c=${String(r.connections).padEnd(3)} ${String(r.reqPerSec).padStart(6)} req/s  p50 ${r.p50} p99 ${r.p99} ms  ` +
    `server ${r.serverCores} cores, ${r.cpuSecPer1k} CPU-s/1k  ac ${r.loadgenCores}  foreign ${r.foreignCores}  rss ${r.rssMaxMb} MB  non2xx ${r.non2xx} err ${r.errors}`);
}

/** Ceiling and subject alternate: A B A B … for each connection count. */
async function interleave(pairId, base, subjects) {
  for (const c of cfg.connections) {
    for (let round = 0; round < cfg.rounds; round++) {
      for (const s of subjects) {
        const row = { ...base, pairId, server: s.label, kind: 'token', round, ...(await measure(s.handle, s.request, { connections: c, duration: cfg.duration })) };
        rows.push(row);
        printRow(row);
      }
    }
  }
}

async function tokenScenarios({ dialect, workers, store, tessera, client, algs }) {
  const ceiling = await startCeiling({
    port: await freePort(), workers, issuer: `${tessera.baseUrl}/`, client,
    apis: ALGS.map((alg) => ({ identifier: apiIdentifier(alg), alg, scope: SCOPES })),
  });
  try {
    for (const alg of algs) {
      await checkToken(tessera.baseUrl, client, alg);
      await checkToken(ceiling.baseUrl, client, alg);
      const subjects = [
        { label: 'ceiling', handle: ceiling, request: tokenRequest(ceiling.baseUrl, client, alg) },
        { label: 'tessera', handle: tessera, request: tokenRequest(tessera.baseUrl, client, alg) },
      ];
      // DPoP next to plain RS256 in the same interleaved rounds (empty store only: the store size does not change it)
      if (alg === 'RS256' && !flag('no-dpop') && store === 'empty') {
        await checkDpopToken(tessera, client);
        subjects.push({ label: 'tessera-dpop', handle: tessera, request: dpopRequest(tessera, client) });
      }
      for (const s of subjects) await warmUp(s.request, cfg.warmup);
      log(`# ${dialect}, ${workers} worker(s), ${alg}, store ${store}`);
      await interleave(`${dialect}|${workers}|${alg}|${store}`, { dialect, workers, alg, store }, subjects);
    }
  } finally {
    await ceiling.stop();
  }
}

async function managementList({ dialect, store, tessera, apis }) {
  const authorization = `Bearer ${await adminToken(tessera.baseUrl, ADMIN)}`;
  const pages = Math.ceil(apis / 100);
  const paths = Array.from({ length: pages }, (_, p) => `/api/v2/resource-servers?page=${p}&per_page=100`);
  const request = { url: `${tessera.baseUrl}${paths[0]}`, method: 'GET', headers: { authorization }, paths };
  const probe = await fetch(`${tessera.baseUrl}${paths[pages - 1]}`, { headers: { authorization } });
  if (probe.status !== 200) throw new Error(`management list: ${probe.status} ${await probe.text()}`);
  await warmUp(request, cfg.warmup);
  log(`# ${dialect}, Management list, store ${store}`);
  // One client walking the pages one after another: the latency of a page, not of a queue of them.
  const row = { dialect, store, server: 'tessera', kind: 'mgmt-list', pages, ...(await measure(tessera, request, { connections: 1, duration: cfg.duration })) };
  rows.push(row);
  printRow(row);
}

async function runDialect(dialect) {
  const db = await createDatabase(dialect);
  const common = { databaseUrl: db.url, masterKey: randomBytes(32).toString('base64'), admin: ADMIN, profileDir: cfg.profileDir };
  const port = await freePort();
  let tessera;
  try {
    if (!flag('no-startup') && !flag('flood-only') && !flag('instances-only')) await startupScenario({ dialect, common, port, log, rows, duration: cfg.duration });
    if (flag('startup-only')) return;
    tessera = await startTessera({ ...common, port, workers: 1 });
    const client = await seedThroughApi(tessera.baseUrl, ADMIN, JWE_PEM);
    for (const workers of cfg.workers) {
      if (workers !== 1) { await tessera.stop(); tessera = await startTessera({ ...common, port, workers }); }
      if (flag('flood-only') || flag('instances-only')) break;
      await tokenScenarios({ dialect, workers, store: 'empty', tessera, client, algs: cfg.algs });
      if (workers === 1 && !flag('no-jwe')) await jweScenario({ dialect, tessera, client });
    }
    await tessera.stop();
    if (dialect === 'postgres' && !flag('no-instances') && !flag('flood-only')) {
      await instancesScenario({ common, tokenRequest, client, cfg, log, rows });
    }
    if (!flag('no-flood') && !flag('instances-only')) {
      // password hashing isolation alone: limits and brute-force blocks off, or the flood would soon be answered
      // without hashing (a blocked user, a throttled address) and measure those instead
      tessera = await startTessera({ ...common, port, workers: 1, extraEnv: {
        TESSERA_RATE_LIMIT_AUTH: 'off', TESSERA_RATE_LIMIT_MANAGEMENT: 'off', TESSERA_BRUTE_FORCE_THRESHOLD: '0',
        TESSERA_SUSPICIOUS_IP_THROTTLING: 'off', TESSERA_CLIENT_AUTH_THROTTLING: 'off',
      } });
      await floodScenario({ dialect, tessera, tokenRequest: tokenRequest(tessera.baseUrl, client, 'RS256'), admin: ADMIN, cfg, log, rows, printRow });
      await tessera.stop();
    }
    if (cfg.storeSize > 0 && !flag('flood-only') && !flag('instances-only')) {
      log(`# ${dialect}: seeding ${cfg.storeSize} APIs, ${cfg.storeSize} clients, ${cfg.storeSize * 5} grants`);
      const seeded = await seedLargeStore({ databaseUrl: db.url, masterKey: common.masterKey, apis: cfg.storeSize, templateClientId: client.id });
      log(`  seeded in ${seeded.seconds} s`);
      const label = `${seeded.apis / 1000}k APIs`;
      tessera = await startTessera({ ...common, port, workers: 1 });
      // The store size matters for lookups, not for the signature: RS256 stands for PS256 here.
      const algs = cfg.algs.filter((a) => a !== 'PS256' || !cfg.algs.includes('RS256'));
      await tokenScenarios({ dialect, workers: 1, store: label, tessera, client, algs });
      await managementList({ dialect, store: label, tessera, apis: seeded.apis + ALGS.length + 1 });
      await tessera.stop();
    }
  } finally {
    await tessera?.stop();
    await db.drop();
  }
}

/**
 * The cost of rate limiting on client_credentials: the same Tessera with limits off and with a limit that is never
 * reached (the counting, the headers and the store round trip all happen), counters in memory, in the database and
 * in Redis; subjects interleaved so every ratio comes from the same minutes.
 */
async function rateLimitScenarios(dialect) {
  const never = { TESSERA_RATE_LIMIT_AUTH: '999999999/1', TESSERA_RATE_LIMIT_MANAGEMENT: 'off' };
  const variants = [
    { label: 'limits off', env: { TESSERA_RATE_LIMIT_AUTH: 'off', TESSERA_RATE_LIMIT_MANAGEMENT: 'off' } },
    { label: 'memory', env: { ...never, TESSERA_RATE_LIMIT_STORE: 'memory' } },
    { label: 'database', env: { ...never, TESSERA_RATE_LIMIT_STORE: 'database' } },
  ];
  if (await redisAnswers()) variants.push({ label: 'redis', env: { ...never, TESSERA_REDIS_URL: 'redis://127.0.0.1:6379' } });
  else log('# Redis does not answer on 127.0.0.1:6379: no Redis line');
  await variantScenarios(dialect, 'rate-limit', variants);
}

/** The cost of tenant logs: the same Tessera with TESSERA_TENANT_LOGS off and on (limits off in both), interleaved. */
async function tenantLogScenarios(dialect) {
  const off = { TESSERA_RATE_LIMIT_AUTH: 'off', TESSERA_RATE_LIMIT_MANAGEMENT: 'off' };
  await variantScenarios(dialect, 'tenant-logs', [
    { label: 'logs off', env: { ...off, TESSERA_TENANT_LOGS: 'off' } },
    { label: 'logs on', env: { ...off, TESSERA_TENANT_LOGS: 'on' } },
  ]);
}

async function variantScenarios(dialect, kind, variants) {
  const db = await createDatabase(dialect);
  const common = { databaseUrl: db.url, masterKey: randomBytes(32).toString('base64'), admin: ADMIN, profileDir: cfg.profileDir, workers: 1 };
  const started = [];
  try {
    for (const v of variants) started.push({ ...v, handle: await startTessera({ ...common, port: await freePort(), extraEnv: v.env }) });
    const client = await seedThroughApi(started[0].handle.baseUrl, ADMIN, JWE_PEM);
    for (const alg of cfg.algs) {
      const subjects = started.map((v) => ({ label: v.label, handle: v.handle, request: tokenRequest(v.handle.baseUrl, client, alg) }));
      for (const v of subjects) { await checkToken(v.handle.baseUrl, client, alg); await warmUp(v.request, cfg.warmup); }
      log(`# ${kind}: ${dialect}, ${alg}`);
      for (const c of cfg.connections) {
        for (let round = 0; round < cfg.rounds; round++) {
          for (const v of subjects) {
            const row = { dialect, alg, workers: 1, kind, server: v.label, round, ...(await measure(v.handle, v.request, { connections: c, duration: cfg.duration })) };
            rows.push(row);
            printRow(row);
          }
        }
      }
    }
  } finally {
    for (const v of started) await v.handle.stop();
    await db.drop();
  }
}

/**
 * client_credentials token reuse: the same identical request, repeated, against Tessera with TESSERA_TOKEN_REUSE=on
 * (after the first, every answer is the kept token) and =off (every answer signed: what a first request costs), next
 * to the bare node:http RS256 signing ceiling of the same run; subjects interleaved. Both Tessera processes share one
 * database.
 */
async function reuseScenarios(dialect) {
  const db = await createDatabase(dialect);
  const common = { databaseUrl: db.url, masterKey: randomBytes(32).toString('base64'), admin: ADMIN, profileDir: cfg.profileDir, workers: 1 };
  const started = [];
  let ceiling;
  try {
    for (const v of [{ label: 'reuse off', env: { TESSERA_TOKEN_REUSE: 'off' } }, { label: 'reuse on', env: { TESSERA_TOKEN_REUSE: 'on' } }]) {
      started.push({ ...v, handle: await startTessera({ ...common, port: await freePort(), extraEnv: v.env }) });
    }
    const client = await seedThroughApi(started[0].handle.baseUrl, ADMIN, JWE_PEM);
    ceiling = await startCeiling({
      port: await freePort(), workers: 1, issuer: `${started[0].handle.baseUrl}/`, client,
      apis: ALGS.map((alg) => ({ identifier: apiIdentifier(alg), alg, scope: SCOPES })),
    });
    const subjects = [
      { label: 'ceiling', handle: ceiling, request: tokenRequest(ceiling.baseUrl, client, 'RS256') },
      ...started.map((v) => ({ label: v.label, handle: v.handle, request: tokenRequest(v.handle.baseUrl, client, 'RS256') })),
    ];
    for (const v of subjects) { await checkToken(v.handle.baseUrl, client, 'RS256'); await warmUp(v.request, cfg.warmup); }
    const once = () => clientCredentials(started[1].handle.baseUrl, { client_id: client.id, client_secret: client.secret, audience: apiIdentifier('RS256') });
    const twice = [await once(), await once()];
    if (twice[0].body.access_token !== twice[1].body.access_token) throw new Error('reuse on: the repeated request did not get the kept token');
    log(`# token reuse: ${dialect}, RS256, 1 worker`);
    for (const c of cfg.connections) {
      for (let round = 0; round < cfg.rounds; round++) {
        for (const v of subjects) {
          const row = { dialect, alg: 'RS256', workers: 1, kind: 'reuse', server: v.label, round, ...(await measure(v.handle, v.request, { connections: c, duration: cfg.duration })) };
          rows.push(row);
          printRow(row);
        }
      }
    }
  } finally {
    await ceiling?.stop();
    for (const v of started) await v.handle.stop();
    await db.drop();
  }
}

async function main() {
  const started = Date.now();
  if (flag('tenant-logs')) {
    log(`# Tessera tenant-log cost: ${JSON.stringify({ ...cfg, out: undefined })}`);
    for (const dialect of cfg.dialects) {
      if (dialect === 'postgres' && !(await postgresAnswers())) { log('# PostgreSQL does not answer: skipping it'); continue; }
      await tenantLogScenarios(dialect);
    }
    const out = cfg.out.replace(/latest\.md$/, 'tenant-logs.md');
    const report = [`## Tenant-log cost — ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`, '', ...rateLimitLines(rows, { kind: 'tenant-logs', baseline: 'logs off', column: 'tenant logs' }), ''].join('\n');
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, report);
    log(`\n${report}\nwritten to ${out}`);
    return;
  }
  if (flag('dev-start')) {
    log('# tessera dev: cold start to the first answer');
    await devStartScenario({ rounds: Number(opt('rounds', '5')), log, rows });
    const out = cfg.out.replace(/latest\.md$/, 'dev-start.md');
    const report = [`## tessera dev start — ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`, '', `Node ${process.version}, ${CORES} cores.`, ...devStartLines(rows), ''].join('\n');
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, report);
    log(`\n${report}\nwritten to ${out}`);
    return;
  }
  if (flag('reuse')) {
    log(`# Tessera token reuse: ${JSON.stringify({ ...cfg, out: undefined })}`);
    for (const dialect of cfg.dialects) {
      if (dialect === 'postgres' && !(await postgresAnswers())) { log('# PostgreSQL does not answer: skipping it'); continue; }
      await reuseScenarios(dialect);
    }
    const out = cfg.out.replace(/latest\.md$/, 'token-reuse.md');
    const report = [`## Token reuse — ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`, '', `Node ${process.version}, ${CORES} cores; ${cfg.duration} s per run, ${cfg.rounds} round(s).`, '', ...reuseLines(rows), ''].join('\n');
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, report);
    log(`\n${report}\nwritten to ${out}`);
    return;
  }
  if (flag('rate-limits')) {
    log(`# Tessera rate-limit cost: ${JSON.stringify({ ...cfg, out: undefined })}`);
    for (const dialect of cfg.dialects) {
      if (dialect === 'postgres' && !(await postgresAnswers())) { log('# PostgreSQL does not answer: skipping it'); continue; }
      await rateLimitScenarios(dialect);
    }
    const out = cfg.out.replace(/latest\.md$/, 'rate-limits.md');
    const report = [`## Rate-limit cost — ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`, '', ...rateLimitLines(rows), ''].join('\n');
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, report);
    log(`\n${report}\nwritten to ${out}`);
    return;
  }
  if (flag('verifier-only')) {
    log(`# Verifier benchmark: ${JSON.stringify({ connections: cfg.connections, duration: cfg.duration, rounds: cfg.rounds })}`);
    await verifierScenario({ cfg, log, rows, printRow });
    const out = cfg.out.replace(/latest\.md$/, 'verifier.md');
    const report = [`## Verifier benchmark — ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`, '', `Node ${process.version}, ${CORES} cores; ${cfg.duration} s per run, ${cfg.rounds} round(s).`, ...verifierLines(rows), ''].join('\n');
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, report);
    log(`\n${report}\nwritten to ${out}`);
    return;
  }
  log(`# Tessera benchmark: ${JSON.stringify({ ...cfg, out: undefined, profileDir: cfg.profileDir })}`);
  for (const dialect of cfg.dialects) {
    if (!['sqlite', 'postgres'].includes(dialect)) { log(`# dialect ${dialect}: nothing to run (sqlite, postgres)`); continue; }
    if (dialect === 'postgres' && !(await postgresAnswers())) { log('# PostgreSQL does not answer: skipping it'); continue; }
    await runDialect(dialect);
  }
  if (flag('peers')) rows.push(...(await runPeers({ cfg, log, printRow })));
  if (!flag('no-verifier') && !flag('flood-only') && !flag('instances-only') && !flag('startup-only')) await verifierScenario({ cfg, log, rows, printRow });
  const report = markdown(rows, {
    date: new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC', duration: cfg.duration, rounds: cfg.rounds,
    notes: `${quick ? 'Quick smoke run (shorter runs, smaller store). ' : ''}Total time ${Math.round((Date.now() - started) / 60000)} min.`,
  }) + [...floodLines(rows), ...instancesLines(rows), ...verifierLines(rows), ''].join('\n');
  mkdirSync(dirname(cfg.out), { recursive: true });
  writeFileSync(cfg.out, report);
  writeFileSync(join(dirname(cfg.out), 'latest.json'), JSON.stringify(rows, null, 2));
  log(`\n${report}\nwritten to ${cfg.out}${cfg.profileDir ? `; CPU profiles in ${cfg.profileDir}` : ''}`);
  const missed = pairs(rows).filter((p) => target(p).startsWith('miss'));
  if (missed.length) log(`# ${missed.length} line(s) missed a target: see the table`);
}

await main();
