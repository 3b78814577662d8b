import { randomUUID } from 'node:crypto';
import { decodeJwt, exportSPKI, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eachDialect, startTessera, type TestServer } from './helpers/tessera';

const ISSUER = 'https://tessera.test/';
const UNAUTHORIZED = { error: 'access_denied', error_description: 'Unauthorized' };
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
type SigningKey = Parameters<SignJWT['sign']>[0];

/** Fixture: one API, one M2M client with a grant for read:orders. */
async function m2m(s: TestServer, identifier: string) {
  const api = await s.api('POST', '/resource-servers', { identifier, name: identifier, scopes: [{ value: 'read:orders' }, { value: 'write:orders' }] });
  expect(api.status).toBe(201);
  const client = await s.api('POST', '/clients', { name: 'Billing worker', app_type: 'non_interactive', grant_types: ['client_credentials'] });
  expect(client.status).toBe(201);
  const grant = await s.api('POST', '/client-grants', { client_id: client.body.client_id, audience: identifier, scope: ['read:orders'] });
  expect(grant.status).toBe(201);
  return { audience: identifier, clientId: client.body.client_id as string, secret: client.body.client_secret as string };
}

/** Basic credentials as RFC 6749 §2.3.1 builds them: form-urlencode each half, then base64. */
function basic(id: string, secret: string): string {
  const enc = (v: string) => new URLSearchParams({ v }).toString().slice(2);
  return `Basic ${Buffer.from(`${enc(id)}:${enc(secret)}`).toString('base64')}`;
}

function assertion(clientId: string, key: SigningKey, o: { jti?: string; aud?: string; exp?: number; iat?: boolean; iss?: string } = {}) {
  const now = Math.floor(Date.now() / 1000);
  const jwt = new SignJWT({}).setProtectedHeader({ alg: 'RS256' }).setIssuer(o.iss ?? clientId).setSubject(clientId)
    .setAudience(o.aud ?? ISSUER).setJti(o.jti ?? randomUUID()).setExpirationTime(o.exp ?? now + 120);
  if (o.iat !== false) jwt.setIssuedAt(now);
  return jwt.sign(key);
}

eachDialect('token endpoint: client authentication', (dialect) => {
  let s: TestServer;
  let f: Awaited<ReturnType<typeof m2m>>;
  beforeAll(async () => { s = await startTessera(dialect); f = await m2m(s, 'https://orders.example/'); });
  afterAll(async () => { await s.close(); });

  const grant = () => ({ grant_type: 'client_credentials', audience: f.audience });

  describe('client_secret_post', () => {
    it('accepts a form-urlencoded body', async () => {
      const r = await s.token({ ...grant(), client_id: f.clientId, client_secret: f.secret });
      expect(r.status).toBe(200);
      expect(r.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(r.headers['cache-control']).toBe('no-store');
      expect(Object.keys(r.body)).toEqual(['access_token', 'scope', 'expires_in', 'token_type']);
      expect(decodeJwt(r.body.access_token).sub).toBe(`${f.clientId}@clients`);
    });

    it('accepts a JSON body', async () => {
      const r = await s.token({ ...grant(), client_id: f.clientId, client_secret: f.secret }, { json: true });
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ access_token: expect.any(String), scope: 'read:orders', expires_in: 86400, token_type: 'Bearer' });
    });

    it('refuses a wrong secret with 401 access_denied "Unauthorized"', async () => {
      const r = await s.token({ ...grant(), client_id: f.clientId, client_secret: `${f.secret}x` });
      expect(r.status).toBe(401);
      expect(r.body).toEqual(UNAUTHORIZED);
      expect(r.headers['cache-control']).toBe('no-store');
      expect(r.headers['www-authenticate']).toBeUndefined();
    });

    it('refuses a missing secret for a confidential client with 401', async () => {
      const r = await s.token({ ...grant(), client_id: f.clientId });
      expect(r.status).toBe(401);
      expect(r.body).toEqual(UNAUTHORIZED);
    });
  });

  describe('client_secret_basic', () => {
    const tricky = 'se:cr+et%41 sp/ce&=?';
    let c: { clientId: string };
    beforeAll(async () => {
      const created = await s.api('POST', '/clients', { name: 'Basic user', app_type: 'non_interactive', grant_types: ['client_credentials'], token_endpoint_auth_method: 'client_secret_basic' });
      c = { clientId: created.body.client_id };
      expect((await s.api('PATCH', `/clients/${c.clientId}`, { client_secret: tricky })).status).toBe(200);
      expect((await s.api('POST', '/client-grants', { client_id: c.clientId, audience: f.audience, scope: ['read:orders'] })).status).toBe(201);
    });

    it('URL-decodes both halves of the Basic header (secret with : + % space)', async () => {
      const r = await s.token(grant(), { headers: { authorization: basic(c.clientId, tricky) } });
      expect(r.status).toBe(200);
      expect(r.body.scope).toBe('read:orders');
      expect(decodeJwt(r.body.access_token).azp).toBe(c.clientId);
    });

    it('accepts Basic with a JSON body and a matching client_id in the body', async () => {
      const r = await s.token({ ...grant(), client_id: c.clientId }, { json: true, headers: { authorization: basic(c.clientId, tricky) } });
      expect(r.status).toBe(200);
    });

    it('treats an un-encoded "+" as a space, so the raw secret does not match (401, Auth0 body, no challenge header)', async () => {
      const raw = `Basic ${Buffer.from(`${c.clientId}:se:cr+et%2541 sp/ce&=?`).toString('base64')}`;
      const r = await s.token(grant(), { headers: { authorization: raw } });
      expect(r.status).toBe(401);
      expect(r.body).toEqual(UNAUTHORIZED);
      expect(r.headers['www-authenticate']).toBeUndefined();
      expect(r.headers['cache-control']).toBe('no-store');
    });

    it('answers an undecodable Basic header with 401', async () => {
      const r = await s.token(grant(), { headers: { authorization: `Basic ${Buffer.from(`${c.clientId}:%zz`).toString('base64')}` } });
      expect(r.status).toBe(401);
      expect(r.body).toEqual(UNAUTHORIZED);
      const noColon = await s.token(grant(), { headers: { authorization: `Basic ${Buffer.from('nocolon').toString('base64')}` } });
      expect(noColon.status).toBe(401);
      expect(noColon.body).toEqual(UNAUTHORIZED);
    });

    it('accepts the same client with client_secret_post too', async () => {
      const r = await s.token({ ...grant(), client_id: c.clientId, client_secret: tricky });
      expect(r.status).toBe(200);
    });

    it('refuses a body client_id that differs from the Basic one', async () => {
      const r = await s.token({ ...grant(), client_id: f.clientId }, { headers: { authorization: basic(c.clientId, tricky) } });
      expect(r.status).toBe(400);
      expect(r.body).toEqual({ error: 'invalid_request', error_description: 'client_id in the body does not match the authenticated client.' });
    });
  });

  describe('private_key_jwt', () => {
    let key: SigningKey;
    let otherKey: SigningKey;
    let clientId: string;
    let credentialId: string;
    beforeAll(async () => {
      const pair = await generateKeyPair('RS256', { extractable: true });
      key = pair.privateKey;
      otherKey = (await generateKeyPair('RS256')).privateKey;
      const created = await s.api('POST', '/clients', { name: 'Key holder', app_type: 'non_interactive', grant_types: ['client_credentials'] });
      clientId = created.body.client_id;
      const patched = await s.api('PATCH', `/clients/${clientId}`, {
        client_authentication_methods: { private_key_jwt: { credentials: [{ credential_type: 'public_key', name: 'k1', pem: await exportSPKI(pair.publicKey), alg: 'RS256' }] } },
      });
      expect(patched.status).toBe(200);
      credentialId = patched.body.client_authentication_methods.private_key_jwt.credentials[0].id;
      expect((await s.api('POST', '/client-grants', { client_id: clientId, audience: f.audience, scope: ['read:orders'] })).status).toBe(201);
    });

    const withAssertion = (a: string, extra: Record<string, string> = {}) =>
      s.token({ ...grant(), client_assertion_type: ASSERTION_TYPE, client_assertion: a, ...extra });

    it('issues a token for an assertion signed with the registered key', async () => {
      const r = await withAssertion(await assertion(clientId, key), { client_id: clientId });
      expect(r.status).toBe(200);
      expect(r.body.scope).toBe('read:orders');
      expect(decodeJwt(r.body.access_token)).toMatchObject({ sub: `${clientId}@clients`, azp: clientId });
    });

    it('refuses the client secret of a client registered for private_key_jwt only, and accepts its assertion', async () => {
      const pair = await generateKeyPair('RS256', { extractable: true });
      const created = await s.api('POST', '/clients', {
        name: 'Key only', app_type: 'non_interactive', grant_types: ['client_credentials'],
        client_authentication_methods: { private_key_jwt: { credentials: [{ credential_type: 'public_key', pem: await exportSPKI(pair.publicKey) }] } },
      });
      expect(created.status).toBe(201);
      expect(created.body.token_endpoint_auth_method).toBeUndefined();
      const id = created.body.client_id;
      expect((await s.api('POST', '/client-grants', { client_id: id, audience: f.audience, scope: ['read:orders'] })).status).toBe(201);
      const bySecret = await s.token({ ...grant(), client_id: id, client_secret: created.body.client_secret });
      expect(bySecret.status).toBe(401);
      expect(bySecret.body).toEqual({ error: 'access_denied', error_description: 'Unauthorized' });
      expect((await withAssertion(await assertion(id, pair.privateKey))).status).toBe(200);
    });

    it('accepts an assertion without iat (optional) sent as JSON', async () => {
      const r = await s.token({ ...grant(), client_assertion_type: ASSERTION_TYPE, client_assertion: await assertion(clientId, key, { iat: false }) }, { json: true });
      expect(r.status).toBe(200);
    });

    it('selects the credential by the kid header (credential id), and refuses an unknown kid with 401', async () => {
      const signed = (kid: string) => new SignJWT({}).setProtectedHeader({ alg: 'RS256', kid }).setIssuer(clientId).setSubject(clientId)
        .setAudience(ISSUER).setJti(randomUUID()).setIssuedAt().setExpirationTime('2m').sign(key);
      expect((await withAssertion(await signed(credentialId))).status).toBe(200);
      const unknown = await withAssertion(await signed('no-such-kid'));
      expect(unknown.status).toBe(401);
      expect(unknown.body).toEqual(UNAUTHORIZED);
    });

    it('refuses a second use of the same jti with 401', async () => {
      const jti = randomUUID();
      expect((await withAssertion(await assertion(clientId, key, { jti }))).status).toBe(200);
      const again = await withAssertion(await assertion(clientId, key, { jti }));
      expect(again.status).toBe(401);
      expect(again.body).toEqual(UNAUTHORIZED);
    });

    it('refuses an assertion signed by another key with 401', async () => {
      const r = await withAssertion(await assertion(clientId, otherKey));
      expect(r.status).toBe(401);
      expect(r.body).toEqual(UNAUTHORIZED);
    });

    it('refuses a wrong audience, a wrong issuer, an expired or a too long-lived assertion with 401', async () => {
      const now = Math.floor(Date.now() / 1000);
      for (const a of [
        await assertion(clientId, key, { aud: 'https://elsewhere.example/' }),
        await assertion(clientId, key, { iss: 'someone-else' }),
        await assertion(clientId, key, { exp: now - 120 }),
        await assertion(clientId, key, { exp: now + 3600 }),
      ]) {
        const r = await withAssertion(a);
        expect(r.status).toBe(401);
        expect(r.body).toEqual(UNAUTHORIZED);
      }
    });

    it('refuses a body client_id that differs from the assertion subject with 401', async () => {
      const r = await withAssertion(await assertion(clientId, key), { client_id: f.clientId });
      expect(r.status).toBe(401);
      expect(r.body).toEqual(UNAUTHORIZED);
    });

    it('refuses an assertion for a client without registered keys with 401', async () => {
      const r = await withAssertion(await assertion(f.clientId, key));
      expect(r.status).toBe(401);
      expect(r.body).toEqual(UNAUTHORIZED);
    });

    it('refuses a wrong client_assertion_type with 400', async () => {
      const r = await s.token({ ...grant(), client_assertion_type: 'urn:example:other', client_assertion: await assertion(clientId, key) });
      expect(r.status).toBe(400);
      expect(r.body).toEqual({ error: 'invalid_request', error_description: `client_assertion_type must be ${ASSERTION_TYPE}` });
    });
  });

  describe('request hygiene', () => {
    const ONE_METHOD = { error: 'invalid_request', error_description: 'Only one client authentication method may be used per request.' };

    it('refuses Basic plus a body secret with 400 invalid_request', async () => {
      const r = await s.token({ ...grant(), client_secret: f.secret }, { headers: { authorization: basic(f.clientId, f.secret) } });
      expect(r.status).toBe(400);
      expect(r.body).toEqual(ONE_METHOD);
      expect(r.headers['cache-control']).toBe('no-store');
    });

    it('refuses a secret plus a client assertion with 400 invalid_request', async () => {
      const { privateKey } = await generateKeyPair('RS256');
      const r = await s.token({ ...grant(), client_id: f.clientId, client_secret: f.secret, client_assertion_type: ASSERTION_TYPE, client_assertion: await assertion(f.clientId, privateKey) });
      expect(r.status).toBe(400);
      expect(r.body).toEqual(ONE_METHOD);
    });

    it('refuses a parameter sent twice in a form body with 400 invalid_request', async () => {
      const payload = `grant_type=client_credentials&client_id=${f.clientId}&client_secret=${encodeURIComponent(f.secret)}&audience=${encodeURIComponent(f.audience)}&audience=${encodeURIComponent(f.audience)}`;
      const res = await s.t.app.inject({ method: 'POST', url: '/oauth/token', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({ error: 'invalid_request', error_description: 'Duplicate parameter: audience' });
      expect(res.headers['cache-control']).toBe('no-store');
    });

    it('refuses a non-string JSON parameter with 400 invalid_request', async () => {
      const res = await s.t.app.inject({ method: 'POST', url: '/oauth/token', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ ...grant(), client_id: f.clientId, client_secret: f.secret, scope: ['read:orders'] }) });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({ error: 'invalid_request', error_description: 'Invalid parameter: scope must be a string' });
    });
  });
});
