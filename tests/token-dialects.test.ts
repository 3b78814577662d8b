import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eachDialect, startTessera, type TestServer } from './helpers/tessera';

const ISSUER = 'https://tessera.test/';
const DIALECTS = ['access_token', 'access_token_authz', 'rfc9068_profile', 'rfc9068_profile_authz'] as const;
const ALGS = ['RS256', 'RS512', 'PS256', 'HS256'] as const;
let seq = 0;

/** Fixture: an API in the given dialect and algorithm with a client granted two of its three scopes. */
async function setup(s: TestServer, api: { token_dialect: string; signing_alg: string; token_lifetime?: number }, grantScope = ['read:orders', 'write:orders']) {
  const identifier = `https://dialect-${++seq}.example/`;
  const created = await s.api('POST', '/resource-servers', { identifier, scopes: [{ value: 'read:orders' }, { value: 'write:orders' }, { value: 'delete:orders' }], enforce_policies: api.token_dialect.endsWith('_authz'), ...api });
  expect(created.status).toBe(201);
  const client = await s.api('POST', '/clients', { name: `Dialect ${seq}`, app_type: 'non_interactive', grant_types: ['client_credentials'] });
  expect((await s.api('POST', '/client-grants', { client_id: client.body.client_id, audience: identifier, scope: grantScope })).status).toBe(201);
  const r = await s.token({ grant_type: 'client_credentials', client_id: client.body.client_id, client_secret: client.body.client_secret, audience: identifier });
  expect(r.status).toBe(200);
  return { identifier, clientId: client.body.client_id as string, secret: created.body.signing_secret as string | undefined, token: r.body.access_token as string, response: r.body };
}

function expectedClaims(dialect: string, clientId: string, audience: string, scope?: string[]) {
  const claims: Record<string, unknown> = {
    iss: ISSUER, sub: `${clientId}@clients`, aud: audience, iat: expect.any(Number), exp: expect.any(Number),
  };
  if (scope && scope.length > 0) claims.scope = scope.join(' ');
  if (dialect.startsWith('rfc9068')) Object.assign(claims, { client_id: clientId, jti: expect.stringMatching(/^[\w-]{16,}$/) });
  else Object.assign(claims, { gty: 'client-credentials', azp: clientId });
  if (dialect.endsWith('_authz')) claims.permissions = scope ?? [];
  return claims;
}

eachDialect('access token format by token_dialect and signing_alg (contract §7.5)', (dialect) => {
  let s: TestServer;
  let jwks: JSONWebKeySet;
  let currentKid: string;
  let nextKid: string;
  beforeAll(async () => {
    s = await startTessera(dialect);
    const res = await s.t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' });
    jwks = res.json();
    const keys = (await s.api('GET', '/keys/signing')).body as Array<{ kid: string; current?: boolean; next?: boolean }>;
    currentKid = keys.find((k) => k.current)!.kid;
    nextKid = keys.find((k) => k.next)!.kid;
  });
  afterAll(async () => { await s.close(); });

  for (const tokenDialect of DIALECTS) {
    describe(tokenDialect, () => {
      for (const alg of ALGS) {
        it(`${alg}: exact header and claims, and the signature verifies`, async () => {
          const f = await setup(s, { token_dialect: tokenDialect, signing_alg: alg, token_lifetime: 7200 });
          const rfc9068 = tokenDialect.startsWith('rfc9068');
          const typ = rfc9068 ? 'at+jwt' : 'JWT';
          expect(decodeProtectedHeader(f.token)).toEqual(alg === 'HS256' ? { alg, typ } : { alg, typ, kid: currentKid });
          const key = alg === 'HS256' ? new TextEncoder().encode(f.secret!) : createLocalJWKSet(jwks);
          const { payload } = await jwtVerify(f.token, key as Parameters<typeof jwtVerify>[1], {
            algorithms: [alg], issuer: ISSUER, audience: f.identifier, typ, currentDate: new Date(s.clock.now()),
          });
          expect(payload).toEqual(expectedClaims(tokenDialect, f.clientId, f.identifier, ['read:orders', 'write:orders']));
          expect(payload.exp! - payload.iat!).toBe(7200);
          expect(payload.iat).toBe(Math.floor(s.clock.now() / 1000));
          expect(f.response.expires_in).toBe(7200);
        });
      }

      it('without granted scopes: no scope claim' + (tokenDialect.endsWith('_authz') ? ', empty permissions' : ''), async () => {
        const f = await setup(s, { token_dialect: tokenDialect, signing_alg: 'RS256' }, []);
        const { payload } = await jwtVerify(f.token, createLocalJWKSet(jwks), { issuer: ISSUER, audience: f.identifier, currentDate: new Date(s.clock.now()) });
        expect(payload).toEqual(expectedClaims(tokenDialect, f.clientId, f.identifier));
        expect(payload.exp! - payload.iat!).toBe(86400);
      });
    });
  }

  it('rfc9068 tokens get a fresh jti each time', async () => {
    const a = await setup(s, { token_dialect: 'rfc9068_profile', signing_alg: 'RS256' });
    const b = await setup(s, { token_dialect: 'rfc9068_profile', signing_alg: 'RS256' });
    const jti = (t: string) => JSON.parse(Buffer.from(t.split('.')[1], 'base64url').toString()).jti;
    expect(jti(a.token)).not.toBe(jti(b.token));
  });

  it('an HS256 token does not verify with another API\'s secret, nor as RS256 against the JWKS', async () => {
    const a = await setup(s, { token_dialect: 'access_token', signing_alg: 'HS256' });
    const b = await setup(s, { token_dialect: 'access_token', signing_alg: 'HS256' });
    await expect(jwtVerify(a.token, new TextEncoder().encode(b.secret!), { algorithms: ['HS256'] })).rejects.toThrow(/signature verification failed/);
    await expect(jwtVerify(a.token, createLocalJWKSet(jwks), { algorithms: ['RS256'] })).rejects.toThrow();
  });

  describe('GET /.well-known/jwks.json', () => {
    it('publishes the current and next keys, public parts only and without alg', async () => {
      const res = await s.t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
      const body = res.json() as { keys: Array<Record<string, unknown>> };
      expect(body.keys.map((k) => k.kid).sort()).toEqual([currentKid, nextKid].sort());
      for (const k of body.keys) {
        expect(Object.keys(k).sort()).toEqual(['e', 'kid', 'kty', 'n', 'use', 'x5c', 'x5t']);
        expect(k).toMatchObject({ kty: 'RSA', use: 'sig', e: 'AQAB' });
        expect(Buffer.from(k.n as string, 'base64url').length).toBeGreaterThanOrEqual(256);
        expect(k.x5c).toEqual([expect.stringMatching(/^[A-Za-z0-9+/]+=*$/)]);
      }
    });

    it('matches the certificates served by the Management API', async () => {
      const keys = (await s.api('GET', '/keys/signing')).body as Array<{ kid: string; cert: string }>;
      const body = (await s.t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json() as { keys: Array<{ kid: string; x5c: string[] }> };
      for (const k of body.keys) {
        const pem = keys.find((x) => x.kid === k.kid)!.cert;
        expect(pem.replace(/-----[A-Z ]+-----|\s/g, '')).toBe(k.x5c[0]);
      }
    });
  });
});
