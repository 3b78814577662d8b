import { randomBytes } from 'node:crypto';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, createTessera, loadConfig, type Tessera } from '@tessera/server';
import { startListening, type ListeningServer } from './helpers/listening';
import { ADMIN_ID, ADMIN_SECRET, eachDialect, MGMT_AUDIENCE, PUBLIC_URL } from './helpers/tessera';

const ISSUER = `${PUBLIC_URL}/`;
const AUDIENCE = 'https://rotation.example/';
const kidOf = (token: string) => decodeProtectedHeader(token).kid;
const masterKey = randomBytes(32).toString('base64');

eachDialect('signing key rotation (contract §7.12)', (dialect) => {
  let l: ListeningServer;
  let jwksUrl: URL;
  let params: Record<string, string>;
  const newToken = async () => {
    const r = await l.s.token(params);
    expect(r.status).toBe(200);
    return r.body.access_token as string;
  };
  const freshAdminToken = async () => (await l.s.token({ grant_type: 'client_credentials', client_id: ADMIN_ID, client_secret: ADMIN_SECRET, audience: MGMT_AUDIENCE })).body.access_token as string;
  const verify = (token: string, set = createRemoteJWKSet(jwksUrl)) => jwtVerify(token, set, { issuer: ISSUER, audience: AUDIENCE, algorithms: ['RS256', 'PS256'] });

  beforeAll(async () => {
    l = await startListening(dialect, { publicUrl: PUBLIC_URL, masterKey });
    jwksUrl = new URL(`${l.origin}/.well-known/jwks.json`);
    expect((await l.mgmt('POST', '/resource-servers', { identifier: AUDIENCE, signing_alg: 'PS256' })).status).toBe(201);
    const c = await l.mgmt('POST', '/clients', { name: 'Rotator', app_type: 'non_interactive', grant_types: ['client_credentials'] });
    expect((await l.mgmt('POST', '/client-grants', { client_id: c.body.client_id, audience: AUDIENCE, scope: [] })).status).toBe(201);
    params = { grant_type: 'client_credentials', client_id: c.body.client_id, client_secret: c.body.client_secret, audience: AUDIENCE };
  });
  afterAll(async () => { await l.close(); });

  it('rotate → revoke: old tokens verify until the old key is revoked, new tokens use the promoted key', async () => {
    const before = (await l.mgmt('GET', '/keys/signing')).body as Array<{ kid: string; cert: string; current?: boolean; next?: boolean }>;
    const k1 = before.find((k) => k.current)!.kid;
    const k2 = before.find((k) => k.next)!.kid;
    const cachedSet = createRemoteJWKSet(jwksUrl);
    const oldToken = await newToken();
    expect(kidOf(oldToken)).toBe(k1);
    await verify(oldToken, cachedSet);

    const rotated = await l.mgmt('POST', '/keys/signing/rotate');
    expect(rotated.status).toBe(201);
    expect(rotated.body).toEqual({ cert: expect.stringContaining('-----BEGIN CERTIFICATE-----'), kid: expect.any(String) });
    const k3 = rotated.body.kid as string;
    expect([k1, k2]).not.toContain(k3);

    const keys = (await l.mgmt('GET', '/keys/signing')).body as Array<Record<string, unknown>>;
    expect(keys.find((k) => k.kid === k2)).toMatchObject({ current: true });
    expect(keys.find((k) => k.kid === k1)).toMatchObject({ previous: true });
    expect(keys.find((k) => k.kid === k3)).toMatchObject({ next: true });
    const published = (await (await fetch(jwksUrl)).json()) as { keys: Array<{ kid: string }> };
    expect(published.keys.map((k) => k.kid).sort()).toEqual([k1, k2, k3].sort());

    await verify(oldToken, cachedSet);
    await verify(oldToken);
    const promoted = await newToken();
    expect(kidOf(promoted)).toBe(k2);
    await verify(promoted, cachedSet); // the next key was published before it signed anything
    expect((await l.mgmt('GET', '/keys/signing')).status).toBe(200); // Management token signed by k1 still accepted

    const revoked = await l.mgmt('PUT', `/keys/signing/${k1}/revoke`);
    expect(revoked.status).toBe(200);
    expect(revoked.body).toEqual({ cert: before.find((k) => k.kid === k1)!.cert, kid: k1 });
    const after = (await (await fetch(jwksUrl)).json()) as { keys: Array<{ kid: string }> };
    expect(after.keys.map((k) => k.kid).sort()).toEqual([k2, k3].sort());
    await expect(verify(oldToken)).rejects.toMatchObject({ code: 'ERR_JWKS_NO_MATCHING_KEY' });
    await verify(promoted);

    const stale = await l.mgmt('GET', '/keys/signing'); // l.mgmt's cached token was signed by k1
    expect(stale.status).toBe(401);
    const fresh = await l.s.api('GET', `/keys/signing/${k1}`, undefined, { token: await freshAdminToken() });
    expect(fresh.status).toBe(200);
    expect(fresh.body).toMatchObject({ kid: k1, revoked: true, revoked_at: expect.any(String) });
  });

  describe('refusals', () => {
    it('revoking the current or next key is a 400; an unknown kid is a 404', async () => {
      const token = await freshAdminToken();
      const keys = (await l.s.api('GET', '/keys/signing', undefined, { token })).body as Array<{ kid: string; current?: boolean; next?: boolean }>;
      for (const k of keys.filter((x) => x.current || x.next)) {
        const r = await l.s.api('PUT', `/keys/signing/${k.kid}/revoke`, undefined, { token });
        expect(r.status).toBe(400);
        expect(r.body).toEqual({ statusCode: 400, error: 'Bad Request', message: 'Only previously used signing keys can be revoked; rotate first.', errorCode: 'invalid_operation' });
      }
      const missing = await l.s.api('PUT', '/keys/signing/nope/revoke', undefined, { token });
      expect(missing.status).toBe(404);
      expect(missing.body).toEqual({ statusCode: 404, error: 'Not Found', message: 'Signing key not found.', errorCode: 'inexistent_signing_key' });
    });
  });

  describe('a second instance on the same database', () => {
    let other: Tessera;
    beforeAll(async () => {
      other = await createTessera(loadConfig({
        TESSERA_DATABASE_URL: l.s.db.url, TESSERA_PUBLIC_URL: PUBLIC_URL, TESSERA_ADMIN_CLIENT_ID: ADMIN_ID,
        TESSERA_ADMIN_CLIENT_SECRET: ADMIN_SECRET, TESSERA_MASTER_KEY: masterKey, TESSERA_LOG_LEVEL: 'silent',
      }), { logger: createLogger('silent'), clock: l.s.clock });
    });
    afterAll(async () => { await other?.close(); });

    it('signs with the promoted key shortly after a rotation made elsewhere', async () => {
      const otherToken = async () => {
        const res = await other.app.inject({ method: 'POST', url: '/oauth/token', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams(params).toString() });
        expect(res.statusCode).toBe(200);
        return res.json().access_token as string;
      };
      const token = await freshAdminToken();
      expect(kidOf(await otherToken())).toBe(kidOf(await newToken()));
      const rotated = await l.s.api('POST', '/keys/signing/rotate', undefined, { token });
      expect(rotated.status).toBe(201);
      const promoted = kidOf(await newToken());
      let seen: string | undefined;
      for (let i = 0; i < 40 && seen !== promoted; i++) {
        await new Promise((r) => setTimeout(r, 50));
        seen = kidOf(await otherToken());
      }
      expect(seen).toBe(promoted);
      const body = JSON.parse((await other.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).body) as { keys: Array<{ kid: string }> };
      expect(body.keys.map((k) => k.kid)).toContain(rotated.body.kid);
    });
  });
});
