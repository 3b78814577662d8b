import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eachDialect, startTessera, type TestServer } from './helpers/tessera';
import { createUser, createWebApp } from './helpers/flows';
import { managementToken, snapshot, uniq } from './helpers/management';

/**
 * POST /api/v2/tessera/explain (Tessera extension, scope read:tessera_explain): the route's refusals, and worked
 * examples of each rule. That explain agrees with the token endpoint is tests/explain-property.test.ts.
 */
eachDialect('POST /api/v2/tessera/explain', (dialect) => {
  let s: TestServer;
  let api: string;
  let m2m: { client_id: string; client_secret: string };
  let web: { clientId: string; secret: string };
  let userId: string;
  let reader: string;
  let roleId: string;

  const explain = (body: unknown, token?: string | null) => s.api('POST', '/tessera/explain', body, token === undefined ? {} : { token });

  beforeAll(async () => {
    s = await startTessera(dialect);
    api = `https://explained-${uniq()}.example`;
    expect((await s.api('POST', '/resource-servers', {
      identifier: api, enforce_policies: true, token_dialect: 'access_token_authz',
      scopes: ['read:docs', 'write:docs', 'admin:docs'].map((value) => ({ value, description: value })),
    })).status).toBe(201);
    const c = await s.api('POST', '/clients', { name: `m2m-${uniq()}`, app_type: 'non_interactive', grant_types: ['client_credentials'] });
    m2m = { client_id: c.body.client_id, client_secret: c.body.client_secret };
    const g = await s.api('POST', '/client-grants', { client_id: m2m.client_id, audience: api, scope: ['read:docs', 'write:docs'] });
    expect(g.status).toBe(201);
    web = await createWebApp(s, { is_first_party: false, organization_usage: 'allow' });
    expect((await s.api('POST', '/client-grants', { client_id: web.clientId, audience: api, subject_type: 'user', allow_all_scopes: true })).status).toBe(201);
    userId = await createUser(s, `reader-${uniq()}@example.com`);
    const role = await s.api('POST', '/roles', { name: `Readers ${uniq()}` });
    roleId = role.body.id;
    await s.api('POST', `/roles/${roleId}/permissions`, { permissions: [{ resource_server_identifier: api, permission_name: 'read:docs' }] });
    await s.api('POST', `/users/${encodeURIComponent(userId)}/roles`, { roles: [roleId] });
    await s.api('POST', `/users/${encodeURIComponent(userId)}/permissions`, { permissions: [{ resource_server_identifier: api, permission_name: 'write:docs' }] });
    reader = await managementToken(s, ['read:tessera_explain']);
  });
  afterAll(async () => { await s.close(); });

  describe('refusals', () => {
    it('401 without a token, 403 without read:tessera_explain', async () => {
      const none = await explain({ client_id: m2m.client_id }, null);
      expect(none.status).toBe(401);
      expect(none.body).toMatchObject({ statusCode: 401, error: 'Unauthorized', errorCode: 'missing_authentication' });
      const weak = await managementToken(s, ['read:clients', 'read:client_grants', 'read:tessera_usage']);
      const r = await explain({ client_id: m2m.client_id }, weak);
      expect(r.status).toBe(403);
      expect(r.body).toEqual({ statusCode: 403, error: 'Forbidden', message: 'Insufficient scope, expected any of: read:tessera_explain', errorCode: 'insufficient_scope' });
      expect((await explain({ client_id: m2m.client_id, audience: api }, reader)).status).toBe(200);
    });

    it.each([
      ['no client_id', {}],
      ['an empty client_id', { client_id: '' }],
      ['an unknown field', { client_id: 'x', secret: 'y' }],
      ['an unknown grant type', { client_id: 'x', grant_type: 'refresh_token' }],
      ['a number for scope', { client_id: 'x', scope: 3 }],
      ['an array body', [{ client_id: 'x' }]],
    ])('400 for %s', async (_name, body) => {
      const r = await explain(body);
      expect(r.status).toBe(400);
      expect(r.body).toMatchObject({ statusCode: 400, error: 'Bad Request', message: expect.any(String) });
    });

    it('400 for a user_id with client_credentials, or a user grant without one', async () => {
      const cc = await explain({ client_id: m2m.client_id, user_id: userId, grant_type: 'client_credentials' });
      expect(cc.status).toBe(400);
      expect(cc.body).toMatchObject({ errorCode: 'invalid_body', message: 'user_id is not used by client_credentials' });
      const pw = await explain({ client_id: web.clientId, grant_type: 'password' });
      expect(pw.status).toBe(400);
      expect(pw.body.message).toBe('user_id is required for password');
    });

    it('404 for an unknown client or user; an unknown audience is the token endpoint\'s refusal', async () => {
      const client = await explain({ client_id: `nobody-${uniq()}`, audience: api });
      expect(client.status).toBe(404);
      expect(client.body).toEqual({ statusCode: 404, error: 'Not Found', message: 'The client does not exist', errorCode: 'inexistent_client' });
      const user = await explain({ client_id: web.clientId, user_id: 'auth0|nobody', audience: api });
      expect(user.status).toBe(404);
      expect(user.body.errorCode).toBe('inexistent_user');
      const audience = await explain({ client_id: m2m.client_id, audience: 'https://nowhere.example' });
      expect(audience.status).toBe(200);
      expect(audience.body).toMatchObject({ issued: false, rule: 'audience', error: 'access_denied', error_description: 'Service not enabled within domain: https://nowhere.example', scopes: [] });
      expect(audience.body.claims).toBeUndefined();
    });

    it('hostile strings are data: no 5xx, nothing found', async () => {
      for (const value of ["' OR '1'='1", '__proto__', 'x'.repeat(256), 'ä😀\u202e']) {
        const r = await explain({ client_id: value, audience: value, scope: value });
        expect(r.status, value).toBe(404);
      }
    });
  });

  describe('answers', () => {
    it('client_credentials: the grant decides each scope; the claims as minted, unsigned', async () => {
      const r = await explain({ client_id: m2m.client_id, audience: api }, reader);
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ grant_type: 'client_credentials', client_id: m2m.client_id, audience: api, issued: true, scope: 'read:docs write:docs' });
      const grant = (await s.api('GET', `/client-grants?client_id=${m2m.client_id}`)).body[0].id;
      expect(r.body.scopes).toEqual([
        { value: 'read:docs', granted: true, rule: 'client_grant', client_grant_id: grant },
        { value: 'write:docs', granted: true, rule: 'client_grant', client_grant_id: grant },
        { value: 'admin:docs', granted: false, rule: 'not_in_client_grant', client_grant_id: grant },
      ]);
      expect(r.body.claims).toMatchObject({ iss: 'https://tessera.test/', sub: `${m2m.client_id}@clients`, aud: api, azp: m2m.client_id, gty: 'client-credentials', scope: 'read:docs write:docs', permissions: ['read:docs', 'write:docs'] });
      expect(r.body.claims.exp - r.body.claims.iat).toBe(86400);
      expect(JSON.stringify(r.body)).not.toMatch(/eyJ|client_secret/);
    });

    it('client_credentials: a scope outside the grant refuses the request; a scope the API does not define is a removed scope', async () => {
      const r = await explain({ client_id: m2m.client_id, audience: api, scope: 'read:docs delete:docs' });
      expect(r.body).toMatchObject({ issued: false, error: 'access_denied', error_description: 'Client has not been granted scopes: delete:docs', rule: 'not_in_client_grant' });
      expect(r.body.scopes.find((v: any) => v.value === 'delete:docs')).toMatchObject({ granted: false, rule: 'removed_scope' });
      expect(r.body.scopes.every((v: any) => v.granted === false)).toBe(true);
      const narrowed = await explain({ client_id: m2m.client_id, audience: api, scope: 'read:docs' });
      expect(narrowed.body.scopes.find((v: any) => v.value === 'write:docs')).toMatchObject({ granted: false, rule: 'not_requested' });
    });

    it('a user: RBAC role (which) or direct permission, enforce_policies refusing, consent, permissions claim', async () => {
      const r = await explain({ client_id: web.clientId, user_id: userId, audience: api, scope: 'openid read:docs write:docs admin:docs' }, reader);
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ grant_type: 'authorization_code', user_id: userId, issued: true, scope: 'openid read:docs write:docs', consent: 'required' });
      const role = (await s.api('GET', `/roles/${roleId}`)).body;
      expect(r.body.scopes).toEqual([
        expect.objectContaining({ value: 'read:docs', granted: true, rule: 'rbac_role', sources: [{ type: 'role', role_id: roleId, role_name: role.name }], consent: 'required' }),
        expect.objectContaining({ value: 'write:docs', granted: true, rule: 'direct_permission', sources: [{ type: 'direct' }], consent: 'required' }),
        { value: 'admin:docs', granted: false, rule: 'enforce_policies', client_grant_id: expect.any(String) },
      ]);
      expect(r.body.claims).toMatchObject({ sub: userId, azp: web.clientId, aud: [api, 'https://tessera.test/userinfo'], scope: 'openid read:docs write:docs', permissions: ['read:docs', 'write:docs'] });
      // the password grant: no scope means every scope of the API, still narrowed by RBAC
      const pw = await explain({ client_id: web.clientId, user_id: userId, audience: api, grant_type: 'password' });
      expect(pw.body).toMatchObject({ grant_type: 'password', issued: true, scope: 'read:docs write:docs', claims: { gty: 'password' } });
      expect(pw.body.consent).toBeUndefined();
    });

    it('a user: the subject-type policy and organization membership refuse with their rule', async () => {
      const denied = `https://denied-${uniq()}.example`;
      await s.api('POST', '/resource-servers', { identifier: denied, scopes: [{ value: 'x', description: 'x' }], subject_type_authorization: { user: { policy: 'deny_all' } } });
      const r = await explain({ client_id: web.clientId, user_id: userId, audience: denied });
      expect(r.body).toMatchObject({ issued: false, rule: 'subject_type_policy', policy: 'deny_all', error: 'access_denied', scopes: [{ value: 'x', granted: false, rule: 'subject_type_policy' }] });
      const org = await s.api('POST', '/organizations', { name: `outsiders-${uniq()}` });
      const outside = await explain({ client_id: web.clientId, user_id: userId, audience: api, organization: org.body.id });
      expect(outside.body).toMatchObject({ issued: false, rule: 'organization_usage', error: 'access_denied', error_description: `user ${userId} is not part of the ${org.body.id} organization` });
    });

    it('writes nothing: no consent, no membership, no tenant log operation', async () => {
      const org = await s.api('POST', '/organizations', { name: `joinable-${uniq()}` });
      await s.api('POST', `/organizations/${org.body.id}/enabled_connections`, { connection_id: (await s.api('GET', '/connections')).body[0].id, assign_membership_on_login: true });
      const before = await snapshot(s);
      const r = await explain({ client_id: web.clientId, user_id: userId, audience: api, organization: org.body.id, scope: 'read:docs' });
      expect(r.body).toMatchObject({ issued: true, scope: 'read:docs' });
      expect((await s.api('GET', `/organizations/${org.body.id}/members`)).body).toEqual([]);
      expect(await snapshot(s)).toEqual(before);
      expect((await explain({ client_id: web.clientId, user_id: userId, audience: api })).body.consent).toBe('required');
      await s.t.services.events.flush();
      const logged = (await s.api('GET', `/logs?q=${encodeURIComponent('type:sapi')}&per_page=100`)).body as Array<Record<string, any>>;
      expect(logged.filter((e) => e.details?.request?.path === '/api/v2/tessera/explain')).toEqual([]);
    });
  });
});
