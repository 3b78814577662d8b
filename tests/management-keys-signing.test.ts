import { X509Certificate } from 'node:crypto';
import { decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ADMIN_ID, ADMIN_SECRET, eachDialect, MGMT_AUDIENCE, startTessera, type TestServer } from './helpers/tessera';
import { managementToken } from './helpers/management';

const PRIVATE_NAMES = new Set(['d', 'p', 'q', 'dp', 'dq', 'qi', 'privateKey', 'private_key', 'privateKeyPkcs8', 'pkcs8', 'secret', 'key']);

/** No key anywhere in the body may carry private material, and no PEM private key may appear at all. */
function assertPublicOnly(body: unknown): void {
  expect(JSON.stringify(body)).not.toMatch(/PRIVATE KEY/);
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) { v.forEach(walk); return; }
    if (v && typeof v === 'object') {
      for (const [k, child] of Object.entries(v)) {
        expect(PRIVATE_NAMES.has(k), `private-looking key "${k}"`).toBe(false);
        walk(child);
      }
    }
  };
  walk(body);
}

const KEY_FIELDS = ['cert', 'current', 'current_since', 'current_until', 'fingerprint', 'kid', 'next', 'previous', 'revoked', 'revoked_at', 'thumbprint'];

eachDialect('management: keys/signing', (dialect) => {
  let s: TestServer;
  beforeAll(async () => { s = await startTessera(dialect); });
  afterAll(async () => { await s.close(); });

  /** A fresh admin token (the cached one dies when its key is revoked). */
  const fresh = async () => {
    const r = await s.token({ grant_type: 'client_credentials', client_id: ADMIN_ID, client_secret: ADMIN_SECRET, audience: MGMT_AUDIENCE });
    expect(r.status).toBe(200);
    return r.body.access_token as string;
  };
  const list = async (token?: string) => {
    const r = await s.api('GET', '/keys/signing', undefined, token ? { token } : {});
    expect(r.status).toBe(200);
    assertPublicOnly(r.body);
    return r.body as Array<Record<string, any>>;
  };

  it('first start: a current and a next key, public material only, with consistent fingerprints', async () => {
    const keys = await list();
    expect(keys).toHaveLength(2);
    const [current, next] = keys;
    expect(current).toMatchObject({ current: true });
    expect(next).toMatchObject({ next: true });
    expect('current' in next).toBe(false);
    for (const k of keys) {
      for (const key of Object.keys(k)) expect(KEY_FIELDS).toContain(key);
      expect(k.kid).toMatch(/^[A-Za-z0-9]{21}$/);
      expect(k.cert).toMatch(/^-----BEGIN CERTIFICATE-----\n/);
      const x = new X509Certificate(k.cert);
      expect(k.fingerprint).toBe(x.fingerprint);
      expect(k.thumbprint).toBe(x.fingerprint.replace(/:/g, '').toLowerCase());
    }
    expect(new Date(current.current_since).toISOString()).toBe(current.current_since);
    // the Management token in use was signed by the current key
    expect(decodeProtectedHeader(await s.adminToken()).kid).toBe(current.kid);
  });

  it('GET /keys/signing/{kid} returns that key; an unknown kid → 404', async () => {
    const [current] = await list();
    const r = await s.api('GET', `/keys/signing/${current.kid}`);
    expect(r.status).toBe(200);
    expect(r.body).toEqual(current);
    const missing = await s.api('GET', '/keys/signing/nope');
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ statusCode: 404, error: 'Not Found', message: 'Signing key not found.', errorCode: 'inexistent_signing_key' });
  });

  it('rotate needs both create:signing_keys and update:signing_keys', async () => {
    const token = await managementToken(s, ['update:signing_keys']);
    const r = await s.api('POST', '/keys/signing/rotate', undefined, { token });
    expect(r.status).toBe(403);
    expect(r.body).toEqual({ statusCode: 403, error: 'Forbidden', message: 'Insufficient scope, expected all of: create:signing_keys,update:signing_keys', errorCode: 'insufficient_scope' });
    expect(await list()).toHaveLength(2);
  });

  it('rotate → 201 {cert, kid} of the new next key; next becomes current, current becomes previous', async () => {
    const [oldCurrent, oldNext] = await list();
    const r = await s.api('POST', '/keys/signing/rotate');
    expect(r.status).toBe(201);
    expect(Object.keys(r.body).sort()).toEqual(['cert', 'kid']);
    assertPublicOnly(r.body);
    const keys = await list();
    expect(keys).toHaveLength(3);
    expect(keys[0]).toMatchObject({ kid: oldNext.kid, current: true });
    expect(keys[1]).toMatchObject({ kid: r.body.kid, cert: r.body.cert, next: true });
    expect(keys[2]).toMatchObject({ kid: oldCurrent.kid, previous: true });
    expect(typeof keys[2].current_until).toBe('string');
    // new tokens are signed by the promoted key; the old token (previous key) still verifies
    const token = await fresh();
    expect(decodeProtectedHeader(token).kid).toBe(oldNext.kid);
    expect((await s.api('GET', '/keys/signing', undefined, { token })).status).toBe(200);
    expect((await s.api('GET', '/keys/signing')).status).toBe(200);
  });

  it('revoke current or next → 400; revoke previous → 200 {cert, kid}; tokens it signed stop working', async () => {
    const token = await fresh();
    const keys = await list(token);
    const [current, next, previous] = keys;
    for (const k of [current, next]) {
      const r = await s.api('PUT', `/keys/signing/${k.kid}/revoke`, undefined, { token });
      expect(r.status).toBe(400);
      expect(r.body).toEqual({ statusCode: 400, error: 'Bad Request', message: 'Only previously used signing keys can be revoked; rotate first.', errorCode: 'invalid_operation' });
    }
    const oldToken = await s.adminToken(); // signed by the key about to be revoked
    expect(decodeProtectedHeader(oldToken).kid).toBe(previous.kid);
    const r = await s.api('PUT', `/keys/signing/${previous.kid}/revoke`, undefined, { token });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ cert: previous.cert, kid: previous.kid });
    const after = await list(token);
    expect(after[2]).toMatchObject({ kid: previous.kid, revoked: true, previous: true });
    expect(typeof after[2].revoked_at).toBe('string');
    const denied = await s.api('GET', '/keys/signing', undefined, { token: oldToken });
    expect(denied.status).toBe(401);
    expect(denied.body.message).toBe('Invalid token');
    const jwks = JSON.parse((await s.t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).body) as { keys: Array<{ kid: string }> };
    expect(jwks.keys.map((k) => k.kid)).not.toContain(previous.kid);
    expect(jwks.keys.map((k) => k.kid)).toEqual(expect.arrayContaining([current.kid, next.kid]));
  });

  it('revoking an unknown kid → 404; revoking twice is idempotent', async () => {
    const token = await fresh();
    const missing = await s.api('PUT', '/keys/signing/unknown-kid/revoke', undefined, { token });
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ statusCode: 404, error: 'Not Found', message: 'Signing key not found.', errorCode: 'inexistent_signing_key' });
    const revoked = (await list(token)).find((k) => k.revoked)!;
    const again = await s.api('PUT', `/keys/signing/${revoked.kid}/revoke`, undefined, { token });
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ cert: revoked.cert, kid: revoked.kid });
  });
});
