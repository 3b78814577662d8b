// auth0/legacy: the node-auth0 v4 API bundled in auth0@7 (getAll returning arrays, AuthenticationClient).
import { AuthenticationClient, ManagementClient as LegacyManagementClient } from 'auth0/legacy';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { forEachTarget } from './setup/targets';
import { PASSWORD_REALM, grantSupported, mgmt, routeServed, unique, userFlowFixture } from './setup/http';

const ready = new Map<string, { roles: boolean; passwordRealm: boolean; refresh: boolean }>();
for (const t of inject('compatTargets')) {
  ready.set(t.dialect, {
    roles: await routeServed(t, 'GET', '/roles'),
    passwordRealm: await grantSupported(t, PASSWORD_REALM) && await routeServed(t, 'GET', '/users/auth0%7Cprobe/roles'),
    refresh: await grantSupported(t, 'refresh_token'),
  });
}

forEachTarget('auth0/legacy (v4 API)', (target) => {
  const tag = unique('legacy');
  let clientId: string;
  let clientSecret: string;

  beforeAll(async () => {
    const c = await mgmt(target, 'POST', '/clients', { name: `${tag} v4`, app_type: 'non_interactive', grant_types: ['client_credentials'] });
    clientId = c.body.client_id;
    clientSecret = c.body.client_secret;
    await mgmt(target, 'POST', '/client-grants', {
      client_id: clientId, audience: target.managementAudience,
      scope: ['read:resource_servers', 'create:resource_servers', 'update:resource_servers', 'delete:resource_servers', 'read:clients', 'read:client_grants', 'read:roles'],
    });
  });

  describe('AuthenticationClient', () => {
    it('oauth.clientCredentialsGrant → Bearer token for the Management API', async () => {
      const auth = new AuthenticationClient({ domain: target.domain, clientId, clientSecret });
      const { data, status } = await auth.oauth.clientCredentialsGrant({ audience: target.managementAudience });
      expect(status).toBe(200);
      expect(data).toMatchObject({ token_type: 'Bearer', expires_in: 86400, access_token: expect.any(String) });
      expect((data as { scope?: string }).scope?.split(' ').sort()).toEqual(['create:resource_servers', 'delete:resource_servers', 'read:client_grants', 'read:clients', 'read:resource_servers', 'read:roles', 'update:resource_servers']);
    });

    it('oauth.clientCredentialsGrant with a wrong secret → AuthApiError 401 access_denied', async () => {
      const auth = new AuthenticationClient({ domain: target.domain, clientId, clientSecret: 'not-the-secret-at-all' });
      const err = await auth.oauth.clientCredentialsGrant({ audience: target.managementAudience }).catch((e: unknown) => e) as Record<string, unknown>;
      expect(err).toMatchObject({ name: 'AuthApiError', statusCode: 401, error: 'access_denied', error_description: 'Unauthorized' });
    });

    it('oauth.clientCredentialsGrant for an unknown audience → 403 "Service not enabled within domain"', async () => {
      const auth = new AuthenticationClient({ domain: target.domain, clientId, clientSecret });
      const err = await auth.oauth.clientCredentialsGrant({ audience: `urn:${tag}:nothing` }).catch((e: unknown) => e) as Record<string, unknown>;
      expect(err).toMatchObject({ statusCode: 403, error: 'access_denied', error_description: `Service not enabled within domain: urn:${tag}:nothing` });
    });
  });

  describe('ManagementClient (v4 method names)', () => {
    let v4: LegacyManagementClient;
    beforeAll(() => { v4 = new LegacyManagementClient({ domain: target.domain, clientId, clientSecret }); });

    it('resourceServers create/get/update/delete', async () => {
      const identifier = `urn:${tag}:api`;
      const created = await v4.resourceServers.create({ name: `${tag} API`, identifier, scopes: [{ value: 'read:a', description: 'A' }] });
      expect(created.status).toBe(201);
      const id = created.data.id as string;
      expect((await v4.resourceServers.get({ id })).data).toMatchObject({ identifier, name: `${tag} API` });
      const upd = await v4.resourceServers.update({ id }, { token_lifetime: 900 });
      expect(upd.status).toBe(200);
      expect(upd.data.token_lifetime).toBe(900);
      expect((await v4.resourceServers.delete({ id })).status).toBe(204);
      const err = await v4.resourceServers.get({ id }).catch((e: unknown) => e) as { statusCode: number; message: string };
      expect(err.statusCode).toBe(404);
    });

    it('resourceServers.getAll() without paging → a bare array of every API', async () => {
      await v4.resourceServers.create({ name: `${tag} listed`, identifier: `urn:${tag}:listed` });
      const { data } = await v4.resourceServers.getAll();
      expect(Array.isArray(data)).toBe(true);
      expect(data.map((r) => r.identifier)).toEqual(expect.arrayContaining([`urn:${tag}:listed`, target.managementAudience]));
      const totals = await mgmt(target, 'GET', '/resource-servers?include_totals=true&per_page=1');
      expect(data).toHaveLength(totals.body.total);
    });

    it('resourceServers.getAll({include_totals, page, per_page}) → the paged envelope', async () => {
      const { data } = await v4.resourceServers.getAll({ include_totals: true, page: 0, per_page: 1 });
      expect(data).toMatchObject({ start: 0, limit: 1, total: expect.any(Number) });
      expect(data.resource_servers).toHaveLength(1);
    });

    it('clients.getAll() and clientGrants.getAll({client_id}) → arrays', async () => {
      const clients = (await v4.clients.getAll()).data;
      expect(Array.isArray(clients)).toBe(true);
      expect(clients.map((c) => c.client_id)).toContain(clientId);
      const grants = (await v4.clientGrants.getAll({ client_id: clientId })).data;
      expect(grants).toEqual([expect.objectContaining({ client_id: clientId, audience: target.managementAudience })]);
    });

    const rolesSkip = !ready.get(target.dialect)?.roles;
    if (rolesSkip) console.warn(`[compat] SKIPPING auth0/legacy roles.getAll [${target.dialect}]: the server does not serve /api/v2/roles yet`);
    it.skipIf(rolesSkip)('roles.getAll() → an array', async () => {
      await mgmt(target, 'POST', '/roles', { name: `${tag} role` });
      const { data } = await v4.roles.getAll();
      expect(Array.isArray(data)).toBe(true);
      expect(data.map((r) => r.name)).toContain(`${tag} role`);
    });
  });

  const flows = ready.get(target.dialect);
  const userSkip = !flows?.passwordRealm || !flows.refresh;
  if (userSkip) console.warn(`[compat] SKIPPING auth0/legacy password-realm + refresh [${target.dialect}]: the server has no user login grants yet`);
  describe.skipIf(userSkip)('user flows', () => {
    it('oauth.passwordGrant with realm (password-realm), then oauth.refreshTokenGrant', async () => {
      const f = await userFlowFixture(target, unique('legacy-user'), [PASSWORD_REALM, 'refresh_token']);
      const auth = new AuthenticationClient({ domain: target.domain, clientId: f.clientId, clientSecret: f.clientSecret });
      const { data } = await auth.oauth.passwordGrant({ username: f.username, password: f.password, realm: 'Username-Password-Authentication', audience: f.audience, scope: 'openid offline_access read:orders' });
      expect(data).toMatchObject({ token_type: 'Bearer', access_token: expect.any(String), id_token: expect.any(String), refresh_token: expect.any(String) });
      const refreshed = await auth.oauth.refreshTokenGrant({ refresh_token: data.refresh_token as string });
      expect(refreshed.data).toMatchObject({ token_type: 'Bearer', access_token: expect.any(String) });
      const wrong = await auth.oauth.passwordGrant({ username: f.username, password: 'wrong-password', realm: 'Username-Password-Authentication', audience: f.audience }).catch((e: unknown) => e);
      expect(wrong).toMatchObject({ statusCode: 403, error: 'invalid_grant', error_description: 'Wrong email or password.' });
    });
  });
});
