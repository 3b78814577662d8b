import type { Server } from 'node:http';
import express from 'express';
import { auth } from 'express-oauth2-jwt-bearer';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createApi, createM2mClient, managementToken } from './helpers/management';
import { startListening, type ListeningServer } from './helpers/listening';
import { eachDialect, startTessera, type TestServer } from './helpers/tessera';
import { createTestDatabase } from './helpers/databases';
import { randomBytes } from 'node:crypto';

/**
 * A local write clears the caches at once, and once more when the change feed hears of the same write from the store
 * (its NOTIFY on PostgreSQL, the 250 ms generation poll on SQLite); tests that expect a token to be kept wait for that.
 */
const settle = () => new Promise((r) => setTimeout(r, 350));
const kidOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[0], 'base64url').toString()).kid as string;
const claimsOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString()) as Record<string, any>;

/**
 * client_credentials token reuse (TESSERA_TOKEN_REUSE, client extension tessera_token_reuse): the same still-valid
 * token for the same client, audience, scopes, organization and binding, `expires_in` counting down; every change
 * of the configuration it was built from (client, grant, API, roles, keys, organizations) stops reuse at once.
 */
eachDialect('client_credentials token reuse', (dialect) => {
  let s: TestServer;
  let api: Record<string, any>;
  let client: { client_id: string; client_secret: string };
  let grantId: string;
  const ask = (extra: Record<string, string> = {}) => s.token({
    grant_type: 'client_credentials', client_id: client.client_id, client_secret: client.client_secret, audience: api.identifier, ...extra,
  });
  /** Two requests a second apart: the second is the first token again (reused) or a new one. */
  async function pair(extra: Record<string, string> = {}) {
    await settle();
    const a = await ask(extra);
    expect(a.status, JSON.stringify(a.body)).toBe(200);
    s.clock.advance(1);
    const b = await ask(extra);
    expect(b.status, JSON.stringify(b.body)).toBe(200);
    return [a.body, b.body] as const;
  }

  beforeAll(async () => {
    s = await startTessera(dialect);
    api = await createApi(s, { token_lifetime: 3600, scopes: [{ value: 'read:x' }, { value: 'write:x' }] });
    client = await createM2mClient(s);
    const g = await s.api('POST', '/client-grants', { client_id: client.client_id, audience: api.identifier, scope: ['read:x', 'write:x'], organization_usage: 'allow' });
    expect(g.status).toBe(201);
    grantId = g.body.id;
  });
  afterAll(async () => { await s?.close(); });
  beforeEach(async () => {
    expect((await s.api('PATCH', `/clients/${client.client_id}`, { tessera_token_reuse: true })).status).toBe(200);
  });

  it('is off by default (tenant default off, field absent) and the field is returned and cleared with null', async () => {
    const r = await s.api('PATCH', `/clients/${client.client_id}`, { tessera_token_reuse: null });
    expect(r.status).toBe(200);
    expect(r.body.tessera_token_reuse).toBeUndefined();
    const [a, b] = await pair();
    expect(b.access_token).not.toBe(a.access_token);
    expect(b.expires_in).toBe(3600);
    const on = await s.api('PATCH', `/clients/${client.client_id}`, { tessera_token_reuse: true });
    expect(on.body.tessera_token_reuse).toBe(true);
    expect((await s.api('PATCH', `/clients/${client.client_id}`, { tessera_token_reuse: 'yes' })).status).toBe(400);
  });

  it('hands out the same token while half its lifetime remains, expires_in counting down', async () => {
    const [a, b] = await pair();
    expect(b.access_token).toBe(a.access_token);
    expect(b).toEqual({ access_token: a.access_token, scope: 'read:x write:x', expires_in: 3599, token_type: 'Bearer' });
    s.clock.advance(1800 - 2); // 1801 s left of 3600: still more than half
    expect((await ask()).body).toMatchObject({ access_token: a.access_token, expires_in: 1801 });
    s.clock.advance(2); // 1799 s left: a new token
    const c = (await ask()).body;
    expect(c.access_token).not.toBe(a.access_token);
    expect(c.expires_in).toBe(3600);
  });

  it('keys on the resolved scope set (order-free) and the organization', async () => {
    const [a, b] = await pair({ scope: 'read:x' });
    expect(b.access_token).toBe(a.access_token);
    const swapped = (await ask({ scope: 'write:x read:x' })).body;
    const full = (await ask({ scope: 'read:x write:x' })).body;
    expect(swapped.access_token).toBe(full.access_token);
    expect(full.access_token).not.toBe(a.access_token);
    const org = await s.api('POST', '/organizations', { name: `reuse-${Date.now()}` });
    expect((await s.api('POST', `/organizations/${org.body.id}/client-grants`, { grant_id: grantId })).status).toBe(201);
    await settle();
    const withOrg = (await ask({ organization: org.body.id })).body;
    expect(withOrg.access_token).not.toBe(full.access_token);
    expect(claimsOf(withOrg.access_token).org_id).toBe(org.body.id);
    s.clock.advance(1);
    expect((await ask({ organization: org.body.id })).body.access_token).toBe(withOrg.access_token);
    // organization membership of the grant removed: refused at once, never the kept token
    expect((await s.api('DELETE', `/organizations/${org.body.id}/client-grants/${grantId}`)).status).toBe(204);
    const refused = await ask({ organization: org.body.id });
    expect(refused.status).toBe(403);
  });

  const causes: Array<[string, () => Promise<unknown>]> = [
    ['the client grant changes', () => s.api('PATCH', `/client-grants/${grantId}`, { scope: ['read:x', 'write:x'] })],
    ['the API changes', () => s.api('PATCH', `/resource-servers/${api.id}`, { token_lifetime: 3600 })],
    ['the client changes', () => s.api('PATCH', `/clients/${client.client_id}`, { description: `d${Date.now()}` })],
    ['a role or permission changes', async () => {
      const role = await s.api('POST', '/roles', { name: `r${Date.now()}` });
      return s.api('POST', `/roles/${role.body.id}/permissions`, { permissions: [{ resource_server_identifier: api.identifier, permission_name: 'read:x' }] });
    }],
    ['the client secret is rotated', async () => {
      const r = await s.api('POST', `/clients/${client.client_id}/rotate-secret`);
      client.client_secret = r.body.client_secret;
    }],
    ['an organization changes', () => s.api('POST', '/organizations', { name: `o${Date.now()}` })],
  ];
  for (const [cause, write] of causes) {
    it(`stops reuse when ${cause}`, async () => {
      const [a, b] = await pair();
      expect(b.access_token).toBe(a.access_token);
      const w = await write() as { status?: number } | undefined;
      if (w?.status !== undefined) expect(w.status).toBeLessThan(300);
      const c = (await ask()).body;
      expect(c.access_token).toBeDefined();
      expect(c.access_token).not.toBe(a.access_token);
    });
  }

  it('never reuses tokens for an API with token_encryption', async () => {
    const { rsaPublicPem } = await import('./helpers/management');
    const jwe = await createApi(s, { token_encryption: { format: 'compact-nested-jwe', encryption_key: { alg: 'RSA-OAEP-256', pem: rsaPublicPem() } } });
    expect((await s.api('POST', '/client-grants', { client_id: client.client_id, audience: jwe.identifier, scope: [] })).status).toBe(201);
    const [a, b] = await pair({ audience: jwe.identifier });
    expect(b.access_token).not.toBe(a.access_token);
  });

  it('counts issued and reused tokens in /api/v2/tessera/usage (scope read:tessera_usage) and /metrics', async () => {
    const other = await createM2mClient(s);
    expect((await s.api('PATCH', `/clients/${other.client_id}`, { tessera_token_reuse: true })).status).toBe(200);
    expect((await s.api('POST', '/client-grants', { client_id: other.client_id, audience: api.identifier, scope: ['read:x'] })).status).toBe(201);
    const req = () => s.token({ grant_type: 'client_credentials', ...other, audience: api.identifier });
    await settle();
    for (let i = 0; i < 3; i++) expect((await req()).status).toBe(200);
    const usage = await s.api('GET', `/tessera/usage?client_id=${other.client_id}`);
    expect(usage.status).toBe(200);
    expect(usage.body.usage).toEqual([{ start: expect.any(String), client_id: other.client_id, audience: api.identifier, issued: 1, reused: 2, refused: 0 }]);
    const byDay = await s.api('GET', `/tessera/usage?client_id=${other.client_id}&period=day`);
    expect(byDay.body.usage[0]).toMatchObject({ issued: 1, reused: 2 });
    expect(byDay.body.usage[0].start).toMatch(/T00:00:00\.000Z$/);
    const metrics = await s.t.app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toContain(`tessera_client_credentials_tokens_total{outcome="reused",client_id="${other.client_id}",organization_id="",audience="${api.identifier}"} 2`);
    // refusals: the scope, hostile or wrong queries
    const readClients = await managementToken(s, ['read:clients']);
    const denied = await s.api('GET', '/tessera/usage', undefined, { token: readClients });
    expect(denied.status).toBe(403);
    expect(denied.body).toMatchObject({ statusCode: 403, error: 'Forbidden', errorCode: 'insufficient_scope' });
    const reader = await managementToken(s, ['read:tessera_usage']);
    expect((await s.api('GET', `/tessera/usage?client_id=${other.client_id}`, undefined, { token: reader })).status).toBe(200);
    expect((await s.api('GET', '/tessera/usage?period=week')).status).toBe(400);
    expect((await s.api('GET', '/tessera/usage?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z')).status).toBe(400);
    expect((await s.api('GET', '/tessera/usage?from=2020-01-01T00:00:00Z&to=2026-01-01T00:00:00Z&period=hour')).status).toBe(400);
    expect((await s.api('GET', '/tessera/usage?bogus=1')).status).toBe(400);
    expect((await s.api('GET', `/tessera/usage?to=${encodeURIComponent("' OR '1'='1")}`)).status).toBe(400); // Date.parse alone reads it as 2001
  });

  // last: revoking the first key also ends the suite's cached Management token
  it('stops reuse when the signing key is rotated, and again when the old key is revoked', async () => {
    const [a, b] = await pair();
    expect(b.access_token).toBe(a.access_token);
    const rotated = await s.api('POST', '/keys/signing/rotate');
    expect(rotated.status).toBe(201);
    const first = (await ask()).body;
    expect(first.access_token).not.toBe(a.access_token);
    expect(kidOf(first.access_token)).not.toBe(kidOf(a.access_token));
    await settle();
    const c = (await ask()).body;
    s.clock.advance(1);
    const d = (await ask()).body;
    expect(d.access_token).toBe(c.access_token);
    const revoked = await s.api('PUT', `/keys/signing/${kidOf(a.access_token)}/revoke`);
    expect(revoked.status).toBe(200);
    const e = (await ask()).body;
    expect(e.access_token).not.toBe(c.access_token);
  });
});

eachDialect('a reused token verifies with express-oauth2-jwt-bearer', (dialect) => {
  let l: ListeningServer;
  let rs: Server;
  beforeAll(async () => { l = await startListening(dialect, { env: { TESSERA_TOKEN_REUSE: 'on' } }); });
  afterAll(async () => { await new Promise((r) => rs?.close(r)); await l?.close(); });

  it('the tenant default turns reuse on; the second token is the first and the judge accepts it', async () => {
    const created = await l.mgmt('POST', '/resource-servers', { identifier: 'https://reuse-judge.example/' });
    expect(created.status).toBe(201);
    const api = created.body;
    const cl = await l.mgmt('POST', '/clients', { name: 'judge', app_type: 'non_interactive', grant_types: ['client_credentials'] });
    const c = { client_id: cl.body.client_id as string, client_secret: cl.body.client_secret as string };
    expect((await l.mgmt('POST', '/client-grants', { client_id: c.client_id, audience: api.identifier, scope: [] })).status).toBe(201);
    const params = { grant_type: 'client_credentials', ...c, audience: api.identifier };
    await settle();
    const first = await l.s.token(params);
    const second = await l.s.token(params);
    expect(second.body.access_token).toBe(first.body.access_token);
    const app = express();
    app.get('/', auth({ issuerBaseURL: l.origin, audience: api.identifier }), (req, res) => { res.json({ sub: req.auth?.payload.sub }); });
    rs = await new Promise<Server>((resolve) => { const srv = app.listen(0, '127.0.0.1', () => resolve(srv)); });
    const port = (rs.address() as { port: number }).port;
    const res = await fetch(`http://127.0.0.1:${port}/`, { headers: { authorization: `Bearer ${second.body.access_token}` } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ sub: `${c.client_id}@clients` });
    // opted out per client despite the tenant default
    expect((await l.mgmt('PATCH', `/clients/${c.client_id}`, { tessera_token_reuse: false })).status).toBe(200);
    const a = await l.s.token(params);
    const b = await l.s.token({ ...params, scope: '' });
    expect(a.status).toBe(200);
    expect(b.status).toBe(200);
    const usage = await l.mgmt('GET', `/tessera/usage?client_id=${c.client_id}`);
    expect(usage.body.usage[0]).toMatchObject({ issued: 3, reused: 1 });
  });
});

describe('TESSERA_TOKEN_REUSE settings', () => {
  it('refuses bad values at start-up, naming the variable', async () => {
    const { loadConfig } = await import('@tessera/server');
    const base = { TESSERA_DATABASE_URL: 'sqlite::memory:', TESSERA_MASTER_KEY: Buffer.alloc(32, 1).toString('base64') };
    expect(() => loadConfig({ ...base, TESSERA_TOKEN_REUSE: 'yes' })).toThrow(/TESSERA_TOKEN_REUSE/);
    expect(() => loadConfig({ ...base, TESSERA_TOKEN_REUSE_MIN_REMAINING: '1.5' })).toThrow(/TESSERA_TOKEN_REUSE_MIN_REMAINING/);
    expect(() => loadConfig({ ...base, TESSERA_TOKEN_QUOTA_CLIENTS: 'per_hour=0' })).toThrow(/TESSERA_TOKEN_QUOTA_CLIENTS/);
    expect(() => loadConfig({ ...base, TESSERA_TOKEN_QUOTA_ORGANIZATIONS: 'enforce=true' })).toThrow(/TESSERA_TOKEN_QUOTA_ORGANIZATIONS/);
    const ok = loadConfig({ ...base, TESSERA_TOKEN_REUSE: 'on', TESSERA_TOKEN_REUSE_MIN_REMAINING: '0.25', TESSERA_TOKEN_QUOTA_CLIENTS: 'per_hour=5,enforce=false' });
    expect(ok.tokenReuse).toEqual({ enabledByDefault: true, minRemaining: 0.25 });
    expect(ok.tokenQuotaDefaults.clients).toEqual({ per_hour: 5, enforce: false });
  });
});

eachDialect('token reuse across instances', (dialect) => {
  it('a write on one instance stops reuse on the other (NOTIFY, or the 250 ms poll on SQLite), for the grant, the API and the signing key', async () => {
    const db = await createTestDatabase(dialect);
    const masterKey = randomBytes(32).toString('base64');
    const env = { TESSERA_TOKEN_REUSE: 'on' };
    const a = await startTessera(dialect, { database: db, masterKey, env });
    const b = await startTessera(dialect, { database: db, masterKey, env, clock: a.clock });
    try {
      const api = await createApi(a, { scopes: [{ value: 'read:x' }] });
      const c = await createM2mClient(a);
      const g = await a.api('POST', '/client-grants', { client_id: c.client_id, audience: api.identifier, scope: ['read:x'] });
      expect(g.status).toBe(201);
      const fromB = () => b.token({ grant_type: 'client_credentials', ...c, audience: api.identifier });
      const writes: Array<() => Promise<{ status: number }>> = [
        () => a.api('PATCH', `/client-grants/${g.body.id}`, { scope: [] }),
        () => a.api('PATCH', `/resource-servers/${api.id}`, { token_lifetime: 7200 }),
        () => a.api('POST', '/keys/signing/rotate'),
      ];
      for (const write of writes) {
        await settle();
        const first = (await fromB()).body.access_token as string;
        a.clock.advance(1);
        expect((await fromB()).body.access_token).toBe(first);
        expect((await write()).status).toBeLessThan(300);
        // B hears of the commit within milliseconds (PostgreSQL) or 250 ms (SQLite); poll rather than sleep a fixed time
        const since = Date.now();
        let next = first;
        while (next === first && Date.now() - since < 2000) next = (await fromB()).body.access_token;
        expect(next).not.toBe(first);
        expect(Date.now() - since).toBeLessThan(2000);
      }
    } finally {
      await b.close();
      await a.close();
      await db.drop();
    }
  });
});

eachDialect('token reuse with DPoP-bound tokens', (dialect) => {
  let s: TestServer;
  beforeAll(async () => { s = await startTessera(dialect, { env: { TESSERA_TOKEN_REUSE: 'on' } }); });
  afterAll(async () => { await s?.close(); });

  it('reuses a bound token only for the same DPoP key; a new key or no proof gets its own token', async () => {
    const { generateKeyPair, exportJWK, SignJWT } = await import('jose');
    const { randomUUID } = await import('node:crypto');
    const keys = await Promise.all([0, 1].map(() => generateKeyPair('ES256', { extractable: true })));
    const proof = async (k: (typeof keys)[number]) => new SignJWT({ jti: randomUUID(), htm: 'POST', htu: 'https://tessera.test/oauth/token', iat: Math.floor(s.clock.now() / 1000) })
      .setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES256', jwk: await exportJWK(k.publicKey) }).sign(k.privateKey);
    const api = await createApi(s, { proof_of_possession: { mechanism: 'dpop', required: false } });
    const c = await createM2mClient(s);
    expect((await s.api('POST', '/client-grants', { client_id: c.client_id, audience: api.identifier, scope: [] })).status).toBe(201);
    await settle();
    const ask = async (k?: (typeof keys)[number]) => {
      const r = await s.token({ grant_type: 'client_credentials', ...c, audience: api.identifier }, k ? { headers: { dpop: await proof(k) } } : {});
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      return r.body;
    };
    const a1 = await ask(keys[0]);
    expect(a1.token_type).toBe('DPoP');
    const a2 = await ask(keys[0]);
    expect(a2.access_token).toBe(a1.access_token);
    const b = await ask(keys[1]);
    expect(b.token_type).toBe('DPoP');
    expect(b.access_token).not.toBe(a1.access_token);
    expect(claimsOf(b.access_token).cnf.jkt).not.toBe(claimsOf(a1.access_token).cnf.jkt);
    const plain = await ask();
    expect(plain.token_type).toBe('Bearer');
    expect(plain.access_token).not.toBe(a1.access_token);
    expect(claimsOf(plain.access_token).cnf).toBeUndefined();
  });
});

eachDialect('token reuse with certificate-bound tokens (mTLS behind a trusted proxy)', (dialect) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTessera(dialect, { env: {
      TESSERA_TOKEN_REUSE: 'on', TESSERA_MTLS_PROXY_HEADER: 'X-Client-Cert', TESSERA_MTLS_TRUSTED_PROXIES: '10.0.0.0/8',
      TESSERA_MTLS_PUBLIC_URL: 'https://mtls.tessera.test/',
    } });
  });
  afterAll(async () => { await s?.close(); });

  it('reuses a bound token only for the same certificate; another certificate gets its own token', async () => {
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { clientCert } = await import('./security/mtls');
    const { dpopApi, m2m } = await import('./security/dpop');
    const dir = mkdtempSync(join(tmpdir(), 'tessera-reuse-mtls-'));
    const [alice, bob] = [clientCert(dir, 'alice'), clientCert(dir, 'bob')];
    const audience = await dpopApi(s, { mechanism: 'mtls', required: true });
    const c = await m2m(s, audience);
    await settle();
    const ask = async (cert: typeof alice) => {
      const res = await s.t.app.inject({
        method: 'POST', url: '/oauth/token', remoteAddress: '10.1.2.3',
        payload: new URLSearchParams({ grant_type: 'client_credentials', ...c, audience }).toString(),
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-client-cert': encodeURIComponent(cert.pem) },
      });
      expect(res.statusCode, res.body).toBe(200);
      return res.json() as { access_token: string };
    };
    const a1 = await ask(alice);
    expect(claimsOf(a1.access_token).cnf).toEqual({ 'x5t#S256': alice.x5t });
    expect((await ask(alice)).access_token).toBe(a1.access_token);
    const b = await ask(bob);
    expect(b.access_token).not.toBe(a1.access_token);
    expect(claimsOf(b.access_token).cnf).toEqual({ 'x5t#S256': bob.x5t });
    expect((await ask(bob)).access_token).toBe(b.access_token);
  });
});
