import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser, authorize, CALLBACK, callbackParams, createUser, createWebApp, exchange, PASSWORD } from '../helpers/flows';
import { createApi, createM2mClient } from '../helpers/management';
import { eachDialect, startTessera, type TestServer } from '../helpers/tessera';

const SCOPES = [{ value: 'read:orders' }, { value: 'write:orders' }];

/**
 * `*_authz` token dialects add the `permissions` claim only when RBAC (`enforce_policies`) is on for the API:
 * "RBAC permissions claims are available if RBAC (enforce_policies) is enabled for this API" (seed 001).
 */
eachDialect('security: *_authz permissions only with enforce_policies', (dialect) => {
  let s: TestServer;
  let web: { clientId: string; secret: string };
  let ada: string;
  beforeAll(async () => {
    s = await startTessera(dialect);
    web = await createWebApp(s);
    ada = await createUser(s, 'authz@example.com');
  });
  afterAll(async () => { await s.close(); });

  const api = async (token_dialect: string, enforce_policies: boolean) => {
    const created = await createApi(s, { token_dialect, enforce_policies, scopes: SCOPES, skip_consent_for_verifiable_first_party_clients: true });
    const r = await s.api('POST', `/users/${encodeURIComponent(ada)}/permissions`, { permissions: [{ resource_server_identifier: created.identifier, permission_name: 'read:orders' }] });
    expect(r.status).toBe(201);
    return created as { id: string; identifier: string };
  };
  const m2m = async (audience: string) => {
    const c = await createM2mClient(s);
    expect((await s.api('POST', '/client-grants', { client_id: c.client_id, audience, scope: ['read:orders', 'write:orders'] })).status).toBe(201);
    return async () => {
      const r = await s.token({ grant_type: 'client_credentials', client_id: c.client_id, client_secret: c.client_secret, audience });
      expect(r.status).toBe(200);
      return decodeJwt(r.body.access_token);
    };
  };
  const password = async (audience: string) => {
    const r = await s.token({ grant_type: 'password', username: 'authz@example.com', password: PASSWORD, client_id: web.clientId, client_secret: web.secret, audience, scope: 'read:orders write:orders' });
    expect(r.status).toBe(200);
    return decodeJwt(r.body.access_token);
  };

  for (const tokenDialect of ['access_token_authz', 'rfc9068_profile_authz']) {
    describe(tokenDialect, () => {
      it('client_credentials with enforce_policies: false: the granted scopes, no permissions claim', async () => {
        const { identifier } = await api(tokenDialect, false);
        const at = await (await m2m(identifier))();
        expect(at.scope).toBe('read:orders write:orders');
        expect(at).not.toHaveProperty('permissions');
      });

      it('client_credentials with enforce_policies: true: permissions = the granted scopes', async () => {
        const { identifier } = await api(tokenDialect, true);
        const at = await (await m2m(identifier))();
        expect(at).toMatchObject({ scope: 'read:orders write:orders', permissions: ['read:orders', 'write:orders'] });
      });

      it('password grant with enforce_policies: false: every requested scope, no permissions claim', async () => {
        const { identifier } = await api(tokenDialect, false);
        const at = await password(identifier);
        expect(at.scope).toBe('read:orders write:orders');
        expect(at).not.toHaveProperty('permissions');
      });

      it('password grant with enforce_policies: true: scope and permissions follow the user\'s permissions', async () => {
        const { identifier } = await api(tokenDialect, true);
        const at = await password(identifier);
        expect(at).toMatchObject({ scope: 'read:orders', permissions: ['read:orders'], sub: ada });
      });
    });
  }

  it('authorization code with enforce_policies: false: no permissions claim', async () => {
    const { identifier } = await api('access_token_authz', false);
    const b = new Browser(s);
    const { res } = await authorize(s, b, { response_type: 'code', client_id: web.clientId, redirect_uri: CALLBACK, audience: identifier, scope: 'openid write:orders', state: 's' }, { email: 'authz@example.com' });
    const t = await exchange(s, { client_id: web.clientId, client_secret: web.secret, code: callbackParams(res.location).code });
    expect(t.status).toBe(200);
    const at = decodeJwt(t.body.access_token);
    expect(at.scope).toBe('openid write:orders');
    expect(at).not.toHaveProperty('permissions');
  });

  it('turning enforce_policies off on a live API removes the claim from the next tokens (warm caches)', async () => {
    const { id, identifier } = await api('access_token_authz', true);
    const token = await m2m(identifier);
    expect((await token()).permissions).toEqual(['read:orders', 'write:orders']);
    expect((await password(identifier)).permissions).toEqual(['read:orders']);
    expect((await s.api('PATCH', `/resource-servers/${id}`, { enforce_policies: false })).status).toBe(200);
    expect(await token()).not.toHaveProperty('permissions');
    expect(await password(identifier)).not.toHaveProperty('permissions');
    expect((await s.api('PATCH', `/resource-servers/${id}`, { enforce_policies: true })).status).toBe(200);
    expect((await token()).permissions).toEqual(['read:orders', 'write:orders']);
  });
});
