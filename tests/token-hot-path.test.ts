import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi, type MockInstance } from 'vitest';
import { createLogger, createTessera, loadConfig, type Tessera } from '@tessera/server';
import { ADMIN_ID, ADMIN_SECRET, eachDialect, PUBLIC_URL, startTessera, type TestServer } from './helpers/tessera';

let seq = 0;

/**
 * Local writes clear the caches at once; the change-generation poll (every 250 ms) then sees the same
 * writes and clears them once more. Let it catch up so a warm-up is not undone by that echo.
 */
async function settle(s: TestServer) {
  await new Promise((r) => setTimeout(r, 300));
  await s.t.services.changes.poll();
}

/** Fixture: an API, an M2M client and its grant; `token()` asks for a token with the client's secret. */
async function setup(s: TestServer) {
  const identifier = `https://hot-${++seq}.example/`;
  expect((await s.api('POST', '/resource-servers', { identifier, scopes: [{ value: 'read:orders' }, { value: 'write:orders' }] })).status).toBe(201);
  const client = await s.api('POST', '/clients', { name: `Hot ${seq}`, app_type: 'non_interactive', grant_types: ['client_credentials'] });
  const grant = await s.api('POST', '/client-grants', { client_id: client.body.client_id, audience: identifier, scope: ['read:orders', 'write:orders'] });
  expect(grant.status).toBe(201);
  const f = {
    identifier, clientId: client.body.client_id as string, secret: client.body.client_secret as string, grantId: grant.body.id as string,
    token: (extra: Record<string, string> = {}) => s.token({ grant_type: 'client_credentials', client_id: f.clientId, client_secret: f.secret, audience: identifier, ...extra }),
  };
  return f;
}

eachDialect('token endpoint hot path: cached lookups, invalidated by Management writes', (dialect) => {
  let s: TestServer;
  let reads: { apis: MockInstance; clients: MockInstance; grants: MockInstance };
  const total = () => reads.apis.mock.calls.length + reads.clients.mock.calls.length + reads.grants.mock.calls.length;

  const masterKey = randomBytes(32).toString('base64');
  beforeAll(async () => { s = await startTessera(dialect, { masterKey }); });
  afterAll(async () => { await s.close(); });
  beforeEach(() => {
    const store = s.t.services.store;
    reads = {
      apis: vi.spyOn(store.resourceServers, 'findByIdentifier'),
      clients: vi.spyOn(store.clients, 'findById'),
      grants: vi.spyOn(store.clientGrants, 'findFor'),
    };
  });
  afterEach(() => { vi.restoreAllMocks(); });

  it('after warm-up, token requests read nothing from storage', async () => {
    const f = await setup(s);
    await settle(s);
    expect((await f.token()).status).toBe(200); // warm-up: fills the cache
    reads.apis.mockClear(); reads.clients.mockClear(); reads.grants.mockClear();
    for (let i = 0; i < 25; i++) expect((await f.token({ scope: i % 2 ? 'read:orders' : 'write:orders' })).status).toBe(200);
    expect(total()).toBe(0);
  });

  it('a cold burst of concurrent requests shares one read per lookup', async () => {
    const f = await setup(s);
    await settle(s);
    s.t.services.directory.clear();
    reads.apis.mockClear(); reads.clients.mockClear(); reads.grants.mockClear();
    const results = await Promise.all(Array.from({ length: 20 }, () => f.token()));
    expect(results.map((r) => r.status)).toEqual(Array(20).fill(200));
    expect(reads.apis).toHaveBeenCalledTimes(1);
    expect(reads.clients).toHaveBeenCalledTimes(1);
    expect(reads.grants).toHaveBeenCalledTimes(1);
  });

  it('unknown clients and audiences are cached too (no storage read per bad request)', async () => {
    const f = await setup(s);
    await settle(s);
    await f.token({ audience: 'https://missing.example/' });
    await f.token({ client_id: 'missing-client' });
    reads.apis.mockClear(); reads.clients.mockClear(); reads.grants.mockClear();
    for (let i = 0; i < 5; i++) {
      expect((await f.token({ audience: 'https://missing.example/' })).status).toBe(403);
      expect((await f.token({ client_id: 'missing-client' })).status).toBe(401);
    }
    expect(total()).toBe(0);
  });

  describe('a Management write is honoured by the very next token request', () => {
    it('PATCH the grant scope', async () => {
      const f = await setup(s);
      expect((await f.token({ scope: 'write:orders' })).status).toBe(200);
      expect((await s.api('PATCH', `/client-grants/${f.grantId}`, { scope: ['read:orders'] })).status).toBe(200);
      const r = await f.token({ scope: 'write:orders' });
      expect(r.status).toBe(403);
      expect(r.body).toEqual({ error: 'access_denied', error_description: 'Client has not been granted scopes: write:orders' });
      expect(reads.grants).toHaveBeenCalled();
    });

    it('DELETE the grant', async () => {
      const f = await setup(s);
      expect((await f.token()).status).toBe(200);
      expect((await s.api('DELETE', `/client-grants/${f.grantId}`)).status).toBe(204);
      const r = await f.token();
      expect(r.status).toBe(403);
      expect(r.body.error_description).toBe(`Client "${f.clientId}" is not authorized to access resource server "${f.identifier}". You need to create a "client-grant" associated to this API.`);
    });

    it('rotate the client secret', async () => {
      const f = await setup(s);
      expect((await f.token()).status).toBe(200);
      const rotated = await s.api('POST', `/clients/${f.clientId}/rotate-secret`);
      expect(rotated.status).toBe(200);
      expect((await f.token()).status).toBe(401);
      expect((await f.token({ client_secret: rotated.body.client_secret })).status).toBe(200);
    });

    it('remove client_credentials from the client grant_types', async () => {
      const f = await setup(s);
      expect((await f.token()).status).toBe(200);
      expect((await s.api('PATCH', `/clients/${f.clientId}`, { grant_types: ['authorization_code'] })).status).toBe(200);
      const r = await f.token();
      expect(r.status).toBe(403);
      expect(r.body.error).toBe('unauthorized_client');
    });

    it('delete the client', async () => {
      const f = await setup(s);
      expect((await f.token()).status).toBe(200);
      expect((await s.api('DELETE', `/clients/${f.clientId}`)).status).toBe(204);
      expect((await f.token()).body).toEqual({ error: 'access_denied', error_description: 'Unauthorized' });
    });

    it('switch the API to deny_all M2M access, then delete it', async () => {
      const f = await setup(s);
      expect((await f.token()).status).toBe(200);
      const id = encodeURIComponent(f.identifier);
      expect((await s.api('PATCH', `/resource-servers/${id}`, { subject_type_authorization: { client: { policy: 'deny_all' } } })).status).toBe(200);
      expect((await f.token()).status).toBe(403);
      expect((await s.api('DELETE', `/resource-servers/${id}`)).status).toBe(204);
      expect((await f.token()).body).toEqual({ error: 'access_denied', error_description: `Service not enabled within domain: ${f.identifier}` });
    });
  });

  describe('a second instance on the same database', () => {
    let other: Tessera;
    beforeAll(async () => {
      other = await createTessera(loadConfig({
        TESSERA_DATABASE_URL: s.db.url, TESSERA_PUBLIC_URL: PUBLIC_URL, TESSERA_ADMIN_CLIENT_ID: ADMIN_ID,
        TESSERA_ADMIN_CLIENT_SECRET: ADMIN_SECRET, TESSERA_MASTER_KEY: masterKey, TESSERA_LOG_LEVEL: 'silent',
      }), { logger: createLogger('silent'), clock: s.clock });
    });
    afterAll(async () => { await other?.close(); });

    it('drops its cached grant shortly after the grant changed elsewhere', async () => {
      const f = await setup(s);
      const viaOther = async (scope: string) => {
        const res = await other.app.inject({
          method: 'POST', url: '/oauth/token', headers: { 'content-type': 'application/x-www-form-urlencoded' },
          payload: new URLSearchParams({ grant_type: 'client_credentials', client_id: f.clientId, client_secret: f.secret, audience: f.identifier, scope }).toString(),
        });
        return res.statusCode;
      };
      expect(await viaOther('write:orders')).toBe(200); // cached in the other instance now
      expect((await s.api('PATCH', `/client-grants/${f.grantId}`, { scope: ['read:orders'] })).status).toBe(200);
      let status = 200;
      for (let i = 0; i < 40 && status === 200; i++) {
        await new Promise((r) => setTimeout(r, 50));
        status = await viaOther('write:orders');
      }
      expect(status).toBe(403);
      expect(await viaOther('read:orders')).toBe(200);
    });
  });
});
