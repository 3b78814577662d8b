import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, createTessera, loadConfig, type Tessera } from '@tessera/server';
import { ADMIN_ID, ADMIN_SECRET, PUBLIC_URL, eachDialect, startTessera, type TestServer } from './helpers/tessera';

/**
 * Two Tessera instances on one database (as behind a load balancer): a Management write through
 * instance A must reach instance B's token-endpoint caches within 1 s, without restarting B.
 */
eachDialect('cross-instance cache invalidation', (dialect) => {
  const AUDIENCE = 'https://orders.cross-instance.test';
  const masterKey = randomBytes(32).toString('base64');
  let a: TestServer;
  let b: Tessera;
  let client: { client_id: string; client_secret: string };
  let grantId: string;

  /** POST /oauth/token on instance B (the one that did not see the write). */
  async function tokenFromB(secret = client.client_secret) {
    const res = await b.app.inject({
      method: 'POST', url: '/oauth/token', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ grant_type: 'client_credentials', client_id: client.client_id, client_secret: secret, audience: AUDIENCE }).toString(),
    });
    return { status: res.statusCode, body: JSON.parse(res.body) as Record<string, unknown> };
  }

  /** Polls B every 50 ms for up to 1 s until `done`; returns the last response and how long it took. */
  async function pollB(done: (r: { status: number }) => boolean, secret?: string) {
    const started = Date.now();
    let last = await tokenFromB(secret);
    while (!done(last) && Date.now() - started < 1000) {
      await new Promise((r) => setTimeout(r, 50));
      last = await tokenFromB(secret);
    }
    return { last, ms: Date.now() - started };
  }

  beforeAll(async () => {
    a = await startTessera(dialect, { masterKey });
    b = await createTessera(loadConfig({
      TESSERA_DATABASE_URL: a.db.url, TESSERA_PUBLIC_URL: PUBLIC_URL, TESSERA_PORT: '0',
      TESSERA_ADMIN_CLIENT_ID: ADMIN_ID, TESSERA_ADMIN_CLIENT_SECRET: ADMIN_SECRET, TESSERA_MASTER_KEY: masterKey, TESSERA_LOG_LEVEL: 'silent',
    }), { clock: a.clock, logger: createLogger('silent') });
    expect((await a.api('POST', '/resource-servers', { identifier: AUDIENCE, name: 'Orders', scopes: [{ value: 'read:orders', description: 'Read' }] })).status).toBe(201);
    const c = await a.api('POST', '/clients', { name: 'Worker', app_type: 'non_interactive', grant_types: ['client_credentials'] });
    expect(c.status).toBe(201);
    client = { client_id: c.body.client_id, client_secret: c.body.client_secret };
  });

  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  describe('with B\'s caches warm', () => {
    it('B issues a token for a grant created through A', async () => {
      const g = await a.api('POST', '/client-grants', { client_id: client.client_id, audience: AUDIENCE, scope: ['read:orders'] });
      expect(g.status).toBe(201);
      grantId = g.body.id;
      const { last } = await pollB((r) => r.status === 200);
      expect(last.status).toBe(200);
      expect(last.body).toMatchObject({ token_type: 'Bearer', scope: 'read:orders', expires_in: 86400 });
      // B now has the client, the API and the grant cached.
      expect((await tokenFromB()).status).toBe(200);
    });

    it('B refuses the token within 1 s after the grant is revoked through A', async () => {
      expect((await a.api('DELETE', `/client-grants/${grantId}`)).status).toBe(204);
      const { last, ms } = await pollB((r) => r.status !== 200);
      expect(last).toEqual({
        status: 403,
        body: {
          error: 'access_denied',
          error_description: `Client "${client.client_id}" is not authorized to access resource server "${AUDIENCE}". You need to create a "client-grant" associated to this API.`,
        },
      });
      expect(ms).toBeLessThanOrEqual(1000);
    });

    it('B refuses the old secret within 1 s after A rotates it, and accepts the new one', async () => {
      expect((await a.api('POST', '/client-grants', { client_id: client.client_id, audience: AUDIENCE, scope: ['read:orders'] })).status).toBe(201);
      expect((await pollB((r) => r.status === 200)).last.status).toBe(200);
      const rotated = await a.api('POST', `/clients/${client.client_id}/rotate-secret`);
      expect(rotated.status).toBe(200);
      const old = client.client_secret;
      const { last, ms } = await pollB((r) => r.status !== 200, old);
      expect(last).toEqual({ status: 401, body: { error: 'access_denied', error_description: 'Unauthorized' } });
      expect(ms).toBeLessThanOrEqual(1000);
      client = { ...client, client_secret: rotated.body.client_secret };
      expect((await tokenFromB()).status).toBe(200);
    });

    it('B stops issuing for an API within 1 s after A deletes it', async () => {
      const rs = await a.api('GET', `/resource-servers/${encodeURIComponent(AUDIENCE)}`);
      expect((await a.api('DELETE', `/resource-servers/${rs.body.id}`)).status).toBe(204);
      const { last, ms } = await pollB((r) => r.status !== 200);
      expect(last).toEqual({ status: 403, body: { error: 'access_denied', error_description: `Service not enabled within domain: ${AUDIENCE}` } });
      expect(ms).toBeLessThanOrEqual(1000);
    });
  });
});
