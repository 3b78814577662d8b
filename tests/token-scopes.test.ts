import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eachDialect, startTessera, type TestServer } from './helpers/tessera';

const SCOPES = ['read:orders', 'write:orders', 'delete:orders'];
let seq = 0;

/** Fixture: a fresh API (with `api` overrides), a client and a grant (with `grant` overrides). */
async function setup(s: TestServer, o: { api?: object; grant?: object } = {}) {
  const identifier = `https://scopes-${++seq}.example/`;
  const api = await s.api('POST', '/resource-servers', { identifier, scopes: SCOPES.map((value) => ({ value })), ...o.api });
  expect(api.status).toBe(201);
  const client = await s.api('POST', '/clients', { name: `Worker ${seq}`, app_type: 'non_interactive', grant_types: ['client_credentials'] });
  const grant = await s.api('POST', '/client-grants', { client_id: client.body.client_id, audience: identifier, scope: ['read:orders', 'write:orders'], ...o.grant });
  expect(grant.status).toBe(201);
  const params = { grant_type: 'client_credentials', client_id: client.body.client_id as string, client_secret: client.body.client_secret as string, audience: identifier };
  return {
    apiId: api.body.id as string, grantId: grant.body.id as string, params,
    token: (scope?: string) => s.token(scope === undefined ? params : { ...params, scope }),
  };
}

eachDialect('token endpoint: success response and scopes (contract §7.2, §7.4)', (dialect) => {
  let s: TestServer;
  beforeAll(async () => { s = await startTessera(dialect); });
  afterAll(async () => { await s.close(); });

  describe('response shape', () => {
    it('is {access_token, scope, expires_in, token_type} in that order, expires_in = token_lifetime', async () => {
      const f = await setup(s, { api: { token_lifetime: 3600 } });
      const r = await f.token();
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ access_token: expect.stringMatching(/^[\w-]+\.[\w-]+\.[\w-]+$/), scope: 'read:orders write:orders', expires_in: 3600, token_type: 'Bearer' });
      expect(Object.keys(r.body)).toEqual(['access_token', 'scope', 'expires_in', 'token_type']);
      const claims = decodeJwt(r.body.access_token);
      expect(claims.exp! - claims.iat!).toBe(3600);
    });

    it('omits scope (in the body and the token) when the grant carries none', async () => {
      const f = await setup(s, { grant: { scope: [] } });
      const r = await f.token();
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ access_token: expect.any(String), expires_in: 86400, token_type: 'Bearer' });
      expect(Object.keys(r.body)).toEqual(['access_token', 'expires_in', 'token_type']);
      expect(decodeJwt(r.body.access_token)).not.toHaveProperty('scope');
    });

    it('follows a token_lifetime change on the very next request', async () => {
      const f = await setup(s);
      expect((await s.api('PATCH', `/resource-servers/${f.apiId}`, { token_lifetime: 600 })).status).toBe(200);
      const r = await f.token();
      expect(r.body.expires_in).toBe(600);
      const claims = decodeJwt(r.body.access_token);
      expect(claims.exp! - claims.iat!).toBe(600);
    });
  });

  describe('scope computation', () => {
    it('issues exactly the requested subset', async () => {
      const f = await setup(s);
      const r = await f.token('write:orders');
      expect(r.status).toBe(200);
      expect(r.body.scope).toBe('write:orders');
      expect(decodeJwt(r.body.access_token).scope).toBe('write:orders');
    });

    it('collapses repeated and extra spaces', async () => {
      const f = await setup(s);
      const r = await f.token('  write:orders   read:orders write:orders ');
      expect(r.body.scope).toBe('write:orders read:orders');
    });

    it('issues every granted scope when none (or an empty scope) is requested', async () => {
      const f = await setup(s);
      expect((await f.token()).body.scope).toBe('read:orders write:orders');
      expect((await f.token('')).body.scope).toBe('read:orders write:orders');
    });

    it('allow_all_scopes issues every current API scope, including scopes added later', async () => {
      const f = await setup(s, { grant: { scope: undefined, allow_all_scopes: true } });
      expect((await f.token()).body.scope).toBe('read:orders write:orders delete:orders');
      expect((await f.token('delete:orders')).body.scope).toBe('delete:orders');
      const patched = await s.api('PATCH', `/resource-servers/${f.apiId}`, { scopes: [...SCOPES, 'audit:orders'].map((value) => ({ value })) });
      expect(patched.status).toBe(200);
      expect((await f.token()).body.scope).toBe('read:orders write:orders delete:orders audit:orders');
      expect((await f.token('audit:orders')).body.scope).toBe('audit:orders');
    });

    it('stops issuing a scope removed from the API', async () => {
      const f = await setup(s);
      const patched = await s.api('PATCH', `/resource-servers/${f.apiId}`, { scopes: [{ value: 'read:orders' }, { value: 'delete:orders' }] });
      expect(patched.status).toBe(200);
      const r = await f.token();
      expect(r.body.scope).toBe('read:orders');
      expect(decodeJwt(r.body.access_token).scope).toBe('read:orders');
      const asked = await f.token('write:orders');
      expect(asked.status).toBe(403);
      expect(asked.body).toEqual({ error: 'access_denied', error_description: 'Client has not been granted scopes: write:orders' });
    });

    it('omits scope when every granted scope was removed from the API', async () => {
      const f = await setup(s, { grant: { scope: ['write:orders'] } });
      expect((await s.api('PATCH', `/resource-servers/${f.apiId}`, { scopes: [{ value: 'read:orders' }] })).status).toBe(200);
      const r = await f.token();
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ access_token: expect.any(String), expires_in: 86400, token_type: 'Bearer' });
    });

    it('follows a grant scope change on the very next request', async () => {
      const f = await setup(s);
      expect((await f.token('write:orders')).status).toBe(200);
      expect((await s.api('PATCH', `/client-grants/${f.grantId}`, { scope: ['read:orders'] })).status).toBe(200);
      const r = await f.token('write:orders');
      expect(r.status).toBe(403);
      expect(r.body.error_description).toBe('Client has not been granted scopes: write:orders');
      expect((await f.token()).body.scope).toBe('read:orders');
    });
  });
});
