import { decodeJwt } from 'jose';
import { Secret, TOTP } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eachDialect, startTessera, type TestServer } from './helpers/tessera';
import { CONNECTION, PASSWORD, createUser, createWebApp } from './helpers/flows';
import { managementToken, snapshot, uniq } from './helpers/management';

const REALM = 'http://auth0.com/oauth/grant-type/password-realm';
const MFA_OTP = 'http://auth0.com/oauth/grant-type/mfa-otp';
const timeless = (c: Record<string, unknown> | undefined) => {
  const { iat: _i, exp: _e, jti: _j, ...rest } = c ?? {};
  return rest;
};

/**
 * POST /api/v2/tessera/explain (Tessera extension, scope read:tessera_explain): the route's refusals (fields a grant
 * type does not read included), and worked examples of each rule for every grant type, checked against the real
 * exchange (refresh tokens, password-realm, a second factor). That explain agrees with the token endpoint on random
 * configurations is tests/explain-property.test.ts.
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
      ['an unknown grant type', { client_id: 'x', grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange' }],
      ['an MFA grant type (explained with the password grants)', { client_id: 'x', grant_type: 'http://auth0.com/oauth/grant-type/mfa-otp' }],
      ['an empty realm', { client_id: 'x', realm: '' }],
      ['a too long refresh_token_id', { client_id: 'x', refresh_token_id: 'r'.repeat(257) }],
      ['a number for refresh_token_id', { client_id: 'x', refresh_token_id: 7 }],
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
        const token = await explain({ client_id: web.clientId, refresh_token_id: value, scope: value });
        expect(token.status, value).toBe(404);
        expect(token.body).toEqual({ statusCode: 404, error: 'Not Found', message: 'The refresh token does not exist.', errorCode: 'inexistent_refresh_token' });
        const realm = await explain({ client_id: web.clientId, user_id: userId, realm: value, audience: value, scope: value });
        expect(realm.status, value).toBe(200);
        expect(realm.body).toMatchObject({ grant_type: REALM, issued: false, rule: 'realm', error: 'invalid_grant', error_description: 'Wrong email or password.' });
      }
      // control characters and malformed JSON get the Management envelope, never a 5xx
      for (const body of [{ client_id: 'a\u0000b' }, { client_id: web.clientId, refresh_token_id: 'r\u0000' }, { client_id: web.clientId, user_id: userId, realm: '\u0007' }]) {
        const r = await explain(body);
        expect(r.status, JSON.stringify(body)).toBe(400);
        expect(r.body).toMatchObject({ statusCode: 400, error: 'Bad Request', message: expect.any(String) });
      }
      const broken = await s.t.app.inject({
        method: 'POST', url: '/api/v2/tessera/explain', payload: '{"client_id": "x", "realm": ',
        headers: { authorization: `Bearer ${await s.adminToken()}`, 'content-type': 'application/json' },
      });
      expect(broken.statusCode).toBe(400);
      expect(JSON.parse(broken.body)).toMatchObject({ statusCode: 400, error: 'Bad Request' });
    });

    it('the OpenAPI document carries the route\'s grant types, fields, rules and answer', async () => {
      const doc = JSON.parse((await s.t.app.inject({ method: 'GET', url: '/openapi.json' })).body);
      const op = doc.paths['/api/v2/tessera/explain'].post;
      const body = op.requestBody.content['application/json'].schema;
      expect(Object.keys(body.properties).sort()).toEqual(['assume', 'audience', 'client_id', 'grant_type', 'organization', 'realm', 'refresh_token_id', 'scope', 'user_id']);
      expect(body.properties.grant_type.enum).toEqual(['client_credentials', 'password', REALM, 'authorization_code', 'refresh_token']);
      const answer = op.responses['200'].content['application/json'].schema;
      expect(Object.keys(answer.properties)).toEqual(expect.arrayContaining(['reason', 'mfa', 'refresh_token', 'scopes', 'claims']));
      expect(answer.properties.rule.enum).toEqual(expect.arrayContaining(['realm', 'refresh_token', 'refresh_scope', 'user_blocked']));
      expect(answer.properties.scopes.items.properties.rule.enum).toEqual(answer.properties.rule.enum);
    });

    it.each([
      ['client_credentials', { user_id: 'u', grant_type: 'client_credentials' }, 'user_id is not used by client_credentials'],
      ['client_credentials', { realm: CONNECTION, grant_type: 'client_credentials' }, 'realm is not used by client_credentials'],
      ['client_credentials', { refresh_token_id: 'r', grant_type: 'client_credentials' }, 'refresh_token_id is not used by client_credentials'],
      ['password', { user_id: 'u', organization: 'org_x', grant_type: 'password' }, 'organization is not used by password'],
      ['password', { user_id: 'u', realm: CONNECTION, grant_type: 'password' }, 'realm is not used by password'],
      ['password-realm', { user_id: 'u', grant_type: REALM }, `realm is required for ${REALM}`],
      ['password-realm', { realm: CONNECTION }, `user_id is required for ${REALM}`],
      ['password-realm', { user_id: 'u', realm: CONNECTION, organization: 'org_x' }, `organization is not used by ${REALM}`],
      ['authorization_code', { user_id: 'u', realm: CONNECTION, grant_type: 'authorization_code' }, 'realm is not used by authorization_code'],
      ['authorization_code', { user_id: 'u', refresh_token_id: 'r', grant_type: 'authorization_code' }, 'refresh_token_id is not used by authorization_code'],
      ['refresh_token', { grant_type: 'refresh_token' }, 'refresh_token_id is required for refresh_token'],
      ['refresh_token', { refresh_token_id: 'r', user_id: 'u' }, 'user_id is not used by refresh_token'],
      ['refresh_token', { refresh_token_id: 'r', audience: 'https://x.example' }, 'audience is not used by refresh_token'],
      ['refresh_token', { refresh_token_id: 'r', organization: 'org_x' }, 'organization is not used by refresh_token'],
      ['refresh_token', { refresh_token_id: 'r', realm: CONNECTION }, 'realm is not used by refresh_token'],
    ])('%s: a field it does not read is refused, one it needs is required (%j)', async (_grant, fields, message) => {
      const r = await explain({ client_id: web.clientId, ...fields });
      expect(r.status).toBe(400);
      expect(r.body).toEqual({ statusCode: 400, error: 'Bad Request', message, errorCode: 'invalid_body' });
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

  describe('refresh_token, password-realm, a second factor', () => {
    let offline: string;
    let app: { clientId: string; secret: string };
    let rotating: { clientId: string; secret: string };
    let noRefresh: { clientId: string; secret: string };

    /** A user holding these permissions on the offline API directly. */
    const newUser = async (perms: string[]) => {
      const email = `refresher-${uniq()}@example.com`;
      const id = await createUser(s, email);
      if (perms.length > 0) {
        const r = await s.api('POST', `/users/${encodeURIComponent(id)}/permissions`, { permissions: perms.map((permission_name) => ({ resource_server_identifier: offline, permission_name })) });
        expect(r.status).toBe(201);
      }
      return { id, email };
    };
    const realmLogin = async (c: { clientId: string; secret: string }, email: string, scope: string, realm = CONNECTION) =>
      s.token({ grant_type: REALM, realm, username: email, password: PASSWORD, client_id: c.clientId, client_secret: c.secret, audience: offline, scope });
    /** A refresh token from a real password-realm login, and its id as the Management API lists it. */
    const refreshToken = async (c: { clientId: string; secret: string }, perms: string[], scope = 'openid offline_access read:docs write:docs') => {
      const user = await newUser(perms);
      const r = await realmLogin(c, user.email, scope);
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      const listed = await s.api('GET', `/users/${encodeURIComponent(user.id)}/refresh-tokens`);
      expect(listed.body.tokens).toHaveLength(1);
      return { user, token: r.body.refresh_token as string, id: listed.body.tokens[0].id as string };
    };
    const refresh = (c: { clientId: string; secret: string }, token: string, scope?: string) =>
      s.token({ grant_type: 'refresh_token', refresh_token: token, client_id: c.clientId, client_secret: c.secret, ...(scope !== undefined && { scope }) });
    /** Explain's answer is the endpoint's: the same scope and claims, or the same refusal. */
    const agree = (ex: Record<string, any>, res: { status: number; body: any }) => {
      if (res.status !== 200) {
        expect(ex).toMatchObject({ issued: false, error: res.body.error, error_description: res.body.error_description });
        return;
      }
      expect(ex.issued).toBe(true);
      expect(ex.scope).toBe(res.body.scope);
      expect(timeless(ex.claims)).toEqual(timeless(decodeJwt(res.body.access_token)));
    };

    beforeAll(async () => {
      offline = `https://offline-${uniq()}.example`;
      expect((await s.api('POST', '/resource-servers', {
        identifier: offline, enforce_policies: true, token_dialect: 'access_token_authz', allow_offline_access: true,
        skip_consent_for_verifiable_first_party_clients: true, scopes: ['read:docs', 'write:docs', 'admin:docs'].map((value) => ({ value, description: value })),
      })).status).toBe(201);
      app = await createWebApp(s, {
        name: `refreshing-${uniq()}`, grant_types: ['authorization_code', 'refresh_token', 'password', REALM, MFA_OTP, 'http://auth0.com/oauth/grant-type/mfa-recovery-code'],
      });
      rotating = await createWebApp(s, {
        name: `rotating-${uniq()}`,
        refresh_token: { rotation_type: 'rotating', expiration_type: 'expiring', leeway: 0, token_lifetime: 3600, idle_token_lifetime: 1800, infinite_token_lifetime: false, infinite_idle_token_lifetime: false },
      });
      noRefresh = await createWebApp(s, { name: `no-refresh-${uniq()}`, grant_types: ['authorization_code', 'password'] });
    });

    it('refresh_token: the same answer as the exchange; the token explained, the scope it may narrow', async () => {
      const { user, token, id } = await refreshToken(app, ['read:docs', 'write:docs']);
      const ex = await explain({ client_id: app.clientId, refresh_token_id: id });
      expect(ex.status).toBe(200);
      expect(ex.body).toMatchObject({
        grant_type: 'refresh_token', client_id: app.clientId, user_id: user.id, audience: offline, issued: true, scope: 'openid offline_access read:docs write:docs',
        refresh_token: { id, client_id: app.clientId, scope: 'openid offline_access read:docs write:docs', audience: offline, rotating: false },
        claims: { gty: 'refresh_token', sub: user.id, permissions: ['read:docs', 'write:docs'] },
      });
      expect(ex.body.scopes).toEqual([
        { value: 'read:docs', granted: true, rule: 'direct_permission', sources: [{ type: 'direct' }] },
        { value: 'write:docs', granted: true, rule: 'direct_permission', sources: [{ type: 'direct' }] },
        { value: 'admin:docs', granted: false, rule: 'not_requested' },
      ]);
      expect(JSON.stringify(ex.body)).not.toContain(token);
      const narrowed = await explain({ client_id: app.clientId, refresh_token_id: id, scope: 'read:docs' });
      expect(narrowed.body).toMatchObject({ issued: true, scope: 'read:docs' });
      expect(narrowed.body.scopes.find((v: any) => v.value === 'write:docs')).toEqual({ value: 'write:docs', granted: false, rule: 'not_requested' });
      agree(narrowed.body, await refresh(app, token, 'read:docs'));
      agree(ex.body, await refresh(app, token));
    });

    it('refresh_token: a refresh cannot widen (refresh_scope); RBAC is applied again (enforce_policies)', async () => {
      const { user, token, id } = await refreshToken(app, ['read:docs', 'write:docs', 'admin:docs'], 'offline_access read:docs');
      const wider = await explain({ client_id: app.clientId, refresh_token_id: id, scope: 'read:docs admin:docs' });
      expect(wider.body).toMatchObject({
        issued: false, error: 'invalid_scope', error_description: 'The requested scope exceeds the scope granted by the resource owner: admin:docs', rule: 'refresh_scope',
      });
      expect(wider.body.scopes.find((v: any) => v.value === 'admin:docs')).toEqual({ value: 'admin:docs', granted: false, rule: 'refresh_scope' });
      expect(wider.body.scopes.every((v: any) => !v.granted)).toBe(true);
      const r = await refresh(app, token, 'read:docs admin:docs');
      expect(r.status).toBe(400);
      agree(wider.body, r);
      // the permission withdrawn since the login drops out of the next token
      await s.api('DELETE', `/users/${encodeURIComponent(user.id)}/permissions`, { permissions: [{ resource_server_identifier: offline, permission_name: 'read:docs' }] });
      const after = await explain({ client_id: app.clientId, refresh_token_id: id });
      expect(after.body).toMatchObject({ issued: true, scope: 'offline_access' });
      expect(after.body.scopes.find((v: any) => v.value === 'read:docs')).toEqual({ value: 'read:docs', granted: false, rule: 'enforce_policies' });
      agree(after.body, await refresh(app, token));
    });

    it('refresh_token: another client, a client without the grant, revoked, expired; each with its rule and reason', async () => {
      const { token, id } = await refreshToken(app, ['read:docs']);
      const other = await explain({ client_id: rotating.clientId, refresh_token_id: id });
      expect(other.body).toMatchObject({
        grant_type: 'refresh_token', issued: false, error: 'invalid_grant', error_description: 'Unknown or invalid refresh token.', rule: 'refresh_token', reason: 'other client',
        refresh_token: { id, client_id: app.clientId },
      });
      agree(other.body, await refresh(rotating, token));
      const notAllowed = await explain({ client_id: noRefresh.clientId, refresh_token_id: id });
      expect(notAllowed.body).toMatchObject({ issued: false, error: 'unauthorized_client', rule: 'grant_type' });
      agree(notAllowed.body, await refresh(noRefresh, token));
      expect((await s.api('DELETE', `/refresh-tokens/${id}`)).status).toBe(202);
      const revoked = await explain({ client_id: app.clientId, refresh_token_id: id });
      expect(revoked.body).toMatchObject({ issued: false, error: 'invalid_grant', rule: 'refresh_token', reason: 'revoked', refresh_token: { id, revoked_at: expect.any(String) } });
      // the API's scopes are still listed, none granted
      expect(revoked.body.scopes.map((v: any) => [v.value, v.granted])).toEqual([['read:docs', false], ['write:docs', false], ['admin:docs', false]]);
      agree(revoked.body, await refresh(app, token));

      const expiring = await refreshToken(rotating, ['read:docs']);
      const live = await explain({ client_id: rotating.clientId, refresh_token_id: expiring.id });
      expect(live.body).toMatchObject({ issued: true, refresh_token: { rotating: true, expires_at: expect.any(String), idle_expires_at: expect.any(String) } });
      s.clock.advance(1801); // past the idle lifetime
      const expired = await explain({ client_id: rotating.clientId, refresh_token_id: expiring.id });
      expect(expired.body).toMatchObject({ issued: false, error: 'invalid_grant', rule: 'refresh_token', reason: 'expired' });
      agree(expired.body, await refresh(rotating, expiring.token));
    });

    it('refresh_token: explain spends nothing; under rotation it explains the token the client holds now', async () => {
      const { token, id } = await refreshToken(rotating, ['read:docs']);
      const before = (await s.api('GET', `/refresh-tokens/${id}`)).body;
      const first = await explain({ client_id: rotating.clientId, refresh_token_id: id });
      expect(first.body).toMatchObject({ issued: true, scope: 'openid offline_access read:docs' });
      expect(first.body.refresh_token.used_at).toBeUndefined();
      expect((await s.api('GET', `/refresh-tokens/${id}`)).body).toEqual(before);
      const rotated = await refresh(rotating, token);
      agree(first.body, rotated);
      // the spent token is not the one explained: its successor is, unused
      const next = await explain({ client_id: rotating.clientId, refresh_token_id: id });
      expect(next.body).toMatchObject({ issued: true, refresh_token: { id } });
      expect(next.body.refresh_token.used_at).toBeUndefined();
      agree(next.body, await refresh(rotating, rotated.body.refresh_token));
    });

    it('password-realm: the realm decides first (rule realm), then the password grant\'s rules', async () => {
      const user = await newUser(['read:docs']);
      const ok = await explain({ client_id: app.clientId, user_id: user.id, realm: CONNECTION, audience: offline, scope: 'read:docs write:docs' });
      expect(ok.body).toMatchObject({ grant_type: REALM, issued: true, scope: 'read:docs', claims: { gty: 'password' } });
      expect(ok.body.mfa).toBeUndefined();
      agree(ok.body, await realmLogin(app, user.email, 'read:docs write:docs'));
      const password = await explain({ client_id: app.clientId, user_id: user.id, grant_type: 'password', audience: offline, scope: 'read:docs write:docs' });
      expect(timeless(password.body.claims)).toEqual(timeless(ok.body.claims));
      const wrong = await explain({ client_id: app.clientId, user_id: user.id, realm: 'Other-Database', audience: offline });
      expect(wrong.body).toMatchObject({ grant_type: REALM, issued: false, error: 'invalid_grant', error_description: 'Wrong email or password.', rule: 'realm' });
      expect(wrong.body.scopes.every((v: any) => !v.granted)).toBe(true);
      agree(wrong.body, await realmLogin(app, user.email, 'read:docs', 'Other-Database'));
      const notAllowed = await explain({ client_id: noRefresh.clientId, user_id: user.id, realm: CONNECTION, audience: offline });
      expect(notAllowed.body).toMatchObject({ issued: false, error: 'unauthorized_client', rule: 'grant_type' });
      agree(notAllowed.body, await realmLogin(noRefresh, user.email, 'read:docs'));
      // a blocked user: the realm is right, the user is refused
      await s.api('PATCH', `/users/${encodeURIComponent(user.id)}`, { blocked: true });
      const blocked = await explain({ client_id: app.clientId, user_id: user.id, realm: CONNECTION, audience: offline });
      expect(blocked.body).toMatchObject({ issued: false, error: 'unauthorized', error_description: 'user is blocked', rule: 'user_blocked' });
      agree(blocked.body, await realmLogin(app, user.email, 'read:docs'));
    });

    it('a user with a second factor: mfa required, and the token the MFA grant then issues', async () => {
      const user = await newUser(['read:docs']);
      const record = await s.t.services.store.users.findById(user.id);
      const { secret } = await s.t.services.userFlows.mfa.beginEnrollment(record!, { reuse: false, recovery: false });
      const ex = await explain({ client_id: app.clientId, user_id: user.id, realm: CONNECTION, audience: offline, scope: 'openid read:docs' });
      expect(ex.body).toMatchObject({ issued: true, mfa: 'required', scope: 'openid read:docs', claims: { amr: ['mfa'], gty: 'password' } });
      const first = await realmLogin(app, user.email, 'openid read:docs');
      expect(first.body).toMatchObject({ error: 'mfa_required' });
      const code = new TOTP({ algorithm: 'SHA1', digits: 6, period: 30, secret: Secret.fromBase32(secret) }).generate({ timestamp: s.clock.now() });
      agree(ex.body, await s.token({ grant_type: MFA_OTP, mfa_token: first.body.mfa_token, otp: code, client_id: app.clientId, client_secret: app.secret }));
      // a client that may not use an MFA grant gets an mfa_token it cannot spend
      const stuck = await explain({ client_id: noRefresh.clientId, user_id: user.id, grant_type: 'password', audience: offline, scope: 'openid read:docs' });
      expect(stuck.body).toMatchObject({ issued: false, mfa: 'required', rule: 'grant_type', error: 'unauthorized_client', error_description: `Grant type '${MFA_OTP}' not allowed for the client.` });
      const login = await s.token({ grant_type: 'password', username: user.email, password: PASSWORD, client_id: noRefresh.clientId, client_secret: noRefresh.secret, audience: offline, scope: 'openid read:docs' });
      expect(login.body).toMatchObject({ error: 'mfa_required' });
      s.clock.advance(30); // the next time step: a TOTP code is accepted once
      const next = new TOTP({ algorithm: 'SHA1', digits: 6, period: 30, secret: Secret.fromBase32(secret) }).generate({ timestamp: s.clock.now() });
      agree(stuck.body, await s.token({ grant_type: MFA_OTP, mfa_token: login.body.mfa_token, otp: next, client_id: noRefresh.clientId, client_secret: noRefresh.secret }));
    });

    it('every field explain reads changes its answer', async () => {
      const a = await refreshToken(app, ['read:docs', 'write:docs']);
      const b = await refreshToken(app, ['read:docs'], 'offline_access read:docs');
      const other = await newUser([]);
      const org = (await s.api('POST', '/organizations', { name: `fields-${uniq()}` })).body.id;
      const answer = async (body: Record<string, unknown>) => {
        const r = await explain(body);
        expect(r.status, JSON.stringify(r.body)).toBe(200);
        return JSON.stringify({ ...r.body, claims: timeless(r.body.claims) });
      };
      const pairs: Array<[string, Record<string, unknown>, Record<string, unknown>]> = [
        ['client_id', { client_id: m2m.client_id, audience: api }, { client_id: web.clientId, audience: api }],
        ['audience (client_credentials)', { client_id: m2m.client_id, audience: api }, { client_id: m2m.client_id, audience: offline }],
        ['scope (client_credentials)', { client_id: m2m.client_id, audience: api }, { client_id: m2m.client_id, audience: api, scope: 'read:docs' }],
        ['organization (client_credentials)', { client_id: m2m.client_id, audience: api }, { client_id: m2m.client_id, audience: api, organization: org }],
        ['assume', { client_id: m2m.client_id, audience: api }, { client_id: m2m.client_id, audience: api, assume: { client_grants: [{ client_id: m2m.client_id, audience: api, scope: ['read:docs'] }] } }],
        ['grant_type', { client_id: app.clientId, user_id: a.user.id, audience: offline }, { client_id: app.clientId, user_id: a.user.id, audience: offline, grant_type: 'password' }],
        ['user_id', { client_id: app.clientId, user_id: a.user.id, audience: offline, grant_type: 'password' }, { client_id: app.clientId, user_id: other.id, audience: offline, grant_type: 'password' }],
        ['audience (password)', { client_id: app.clientId, user_id: a.user.id, grant_type: 'password' }, { client_id: app.clientId, user_id: a.user.id, audience: offline, grant_type: 'password' }],
        ['scope (password)', { client_id: app.clientId, user_id: a.user.id, audience: offline, grant_type: 'password' }, { client_id: app.clientId, user_id: a.user.id, audience: offline, grant_type: 'password', scope: 'read:docs' }],
        ['realm', { client_id: app.clientId, user_id: a.user.id, audience: offline, realm: CONNECTION }, { client_id: app.clientId, user_id: a.user.id, audience: offline, realm: 'Elsewhere' }],
        ['organization (authorization_code)', { client_id: web.clientId, user_id: userId, audience: api }, { client_id: web.clientId, user_id: userId, audience: api, organization: org }],
        ['refresh_token_id', { client_id: app.clientId, refresh_token_id: a.id }, { client_id: app.clientId, refresh_token_id: b.id }],
        ['scope (refresh_token)', { client_id: app.clientId, refresh_token_id: a.id }, { client_id: app.clientId, refresh_token_id: a.id, scope: 'read:docs' }],
        ['assume (refresh_token)', { client_id: app.clientId, refresh_token_id: a.id }, { client_id: app.clientId, refresh_token_id: a.id, assume: { resource_servers: [{ identifier: offline, enforce_policies: false }] } }],
      ];
      for (const [field, x, y] of pairs) expect(await answer(x), field).not.toBe(await answer(y));
    });
  });
});
