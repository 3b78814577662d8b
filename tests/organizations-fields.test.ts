import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorize, Browser, CALLBACK, callbackParams, createUser, createWebApp, exchange } from './helpers/flows';
import { eachDialect, startTessera, type TestServer } from './helpers/tessera';
import { badRequest, managementToken, uniq } from './helpers/management';

const CON = 'con_TesseraDatabase1';
const DB_CONNECTION = { name: 'Username-Password-Authentication', strategy: 'auth0' };
const forbidden = (scopes: string) => ({ statusCode: 403, error: 'Forbidden', message: `Insufficient scope, expected any of: ${scopes}`, errorCode: 'insufficient_scope' });

/**
 * Fields of Auth0's organization schemas the SDK v7 and auth0-deploy-cli 8.44 send that Tessera once refused or
 * ignored: `third_party_client_access` (create, PATCH; enforced at /authorize), `enabled_connections` on create,
 * and `fields=roles` on the member list.
 */
eachDialect('management: organization fields (third_party_client_access, enabled_connections, member roles)', (dialect) => {
  let s: TestServer;
  beforeAll(async () => { s = await startTessera(dialect); });
  afterAll(async () => { await s.close(); });

  describe('third_party_client_access', () => {
    it('is stored and returned on create, read, list and PATCH; absent until set', async () => {
      const plain = await s.api('POST', '/organizations', { name: `org-${uniq()}` });
      expect(plain.body).not.toHaveProperty('third_party_client_access');
      const r = await s.api('POST', '/organizations', { name: `org-${uniq()}`, third_party_client_access: 'allow' });
      expect(r.status, JSON.stringify(r.body)).toBe(201);
      expect(r.body.third_party_client_access).toBe('allow');
      expect((await s.api('GET', `/organizations/${r.body.id}`)).body.third_party_client_access).toBe('allow');
      const p = await s.api('PATCH', `/organizations/${r.body.id}`, { third_party_client_access: 'block' });
      expect(p.status).toBe(200);
      expect(p.body.third_party_client_access).toBe('block');
      const listed = (await s.api('GET', '/organizations')).body as Array<Record<string, unknown>>;
      expect(listed.find((o) => o.id === r.body.id)).toMatchObject({ third_party_client_access: 'block' });
    });

    it('another value → 400, nothing created or changed', async () => {
      const name = `org-${uniq()}`;
      const r = await s.api('POST', '/organizations', { name, third_party_client_access: 'open' });
      expect(r.status).toBe(400);
      expect(r.body.errorCode).toBe('invalid_body');
      expect(r.body.message).toContain('third_party_client_access');
      expect((await s.api('GET', `/organizations/name/${name}`)).status).toBe(404);
      const o = (await s.api('POST', '/organizations', { name, third_party_client_access: 'allow' })).body;
      expect((await s.api('PATCH', `/organizations/${o.id}`, { third_party_client_access: null })).status).toBe(400);
      expect((await s.api('GET', `/organizations/${o.id}`)).body.third_party_client_access).toBe('allow');
    });

    it('block refuses third-party clients at /authorize, members included; allow and absent let them in; first-party clients are not affected', async () => {
      const thirdParty = await createWebApp(s, { name: `third-${uniq()}`, is_first_party: false, organization_usage: 'allow' });
      const firstParty = await createWebApp(s, { name: `first-${uniq()}`, organization_usage: 'allow' });
      const email = `member-${uniq()}@example.com`;
      const userId = await createUser(s, email);
      const o = (await s.api('POST', '/organizations', { name: `org-${uniq()}`, third_party_client_access: 'block' })).body;
      await s.api('POST', `/organizations/${o.id}/members`, { members: [userId] });
      const login = async (clientId: string) => {
        const r = await authorize(s, new Browser(s), {
          response_type: 'code', client_id: clientId, redirect_uri: CALLBACK, scope: 'openid', organization: o.id, nonce: 'n', state: 'st',
        }, { email, consent: 'accept' });
        return callbackParams(r.res.location);
      };
      expect(await login(thirdParty.clientId)).toMatchObject({
        error: 'access_denied', error_description: `the ${o.id} organization does not allow third-party clients (third_party_client_access: block)`, state: 'st',
      });
      const first = await login(firstParty.clientId);
      expect(first.code, JSON.stringify(first)).toBeDefined();

      await s.api('PATCH', `/organizations/${o.id}`, { third_party_client_access: 'allow' });
      const allowed = await login(thirdParty.clientId);
      expect(allowed.code, JSON.stringify(allowed)).toBeDefined();
      const t = await exchange(s, { client_id: thirdParty.clientId, client_secret: thirdParty.secret, code: allowed.code });
      expect(decodeJwt(t.body.id_token).org_id).toBe(o.id);

      const unset = (await s.api('POST', '/organizations', { name: `org-${uniq()}` })).body;
      await s.api('POST', `/organizations/${unset.id}/members`, { members: [userId] });
      const r = await authorize(s, new Browser(s), {
        response_type: 'code', client_id: thirdParty.clientId, redirect_uri: CALLBACK, scope: 'openid', organization: unset.id, nonce: 'n', state: 'st',
      }, { email, consent: 'accept' });
      expect(callbackParams(r.res.location).code).toBeDefined();
    });
  });

  describe('enabled_connections on create', () => {
    it('enables the database connection with the given settings and Auth0 defaults, in the answer and in the connection APIs', async () => {
      const r = await s.api('POST', '/organizations', { name: `org-${uniq()}`, enabled_connections: [{ connection_id: CON, assign_membership_on_login: true }] });
      expect(r.status, JSON.stringify(r.body)).toBe(201);
      const settings = { connection_id: CON, assign_membership_on_login: true, show_as_button: true, is_signup_enabled: false, connection: DB_CONNECTION };
      expect(r.body.enabled_connections).toEqual([settings]);
      expect((await s.api('GET', `/organizations/${r.body.id}/enabled_connections`)).body).toEqual([settings]);
      expect((await s.api('GET', `/organizations/${r.body.id}/connections`)).body).toEqual([{ ...settings, is_enabled: true }]);
      expect((await s.api('GET', `/organizations/${r.body.id}`)).body).not.toHaveProperty('enabled_connections');
      const empty = await s.api('POST', '/organizations', { name: `org-${uniq()}`, enabled_connections: [] });
      expect(empty.body.enabled_connections).toEqual([]);
      expect((await s.api('POST', '/organizations', { name: `org-${uniq()}` })).body).not.toHaveProperty('enabled_connections');
    });

    it('the enabled settings apply at login: assign_membership_on_login makes a non-member a member', async () => {
      const web = await createWebApp(s, { name: `org-login-${uniq()}`, organization_usage: 'allow' });
      const o = (await s.api('POST', '/organizations', { name: `org-${uniq()}`, enabled_connections: [{ connection_id: CON, assign_membership_on_login: true }] })).body;
      const email = `joiner-${uniq()}@example.com`;
      const userId = await createUser(s, email);
      const r = await authorize(s, new Browser(s), {
        response_type: 'code', client_id: web.clientId, redirect_uri: CALLBACK, scope: 'openid', organization: o.id, nonce: 'n', state: 'st',
      }, { email });
      expect(callbackParams(r.res.location).code).toBeDefined();
      expect(((await s.api('GET', `/organizations/${o.id}/members`)).body as Array<{ user_id: string }>).map((m) => m.user_id)).toEqual([userId]);
    });

    it('refusals create nothing: unknown connection (404), the same connection twice (409), more than 10, unknown keys, the newer API\'s fields', async () => {
      const attempts: Array<[unknown, number, string | undefined]> = [
        [[{ connection_id: 'con_unknown0000000' }], 404, 'inexistent_connection'],
        [[{ connection_id: CON }, { connection_id: CON }], 409, 'organization_connection_conflict'],
        [Array.from({ length: 11 }, () => ({ connection_id: CON })), 400, 'invalid_body'],
        [[{ connection_id: CON, colour: 'red' }], 400, 'invalid_body'],
        [[{ connection_id: CON, is_enabled: false }], 400, 'invalid_body'],
        [[{}], 400, 'invalid_body'],
      ];
      for (const [enabled, status, errorCode] of attempts) {
        const name = `org-${uniq()}`;
        const r = await s.api('POST', '/organizations', { name, enabled_connections: enabled });
        expect(r.status, JSON.stringify(r.body)).toBe(status);
        expect(r.body.errorCode).toBe(errorCode);
        expect((await s.api('GET', `/organizations/name/${name}`)).status).toBe(404);
      }
    });

    it('needs create:organization_connections besides create:organizations', async () => {
      const onlyOrgs = await managementToken(s, ['create:organizations']);
      const name = `org-${uniq()}`;
      const r = await s.api('POST', '/organizations', { name, enabled_connections: [{ connection_id: CON }] }, { token: onlyOrgs });
      expect(r.status).toBe(403);
      expect(r.body).toEqual(forbidden('create:organization_connections'));
      expect((await s.api('GET', `/organizations/name/${name}`)).status).toBe(404);
      expect((await s.api('POST', '/organizations', { name }, { token: onlyOrgs })).status).toBe(201);
      const both = await managementToken(s, ['create:organizations', 'create:organization_connections']);
      expect((await s.api('POST', '/organizations', { name: `org-${uniq()}`, enabled_connections: [{ connection_id: CON }] }, { token: both })).status).toBe(201);
    });
  });

  describe('members with fields=roles', () => {
    let org: string;
    let ann: string;
    let bob: string;
    let viewer: { id: string; name: string };
    let auditor: { id: string; name: string };
    beforeAll(async () => {
      org = (await s.api('POST', '/organizations', { name: `org-${uniq()}` })).body.id;
      ann = await createUser(s, `ann-${uniq()}@example.com`);
      bob = await createUser(s, `bob-${uniq()}@example.com`);
      viewer = (await s.api('POST', '/roles', { name: `viewer-${uniq()}` })).body;
      auditor = (await s.api('POST', '/roles', { name: `auditor-${uniq()}`, type: 'organization', owner_id: org })).body;
      const other = (await s.api('POST', '/organizations', { name: `org-${uniq()}` })).body.id;
      await s.api('POST', `/organizations/${org}/members`, { members: [ann, bob] });
      await s.api('POST', `/organizations/${other}/members`, { members: [bob] });
      await s.api('POST', `/organizations/${org}/members/${encodeURIComponent(bob)}/roles`, { roles: [viewer.id, auditor.id] });
      await s.api('POST', `/organizations/${other}/members/${encodeURIComponent(bob)}/roles`, { roles: [viewer.id] });
      await s.api('POST', `/users/${encodeURIComponent(ann)}/roles`, { roles: [viewer.id] }); // a tenant-wide assignment is not a member role
    });

    it('adds each member\'s roles in this organization ({id, name}, [] without any), on offset and checkpoint pages', async () => {
      const want = { [ann]: [], [bob]: [{ id: viewer.id, name: viewer.name }, { id: auditor.id, name: auditor.name }] };
      const plain = await s.api('GET', `/organizations/${org}/members?fields=user_id,roles`);
      expect(plain.status, JSON.stringify(plain.body)).toBe(200);
      expect(plain.body).toEqual([ann, bob].map((user_id) => ({ user_id, roles: want[user_id] })));
      const totals = await s.api('GET', `/organizations/${org}/members?fields=roles,email&include_totals=true`);
      expect(totals.body.members.map((m: any) => Object.keys(m).sort())).toEqual([['email', 'roles'], ['email', 'roles']]);
      expect(totals.body.members.map((m: any) => m.roles)).toEqual([want[ann], want[bob]]);
      const first = await s.api('GET', `/organizations/${org}/members?take=1&fields=user_id,roles`);
      expect(first.body.members).toEqual([{ user_id: ann, roles: [] }]);
      const second = await s.api('GET', `/organizations/${org}/members?take=1&from=${first.body.next}&fields=user_id,roles`);
      expect(second.body.members).toEqual([{ user_id: bob, roles: want[bob] }]);
    });

    it('without fields=roles (or with include_fields=false) there are no roles', async () => {
      for (const q of ['', '?fields=user_id', '?fields=roles&include_fields=false']) {
        const r = await s.api('GET', `/organizations/${org}/members${q}`);
        expect(r.status).toBe(200);
        for (const m of r.body) expect(m).not.toHaveProperty('roles');
      }
    });

    it('roles need read:organization_member_roles as well (403 otherwise); members alone do not', async () => {
      const members = await managementToken(s, ['read:organization_members']);
      expect((await s.api('GET', `/organizations/${org}/members?fields=user_id`, undefined, { token: members })).status).toBe(200);
      const r = await s.api('GET', `/organizations/${org}/members?fields=user_id,roles`, undefined, { token: members });
      expect(r.status).toBe(403);
      expect(r.body).toEqual(forbidden('read:organization_member_roles'));
      const both = await managementToken(s, ['read:organization_members', 'read:organization_member_roles']);
      expect((await s.api('GET', `/organizations/${org}/members?fields=roles`, undefined, { token: both })).body).toHaveLength(2);
    });
  });

  it('a bad body is refused with Auth0\'s envelope, never a 5xx', async () => {
    const r = await s.api('POST', '/organizations', { name: `org-${uniq()}`, enabled_connections: 'con' });
    expect(r.status).toBe(400);
    expect(r.body).toEqual(badRequest("Payload validation error: 'Expected type array but found type string' on property enabled_connections (Connections enabled for the organization when it is created (the body of POST /organizations/{id}/enabled_connections; at most 10). Needs create:organization_connections as well.)."));
  });
});
