import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eachDialect, startTessera, type TestServer } from './helpers/tessera';
import { createApi, managementToken, uniq } from './helpers/management';

const DB = 'Username-Password-Authentication';
const enc = (id: string) => encodeURIComponent(id);

async function createRole(s: TestServer, body: Record<string, unknown> = {}) {
  const r = await s.api('POST', '/roles', { name: `role-${uniq()}`, ...body });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body;
}

async function createUser(s: TestServer) {
  const r = await s.api('POST', '/users', { connection: DB, email: `r-${uniq()}@example.com`, password: 'Corr3ct-Horse' });
  expect(r.status).toBe(201);
  return r.body;
}

eachDialect('roles', (dialect) => {
  let s: TestServer;
  beforeAll(async () => { s = await startTessera(dialect); });
  afterAll(async () => { await s.close(); });

  describe('CRUD', () => {
    it('POST /roles answers 200 with the role; description is omitted when not given', async () => {
      const name = `Orders Reader ${uniq()}`;
      const r = await s.api('POST', '/roles', { name, description: 'Can read orders' });
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ id: expect.stringMatching(/^rol_[A-Za-z0-9]{16}$/), name, description: 'Can read orders', type: 'tenant' });
      const bare = await s.api('POST', '/roles', { name: `bare-${uniq()}`, type: 'tenant' });
      expect(bare.status).toBe(200);
      expect(Object.keys(bare.body).sort()).toEqual(['id', 'name', 'type']);
    });

    it('refuses a duplicate name with 409 and bad bodies with 400', async () => {
      const role = await createRole(s);
      const dup = await s.api('POST', '/roles', { name: role.name });
      expect(dup.status).toBe(409);
      expect(dup.body).toEqual({ statusCode: 409, error: 'Conflict', message: 'The role already exists.', errorCode: 'role_conflict' });
      const missing = await s.api('POST', '/roles', { description: 'x' });
      expect(missing.body).toEqual({ statusCode: 400, error: 'Bad Request', message: "Payload validation error: 'Missing required property: name'.", errorCode: 'invalid_body' });
      const org = await s.api('POST', '/roles', { name: `o-${uniq()}`, type: 'organization' });
      expect(org.status).toBe(400);
      expect(org.body.message).toBe("Payload validation error: 'owner_id is required when type is organization' on property owner_id.");
    });

    it('GET /roles/{id} returns the role; an unknown id is 404', async () => {
      const role = await createRole(s, { description: 'd' });
      expect((await s.api('GET', `/roles/${role.id}`)).body).toEqual(role);
      const missing = await s.api('GET', '/roles/rol_doesnotexist0000');
      expect(missing.status).toBe(404);
      expect(missing.body).toEqual({ statusCode: 404, error: 'Not Found', message: 'Role not found.', errorCode: 'inexistent_role' });
    });

    it('PATCH renames and re-describes (null removes the description); a taken name is 409', async () => {
      const role = await createRole(s, { description: 'old' });
      const other = await createRole(s);
      const r = await s.api('PATCH', `/roles/${role.id}`, { name: `${role.name}-2`, description: 'new' });
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ ...role, name: `${role.name}-2`, description: 'new' });
      const cleared = await s.api('PATCH', `/roles/${role.id}`, { description: null });
      expect(cleared.body).toEqual({ id: role.id, name: `${role.name}-2`, type: 'tenant' });
      const taken = await s.api('PATCH', `/roles/${role.id}`, { name: other.name });
      expect(taken.status).toBe(409);
      expect(taken.body.message).toBe('The role already exists.');
      const extra = await s.api('PATCH', `/roles/${role.id}`, { type: 'tenant' });
      expect(extra.body.message).toBe("Payload validation error: 'Additional properties not allowed: type'.");
    });

    it('DELETE answers 200 with {} and the role is gone; deleting again is 404', async () => {
      const role = await createRole(s);
      const r = await s.api('DELETE', `/roles/${role.id}`);
      expect(r.status).toBe(200);
      expect(r.body).toEqual({});
      expect(r.headers['content-length']).toBe('2');
      expect((await s.api('GET', `/roles/${role.id}`)).status).toBe(404);
      expect((await s.api('DELETE', `/roles/${role.id}`)).status).toBe(404);
    });

    it('lists with paging, name_filter (case-insensitive substring) and type', async () => {
      const fresh = await startTessera(dialect);
      try {
        const names = ['Admin', 'Orders Reader', 'orders writer', '100%_done'];
        const roles = [];
        for (const name of names) roles.push((await fresh.api('POST', '/roles', { name })).body);
        const page = await fresh.api('GET', '/roles?per_page=2&page=0&include_totals=true');
        expect(page.body).toEqual({ roles: roles.slice(0, 2), start: 0, limit: 2, total: 4 });
        const last = await fresh.api('GET', '/roles?per_page=2&page=2&include_totals=true');
        expect(last.body).toEqual({ roles: [], start: 4, limit: 2, total: 4 });
        expect((await fresh.api('GET', '/roles')).body).toEqual(roles);
        const filtered = await fresh.api('GET', '/roles?name_filter=ORDERS&include_totals=true&per_page=100&page=0&type=tenant');
        expect(filtered.body).toEqual({ roles: roles.slice(1, 3), start: 0, limit: 100, total: 2 });
        expect((await fresh.api('GET', '/roles?name_filter=0%25_')).body).toEqual([roles[3]]);
        expect((await fresh.api('GET', '/roles?name_filter=%25')).body).toEqual([roles[3]]);
        const orgRoles = await fresh.api('GET', '/roles?type=organization&owner_id=org_x&include_totals=true');
        expect(orgRoles.body).toEqual({ roles: [], start: 0, limit: 50, total: 0 });
        // tenant roles have no owner: an owner filter alone matches none of them (never ignored)
        expect((await fresh.api('GET', '/roles?owner_id=org_x')).body).toEqual([]);
      } finally {
        await fresh.close();
      }
    });
  });

  describe('permissions', () => {
    it('POST adds (201 {}), GET lists with description and API name, DELETE removes (204)', async () => {
      const api = await createApi(s, { name: 'Orders API', scopes: [{ value: 'read:orders', description: 'Read orders' }, { value: 'write:orders' }] });
      const role = await createRole(s);
      const perms = [
        { resource_server_identifier: api.identifier, permission_name: 'read:orders' },
        { resource_server_identifier: api.identifier, permission_name: 'write:orders' },
      ];
      const add = await s.api('POST', `/roles/${role.id}/permissions`, { permissions: perms });
      expect(add.status).toBe(201);
      expect(add.body).toEqual({});
      // adding again is harmless
      expect((await s.api('POST', `/roles/${role.id}/permissions`, { permissions: perms.slice(0, 1) })).status).toBe(201);
      const list = await s.api('GET', `/roles/${role.id}/permissions?per_page=100&page=0&include_totals=true`);
      expect(list.status).toBe(200);
      expect(list.body).toEqual({
        permissions: [
          { permission_name: 'read:orders', description: 'Read orders', resource_server_name: 'Orders API', resource_server_identifier: api.identifier },
          { permission_name: 'write:orders', resource_server_name: 'Orders API', resource_server_identifier: api.identifier },
        ],
        start: 0, limit: 100, total: 2,
      });
      const del = await s.api('DELETE', `/roles/${role.id}/permissions`, { permissions: perms.slice(0, 1) });
      expect(del.status).toBe(204);
      expect(del.body).toBeUndefined();
      expect((await s.api('GET', `/roles/${role.id}/permissions`)).body).toEqual([
        { permission_name: 'write:orders', resource_server_name: 'Orders API', resource_server_identifier: api.identifier },
      ]);
    });

    it('refuses permissions of unknown APIs (404), undefined scopes (400), empty lists (400) and unknown roles (404)', async () => {
      const api = await createApi(s, { scopes: [{ value: 'read:x' }] });
      const role = await createRole(s);
      const unknownApi = await s.api('POST', `/roles/${role.id}/permissions`, { permissions: [{ resource_server_identifier: 'https://nope.example.com', permission_name: 'read:x' }] });
      expect(unknownApi.status).toBe(404);
      expect(unknownApi.body).toEqual({ statusCode: 404, error: 'Not Found', message: 'No resource with identifier https://nope.example.com', errorCode: 'inexistent_resource_server' });
      const unknownScope = await s.api('POST', `/roles/${role.id}/permissions`, { permissions: [{ resource_server_identifier: api.identifier, permission_name: 'write:x' }] });
      expect(unknownScope.status).toBe(400);
      expect(unknownScope.body).toEqual({ statusCode: 400, error: 'Bad Request', message: `Payload validation error: 'Permission write:x is not defined on resource server ${api.identifier}' on property permissions.`, errorCode: 'invalid_body' });
      const empty = await s.api('POST', `/roles/${role.id}/permissions`, { permissions: [] });
      expect(empty.body.message).toBe("Payload validation error: 'Array is too short (0), minimum 1' on property permissions (Array of resource_server_identifier, permission_name pairs.).");
      const noRole = await s.api('POST', '/roles/rol_unknown/permissions', { permissions: [{ resource_server_identifier: api.identifier, permission_name: 'read:x' }] });
      expect(noRole.status).toBe(404);
      expect(noRole.body.errorCode).toBe('inexistent_role');
      expect((await s.api('GET', `/roles/${role.id}/permissions?include_totals=true`)).body).toEqual({ permissions: [], start: 0, limit: 50, total: 0 });
    });
  });

  describe('role users', () => {
    it('assigns users (200 {}) and lists them with checkpoint and offset paging', async () => {
      const role = await createRole(s);
      const users = [await createUser(s), await createUser(s), await createUser(s)];
      const r = await s.api('POST', `/roles/${role.id}/users`, { users: users.map((u) => u.user_id) });
      expect(r.status).toBe(200);
      expect(r.body).toEqual({});
      const summary = (u: any) => ({ user_id: u.user_id, email: u.email, picture: u.picture, name: u.name });
      const first = await s.api('GET', `/roles/${role.id}/users?include_totals=true&take=2`);
      expect(first.body).toEqual({ users: users.slice(0, 2).map(summary), next: expect.any(String) });
      const second = await s.api('GET', `/roles/${role.id}/users?take=2&from=${encodeURIComponent(first.body.next)}`);
      expect(second.body).toEqual({ users: [summary(users[2])] });
      const offset = await s.api('GET', `/roles/${role.id}/users?page=0&per_page=50&include_totals=true`);
      expect(offset.body).toEqual({ users: users.map(summary), start: 0, limit: 50, total: 3 });
      const bad = await s.api('GET', `/roles/${role.id}/users?take=2&from=zzzz`);
      expect(bad.body).toEqual({ statusCode: 400, error: 'Bad Request', message: "Query validation error: 'Invalid checkpoint' on property from (Optional Id from which to start selection.).", errorCode: 'invalid_query_string' });
    });

    it('refuses unknown users with 404 and changes nothing', async () => {
      const role = await createRole(s);
      const u = await createUser(s);
      const r = await s.api('POST', `/roles/${role.id}/users`, { users: [u.user_id, 'auth0|missing'] });
      expect(r.status).toBe(404);
      expect(r.body).toEqual({ statusCode: 404, error: 'Not Found', message: 'One or more of the users do not exist.', errorCode: 'inexistent_user' });
      expect((await s.api('GET', `/roles/${role.id}/users?take=50`)).body).toEqual({ users: [] });
    });

    it('needs read:users and read:roles together (or read:role_members) to list role users', async () => {
      const role = await createRole(s);
      const rolesOnly = await managementToken(s, ['read:roles']);
      const r = await s.api('GET', `/roles/${role.id}/users`, undefined, { token: rolesOnly });
      expect(r.status).toBe(403);
      expect(r.body).toEqual({ statusCode: 403, error: 'Forbidden', message: 'Insufficient scope, expected all of: read:users,read:roles', errorCode: 'insufficient_scope' });
      for (const scopes of [['read:users', 'read:roles'], ['read:role_members']]) {
        const token = await managementToken(s, scopes);
        expect((await s.api('GET', `/roles/${role.id}/users`, undefined, { token })).status).toBe(200);
      }
      const members = await managementToken(s, ['create:role_members']);
      const u = await createUser(s);
      expect((await s.api('POST', `/roles/${role.id}/users`, { users: [u.user_id] }, { token: members })).status).toBe(200);
      expect((await s.api('POST', '/roles', { name: `x-${uniq()}` }, { token: members })).body.message).toBe('Insufficient scope, expected any of: create:roles');
    });
  });

  describe('user roles', () => {
    it('assigns (204), lists and removes (204) roles of a user', async () => {
      const u = await createUser(s);
      const a = await createRole(s, { description: 'A' });
      const b = await createRole(s);
      const add = await s.api('POST', `/users/${enc(u.user_id)}/roles`, { roles: [a.id, b.id, a.id] });
      expect(add.status).toBe(204);
      expect(add.body).toBeUndefined();
      const list = await s.api('GET', `/users/${enc(u.user_id)}/roles?per_page=50&page=0&include_totals=true`);
      expect(list.body).toEqual({ roles: [a, b], start: 0, limit: 50, total: 2 });
      const del = await s.api('DELETE', `/users/${enc(u.user_id)}/roles`, { roles: [a.id] });
      expect(del.status).toBe(204);
      expect((await s.api('GET', `/users/${enc(u.user_id)}/roles`)).body).toEqual([b]);
      expect((await s.api('GET', `/roles/${b.id}/users?take=10`)).body.users.map((x: any) => x.user_id)).toEqual([u.user_id]);
    });

    it('answers 404 for an unknown user or role', async () => {
      const u = await createUser(s);
      const role = await createRole(s);
      const noUser = await s.api('POST', `/users/${enc('auth0|nobody')}/roles`, { roles: [role.id] });
      expect(noUser.body).toEqual({ statusCode: 404, error: 'Not Found', message: 'The user does not exist.', errorCode: 'inexistent_user' });
      const noRole = await s.api('POST', `/users/${enc(u.user_id)}/roles`, { roles: [role.id, 'rol_nope'] });
      expect(noRole.body).toEqual({ statusCode: 404, error: 'Not Found', message: 'One or more of the roles do not exist.', errorCode: 'inexistent_role' });
      expect((await s.api('GET', `/users/${enc(u.user_id)}/roles`)).body).toEqual([]);
      expect((await s.api('GET', `/users/${enc('auth0|nobody')}/roles`)).status).toBe(404);
    });
  });
});
