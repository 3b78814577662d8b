// Seeding through the real Management API: one API per algorithm, one M2M client, its grants. The large
// store (thousands of APIs, clients, grants) is written by bench/seed-store.ts straight through the
// store's repositories, before the measured server starts.
import { spawn } from 'node:child_process';
import { ROOT } from './servers.mjs';

export const ALGS = ['RS256', 'PS256', 'HS256'];
export const SCOPES = ['read:orders', 'write:orders', 'read:users'];
export const apiIdentifier = (alg) => `https://api.bench.tessera/${alg.toLowerCase()}`;
/** An RS256 API whose tokens are encrypted (token_encryption, RSA-OAEP-256 + A256GCM): the JWE scenario. */
export const JWE_API = 'https://api.bench.tessera/rs256-jwe';
/** An RS256 API that requires DPoP-bound tokens (proof_of_possession mechanism dpop, required): the DPoP scenario. */
export const DPOP_API = 'https://api.bench.tessera/rs256-dpop';

async function call(base, token, method, path, body) {
  const res = await fetch(`${base}${path}`, {
    method, headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

export async function clientCredentials(base, params) {
  const res = await fetch(`${base}/oauth/token`, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', ...params }).toString(),
  });
  return { status: res.status, body: await res.json() };
}

export async function adminToken(base, admin) {
  const r = await clientCredentials(base, { client_id: admin.id, client_secret: admin.secret, audience: `${base}/api/v2/` });
  if (r.status !== 200) throw new Error(`admin token: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.access_token;
}

/**
 * Creates the benchmark APIs (one per algorithm, the RS256 API with token encryption to `jwePem`, the RS256 API
 * requiring DPoP), the M2M
 * client and its grants; returns what the load needs.
 */
export async function seedThroughApi(base, admin, jwePem) {
  const token = await adminToken(base, admin);
  const scopes = SCOPES.map((value) => ({ value, description: value }));
  for (const alg of ALGS) {
    await call(base, token, 'POST', '/api/v2/resource-servers', { name: `Bench ${alg}`, identifier: apiIdentifier(alg), signing_alg: alg, scopes });
  }
  await call(base, token, 'POST', '/api/v2/resource-servers', {
    name: 'Bench RS256 + JWE', identifier: JWE_API, signing_alg: 'RS256', scopes,
    token_encryption: { format: 'compact-nested-jwe', encryption_key: { name: 'bench', alg: 'RSA-OAEP-256', pem: jwePem } },
  });
  await call(base, token, 'POST', '/api/v2/resource-servers', {
    name: 'Bench RS256 DPoP', identifier: DPOP_API, signing_alg: 'RS256', scopes, proof_of_possession: { mechanism: 'dpop', required: true },
  });
  const client = await call(base, token, 'POST', '/api/v2/clients', {
    name: 'Bench M2M', app_type: 'non_interactive', grant_types: ['client_credentials'], token_endpoint_auth_method: 'client_secret_post',
  });
  for (const audience of [...ALGS.map(apiIdentifier), JWE_API, DPOP_API]) {
    await call(base, token, 'POST', '/api/v2/client-grants', { client_id: client.client_id, audience, scope: SCOPES });
  }
  return { id: client.client_id, secret: client.client_secret };
}

/** Writes `apis` APIs, as many clients and 5 grants per client, cloned from the seeded ones. */
export function seedLargeStore({ databaseUrl, masterKey, apis, templateClientId }) {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', 'bench/seed-store.ts'], {
      cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, BENCH_DATABASE_URL: databaseUrl, BENCH_MASTER_KEY: masterKey, BENCH_APIS: String(apis), BENCH_TEMPLATE_CLIENT: templateClientId, BENCH_TEMPLATE_API: apiIdentifier('RS256') },
    });
    let out = '';
    p.stdout.on('data', (d) => { out += d; });
    p.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`seed-store exited with ${code}`))));
  });
}

export async function managementList(base, admin) {
  return { authorization: `Bearer ${await adminToken(base, admin)}` };
}
