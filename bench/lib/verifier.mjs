// The verifier scenario: an Express API checking an RS256 access token on every request, with @tessera/verify,
// with express-oauth2-jwt-bearer 1.10 and with bare jose (jwtVerify, the issuer's key imported once), each in its
// own process, interleaved in the same minutes (jose, ejb, tessera, jose, …); then the DPoP variant (a fresh
// pre-made proof per request, token bound to its key) and the JWE variant (RSA-OAEP-256 + A256GCM around the
// RS256 token; express-oauth2-jwt-bearer cannot decrypt, so jose is the comparison).
// The issuer is a small in-process server publishing discovery and a JWKS for a key made here; tokens are signed
// here with jose in Tessera's access_token dialect, so the figures hold the verifiers' work only.
import { createHash, generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { CompactEncrypt, SignJWT, calculateJwkThumbprint } from 'jose';
import { measure, warmUp } from './load.mjs';
import { ROOT, freePort, startProcess } from './servers.mjs';

const AUDIENCE = 'https://bench-api.example/';
const SERVER = join(ROOT, 'bench/verifier-server.mjs');

async function startIssuer(publicJwk) {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const docs = {
    '/.well-known/openid-configuration': { issuer: `${base}/`, jwks_uri: `${base}/.well-known/jwks.json`, id_token_signing_alg_values_supported: ['RS256'] },
    '/.well-known/jwks.json': { keys: [publicJwk] },
  };
  const server = createServer((req, res) => {
    const doc = docs[req.url];
    res.writeHead(doc ? 200 : 404, { 'content-type': 'application/json' }).end(JSON.stringify(doc ?? {}));
  });
  await new Promise((ok) => server.listen(port, '127.0.0.1', ok));
  return { base, close: () => new Promise((ok) => { server.closeAllConnections(); server.close(ok); }) };
}

async function startApi(mode, env) {
  const port = await freePort();
  const handle = await startProcess(`verifier-${mode}`, process.execPath, [SERVER], {
    cwd: ROOT, env: { ...env, VERIFIER: mode, PORT: String(port), NODE_ENV: 'bench' }, ready: (out) => out.includes(`listening ${port}`),
  });
  handle.baseUrl = `http://127.0.0.1:${port}`;
  return handle;
}

/** Each subject must answer 200 with the token's sub before anything is timed. */
async function check(s) {
  const headers = { ...s.request.headers };
  if (s.request.dpop) {
    const { makeProofs } = await import('./dpop.mjs');
    headers.dpop = makeProofs({ ...s.request.dpop, count: 1 }).proofs[0];
  }
  const res = await fetch(s.request.url, { headers });
  const body = await res.text();
  if (res.status !== 200 || !body.includes('bench-user')) throw new Error(`verifier ${s.label}: ${res.status} ${body.slice(0, 300)}`);
}

export async function verifierScenario({ cfg, log, rows, printRow }) {
  const signing = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const encryption = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const proofKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const publicJwk = { ...signing.publicKey.export({ format: 'jwk' }), kid: 'bench-1', alg: 'RS256', use: 'sig' };
  const issuer = await startIssuer(publicJwk);
  const now = Math.floor(Date.now() / 1000);
  const claims = { iss: `${issuer.base}/`, sub: 'bench-user@clients', aud: AUDIENCE, iat: now, exp: now + 3600, scope: 'read:orders', gty: 'client-credentials', azp: 'bench-client' };
  const sign = (extra = {}) => new SignJWT({ ...claims, ...extra }).setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: 'bench-1' }).sign(signing.privateKey);
  const plain = await sign();
  const proofJwk = proofKey.privateKey.export({ format: 'jwk' });
  const bound = await sign({ cnf: { jkt: await calculateJwkThumbprint(proofKey.publicKey.export({ format: 'jwk' }), 'sha256') } });
  const jwe = await new CompactEncrypt(new TextEncoder().encode(plain)).setProtectedHeader({ alg: 'RSA-OAEP-256', enc: 'A256GCM', cty: 'JWT' }).encrypt(encryption.publicKey);
  const env = {
    ISSUER_URL: issuer.base, AUDIENCE,
    PUBLIC_PEM: signing.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    JWE_PRIVATE_PEM: encryption.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
  const groups = [
    // `none` answers without verifying: Express and HTTP alone, the most any verifier can reach here
    { name: 'RS256 Bearer', subjects: [['jose', plain], ['ejb', plain], ['tessera', plain], ['none', plain]] },
    { name: 'RS256 DPoP-bound, ES256 proof per request', subjects: [['ejb-dpop', bound, true], ['tessera-dpop', bound, true]] },
    { name: 'RS256 in JWE (RSA-OAEP-256, A256GCM)', subjects: [['jose-jwe', jwe], ['tessera-jwe', jwe]] },
  ];
  const started = [];
  try {
    for (const g of groups) {
      const subjects = [];
      for (const [mode, token, dpop] of g.subjects) {
        const handle = await startApi(mode.startsWith('jose') ? mode : mode, { ...env, ...(mode === 'jose' ? { JWE_PRIVATE_PEM: '' } : {}) });
        started.push(handle);
        const url = `${handle.baseUrl}/orders`;
        const request = dpop
          ? { url, method: 'GET', headers: { authorization: `DPoP ${token}` }, dpop: { htu: url, htm: 'GET', ath: createHash('sha256').update(token).digest('base64url'), privateJwk: proofJwk } }
          : { url, method: 'GET', headers: { authorization: `Bearer ${token}` } };
        subjects.push({ label: mode, handle, request });
      }
      for (const s of subjects) { await check(s); await warmUp(s.request, cfg.warmup); }
      log(`# verifier: Express API, ${g.name}`);
      for (const c of cfg.connections) {
        for (let round = 0; round < cfg.rounds; round++) {
          for (const s of subjects) {
            const row = { kind: 'verifier', group: g.name, server: s.label, round, ...(await measure(s.handle, s.request, { connections: c, duration: cfg.duration })) };
            rows.push(row);
            printRow(row);
          }
        }
      }
      for (const s of subjects) await s.handle.stop();
    }
  } finally {
    for (const h of started) await h.stop();
    await issuer.close();
  }
}

const sum = (xs) => xs.reduce((a, b) => a + b, 0);
const fmt = (v, d = 0) => (v === undefined || Number.isNaN(v) ? '–' : v.toFixed(d));

/** Markdown: req/s and CPU per 1k requests per subject; @tessera/verify's ratios against the others from the same runs. */
export function verifierLines(rows) {
  const vr = rows.filter((r) => r.kind === 'verifier');
  if (!vr.length) return [];
  const lines = ['', '### Verifier: an Express API checking the access token per request', '',
    '@tessera/verify vs express-oauth2-jwt-bearer 1.10 vs bare jose `jwtVerify` (key imported once), each its own process, interleaved. ' +
    'Targets (RS256 Bearer): ≥ 1.5× express-oauth2-jwt-bearer and ≥ 0.9× bare jose. "CPU ratio" compares CPU-seconds per request (other ÷ @tessera/verify), ' +
    'which holds up better than req/s when other processes compete for the cores.', '',
    '| variant | conns | server | req/s | p99 ms | CPU-s/1k | req/s ratio | CPU ratio | foreign cores | target |', '|---|---|---|---|---|---|---|---|---|---|'];
  const groups = [...new Set(vr.map((r) => r.group))];
  for (const g of groups) {
    for (const c of [...new Set(vr.filter((r) => r.group === g).map((r) => r.connections))]) {
      const of = (server) => vr.filter((r) => r.group === g && r.connections === c && r.server === server);
      const tess = of(vr.find((r) => r.group === g && r.server.startsWith('tessera')).server);
      const tRps = sum(tess.map((r) => r.reqPerSec)) / tess.length;
      const tCpu = sum(tess.map((r) => r.cpuSecPer1k)) / tess.length;
      for (const server of [...new Set(vr.filter((r) => r.group === g).map((r) => r.server))]) {
        const xs = of(server);
        const rps = sum(xs.map((r) => r.reqPerSec)) / xs.length;
        const cpu = sum(xs.map((r) => r.cpuSecPer1k)) / xs.length;
        const mine = server.startsWith('tessera');
        const ratio = mine ? undefined : tRps / rps;
        const goal = g === 'RS256 Bearer' && !mine && server !== 'none' ? (server === 'ejb' ? 1.5 : 0.9) : undefined;
        lines.push(`| ${g} | ${c} | ${server} | ${fmt(rps)} | ${fmt(Math.max(...xs.map((r) => r.p99)), 1)} | ${fmt(cpu, 3)} | ${mine ? '' : `**${fmt(ratio, 2)}**`} | ${mine ? '' : fmt(cpu / tCpu, 2)} | ${fmt(Math.max(...xs.map((r) => r.foreignCores)), 2)} | ${goal === undefined ? '' : ratio >= goal ? `met (≥ ${goal})` : `miss (< ${goal})`} |`);
      }
    }
  }
  // the ceiling: no verification at all, in the same Express app, against express-oauth2-jwt-bearer
  for (const c of [...new Set(vr.filter((r) => r.server === 'none').map((r) => r.connections))]) {
    const avg = (server, k) => { const xs = vr.filter((r) => r.group === 'RS256 Bearer' && r.connections === c && r.server === server); return sum(xs.map((r) => r[k])) / xs.length; };
    lines.push('', `Ceiling at ${c} connections: the same Express app answering without any verification serves ` +
      `${fmt(avg('none', 'reqPerSec'))} req/s, ${fmt(avg('none', 'reqPerSec') / avg('ejb', 'reqPerSec'), 2)}× express-oauth2-jwt-bearer ` +
      `(CPU ratio ${fmt(avg('ejb', 'cpuSecPer1k') / avg('none', 'cpuSecPer1k'), 2)}): no verifier can exceed that ratio in this setup.`);
  }
  return lines;
}
