import { generateKeyPairSync } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, SignJWT, UnsecuredJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eachDialect, MGMT_AUDIENCE, PUBLIC_URL, startTessera, type TestServer } from './helpers/tessera';
import { createApi, createM2mClient, managementToken } from './helpers/management';

const unauthorized = (message: string, errorCode: string) => ({ statusCode: 401, error: 'Unauthorized', message, errorCode, attributes: { error: message } });
const INVALID = unauthorized('Invalid token', 'invalid_token');
const ISSUER = `${PUBLIC_URL}/`;

eachDialect('management: authentication and scopes', (dialect) => {
  let s: TestServer;
  beforeAll(async () => { s = await startTessera(dialect); });
  afterAll(async () => { await s.close(); });

  const call = (authorization?: string) => s.t.app.inject({ method: 'GET', url: '/api/v2/resource-servers', headers: authorization ? { authorization } : {} })
    .then((r) => ({ status: r.statusCode, body: JSON.parse(r.body), headers: r.headers }));

  /** Claims of a genuine admin token, to forge look-alikes from. */
  const genuineClaims = async () => decodeJwt(await s.adminToken());

  describe('401', () => {
    it('no Authorization header → "Missing authentication" with a WWW-Authenticate challenge', async () => {
      const r = await call();
      expect(r.status).toBe(401);
      expect(r.body).toEqual(unauthorized('Missing authentication', 'missing_authentication'));
      expect(r.headers['www-authenticate']).toBe('Bearer'); // RFC 6750 §3.1: no error code without credentials
      expect(r.headers['content-type']).toBe('application/json; charset=utf-8');
    });

    it('a non-Bearer scheme → 401', async () => {
      const r = await call('Basic dXNlcjpwYXNz');
      expect(r.status).toBe(401);
      expect(r.body).toEqual(unauthorized('Bad HTTP authentication header format', 'invalid_authorization_header'));
    });

    it.each(['garbage', 'a.b.c', 'eyJhbGciOiJSUzI1NiJ9.e30.'])('garbage token %s → "Invalid token"', async (token) => {
      const r = await call(`Bearer ${token}`);
      expect(r.status).toBe(401);
      expect(r.body).toEqual(INVALID);
      expect(r.headers['www-authenticate']).toMatch(/^Bearer error="invalid_token"/);
    });

    it('an unsigned alg:none token with genuine claims → "Invalid token"', async () => {
      const token = new UnsecuredJWT(await genuineClaims()).encode();
      expect(decodeProtectedHeader(token).alg).toBe('none');
      expect((await call(`Bearer ${token}`)).body).toEqual(INVALID);
    });

    it('an HS256 token signed with the admin client secret (algorithm confusion) → "Invalid token"', async () => {
      const kid = decodeProtectedHeader(await s.adminToken()).kid as string;
      const token = await new SignJWT(await genuineClaims()).setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid })
        .sign(new TextEncoder().encode('test-admin-secret-0123456789abcdef'));
      expect((await call(`Bearer ${token}`)).body).toEqual(INVALID);
    });

    it('an RS256 token from a foreign key claiming the tenant kid → "Invalid token"', async () => {
      const kid = decodeProtectedHeader(await s.adminToken()).kid as string;
      const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const token = await new SignJWT(await genuineClaims()).setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid }).sign(privateKey);
      expect((await call(`Bearer ${token}`)).body).toEqual(INVALID);
    });

    it('a genuine token with one byte of the signature changed → "Invalid token"', async () => {
      const t = await s.adminToken();
      const sig = t.split('.')[2];
      const flipped = `${t.slice(0, t.length - sig.length)}${sig[0] === 'A' ? 'B' : 'A'}${sig.slice(1)}`;
      expect((await call(`Bearer ${flipped}`)).body).toEqual(INVALID);
    });

    it('a tenant-signed token for another API → 401 "Bad audience: <aud>"', async () => {
      const api = await createApi(s, { scopes: [{ value: 'read:resource_servers' }] });
      const c = await createM2mClient(s);
      await s.api('POST', '/client-grants', { client_id: c.client_id, audience: api.identifier, scope: ['read:resource_servers'] });
      const t = await s.token({ grant_type: 'client_credentials', client_id: c.client_id, client_secret: c.client_secret, audience: api.identifier });
      expect(t.status).toBe(200);
      const r = await call(`Bearer ${t.body.access_token}`);
      expect(r.status).toBe(401);
      expect(r.body).toEqual(unauthorized(`Bad audience: ${api.identifier}`, 'invalid_token'));
    });

    it('a tenant-signed token with another issuer → 401', async () => {
      const { minter } = s.t.services;
      const mgmt = (await s.api('GET', `/resource-servers/${encodeURIComponent(MGMT_AUDIENCE)}`)).body;
      const { token, claims } = await minter.mint(mgmt, { sub: 'x@clients', clientId: 'x', scopes: ['read:resource_servers'], extra: { iss: 'https://evil.example.com/' } });
      expect(claims.iss).toBe('https://evil.example.com/');
      const r = await call(`Bearer ${token}`);
      expect(r.status).toBe(401);
      expect(r.body).toEqual(unauthorized('Bad issuer: https://evil.example.com/', 'invalid_token'));
      const ok = await minter.mint(mgmt, { sub: 'x@clients', clientId: 'x', scopes: ['read:resource_servers'] });
      expect(decodeJwt(ok.token).iss).toBe(ISSUER);
      expect((await call(`Bearer ${ok.token}`)).status).toBe(200);
    });
  });

  describe('403 insufficient_scope', () => {
    it('exact Auth0 body for a token without read:resource_servers', async () => {
      const token = await managementToken(s, ['read:clients']);
      const r = await call(`Bearer ${token}`);
      expect(r.status).toBe(403);
      expect(r.body).toEqual({ statusCode: 403, error: 'Forbidden', message: 'Insufficient scope, expected any of: read:resource_servers', errorCode: 'insufficient_scope' });
    });

    it('a token with no scope at all → 403', async () => {
      const token = await managementToken(s, []);
      expect(decodeJwt(token).scope).toBeUndefined();
      expect((await call(`Bearer ${token}`)).status).toBe(403);
    });

    const routes: Array<[string, string, string[], unknown?]> = [
      ['GET', '/resource-servers', ['read:resource_servers']],
      ['GET', '/resource-servers/x', ['read:resource_servers']],
      ['POST', '/resource-servers', ['create:resource_servers'], { identifier: 'urn:scope:test' }],
      ['PATCH', '/resource-servers/x', ['update:resource_servers'], {}],
      ['DELETE', '/resource-servers/x', ['delete:resource_servers']],
      ['GET', '/clients', ['read:clients', 'read:client_keys', 'read:client_credentials', 'read:client_summary']],
      ['GET', '/clients/x', ['read:clients', 'read:client_keys', 'read:client_credentials', 'read:client_summary']],
      ['POST', '/clients', ['create:clients'], { name: 'scoped' }],
      ['PATCH', '/clients/x', ['update:clients', 'update:client_keys', 'update:client_credentials', 'update:client_token_vault_privileged_access'], {}],
      ['DELETE', '/clients/x', ['delete:clients']],
      ['POST', '/clients/x/rotate-secret', ['update:client_keys']],
      ['GET', '/client-grants', ['read:client_grants']],
      ['GET', '/client-grants/x', ['read:client_grants']],
      ['POST', '/client-grants', ['create:client_grants'], { client_id: 'x', audience: 'y' }],
      ['PATCH', '/client-grants/x', ['update:client_grants'], { scope: [] }],
      ['DELETE', '/client-grants/x', ['delete:client_grants']],
      ['GET', '/keys/signing', ['read:signing_keys']],
      ['GET', '/keys/signing/x', ['read:signing_keys']],
      ['PUT', '/keys/signing/x/revoke', ['update:signing_keys']],
    ];
    let wrong: string;
    let right: Map<string, string>;
    beforeAll(async () => {
      wrong = await managementToken(s, ['read:users']);
      right = new Map();
      for (const scope of new Set(routes.map(([, , scopes]) => scopes[0]))) right.set(scope, await managementToken(s, [scope]));
    });

    it.each(routes)('%s %s: 403 listing %j without the scope, past the scope check with it', async (method, path, scopes, body) => {
      const denied = await s.api(method, path, body, { token: wrong });
      expect(denied.status).toBe(403);
      expect(denied.body).toEqual({ statusCode: 403, error: 'Forbidden', message: `Insufficient scope, expected any of: ${scopes.join(',')}`, errorCode: 'insufficient_scope' });
      const allowed = await s.api(method, path, body, { token: right.get(scopes[0]) });
      expect(allowed.status).not.toBe(401);
      expect(allowed.status).not.toBe(403);
      expect(allowed.status).toBeLessThan(500);
    });

    it('the scope check happens before the body is read (403, not 400, for a bad body)', async () => {
      const r = await s.api('POST', '/resource-servers', { nonsense: true }, { token: wrong });
      expect(r.status).toBe(403);
    });
  });
});

eachDialect('management: token expiry', (dialect) => {
  let s: TestServer;
  beforeAll(async () => { s = await startTessera(dialect); });
  afterAll(async () => { await s.close(); });

  it('a token past its exp → 401 "Expired token received for JSON Web Token validation"', async () => {
    const token = await s.adminToken();
    expect((await s.api('GET', '/resource-servers', undefined, { token })).status).toBe(200);
    s.clock.advance(86400 - 5);
    expect((await s.api('GET', '/resource-servers', undefined, { token })).status).toBe(200);
    s.clock.advance(10);
    const r = await s.api('GET', '/resource-servers', undefined, { token });
    expect(r.status).toBe(401);
    const message = 'Expired token received for JSON Web Token validation';
    expect(r.body).toEqual({ statusCode: 401, error: 'Unauthorized', message, errorCode: 'token_expired', attributes: { error: message } });
  });
});
