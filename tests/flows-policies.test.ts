import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  authorize, Browser, CALLBACK, callbackParams, CONNECTION, createApi, createUser, createWebApp, exchange, PASSWORD,
} from './helpers/flows';
import { eachDialect, PUBLIC_URL, startTessera, type TestServer } from './helpers/tessera';

const REALM = 'http://auth0.com/oauth/grant-type/password-realm';

/**
 * Every resource-server setting applied to user tokens: RBAC intersections, *_authz permissions, the three user
 * policies, third-party clients, consent skip vs ask (remembered and revocable), lifetimes, organizations.
 */
eachDialect('user tokens: RBAC, user policies, consent, organizations', (dialect) => {
  let s: TestServer;
  let web: { clientId: string; secret: string };
  let ada: string;
  let bob: string;
  const login = (c: { clientId: string; secret: string }, audience: string, scope: string, extra: Record<string, string> = {}) =>
    s.token({ grant_type: REALM, realm: CONNECTION, username: extra.username ?? 'ada@example.com', password: PASSWORD, client_id: c.clientId, client_secret: c.secret, audience, scope });

  beforeAll(async () => {
    s = await startTessera(dialect);
    web = await createWebApp(s);
    ada = await createUser(s, 'ada@example.com');
    bob = await createUser(s, 'bob@example.com');
    await createApi(s, 'https://rbac.example/', { enforce_policies: true, token_dialect: 'access_token_authz', skip_consent_for_verifiable_first_party_clients: true });
    await createApi(s, 'https://rbac9068.example/', { enforce_policies: true, token_dialect: 'rfc9068_profile_authz' });
    await createApi(s, 'https://open.example/', { skip_consent_for_verifiable_first_party_clients: true, token_lifetime: 3600, token_lifetime_for_web: 600 });
    await createApi(s, 'https://consent.example/');
    const role = await s.api('POST', '/roles', { name: 'Order readers' });
    expect(role.status).toBe(200);
    for (const audience of ['https://rbac.example/', 'https://rbac9068.example/']) {
      expect((await s.api('POST', `/roles/${role.body.id}/permissions`, { permissions: [{ resource_server_identifier: audience, permission_name: 'read:orders' }] })).status).toBe(201);
    }
    expect((await s.api('POST', `/users/${encodeURIComponent(ada)}/roles`, { roles: [role.body.id] })).status).toBe(204);
    expect((await s.api('POST', `/users/${encodeURIComponent(ada)}/permissions`, { permissions: [{ resource_server_identifier: 'https://rbac.example/', permission_name: 'admin:orders' }] })).status).toBe(201);
  });
  afterAll(async () => { await s.close(); });

  describe('enforce_policies', () => {
    it('true: scope = requested ∩ (direct ∪ role permissions); *_authz adds every permission', async () => {
      const r = await login(web, 'https://rbac.example/', 'openid read:orders write:orders');
      expect(r.status).toBe(200);
      expect(r.body.scope).toBe('openid read:orders');
      const at = decodeJwt(r.body.access_token);
      expect(at.scope).toBe('openid read:orders');
      expect([...(at.permissions as string[])].sort()).toEqual(['admin:orders', 'read:orders']);
      expect(at).toMatchObject({ sub: ada, gty: 'password', azp: web.clientId, aud: ['https://rbac.example/', `${PUBLIC_URL}/userinfo`] });
    });

    it('true: a user without permissions gets no API scopes and an empty permissions claim', async () => {
      const r = await login(web, 'https://rbac.example/', 'read:orders', { username: 'bob@example.com' });
      expect(r.status).toBe(200);
      expect(r.body.scope).toBeUndefined();
      const at = decodeJwt(r.body.access_token);
      expect(at.scope).toBeUndefined();
      expect(at.permissions).toEqual([]);
      expect(at.sub).toBe(bob);
    });

    it('rfc9068_profile_authz: typ at+jwt, client_id, jti, permissions, no gty', async () => {
      const r = await login(web, 'https://rbac9068.example/', 'read:orders write:orders');
      const at = decodeJwt(r.body.access_token);
      expect(at).toMatchObject({ client_id: web.clientId, scope: 'read:orders', permissions: ['read:orders'], aud: 'https://rbac9068.example/' });
      expect(typeof at.jti).toBe('string');
      expect(at.gty).toBeUndefined();
    });

    it('false: any scope defined on the API may be granted; undefined scopes are dropped', async () => {
      const r = await login(web, 'https://open.example/', 'read:orders write:orders delete:everything');
      expect(r.body.scope).toBe('read:orders write:orders');
      expect(r.body.expires_in).toBe(3600);
    });

    it('password-realm without scope returns every API scope, narrowed by RBAC', async () => {
      expect((await login(web, 'https://open.example/', '')).body.scope).toBe('read:orders write:orders admin:orders');
      expect((await login(web, 'https://rbac.example/', '')).body.scope).toBe('read:orders admin:orders');
    });
  });

  describe('subject_type_authorization.user.policy', () => {
    it('deny_all: no user tokens at all', async () => {
      await createApi(s, 'https://deny.example/', { subject_type_authorization: { user: { policy: 'deny_all' } } });
      const r = await login(web, 'https://deny.example/', 'read:orders');
      expect(r.status).toBe(403);
      expect(r.body).toEqual({ error: 'access_denied', error_description: `Client "${web.clientId}" is not authorized to access resource server "https://deny.example/". The API does not allow access on behalf of users.` });
    });

    it('require_client_grant: without a user grant 403; with one, its scopes cap the result', async () => {
      await createApi(s, 'https://grant.example/', { subject_type_authorization: { user: { policy: 'require_client_grant' } } });
      const before = await login(web, 'https://grant.example/', 'read:orders write:orders');
      expect(before.status).toBe(403);
      expect(before.body).toEqual({ error: 'access_denied', error_description: `Client "${web.clientId}" is not authorized to access resource server "https://grant.example/". You need to create a "client-grant" associated to this API.` });
      const g = await s.api('POST', '/client-grants', { client_id: web.clientId, audience: 'https://grant.example/', subject_type: 'user', scope: ['read:orders'] });
      expect(g.status).toBe(201);
      const after = await login(web, 'https://grant.example/', 'read:orders write:orders');
      expect(after.status).toBe(200);
      expect(after.body.scope).toBe('read:orders');
    });

    it('allow_all: first-party clients need no grant, third-party clients always do', async () => {
      const third = await createWebApp(s, { name: 'Partner', is_first_party: false });
      const r = await login(third, 'https://open.example/', 'read:orders');
      expect(r.status).toBe(403);
      expect(r.body.error_description).toBe(`Client "${third.clientId}" is not authorized to access resource server "https://open.example/". You need to create a "client-grant" associated to this API.`);
      expect((await s.api('POST', '/client-grants', { client_id: third.clientId, audience: 'https://open.example/', subject_type: 'user', scope: ['write:orders'] })).status).toBe(201);
      const ok = await login(third, 'https://open.example/', 'read:orders write:orders');
      expect(ok.body.scope).toBe('write:orders');
    });

    it('the Management API issues user tokens only to a client with a user grant on it (the dashboard; tests/dashboard-setup.test.ts)', async () => {
      const r = await login(web, `${PUBLIC_URL}/api/v2/`, 'read:users');
      expect(r.status).toBe(403);
      expect(r.body.error).toBe('access_denied');
      expect(r.body.error_description).toBe(`Client "${web.clientId}" is not authorized to access resource server "${PUBLIC_URL}/api/v2/". You need to create a "client-grant" associated to this API.`);
    });
  });

  describe('consent', () => {
    const q = (audience: string, extra: Record<string, string> = {}) => ({
      response_type: 'code', client_id: web.clientId, redirect_uri: CALLBACK, audience, scope: 'openid read:orders', state: 's', ...extra,
    });

    it('is asked when the API does not allow skipping, lists the scopes with descriptions, and is remembered', async () => {
      const b = new Browser(s);
      const first = await authorize(s, b, q('https://consent.example/'), { email: 'ada@example.com' });
      expect(first.pages).toEqual(['login', 'consent']);
      expect(first.consentHtml).toContain('<li><code>read:orders</code>: Read your orders</li>');
      expect(first.consentHtml).toContain('<li><code>openid</code>: Sign you in and know who you are</li>');
      expect(first.consentHtml).toContain('<h1>Authorize Orders Web</h1>');
      expect(callbackParams(first.res.location).code).toBeDefined();
      const second = await authorize(s, b, q('https://consent.example/'));
      expect(second.pages).toEqual([]);
      const grants = await s.api('GET', `/grants?user_id=${encodeURIComponent(ada)}`);
      expect(grants.status).toBe(200);
      expect(grants.body).toEqual([{ id: expect.any(String), clientID: web.clientId, user_id: ada, audience: 'https://consent.example/', scope: ['openid', 'read:orders'] }]);
      // asking for more than was consented asks again
      const more = await authorize(s, b, q('https://consent.example/', { scope: 'openid read:orders write:orders' }));
      expect(more.pages).toEqual(['consent']);
    });

    it('names the API on the consent page: its name, or its identifier when it has none', async () => {
      expect((await s.api('POST', '/resource-servers', { identifier: 'https://nameless.example/', scopes: [{ value: 'read:orders', description: 'Read your orders' }] })).status).toBe(201);
      await createUser(s, 'nadia@example.com');
      const named = await authorize(s, new Browser(s), q('https://consent.example/'), { email: 'nadia@example.com' });
      expect(named.consentHtml).toContain('is requesting access to your <strong>API https://consent.example/</strong> account');
      const nameless = await authorize(s, new Browser(s), q('https://nameless.example/'), { email: 'nadia@example.com' });
      expect(nameless.consentHtml).toContain('is requesting access to your <strong>https://nameless.example/</strong> account');
    });

    it('withdrawing the grant through DELETE /api/v2/grants/{id} asks again', async () => {
      const b = new Browser(s);
      await authorize(s, b, q('https://consent.example/'), { email: 'bob@example.com' });
      const list = await s.api('GET', `/grants?user_id=${encodeURIComponent(bob)}&include_totals=true`);
      expect(list.body).toMatchObject({ start: 0, limit: 50, total: 1 });
      expect((await s.api('DELETE', `/grants/${list.body.grants[0].id}`)).status).toBe(204);
      expect((await s.api('DELETE', `/grants/${list.body.grants[0].id}`)).body).toEqual({ statusCode: 404, error: 'Not Found', message: 'The grant does not exist.', errorCode: 'inexistent_grant' });
      const again = await authorize(s, b, q('https://consent.example/'));
      expect(again.pages).toEqual(['consent']);
    });

    it('DELETE /api/v2/grants?user_id= withdraws every grant of a user; the routes need read:grants / delete:grants', async () => {
      const carol = await createUser(s, 'carol@example.com');
      await authorize(s, new Browser(s), q('https://consent.example/'), { email: 'carol@example.com' });
      expect((await s.api('GET', `/grants?user_id=${encodeURIComponent(carol)}`)).body).toHaveLength(1);
      expect((await s.api('DELETE', `/grants?user_id=${encodeURIComponent(carol)}`)).status).toBe(204);
      expect((await s.api('GET', `/grants?user_id=${encodeURIComponent(carol)}`)).body).toEqual([]);
      const m2m = await s.api('POST', '/clients', { name: 'Reader', app_type: 'non_interactive', grant_types: ['client_credentials'] });
      await s.api('POST', '/client-grants', { client_id: m2m.body.client_id, audience: `${PUBLIC_URL}/api/v2/`, scope: ['read:users'] });
      const t = await s.token({ grant_type: 'client_credentials', client_id: m2m.body.client_id, client_secret: m2m.body.client_secret, audience: `${PUBLIC_URL}/api/v2/` });
      const r = await s.api('GET', '/grants', undefined, { token: t.body.access_token });
      expect(r.status).toBe(403);
      expect(r.body).toEqual({ statusCode: 403, error: 'Forbidden', message: 'Insufficient scope, expected any of: read:grants', errorCode: 'insufficient_scope' });
    });

    it('declining redirects with access_denied', async () => {
      const b = new Browser(s);
      const r = await authorize(s, b, q('https://consent.example/', { scope: 'openid admin:orders' }), { email: 'bob@example.com', consent: 'deny' });
      expect(callbackParams(r.res.location)).toEqual({ error: 'access_denied', error_description: 'User did not authorize the request', state: 's', iss: `${PUBLIC_URL}/` });
    });

    it('is skipped for a first-party client only when the redirect_uri is not localhost', async () => {
      const b = new Browser(s);
      const remote = await authorize(s, b, q('https://open.example/'), { email: 'ada@example.com' });
      expect(remote.pages).toEqual(['login']);
      const local = await authorize(s, b, q('https://open.example/', { redirect_uri: 'http://localhost:3000/callback' }));
      expect(local.pages).toEqual(['consent']);
    });

    it('prompt=none when consent is needed redirects with consent_required', async () => {
      const b = new Browser(s);
      await authorize(s, b, q('https://open.example/'), { email: 'ada@example.com' });
      const r = await b.get(`/authorize?${new URLSearchParams(q('https://consent.example/', { prompt: 'none', scope: 'openid write:orders admin:orders' }))}`);
      expect(callbackParams(r.location)).toEqual({ error: 'consent_required', error_description: 'Consent required', state: 's', iss: `${PUBLIC_URL}/` });
    });

    it('is always asked of third-party clients', async () => {
      const third = await createWebApp(s, { name: 'Partner app', is_first_party: false });
      await s.api('POST', '/client-grants', { client_id: third.clientId, audience: 'https://open.example/', subject_type: 'user', scope: ['read:orders'] });
      const r = await authorize(s, new Browser(s), { ...q('https://open.example/'), client_id: third.clientId }, { email: 'ada@example.com' });
      expect(r.pages).toEqual(['login', 'consent']);
      const t = await exchange(s, { client_id: third.clientId, client_secret: third.secret, code: callbackParams(r.res.location).code });
      expect(t.body.scope).toBe('openid read:orders');
    });
  });

  describe('authorization code flow with RBAC and errors at /authorize', () => {
    it('an unknown audience redirects with access_denied "Service not found: <aud>"', async () => {
      const b = new Browser(s);
      const r = await authorize(s, b, { response_type: 'code', client_id: web.clientId, redirect_uri: CALLBACK, audience: 'https://nope.example/', state: 'x' }, { email: 'ada@example.com' });
      expect(r.pages).toEqual([]);
      expect(callbackParams(r.res.location)).toEqual({ error: 'access_denied', error_description: 'Service not found: https://nope.example/', state: 'x', iss: `${PUBLIC_URL}/` });
    });

    it('the code carries the RBAC result into the token', async () => {
      const b = new Browser(s);
      const r = await authorize(s, b, { response_type: 'code', client_id: web.clientId, redirect_uri: CALLBACK, audience: 'https://rbac.example/', scope: 'read:orders write:orders' }, { email: 'ada@example.com' });
      const t = await exchange(s, { client_id: web.clientId, client_secret: web.secret, code: callbackParams(r.res.location).code });
      expect(t.body.scope).toBe('read:orders');
      const at = decodeJwt(t.body.access_token);
      expect(at.aud).toBe('https://rbac.example/');
      expect(at.gty).toBeUndefined();
    });
  });

  describe('organizations', () => {
    let orgId: string;
    beforeAll(async () => {
      const org = await s.api('POST', '/organizations', { name: 'acme', display_name: 'Acme' });
      expect(org.status).toBe(201);
      orgId = org.body.id;
      expect((await s.api('POST', `/organizations/${orgId}/members`, { members: [bob] })).status).toBe(204);
      const role = await s.api('POST', '/roles', { name: 'Acme writers' });
      await s.api('POST', `/roles/${role.body.id}/permissions`, { permissions: [{ resource_server_identifier: 'https://rbac.example/', permission_name: 'write:orders' }] });
      expect((await s.api('POST', `/organizations/${orgId}/members/${encodeURIComponent(bob)}/roles`, { roles: [role.body.id] })).status).toBe(204);
      await s.api('PATCH', `/clients/${web.clientId}`, { organization_usage: 'allow' });
    });

    const q = (organization: string) => ({
      response_type: 'code', client_id: web.clientId, redirect_uri: CALLBACK, audience: 'https://rbac.example/',
      scope: 'openid read:orders write:orders', organization, nonce: 'n', state: 'o',
    });

    it('a member logging in through the organization gets org_id and the member roles\' permissions', async () => {
      const r = await authorize(s, new Browser(s), q('acme'), { email: 'bob@example.com' });
      const t = await exchange(s, { client_id: web.clientId, client_secret: web.secret, code: callbackParams(r.res.location).code });
      expect(t.status).toBe(200);
      expect(t.body.scope).toBe('openid write:orders');
      const at = decodeJwt(t.body.access_token);
      expect(at).toMatchObject({ org_id: orgId, permissions: ['write:orders'] });
      expect(decodeJwt(t.body.id_token)).toMatchObject({ org_id: orgId, nonce: 'n' });
    });

    it('outside the organization the member roles do not apply', async () => {
      const t = await login(web, 'https://rbac.example/', 'read:orders write:orders', { username: 'bob@example.com' });
      expect(t.body.scope).toBeUndefined();
      expect(decodeJwt(t.body.access_token).org_id).toBeUndefined();
    });

    it('a non-member is refused with access_denied', async () => {
      const r = await authorize(s, new Browser(s), q(orgId), { email: 'ada@example.com' });
      expect(callbackParams(r.res.location)).toEqual({ error: 'access_denied', error_description: `user ${ada} is not part of the ${orgId} organization`, state: 'o', iss: `${PUBLIC_URL}/` });
    });

    it('a client with organization_usage deny cannot pass organization', async () => {
      const other = await createWebApp(s, { name: 'No orgs' });
      const r = await new Browser(s).get(`/authorize?${new URLSearchParams({ ...q('acme'), client_id: other.clientId })}`);
      expect(callbackParams(r.location)).toEqual({ error: 'invalid_request', error_description: 'parameter organization is not allowed for this client', state: 'o', iss: `${PUBLIC_URL}/` });
    });
  });
});
