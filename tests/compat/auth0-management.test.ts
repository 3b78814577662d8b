// auth0 (node-auth0) v7 ManagementClient, unchanged: domain = 127.0.0.1:<port>, client credentials of an
// M2M client, HTTPS trusted through NODE_EXTRA_CA_CERTS only.
import { ManagementClient, Management } from 'auth0';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { forEachTarget } from './setup/targets';
import { mgmt, routeServed, unique } from './setup/http';

const PAGING_APIS = 55; // more than the SDK's page size of 50

forEachTarget('auth0 v7 ManagementClient', (target) => {
  let client: ManagementClient;
  const tag = unique('sdk7');
  const identifier = `https://${tag}.example.test/`;

  beforeAll(async () => {
    // An M2M client of its own (not the bootstrap admin), granted the Management scopes it needs.
    const c = await mgmt(target, 'POST', '/clients', { name: `${tag} deployer`, app_type: 'non_interactive', grant_types: ['client_credentials'] });
    const scopes = ['read:resource_servers', 'create:resource_servers', 'update:resource_servers', 'delete:resource_servers',
      'read:clients', 'read:client_keys', 'create:clients', 'update:clients', 'delete:clients',
      'read:client_grants', 'create:client_grants', 'update:client_grants', 'delete:client_grants',
      'read:roles', 'create:roles', 'update:roles', 'delete:roles', 'read:users', 'create:users', 'update:users', 'delete:users',
      'read:signing_keys', 'create:signing_keys', 'update:signing_keys'];
    const g = await mgmt(target, 'POST', '/client-grants', { client_id: c.body.client_id, audience: target.managementAudience, scope: scopes });
    expect(g.status).toBe(201);
    client = new ManagementClient({ domain: target.domain, clientId: c.body.client_id, clientSecret: c.body.client_secret });
  });

  describe('resource servers', () => {
    let id: string;

    it('create → 201 with Auth0 defaults', async () => {
      const { data, rawResponse } = await client.resourceServers.create({
        name: `${tag} Orders`, identifier, token_dialect: 'rfc9068_profile_authz', enforce_policies: true,
        scopes: [{ value: 'read:orders', description: 'Read orders' }, { value: 'write:orders', description: 'Write orders' }],
      }).withRawResponse();
      expect(rawResponse.status).toBe(201);
      expect(data).toMatchObject({
        name: `${tag} Orders`, identifier, signing_alg: 'RS256', token_lifetime: 86400, token_lifetime_for_web: 7200,
        allow_offline_access: false, skip_consent_for_verifiable_first_party_clients: false, token_dialect: 'rfc9068_profile_authz',
        enforce_policies: true, scopes: [{ value: 'read:orders', description: 'Read orders' }, { value: 'write:orders', description: 'Write orders' }],
      });
      expect(data.id).toMatch(/^[0-9a-f]{24}$/);
      id = data.id as string;
    });

    it('get by id and by identifier', async () => {
      expect((await client.resourceServers.get(id)).identifier).toBe(identifier);
      expect((await client.resourceServers.get(identifier)).id).toBe(id);
    });

    it('update (PATCH → 200)', async () => {
      const { data, rawResponse } = await client.resourceServers.update(id, { token_lifetime: 600, scopes: [{ value: 'read:orders', description: 'Read' }] }).withRawResponse();
      expect(rawResponse.status).toBe(200);
      expect(data).toMatchObject({ id, token_lifetime: 600, token_lifetime_for_web: 600, scopes: [{ value: 'read:orders', description: 'Read' }] });
      expect((await client.resourceServers.get(id)).token_lifetime).toBe(600);
    });

    it('duplicate identifier → ConflictError (409)', async () => {
      const err = await client.resourceServers.create({ name: 'dup', identifier }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Management.ConflictError);
      expect((err as Management.ConflictError).statusCode).toBe(409);
      expect((err as Management.ConflictError).body).toEqual({
        statusCode: 409, error: 'Conflict', message: 'A resource server with the same identifier already exists.', errorCode: 'conflict',
      });
    });

    it('unknown property → BadRequestError with Auth0\'s validation message', async () => {
      const err = await client.resourceServers.create({ identifier: `urn:${tag}:bad`, colour: 'blue' } as unknown as Management.CreateResourceServerRequestContent).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Management.BadRequestError);
      expect((err as Management.BadRequestError).body).toEqual({
        statusCode: 400, error: 'Bad Request', message: "Payload validation error: 'Additional properties not allowed: colour'.", errorCode: 'invalid_body',
      });
    });

    it('invalid enum → BadRequestError naming the property', async () => {
      const err = await client.resourceServers.create({ identifier: `urn:${tag}:bad`, signing_alg: 'HS512' as never }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Management.BadRequestError);
      expect((err as Management.BadRequestError).body).toMatchObject({ statusCode: 400, errorCode: 'invalid_body' });
      expect(((err as Management.BadRequestError).body as { message: string }).message).toMatch(/^Payload validation error: 'No enum match for: "HS512"' on property signing_alg/);
    });

    it(`list auto-pages past 50 items (${PAGING_APIS} APIs)`, async () => {
      for (let i = 0; i < PAGING_APIS; i++) await client.resourceServers.create({ name: `${tag} page ${i}`, identifier: `urn:${tag}:page:${i}` });
      const first = await client.resourceServers.list();
      expect(first.data).toHaveLength(50);
      const seen: string[] = [];
      for await (const rs of await client.resourceServers.list()) seen.push(rs.identifier as string);
      expect(new Set(seen).size).toBe(seen.length);
      const mine = seen.filter((s) => s.startsWith(`urn:${tag}:page:`));
      expect(mine).toHaveLength(PAGING_APIS);
      const totals = await mgmt(target, 'GET', '/resource-servers?include_totals=true&per_page=1');
      expect(seen).toHaveLength(totals.body.total);
      expect(seen).toContain(target.managementAudience);
    });

    it('delete → 204, then get → NotFoundError', async () => {
      const { rawResponse } = await client.resourceServers.delete(id).withRawResponse();
      expect(rawResponse.status).toBe(204);
      const err = await client.resourceServers.get(id).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Management.NotFoundError);
      expect((err as Management.NotFoundError).body).toEqual({
        statusCode: 404, error: 'Not Found', message: 'The resource server does not exist', errorCode: 'inexistent_resource_server',
      });
    });
  });

  describe('clients and client grants', () => {
    let clientId: string;
    const audiences: string[] = [];

    it('clients create/get/list/update/delete', async () => {
      const created = await client.clients.create({ name: `${tag} worker`, app_type: 'non_interactive', grant_types: ['client_credentials'] });
      expect(created).toMatchObject({ name: `${tag} worker`, app_type: 'non_interactive', grant_types: ['client_credentials'] });
      expect(created.client_secret).toEqual(expect.any(String));
      clientId = created.client_id as string;
      expect((await client.clients.get(clientId)).name).toBe(`${tag} worker`);
      const names: string[] = [];
      for await (const c of await client.clients.list({ fields: 'client_id,name', include_fields: true })) names.push(c.name as string);
      expect(names).toContain(`${tag} worker`);
      const updated = await client.clients.update(clientId, { description: 'compat', jwt_configuration: { lifetime_in_seconds: 3600 } });
      expect(updated).toMatchObject({ description: 'compat', jwt_configuration: { lifetime_in_seconds: 3600 } });
      const other = await client.clients.create({ name: `${tag} doomed`, app_type: 'non_interactive' });
      const del = await client.clients.delete(other.client_id as string).withRawResponse();
      expect(del.rawResponse.status).toBe(204);
      await expect(client.clients.get(other.client_id as string)).rejects.toBeInstanceOf(Management.NotFoundError);
    });

    it('client grants create/get/update and checkpoint paging past 50', async () => {
      for (let i = 0; i < PAGING_APIS; i++) {
        const aud = `urn:${tag}:grant:${i}`;
        await client.resourceServers.create({ identifier: aud, scopes: [{ value: 'read:x' }, { value: 'write:x' }] });
        const g = await client.clientGrants.create({ client_id: clientId, audience: aud, scope: ['read:x'] });
        expect(g).toMatchObject({ client_id: clientId, audience: aud, scope: ['read:x'] });
        audiences.push(aud);
      }
      const seen: string[] = [];
      for await (const g of await client.clientGrants.list({ client_id: clientId })) seen.push(g.audience as string);
      expect(seen.sort()).toEqual([...audiences].sort());
      const one = await client.clientGrants.list({ audience: audiences[0] });
      expect(one.data).toHaveLength(1);
      const id = one.data[0].id as string;
      expect((await client.clientGrants.get(id)).audience).toBe(audiences[0]);
      expect((await client.clientGrants.update(id, { scope: ['read:x', 'write:x'] })).scope).toEqual(['read:x', 'write:x']);
      const dup = await client.clientGrants.create({ client_id: clientId, audience: audiences[0], scope: [] }).catch((e: unknown) => e);
      expect(dup).toBeInstanceOf(Management.ConflictError);
      expect((await client.clientGrants.delete(id).withRawResponse()).rawResponse.status).toBe(204);
      await expect(client.clientGrants.get(id)).rejects.toBeInstanceOf(Management.NotFoundError);
    });
  });

  describe('signing keys', () => {
    it('list, rotate (next → current, new next), list again', async () => {
      const before = await client.keys.signing.list();
      const current = before.find((k) => k.current);
      const next = before.find((k) => k.next);
      expect(current?.kid).toEqual(expect.any(String));
      expect(next?.kid).toEqual(expect.any(String));
      expect(current?.cert).toMatch(/^-----BEGIN CERTIFICATE-----/);
      const rotated = await client.keys.signing.rotate().withRawResponse();
      expect(rotated.rawResponse.status).toBe(201);
      expect(rotated.data.kid).not.toBe(current?.kid);
      expect(rotated.data.kid).not.toBe(next?.kid);
      const after = await client.keys.signing.list();
      expect(after.find((k) => k.current)?.kid).toBe(next?.kid);
      expect(after.find((k) => k.next)?.kid).toBe(rotated.data.kid);
      expect(after.find((k) => k.kid === current?.kid)?.previous).toBe(true);
      expect((await client.keys.signing.get(rotated.data.kid as string)).next).toBe(true);
    });
  });
});

// Roles, role permissions, users and user roles: run once the server serves them.
const rolesReady = new Map<string, boolean>();
const usersReady = new Map<string, boolean>();
for (const t of inject('compatTargets')) {
  rolesReady.set(t.dialect, await routeServed(t, 'GET', '/roles'));
  usersReady.set(t.dialect, await routeServed(t, 'GET', '/users/auth0%7Cprobe/roles'));
}

forEachTarget('auth0 v7 ManagementClient', (target) => {
  const tag = unique('sdk7rbac');
  let client: ManagementClient;
  beforeAll(async () => {
    const c = await mgmt(target, 'POST', '/clients', { name: `${tag} rbac`, app_type: 'non_interactive', grant_types: ['client_credentials'] });
    await mgmt(target, 'POST', '/client-grants', {
      client_id: c.body.client_id, audience: target.managementAudience,
      scope: ['read:roles', 'create:roles', 'update:roles', 'delete:roles', 'read:users', 'create:users', 'update:users', 'delete:users', 'read:resource_servers', 'create:resource_servers'],
    });
    client = new ManagementClient({ domain: target.domain, clientId: c.body.client_id, clientSecret: c.body.client_secret });
  });

  const rolesSkip = !rolesReady.get(target.dialect);
  if (rolesSkip) console.warn(`[compat] SKIPPING auth0 v7 roles scenarios [${target.dialect}]: the server does not serve /api/v2/roles yet`);
  describe.skipIf(rolesSkip)('roles and role permissions', () => {
    it('create/get/update/list roles, add/list/delete permissions, delete', async () => {
      const aud = `urn:${tag}:api`;
      await client.resourceServers.create({ identifier: aud, scopes: [{ value: 'read:x', description: 'Read x' }, { value: 'write:x' }] });
      const role = await client.roles.create({ name: `${tag} reader`, description: 'Reads x' });
      expect(role).toMatchObject({ name: `${tag} reader`, description: 'Reads x' });
      expect(role.id).toMatch(/^rol_/);
      const id = role.id as string;
      expect((await client.roles.get(id)).name).toBe(`${tag} reader`);
      expect(await client.roles.update(id, { description: 'Reads all x' })).toMatchObject({ id, description: 'Reads all x' });
      const names: string[] = [];
      for await (const r of await client.roles.list()) names.push(r.name as string);
      expect(names).toContain(`${tag} reader`);
      await client.roles.permissions.add(id, { permissions: [{ resource_server_identifier: aud, permission_name: 'read:x' }, { resource_server_identifier: aud, permission_name: 'write:x' }] });
      const perms = await client.roles.permissions.list(id);
      expect(perms.data.map((p) => p.permission_name).sort()).toEqual(['read:x', 'write:x']);
      expect(perms.data.find((p) => p.permission_name === 'read:x')).toMatchObject({ resource_server_identifier: aud, description: 'Read x' });
      await client.roles.permissions.delete(id, { permissions: [{ resource_server_identifier: aud, permission_name: 'write:x' }] });
      expect((await client.roles.permissions.list(id)).data.map((p) => p.permission_name)).toEqual(['read:x']);
      const bad = await client.roles.permissions.add(id, { permissions: [{ resource_server_identifier: aud, permission_name: 'nope:x' }] }).catch((e: unknown) => e);
      expect(bad).toBeInstanceOf(Management.BadRequestError);
      await client.roles.delete(id);
      await expect(client.roles.get(id)).rejects.toBeInstanceOf(Management.NotFoundError);
    });
  });

  const usersSkip = !usersReady.get(target.dialect) || rolesSkip;
  if (usersSkip) console.warn(`[compat] SKIPPING auth0 v7 users/user-roles scenarios [${target.dialect}]: the server does not serve /api/v2/users yet`);
  describe.skipIf(usersSkip)('users and user roles', () => {
    it('create a user, assign/list/remove roles, list permissions, delete', async () => {
      const aud = `urn:${tag}:users-api`;
      await client.resourceServers.create({ identifier: aud, scopes: [{ value: 'read:y', description: 'Read y' }] });
      const role = await client.roles.create({ name: `${tag} user-role` });
      await client.roles.permissions.add(role.id as string, { permissions: [{ resource_server_identifier: aud, permission_name: 'read:y' }] });
      const user = await client.users.create({ connection: 'Username-Password-Authentication', email: `${tag}@example.test`, password: 'Compat-Passw0rd!-long' });
      expect(user).toMatchObject({ email: `${tag}@example.test` });
      const userId = user.user_id as string;
      expect((await client.users.get(userId)).email).toBe(`${tag}@example.test`);
      await client.users.roles.assign(userId, { roles: [role.id as string] });
      expect((await client.users.roles.list(userId)).data.map((r) => r.id)).toEqual([role.id]);
      const perms = await client.users.permissions.list(userId);
      expect(perms.data).toEqual([expect.objectContaining({ permission_name: 'read:y', resource_server_identifier: aud })]);
      await client.users.roles.delete(userId, { roles: [role.id as string] });
      expect((await client.users.roles.list(userId)).data).toEqual([]);
      await client.users.delete(userId);
      await expect(client.users.get(userId)).rejects.toBeInstanceOf(Management.NotFoundError);
    });
  });
});
