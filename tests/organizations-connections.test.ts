import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorize, Browser, CALLBACK, callbackParams, CONNECTION, createUser, createWebApp, exchange } from './helpers/flows';
import { eachDialect, PUBLIC_URL, startTessera, type TestServer } from './helpers/tessera';
import { badRequest, managementToken, uniq } from './helpers/management';

const CON = 'con_TesseraDatabase1';
const NOT_ENABLED = { statusCode: 404, error: 'Not Found', message: 'The connection is not enabled for this organization.', errorCode: 'inexistent_organization_connection' };
const NO_CONNECTION = { statusCode: 404, error: 'Not Found', message: 'The connection does not exist', errorCode: 'inexistent_connection' };

/** Organizations: is_app_entitlement_active, member paging with fields, enabled connections; the connections read API. */
eachDialect('management: organization connections and connections', (dialect) => {
  let s: TestServer;
  beforeAll(async () => { s = await startTessera(dialect); });
  afterAll(async () => { await s.close(); });

  const org = async (body: Record<string, unknown> = {}) => {
    const r = await s.api('POST', '/organizations', { name: `org-${uniq()}`, ...body });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    return r.body as { id: string; name: string };
  };

  describe('organizations: is_app_entitlement_active', () => {
    it('is stored and returned on create, read, list and PATCH', async () => {
      const o = await org({ is_app_entitlement_active: true });
      expect(o).toMatchObject({ is_app_entitlement_active: true });
      expect((await s.api('GET', `/organizations/${o.id}`)).body.is_app_entitlement_active).toBe(true);
      const p = await s.api('PATCH', `/organizations/${o.id}`, { is_app_entitlement_active: false });
      expect(p.status).toBe(200);
      expect(p.body.is_app_entitlement_active).toBe(false);
      const listed = (await s.api('GET', '/organizations')).body as Array<Record<string, unknown>>;
      expect(listed.find((x) => x.id === o.id)).toMatchObject({ is_app_entitlement_active: false });
    });

    it('a non-boolean → 400, nothing created', async () => {
      const name = `org-${uniq()}`;
      const r = await s.api('POST', '/organizations', { name, is_app_entitlement_active: 'yes' });
      expect(r.status).toBe(400);
      expect(r.body).toEqual(badRequest("Payload validation error: 'Expected type boolean but found type string' on property is_app_entitlement_active (Whether app entitlement is active for this organization.)."));
      expect((await s.api('GET', `/organizations/name/${name}`)).status).toBe(404);
    });

    it('the connection settings never show in the organization itself', async () => {
      const o = await org();
      expect((await s.api('POST', `/organizations/${o.id}/enabled_connections`, { connection_id: CON })).status).toBe(201);
      expect((await s.api('GET', `/organizations/${o.id}`)).body).not.toHaveProperty('connections');
    });
  });

  describe('organization members: from/take with fields and include_fields', () => {
    it('pages by checkpoint and projects each member', async () => {
      const o = await org();
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) ids.push(await createUser(s, `member-${uniq()}@example.com`));
      expect((await s.api('POST', `/organizations/${o.id}/members`, { members: ids })).status).toBe(204);
      const first = await s.api('GET', `/organizations/${o.id}/members?take=2&fields=user_id,email&include_fields=true`);
      expect(first.status, JSON.stringify(first.body)).toBe(200);
      expect(first.body.members).toHaveLength(2);
      for (const m of first.body.members) expect(Object.keys(m).sort()).toEqual(['email', 'user_id']);
      expect(first.body.next).toEqual(expect.any(String));
      const second = await s.api('GET', `/organizations/${o.id}/members?take=2&from=${encodeURIComponent(first.body.next)}&fields=email&include_fields=false`);
      expect(second.status).toBe(200);
      expect(second.body.members).toHaveLength(1);
      expect(second.body.members[0]).not.toHaveProperty('email');
      expect(second.body.members[0]).toHaveProperty('user_id');
      const seen = [...first.body.members, ...second.body.members].map((m: { user_id: string }) => m.user_id).sort();
      expect(seen).toEqual([...ids].sort());
      // page/per_page alongside fields
      const offset = await s.api('GET', `/organizations/${o.id}/members?page=0&per_page=1&include_totals=true&fields=user_id`);
      expect(offset.body).toMatchObject({ start: 0, limit: 1, total: 3 });
      expect(offset.body.members).toEqual([{ user_id: expect.any(String) }]);
    });

    it('take out of range → 400', async () => {
      const o = await org();
      expect((await s.api('GET', `/organizations/${o.id}/members?take=0`)).status).toBe(400);
      expect((await s.api('GET', `/organizations/${o.id}/members?take=101`)).status).toBe(400);
    });
  });

  describe('/organizations/{id}/enabled_connections', () => {
    it('add (Auth0 defaults), list, get, PATCH, delete', async () => {
      const o = await org();
      expect((await s.api('GET', `/organizations/${o.id}/enabled_connections`)).body).toEqual([]);
      const added = await s.api('POST', `/organizations/${o.id}/enabled_connections`, { connection_id: CON });
      expect(added.status).toBe(201);
      const want = { connection_id: CON, assign_membership_on_login: false, show_as_button: true, is_signup_enabled: false, connection: { name: CONNECTION, strategy: 'auth0' } };
      expect(added.body).toEqual(want);
      expect((await s.api('GET', `/organizations/${o.id}/enabled_connections`)).body).toEqual([want]);
      expect((await s.api('GET', `/organizations/${o.id}/enabled_connections?include_totals=true&page=0&per_page=10`)).body).toEqual({ start: 0, limit: 10, total: 1, enabled_connections: [want] });
      expect((await s.api('GET', `/organizations/${o.id}/enabled_connections/${CON}`)).body).toEqual(want);
      const patched = await s.api('PATCH', `/organizations/${o.id}/enabled_connections/${CON}`, { assign_membership_on_login: true, is_signup_enabled: true });
      expect(patched.status).toBe(200);
      expect(patched.body).toEqual({ ...want, assign_membership_on_login: true, is_signup_enabled: true });
      expect((await s.api('DELETE', `/organizations/${o.id}/enabled_connections/${CON}`)).status).toBe(204);
      expect((await s.api('GET', `/organizations/${o.id}/enabled_connections`)).body).toEqual([]);
      expect((await s.api('GET', `/organizations/${o.id}/enabled_connections/${CON}`)).body).toEqual(NOT_ENABLED);
    });

    it('refusals: unknown connection, twice, unknown organization, extra fields, connection_id in a PATCH; nothing changes', async () => {
      const o = await org();
      expect((await s.api('POST', `/organizations/${o.id}/enabled_connections`, { connection_id: 'con_doesNotExist0000' })).body).toEqual(NO_CONNECTION);
      expect((await s.api('POST', `/organizations/${o.id}/enabled_connections`, { connection_id: CON })).status).toBe(201);
      const twice = await s.api('POST', `/organizations/${o.id}/enabled_connections`, { connection_id: CON, assign_membership_on_login: true });
      expect(twice.status).toBe(409);
      expect(twice.body).toEqual({ statusCode: 409, error: 'Conflict', message: 'The connection is already enabled for this organization.', errorCode: 'organization_connection_conflict' });
      expect((await s.api('POST', '/organizations/org_doesnotexist/enabled_connections', { connection_id: CON })).status).toBe(404);
      expect((await s.api('GET', '/organizations/org_doesnotexist/enabled_connections')).status).toBe(404);
      const extra = await s.api('POST', `/organizations/${o.id}/enabled_connections`, { connection_id: CON, is_enabled: false });
      expect(extra.status).toBe(400);
      expect(extra.body).toEqual(badRequest("Payload validation error: 'Additional properties not allowed: is_enabled'."));
      const patchId = await s.api('PATCH', `/organizations/${o.id}/enabled_connections/${CON}`, { connection_id: 'con_other' });
      expect(patchId.status).toBe(400);
      expect((await s.api('PATCH', `/organizations/${o.id}/enabled_connections/con_none`, { show_as_button: false })).body).toEqual(NOT_ENABLED);
      expect((await s.api('DELETE', `/organizations/${o.id}/enabled_connections/con_none`)).body).toEqual(NOT_ENABLED);
      expect((await s.api('GET', `/organizations/${o.id}/enabled_connections/${CON}`)).body.assign_membership_on_login).toBe(false);
    });
  });

  describe('/organizations/{id}/connections (the newer API)', () => {
    it('adds the organization-scoped fields and lists connections disabled with is_enabled: false', async () => {
      const o = await org();
      const r = await s.api('POST', `/organizations/${o.id}/connections`, {
        connection_id: CON, organization_connection_name: 'Acme employees', organization_access_level: 'readonly', is_enabled: false,
      });
      expect(r.status, JSON.stringify(r.body)).toBe(201);
      expect(r.body).toEqual({
        connection_id: CON, assign_membership_on_login: false, show_as_button: true, is_signup_enabled: false, is_enabled: false,
        organization_connection_name: 'Acme employees', organization_access_level: 'readonly', connection: { name: CONNECTION, strategy: 'auth0' },
      });
      // the classic API lists enabled connections only
      expect((await s.api('GET', `/organizations/${o.id}/enabled_connections`)).body).toEqual([]);
      expect((await s.api('GET', `/organizations/${o.id}/connections`)).body).toHaveLength(1);
      expect((await s.api('GET', `/organizations/${o.id}/connections?is_enabled=true`)).body).toEqual([]);
      expect((await s.api('GET', `/organizations/${o.id}/connections?is_enabled=false&include_totals=true`)).body).toMatchObject({ total: 1, connections: [{ connection_id: CON }] });
      const p = await s.api('PATCH', `/organizations/${o.id}/connections/${CON}`, { is_enabled: null, organization_connection_name: null, organization_access_level: 'full' });
      expect(p.status).toBe(200);
      expect(p.body).toMatchObject({ is_enabled: true, organization_access_level: 'full' });
      expect(p.body).not.toHaveProperty('organization_connection_name');
      expect((await s.api('GET', `/organizations/${o.id}/enabled_connections/${CON}`)).status).toBe(200);
    });

    it('refuses an unknown access level and a too long name', async () => {
      const o = await org();
      expect((await s.api('POST', `/organizations/${o.id}/connections`, { connection_id: CON, organization_access_level: 'admin' })).status).toBe(400);
      expect((await s.api('POST', `/organizations/${o.id}/connections`, { connection_id: CON, organization_connection_name: 'x'.repeat(129) })).status).toBe(400);
      expect((await s.api('GET', `/organizations/${o.id}/connections`)).body).toEqual([]);
    });

    it('scopes: read:organization_connections reads, create:organization_connections does not', async () => {
      const o = await org();
      const read = await managementToken(s, ['read:organization_connections']);
      expect((await s.api('GET', `/organizations/${o.id}/connections`, undefined, { token: read })).status).toBe(200);
      const post = await s.api('POST', `/organizations/${o.id}/connections`, { connection_id: CON }, { token: read });
      expect(post.status).toBe(403);
      expect((await s.api('GET', `/organizations/${o.id}/connections`)).body).toEqual([]);
    });
  });

  describe('what the settings do at login with an organization', () => {
    let web: { clientId: string; secret: string };
    beforeAll(async () => {
      web = await createWebApp(s, { name: `org-login-${uniq()}`, organization_usage: 'allow' });
    });
    const login = async (organization: string, email: string) => {
      const r = await authorize(s, new Browser(s), {
        response_type: 'code', client_id: web.clientId, redirect_uri: CALLBACK, scope: 'openid', organization, nonce: 'n', state: 'st',
      }, { email });
      return callbackParams(r.res.location);
    };

    it('assign_membership_on_login: a non-member logging in becomes a member and gets org_id', async () => {
      const o = await org();
      const email = `joiner-${uniq()}@example.com`;
      const userId = await createUser(s, email);
      expect((await login(o.id, email)).error).toBe('access_denied');
      await s.api('POST', `/organizations/${o.id}/enabled_connections`, { connection_id: CON, assign_membership_on_login: true });
      const cb = await login(o.id, email);
      expect(cb.code, JSON.stringify(cb)).toBeDefined();
      const t = await exchange(s, { client_id: web.clientId, client_secret: web.secret, code: cb.code });
      expect(decodeJwt(t.body.id_token).org_id).toBe(o.id);
      const members = (await s.api('GET', `/organizations/${o.id}/members`)).body as Array<{ user_id: string }>;
      expect(members.map((m) => m.user_id)).toEqual([userId]);
    });

    it('without assign_membership_on_login a non-member is still refused', async () => {
      const o = await org();
      const email = `outsider-${uniq()}@example.com`;
      await createUser(s, email);
      await s.api('POST', `/organizations/${o.id}/enabled_connections`, { connection_id: CON });
      expect((await login(o.id, email)).error).toBe('access_denied');
      expect((await s.api('GET', `/organizations/${o.id}/members`)).body).toEqual([]);
    });

    it('is_enabled: false refuses members too; enabling it again lets them in', async () => {
      const o = await org();
      const email = `member-${uniq()}@example.com`;
      const userId = await createUser(s, email);
      await s.api('POST', `/organizations/${o.id}/members`, { members: [userId] });
      await s.api('POST', `/organizations/${o.id}/connections`, { connection_id: CON, is_enabled: false, assign_membership_on_login: true });
      expect(await login(o.id, email)).toEqual({
        error: 'access_denied', error_description: `the connection ${CONNECTION} is not enabled for the ${o.id} organization`, state: 'st', iss: `${PUBLIC_URL}/`,
      });
      await s.api('PATCH', `/organizations/${o.id}/connections/${CON}`, { is_enabled: true });
      expect((await login(o.id, email)).code).toBeDefined();
    });
  });

  describe('GET /api/v2/connections (read:connections)', () => {
    it('lists the database connection with strategy, realms and every client in enabled_clients', async () => {
      const app = await createWebApp(s, { name: `listed-${uniq()}` });
      const r = await s.api('GET', '/connections');
      expect(r.status).toBe(200);
      expect(r.body).toHaveLength(1);
      expect(r.body[0]).toMatchObject({ id: CON, name: CONNECTION, strategy: 'auth0', realms: [CONNECTION], is_domain_connection: false, options: { passwordPolicy: 'good' } });
      expect(r.body[0].enabled_clients).toContain(app.clientId);
      expect((await s.api('GET', `/connections/${CON}`)).body).toEqual(r.body[0]);
    });

    it('filters by strategy (one, several, repeated) and name; pages by offset and checkpoint; projects with fields', async () => {
      expect((await s.api('GET', '/connections?strategy=auth0')).body).toHaveLength(1);
      expect((await s.api('GET', '/connections?strategy=google-oauth2')).body).toEqual([]);
      expect((await s.api('GET', '/connections?strategy=google-oauth2&strategy=auth0')).body).toHaveLength(1);
      expect((await s.api('GET', `/connections?name=${CONNECTION}`)).body).toHaveLength(1);
      expect((await s.api('GET', '/connections?name=Other')).body).toEqual([]);
      expect((await s.api('GET', '/connections?include_totals=true&per_page=1&page=0')).body).toMatchObject({ start: 0, limit: 1, total: 1 });
      expect((await s.api('GET', '/connections?include_totals=true&per_page=1&page=1')).body).toMatchObject({ total: 1, connections: [] });
      const cp = await s.api('GET', '/connections?take=1');
      expect(cp.body).toEqual({ connections: [expect.objectContaining({ id: CON })] });
      expect((await s.api('GET', '/connections?fields=id,name,strategy')).body).toEqual([{ id: CON, name: CONNECTION, strategy: 'auth0' }]);
      expect(Object.keys((await s.api('GET', `/connections/${CON}?fields=enabled_clients,options&include_fields=false`)).body).sort()).toEqual(['id', 'is_domain_connection', 'name', 'realms', 'strategy']);
    });

    it('GET /connections/{id}/clients lists the enabled clients by checkpoint', async () => {
      const all = (await s.api('GET', `/connections/${CON}`)).body.enabled_clients as string[];
      const first = await s.api('GET', `/connections/${CON}/clients?take=1`);
      expect(first.status).toBe(200);
      expect(first.body.clients).toEqual([{ client_id: all[0] }]);
      if (all.length > 1) expect(first.body.next).toBe('1');
      const rest = await s.api('GET', `/connections/${CON}/clients?from=1&take=100`);
      expect(rest.body.clients.map((c: { client_id: string }) => c.client_id)).toEqual(all.slice(1));
    });

    it('refusals: unknown id → 404, bad from or take → 400, unknown query parameter → 400', async () => {
      expect((await s.api('GET', '/connections/con_doesNotExist0000')).body).toEqual(NO_CONNECTION);
      expect((await s.api('GET', '/connections/con_doesNotExist0000/clients')).body).toEqual(NO_CONNECTION);
      expect((await s.api('GET', '/connections?from=abc')).status).toBe(400);
      expect((await s.api('GET', '/connections?from=-1')).status).toBe(400);
      expect((await s.api('GET', `/connections/${CON}/clients?take=1000`)).status).toBe(400);
      expect((await s.api('GET', '/connections?search=x')).status).toBe(400);
    });

    it('needs read:connections', async () => {
      const other = await managementToken(s, ['read:clients']);
      const r = await s.api('GET', '/connections', undefined, { token: other });
      expect(r.status).toBe(403);
      const ok = await managementToken(s, ['read:connections']);
      expect((await s.api('GET', '/connections', undefined, { token: ok })).status).toBe(200);
    });
  });
});
