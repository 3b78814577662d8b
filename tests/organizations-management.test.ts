import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eachDialect, startTessera, type TestServer } from './helpers/tessera';
import { createApi, createM2mClient, managementToken, uniq } from './helpers/management';

const DB = 'Username-Password-Authentication';
const enc = (id: string) => encodeURIComponent(id);

async function createOrg(s: TestServer, body: Record<string, unknown> = {}) {
  const r = await s.api('POST', '/organizations', { name: `org-${uniq()}`, ...body });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body;
}

async function createUser(s: TestServer) {
  const r = await s.api('POST', '/users', { connection: DB, email: `m-${uniq()}@example.com`, password: 'Corr3ct-Horse' });
  expect(r.status).toBe(201);
  return r.body;
}

/** An M2M client grant on a fresh API that may be used with organizations. */
async function createGrant(s: TestServer) {
  const api = await createApi(s, { scopes: [{ value: 'read:x' }] });
  const client = await createM2mClient(s);
  const r = await s.api('POST', '/client-grants', { client_id: client.client_id, audience: api.identifier, scope: ['read:x'], organization_usage: 'allow' });
  expect(r.status).toBe(201);
  return r.body;
}

const summary = (u: any) => ({ user_id: u.user_id, email: u.email, picture: u.picture, name: u.name });
const NOT_FOUND = { statusCode: 404, error: 'Not Found', message: 'No organization found by that id or name', errorCode: 'inexistent_organization' };

eachDialect('organizations', (dialect) => {
  let s: TestServer;
  beforeAll(async () => { s = await startTessera(dialect); });
  afterAll(async () => { await s.close(); });

  describe('CRUD', () => {
    it('creates (201) with org_ + 16 ids; optional fields only when given', async () => {
      const name = `acme-${uniq()}`;
      const r = await s.api('POST', '/organizations', {
        name, display_name: 'Acme Inc.', branding: { logo_url: 'https://acme.example.com/logo.png', colors: { primary: '#0059d6', page_background: '#000000' } },
        metadata: { tier: 'gold' },
      });
      expect(r.status).toBe(201);
      expect(r.body).toEqual({
        id: expect.stringMatching(/^org_[A-Za-z0-9]{16}$/), name, display_name: 'Acme Inc.',
        branding: { logo_url: 'https://acme.example.com/logo.png', colors: { primary: '#0059d6', page_background: '#000000' } }, metadata: { tier: 'gold' },
      });
      const bare = await createOrg(s);
      expect(Object.keys(bare).sort()).toEqual(['id', 'name']);
    });

    it('refuses a taken name (409) and invalid names (400)', async () => {
      const org = await createOrg(s);
      const dup = await s.api('POST', '/organizations', { name: org.name });
      expect(dup.status).toBe(409);
      expect(dup.body).toEqual({ statusCode: 409, error: 'Conflict', message: 'An organization with this name already exists.', errorCode: 'organization_conflict' });
      const bad = await s.api('POST', '/organizations', { name: 'Has Spaces' });
      expect(bad.status).toBe(400);
      expect(bad.body).toEqual({ statusCode: 400, error: 'Bad Request', message: "Payload validation error: 'String does not match pattern ^[a-z0-9](?:[a-z0-9_-]*[a-z0-9])?$: Has Spaces' on property name (The name of this organization.).", errorCode: 'invalid_body' });
      const meta = await s.api('POST', '/organizations', { name: `m-${uniq()}`, metadata: { n: 1 } });
      expect(meta.body.message).toBe("Payload validation error: 'Expected type string but found type integer' on property metadata.n.");
    });

    it('gets by id and by name; unknown ones are 404', async () => {
      const org = await createOrg(s, { display_name: 'X' });
      expect((await s.api('GET', `/organizations/${org.id}`)).body).toEqual(org);
      expect((await s.api('GET', `/organizations/name/${org.name}`)).body).toEqual(org);
      const missing = await s.api('GET', '/organizations/org_0000000000000000');
      expect(missing.status).toBe(404);
      expect(missing.body).toEqual(NOT_FOUND);
      expect((await s.api('GET', '/organizations/name/nobody-here')).body).toEqual(NOT_FOUND);
    });

    it('PATCH updates fields, null removes them, metadata merges key by key', async () => {
      const org = await createOrg(s, { display_name: 'Old', metadata: { a: '1', b: '2' }, branding: { logo_url: 'https://l.example.com/x.png' } });
      const name = `renamed-${uniq()}`;
      const r = await s.api('PATCH', `/organizations/${org.id}`, { name, display_name: null, branding: null, metadata: { a: null, c: '3' } });
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ id: org.id, name, metadata: { b: '2', c: '3' } });
      expect((await s.api('GET', `/organizations/${org.id}`)).body).toEqual(r.body);
      const cleared = await s.api('PATCH', `/organizations/${org.id}`, { metadata: { b: null, c: null } });
      expect(cleared.body).toEqual({ id: org.id, name });
      expect((await s.api('PATCH', '/organizations/org_0000000000000000', { display_name: 'x' })).body).toEqual(NOT_FOUND);
    });

    it('deletes with 204; deleting again is 404', async () => {
      const org = await createOrg(s);
      const r = await s.api('DELETE', `/organizations/${org.id}`);
      expect(r.status).toBe(204);
      expect(r.body).toBeUndefined();
      expect((await s.api('GET', `/organizations/${org.id}`)).status).toBe(404);
      expect((await s.api('DELETE', `/organizations/${org.id}`)).body).toEqual(NOT_FOUND);
    });

    it('lists with offset and checkpoint paging', async () => {
      const fresh = await startTessera(dialect);
      try {
        const orgs = [];
        for (let i = 0; i < 3; i++) orgs.push((await fresh.api('POST', '/organizations', { name: `o${i}-${uniq()}` })).body);
        expect((await fresh.api('GET', '/organizations?page=0&per_page=2&include_totals=true')).body).toEqual({ organizations: orgs.slice(0, 2), start: 0, limit: 2, total: 3 });
        const first = await fresh.api('GET', '/organizations?take=2');
        expect(first.body).toEqual({ organizations: orgs.slice(0, 2), next: expect.any(String) });
        expect((await fresh.api('GET', `/organizations?take=2&from=${first.body.next}`)).body).toEqual({ organizations: [orgs[2]] });
        expect((await fresh.api('GET', '/organizations')).body).toEqual(orgs);
      } finally {
        await fresh.close();
      }
    });
  });

  describe('members and member roles', () => {
    it('adds (204), lists (offset and checkpoint) and removes (204) members', async () => {
      const org = await createOrg(s);
      const users = [await createUser(s), await createUser(s)];
      const add = await s.api('POST', `/organizations/${org.id}/members`, { members: users.map((u) => u.user_id) });
      expect(add.status).toBe(204);
      expect((await s.api('POST', `/organizations/${org.id}/members`, { members: [users[0].user_id] })).status).toBe(204);
      expect((await s.api('GET', `/organizations/${org.id}/members?page=0&per_page=50&include_totals=true`)).body)
        .toEqual({ members: users.map(summary), start: 0, limit: 50, total: 2 });
      const cp = await s.api('GET', `/organizations/${org.id}/members?take=1`);
      expect(cp.body).toEqual({ members: [summary(users[0])], next: expect.any(String) });
      expect((await s.api('GET', `/organizations/${org.id}/members?take=1&from=${cp.body.next}`)).body).toEqual({ members: [summary(users[1])] });
      const del = await s.api('DELETE', `/organizations/${org.id}/members`, { members: [users[0].user_id] });
      expect(del.status).toBe(204);
      expect((await s.api('GET', `/organizations/${org.id}/members`)).body).toEqual([summary(users[1])]);
    });

    it('refuses unknown users (404) and unknown organizations (404)', async () => {
      const org = await createOrg(s);
      const r = await s.api('POST', `/organizations/${org.id}/members`, { members: ['auth0|ghost'] });
      expect(r.body).toEqual({ statusCode: 404, error: 'Not Found', message: 'One or more of the users do not exist.', errorCode: 'inexistent_user' });
      const u = await createUser(s);
      expect((await s.api('POST', '/organizations/org_0000000000000000/members', { members: [u.user_id] })).body).toEqual(NOT_FOUND);
    });

    it('assigns (204), lists and removes (204) roles of a member; non-members are 404', async () => {
      const org = await createOrg(s);
      const u = await createUser(s);
      const role = (await s.api('POST', '/roles', { name: `r-${uniq()}`, description: 'd' })).body;
      const path = `/organizations/${org.id}/members/${enc(u.user_id)}/roles`;
      const notMember = await s.api('POST', path, { roles: [role.id] });
      expect(notMember.status).toBe(404);
      expect(notMember.body).toEqual({ statusCode: 404, error: 'Not Found', message: 'The user is not a member of the organization.', errorCode: 'inexistent_organization_member' });
      await s.api('POST', `/organizations/${org.id}/members`, { members: [u.user_id] });
      expect((await s.api('POST', path, { roles: [role.id] })).status).toBe(204);
      expect((await s.api('GET', `${path}?page=0&per_page=50&include_totals=true`)).body).toEqual({ roles: [role], start: 0, limit: 50, total: 1 });
      const unknownRole = await s.api('POST', path, { roles: ['rol_nope'] });
      expect(unknownRole.body).toEqual({ statusCode: 404, error: 'Not Found', message: 'One or more of the roles do not exist.', errorCode: 'inexistent_role' });
      // member roles are per organization: the user's tenant roles are untouched
      expect((await s.api('GET', `/users/${enc(u.user_id)}/roles`)).body).toEqual([]);
      expect((await s.api('DELETE', path, { roles: [role.id] })).status).toBe(204);
      expect((await s.api('GET', path)).body).toEqual([]);
    });

    it('removing a member, or deleting the role, clears the member roles', async () => {
      const org = await createOrg(s);
      const u = await createUser(s);
      const role = (await s.api('POST', '/roles', { name: `r-${uniq()}` })).body;
      const path = `/organizations/${org.id}/members/${enc(u.user_id)}/roles`;
      await s.api('POST', `/organizations/${org.id}/members`, { members: [u.user_id] });
      await s.api('POST', path, { roles: [role.id] });
      await s.api('DELETE', `/organizations/${org.id}/members`, { members: [u.user_id] });
      await s.api('POST', `/organizations/${org.id}/members`, { members: [u.user_id] });
      expect((await s.api('GET', path)).body).toEqual([]);
      await s.api('POST', path, { roles: [role.id] });
      await s.api('DELETE', `/roles/${role.id}`);
      expect((await s.api('GET', path)).body).toEqual([]);
    });
  });

  describe('client grants', () => {
    it('associates a grant (201 with the grant fields), lists it both ways and removes it (204)', async () => {
      const org = await createOrg(s);
      const grant = await createGrant(s);
      const r = await s.api('POST', `/organizations/${org.id}/client-grants`, { grant_id: grant.id });
      expect(r.status).toBe(201);
      expect(r.body).toEqual({ grant_id: grant.id, client_id: grant.client_id, audience: grant.audience, scope: ['read:x'], organization_usage: 'allow' });
      const dup = await s.api('POST', `/organizations/${org.id}/client-grants`, { grant_id: grant.id });
      expect(dup.status).toBe(409);
      expect(dup.body).toEqual({ statusCode: 409, error: 'Conflict', message: 'The client grant is already associated with this organization.', errorCode: 'organization_client_grant_conflict' });
      const item = { id: grant.id, client_id: grant.client_id, audience: grant.audience, scope: ['read:x'], organization_usage: 'allow' };
      expect((await s.api('GET', `/organizations/${org.id}/client-grants?include_totals=true`)).body).toEqual({ client_grants: [item], start: 0, limit: 50, total: 1 });
      expect((await s.api('GET', `/organizations/${org.id}/client-grants?audience=urn:other`)).body).toEqual([]);
      expect((await s.api('GET', `/client-grants/${grant.id}/organizations?take=50`)).body).toEqual({ organizations: [org] });
      expect((await s.api('GET', `/client-grants/${grant.id}/organizations?include_totals=true`)).body).toEqual({ organizations: [org], start: 0, limit: 50, total: 1 });
      const del = await s.api('DELETE', `/organizations/${org.id}/client-grants/${grant.id}`);
      expect(del.status).toBe(204);
      expect((await s.api('GET', `/client-grants/${grant.id}/organizations?take=50`)).body).toEqual({ organizations: [] });
      const again = await s.api('DELETE', `/organizations/${org.id}/client-grants/${grant.id}`);
      expect(again.body).toEqual({ statusCode: 404, error: 'Not Found', message: 'The client grant does not exist.', errorCode: 'inexistent_client_grant' });
    });

    it('refuses unknown grants (404); deleting the grant or the organization removes the association', async () => {
      const org = await createOrg(s);
      expect((await s.api('POST', `/organizations/${org.id}/client-grants`, { grant_id: 'cgr_nope' })).status).toBe(404);
      expect((await s.api('GET', '/client-grants/cgr_nope/organizations')).status).toBe(404);
      const grant = await createGrant(s);
      await s.api('POST', `/organizations/${org.id}/client-grants`, { grant_id: grant.id });
      expect((await s.api('DELETE', `/client-grants/${grant.id}`)).status).toBe(204);
      expect((await s.api('GET', `/organizations/${org.id}/client-grants`)).body).toEqual([]);
      const other = await createGrant(s);
      await s.api('POST', `/organizations/${org.id}/client-grants`, { grant_id: other.id });
      await s.api('DELETE', `/organizations/${org.id}`);
      expect((await s.api('GET', `/client-grants/${other.id}/organizations?take=50`)).body).toEqual({ organizations: [] });
    });
  });

  describe('scopes', () => {
    it('checks the organization scopes per operation', async () => {
      const org = await createOrg(s);
      const reader = await managementToken(s, ['read:organizations']);
      expect((await s.api('GET', `/organizations/${org.id}`, undefined, { token: reader })).status).toBe(200);
      const cases: Array<[string, string, unknown, string]> = [
        ['POST', '/organizations', { name: `z-${uniq()}` }, 'create:organizations'],
        ['PATCH', `/organizations/${org.id}`, { display_name: 'x' }, 'update:organizations'],
        ['DELETE', `/organizations/${org.id}`, undefined, 'delete:organizations'],
        ['GET', `/organizations/${org.id}/members`, undefined, 'read:organization_members'],
        ['POST', `/organizations/${org.id}/members`, { members: ['auth0|x'] }, 'create:organization_members'],
        ['GET', `/organizations/${org.id}/members/auth0%7Cx/roles`, undefined, 'read:organization_member_roles'],
        ['POST', `/organizations/${org.id}/client-grants`, { grant_id: 'cgr_x' }, 'create:organization_client_grants'],
        ['GET', '/client-grants/cgr_x/organizations', undefined, 'read:organization_client_grants'],
      ];
      for (const [method, path, body, scope] of cases) {
        const r = await s.api(method, path, body, { token: reader });
        expect(r.body, `${method} ${path}`).toEqual({ statusCode: 403, error: 'Forbidden', message: `Insufficient scope, expected any of: ${scope}`, errorCode: 'insufficient_scope' });
      }
    });
  });
});
