import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Kysely } from 'kysely';
import { eachDialect, startTessera, type TestServer } from './helpers/tessera';
import { createApi, uniq } from './helpers/management';

const DB = 'Username-Password-Authentication';
const enc = (id: string) => encodeURIComponent(id);

/** Fixture: an API with three scopes, a role holding two of them, and a user. */
async function fixture(s: TestServer) {
  const api = await createApi(s, { name: `API ${uniq()}`, scopes: [{ value: 'read:a', description: 'Read A' }, { value: 'write:a' }, { value: 'admin:a' }] });
  const perm = (name: string) => ({ resource_server_identifier: api.identifier, permission_name: name });
  const role = (await s.api('POST', '/roles', { name: `role-${uniq()}` })).body;
  expect((await s.api('POST', `/roles/${role.id}/permissions`, { permissions: [perm('read:a'), perm('write:a')] })).status).toBe(201);
  const user = (await s.api('POST', '/users', { connection: DB, email: `p-${uniq()}@example.com`, password: 'Corr3ct-Horse' })).body;
  return { api, perm, role, user };
}

/** Rows left in a permission or assignment table (straight from storage: no dangling rows). */
async function count(s: TestServer, table: string, column: string, value: string): Promise<number> {
  const db = (s.t.services.store as unknown as { db: Kysely<any> }).db;
  const row = await db.selectFrom(table).select((eb) => eb.fn.countAll().as('n')).where(column, '=', value).executeTakeFirstOrThrow();
  return Number(row.n);
}

eachDialect('permissions', (dialect) => {
  let s: TestServer;
  beforeAll(async () => { s = await startTessera(dialect); });
  afterAll(async () => { await s.close(); });

  describe('user permissions', () => {
    it('adds direct permissions (201 {}) and lists direct and role permissions with their sources', async () => {
      const { api, perm, role, user } = await fixture(s);
      const add = await s.api('POST', `/users/${enc(user.user_id)}/permissions`, { permissions: [perm('read:a'), perm('admin:a')] });
      expect(add.status).toBe(201);
      expect(add.body).toEqual({});
      expect((await s.api('POST', `/users/${enc(user.user_id)}/roles`, { roles: [role.id] })).status).toBe(204);
      const r = await s.api('GET', `/users/${enc(user.user_id)}/permissions?per_page=50&page=0&include_totals=true`);
      expect(r.status).toBe(200);
      const base = { resource_server_name: api.name, resource_server_identifier: api.identifier };
      const direct = { source_id: '', source_name: '', source_type: 'DIRECT' };
      const viaRole = { source_id: role.id, source_name: role.name, source_type: 'ROLE' };
      expect(r.body).toEqual({
        permissions: [
          { permission_name: 'read:a', description: 'Read A', ...base, sources: [direct, viaRole] },
          { permission_name: 'admin:a', ...base, sources: [direct] },
          { permission_name: 'write:a', ...base, sources: [viaRole] },
        ],
        start: 0, limit: 50, total: 3,
      });
      const page = await s.api('GET', `/users/${enc(user.user_id)}/permissions?per_page=2&page=1&include_totals=true`);
      expect(page.body).toEqual({ permissions: [r.body.permissions[2]], start: 2, limit: 2, total: 3 });
    });

    it('removes direct permissions with 204; role permissions stay', async () => {
      const { perm, role, user } = await fixture(s);
      await s.api('POST', `/users/${enc(user.user_id)}/permissions`, { permissions: [perm('read:a')] });
      await s.api('POST', `/users/${enc(user.user_id)}/roles`, { roles: [role.id] });
      const del = await s.api('DELETE', `/users/${enc(user.user_id)}/permissions`, { permissions: [perm('read:a')] });
      expect(del.status).toBe(204);
      const list = await s.api('GET', `/users/${enc(user.user_id)}/permissions`);
      expect(list.body.map((p: any) => [p.permission_name, p.sources.map((x: any) => x.source_type)])).toEqual([['read:a', ['ROLE']], ['write:a', ['ROLE']]]);
    });

    it('refuses unknown users (404), unknown APIs (404) and undefined scopes (400)', async () => {
      const { api, perm, user } = await fixture(s);
      const noUser = await s.api('POST', `/users/${enc('auth0|ghost')}/permissions`, { permissions: [perm('read:a')] });
      expect(noUser.body).toEqual({ statusCode: 404, error: 'Not Found', message: 'The user does not exist.', errorCode: 'inexistent_user' });
      expect((await s.api('GET', `/users/${enc('auth0|ghost')}/permissions`)).status).toBe(404);
      const noApi = await s.api('POST', `/users/${enc(user.user_id)}/permissions`, { permissions: [{ resource_server_identifier: 'urn:none', permission_name: 'read:a' }] });
      expect(noApi.status).toBe(404);
      const noScope = await s.api('POST', `/users/${enc(user.user_id)}/permissions`, { permissions: [perm('read:a'), perm('delete:a')] });
      expect(noScope.status).toBe(400);
      expect(noScope.body.message).toBe(`Payload validation error: 'Permission delete:a is not defined on resource server ${api.identifier}' on property permissions.`);
      expect((await s.api('GET', `/users/${enc(user.user_id)}/permissions`)).body).toEqual([]);
    });
  });

  describe('cascades (no dangling permissions)', () => {
    it('removing a scope from the API removes it from roles and users in the same write', async () => {
      const { api, perm, role, user } = await fixture(s);
      await s.api('POST', `/users/${enc(user.user_id)}/permissions`, { permissions: [perm('write:a'), perm('admin:a')] });
      const patch = await s.api('PATCH', `/resource-servers/${api.id}`, { scopes: [{ value: 'read:a', description: 'Read A' }, { value: 'admin:a' }] });
      expect(patch.status).toBe(200);
      expect((await s.api('GET', `/roles/${role.id}/permissions`)).body.map((p: any) => p.permission_name)).toEqual(['read:a']);
      expect((await s.api('GET', `/users/${enc(user.user_id)}/permissions`)).body.map((p: any) => p.permission_name)).toEqual(['admin:a']);
      // re-adding the scope does not bring the old assignments back
      await s.api('PATCH', `/resource-servers/${api.id}`, { scopes: [{ value: 'read:a' }, { value: 'write:a' }, { value: 'admin:a' }] });
      expect((await s.api('GET', `/roles/${role.id}/permissions`)).body.map((p: any) => p.permission_name)).toEqual(['read:a']);
      // other PATCHes leave permissions alone
      await s.api('PATCH', `/resource-servers/${api.id}`, { token_lifetime: 600 });
      expect(await count(s, 'role_permissions', 'role_id', role.id)).toBe(1);
      // an empty scope list removes all of them
      await s.api('PATCH', `/resource-servers/${api.id}`, { scopes: [] });
      expect(await count(s, 'role_permissions', 'resource_server_identifier', api.identifier)).toBe(0);
      expect(await count(s, 'user_permissions', 'resource_server_identifier', api.identifier)).toBe(0);
    });

    it('deleting the API removes every permission on it; the role survives', async () => {
      const { api, perm, role, user } = await fixture(s);
      await s.api('POST', `/users/${enc(user.user_id)}/permissions`, { permissions: [perm('admin:a')] });
      expect((await s.api('DELETE', `/resource-servers/${api.id}`)).status).toBe(204);
      expect((await s.api('GET', `/roles/${role.id}/permissions?include_totals=true`)).body).toEqual({ permissions: [], start: 0, limit: 50, total: 0 });
      expect((await s.api('GET', `/users/${enc(user.user_id)}/permissions`)).body).toEqual([]);
      expect(await count(s, 'role_permissions', 'resource_server_identifier', api.identifier)).toBe(0);
      expect(await count(s, 'user_permissions', 'resource_server_identifier', api.identifier)).toBe(0);
      expect((await s.api('GET', `/roles/${role.id}`)).status).toBe(200);
    });

    it('deleting a role removes its permissions and assignments; its users lose what it granted', async () => {
      const { api, role, user } = await fixture(s);
      await s.api('POST', `/users/${enc(user.user_id)}/roles`, { roles: [role.id] });
      expect(await s.t.services.permissions.permissionsFor(user.user_id, api.identifier)).toEqual(['read:a', 'write:a']);
      expect((await s.api('DELETE', `/roles/${role.id}`)).status).toBe(200);
      expect((await s.api('GET', `/users/${enc(user.user_id)}/roles`)).body).toEqual([]);
      expect((await s.api('GET', `/users/${enc(user.user_id)}/permissions`)).body).toEqual([]);
      expect(await s.t.services.permissions.permissionsFor(user.user_id, api.identifier)).toEqual([]);
      expect(await count(s, 'role_permissions', 'role_id', role.id)).toBe(0);
      expect(await count(s, 'user_roles', 'role_id', role.id)).toBe(0);
    });

    it('deleting a user removes their permissions, roles and memberships', async () => {
      const { perm, role, user } = await fixture(s);
      const org = (await s.api('POST', '/organizations', { name: `org-${uniq()}` })).body;
      await s.api('POST', `/users/${enc(user.user_id)}/permissions`, { permissions: [perm('admin:a')] });
      await s.api('POST', `/users/${enc(user.user_id)}/roles`, { roles: [role.id] });
      expect((await s.api('POST', `/organizations/${org.id}/members`, { members: [user.user_id] })).status).toBe(204);
      expect((await s.api('POST', `/organizations/${org.id}/members/${enc(user.user_id)}/roles`, { roles: [role.id] })).status).toBe(204);
      expect((await s.api('DELETE', `/users/${enc(user.user_id)}`)).status).toBe(204);
      expect((await s.api('GET', `/roles/${role.id}/users?take=10`)).body).toEqual({ users: [] });
      expect((await s.api('GET', `/organizations/${org.id}/members?include_totals=true`)).body).toEqual({ members: [], start: 0, limit: 50, total: 0 });
      for (const table of ['user_permissions', 'user_roles', 'organization_members', 'organization_member_roles']) {
        expect(await count(s, table, 'user_id', user.user_id), table).toBe(0);
      }
    });
  });

  describe('permissionsFor (what the token flows ask)', () => {
    it('is direct ∪ roles for one API, plus organization member roles only when that organization is given', async () => {
      const { api, perm, role, user } = await fixture(s);
      const other = await createApi(s, { scopes: [{ value: 'read:b' }] });
      const orgRole = (await s.api('POST', '/roles', { name: `org-role-${uniq()}` })).body;
      await s.api('POST', `/roles/${orgRole.id}/permissions`, { permissions: [perm('admin:a'), { resource_server_identifier: other.identifier, permission_name: 'read:b' }] });
      const org = (await s.api('POST', '/organizations', { name: `org-${uniq()}` })).body;
      const elsewhere = (await s.api('POST', '/organizations', { name: `org-${uniq()}` })).body;
      await s.api('POST', `/organizations/${org.id}/members`, { members: [user.user_id] });
      await s.api('POST', `/organizations/${org.id}/members/${enc(user.user_id)}/roles`, { roles: [orgRole.id] });
      const p = s.t.services.permissions;
      expect(await p.permissionsFor(user.user_id, api.identifier)).toEqual([]);
      await s.api('POST', `/users/${enc(user.user_id)}/permissions`, { permissions: [perm('read:a')] });
      expect(await p.permissionsFor(user.user_id, api.identifier)).toEqual(['read:a']);
      await s.api('POST', `/users/${enc(user.user_id)}/roles`, { roles: [role.id] });
      expect(await p.permissionsFor(user.user_id, api.identifier)).toEqual(['read:a', 'write:a']);
      expect(await p.permissionsFor(user.user_id, api.identifier, org.id)).toEqual(['admin:a', 'read:a', 'write:a']);
      expect(await p.permissionsFor(user.user_id, api.identifier, elsewhere.id)).toEqual(['read:a', 'write:a']);
      expect(await p.permissionsFor(user.user_id, other.identifier, org.id)).toEqual(['read:b']);
      expect(await p.permissionsFor(user.user_id, other.identifier)).toEqual([]);
      expect(await p.permissionsFor('auth0|ghost', api.identifier)).toEqual([]);
      // removing the member drops their member roles with them
      expect((await s.api('DELETE', `/organizations/${org.id}/members`, { members: [user.user_id] })).status).toBe(204);
      expect(await p.permissionsFor(user.user_id, api.identifier, org.id)).toEqual(['read:a', 'write:a']);
      expect(await count(s, 'organization_member_roles', 'user_id', user.user_id)).toBe(0);
    });
  });
});
