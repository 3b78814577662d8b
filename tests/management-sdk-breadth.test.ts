import { ManagementClient, ManagementError } from 'auth0';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startListening, type ListeningServer } from './helpers/listening';
import { ADMIN_ID, ADMIN_SECRET, eachDialect, PUBLIC_URL } from './helpers/tessera';

/**
 * The auth0 SDK v7 typed managers for what issue 14 added: connections, organization connections (both APIs),
 * organization roles, clients linked to an API, and is_app_entitlement_active — over a real socket.
 */
function rewritingFetch(from: string, to: string): typeof fetch {
  return (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    const target = to + url.slice(from.length);
    return input instanceof Request ? fetch(new Request(target, input), init) : fetch(target, init);
  };
}
const collect = async <T>(pager: AsyncIterable<T>): Promise<T[]> => {
  const out: T[] = [];
  for await (const x of pager) out.push(x);
  return out;
};
const failure = (p: Promise<unknown>) => p.then(() => { throw new Error('expected a failure'); }, (e: unknown) => e as ManagementError);

eachDialect('auth0 SDK v7: connections, organization connections, organization roles, linked clients', (dialect) => {
  let l: ListeningServer;
  let mgmt: ManagementClient;

  beforeAll(async () => {
    l = await startListening(dialect, { publicUrl: PUBLIC_URL });
    mgmt = new ManagementClient({ domain: new URL(PUBLIC_URL).host, clientId: ADMIN_ID, clientSecret: ADMIN_SECRET, fetch: rewritingFetch(PUBLIC_URL, l.origin) });
  });
  afterAll(async () => { await l.close(); });

  it('connections: list (checkpoint pager, strategy filter), get, enabled clients; 404 as a ManagementError', async () => {
    const app = await mgmt.clients.create({ name: 'SDK web', app_type: 'regular_web', callbacks: ['https://sdk.example/cb'] });
    const all = await collect(await mgmt.connections.list({ strategy: ['auth0'], take: 10 }));
    expect(all).toHaveLength(1);
    expect(all[0]).toMatchObject({ name: 'Username-Password-Authentication', strategy: 'auth0' });
    const id = all[0].id!;
    const got = await mgmt.connections.get(id);
    expect(got.enabled_clients).toContain(app.client_id);
    const clients = await collect(await mgmt.connections.clients.get(id, { take: 50 }));
    expect(clients.map((c) => c.client_id)).toContain(app.client_id);
    const missing = await failure(mgmt.connections.get('con_doesNotExist0000'));
    expect(missing.statusCode).toBe(404);
  });

  it('organizations: is_app_entitlement_active; enabledConnections and connections managers, every method', async () => {
    const org = await mgmt.organizations.create({ name: 'sdk-org', display_name: 'SDK Org', is_app_entitlement_active: true });
    expect(org.is_app_entitlement_active).toBe(true);
    const con = (await collect(await mgmt.connections.list({}))).find((c) => c.strategy === 'auth0')!.id!;
    const added = await mgmt.organizations.enabledConnections.add(org.id!, { connection_id: con, assign_membership_on_login: true });
    expect(added).toMatchObject({ connection_id: con, assign_membership_on_login: true, connection: { name: 'Username-Password-Authentication', strategy: 'auth0' } });
    expect((await collect(await mgmt.organizations.enabledConnections.list(org.id!))).map((c) => c.connection_id)).toEqual([con]);
    expect((await mgmt.organizations.enabledConnections.get(org.id!, con)).assign_membership_on_login).toBe(true);
    expect((await mgmt.organizations.enabledConnections.update(org.id!, con, { show_as_button: false })).show_as_button).toBe(false);
    const dup = await failure(mgmt.organizations.enabledConnections.add(org.id!, { connection_id: con }));
    expect(dup.statusCode).toBe(409);
    await mgmt.organizations.enabledConnections.delete(org.id!, con);
    expect(await collect(await mgmt.organizations.enabledConnections.list(org.id!))).toEqual([]);

    const created = await mgmt.organizations.connections.create(org.id!, { connection_id: con, organization_access_level: 'limited', is_enabled: false });
    expect(created).toMatchObject({ connection_id: con, is_enabled: false, organization_access_level: 'limited' });
    expect((await collect(await mgmt.organizations.connections.list(org.id!, { is_enabled: false }))).map((c) => c.connection_id)).toEqual([con]);
    expect((await mgmt.organizations.connections.get(org.id!, con)).is_enabled).toBe(false);
    expect((await mgmt.organizations.connections.update(org.id!, con, { is_enabled: true })).is_enabled).toBe(true);
    await mgmt.organizations.connections.delete(org.id!, con);
    const gone = await failure(mgmt.organizations.connections.get(org.id!, con));
    expect(gone.statusCode).toBe(404);
  });

  it('roles: type organization with owner_id; list by type and owner; PATCH keeps them', async () => {
    const org = await mgmt.organizations.create({ name: 'sdk-role-owner' });
    const role = await mgmt.roles.create({ name: 'SDK org admins', type: 'organization', owner_id: org.id! });
    expect(role).toMatchObject({ type: 'organization', owner_id: org.id });
    const owned = await collect(await mgmt.roles.list({ type: 'organization', owner_id: org.id! }));
    expect(owned.map((r) => r.id)).toEqual([role.id]);
    expect((await collect(await mgmt.roles.list({ type: 'tenant' }))).map((r) => r.id)).not.toContain(role.id);
    expect(await mgmt.roles.update(role.id!, { description: 'Admins' })).toMatchObject({ type: 'organization', owner_id: org.id, description: 'Admins' });
    const bad = await failure(mgmt.roles.create({ name: 'SDK orphan', type: 'organization' }));
    expect(bad.statusCode).toBe(400);
  });

  it('clients: resource_server app linked to an API; token_exchange; the API reads back its client_id', async () => {
    const api = await mgmt.resourceServers.create({ identifier: 'https://sdk-linked.example/', name: 'Linked' });
    const client = await mgmt.clients.create({
      name: 'SDK API client', app_type: 'resource_server', resource_server_identifier: api.identifier,
      token_exchange: { allow_any_profile_of_type: ['on_behalf_of_token_exchange'] }, skip_non_verifiable_callback_uri_confirmation_prompt: true,
    });
    expect(client).toMatchObject({ resource_server_identifier: api.identifier, token_exchange: { allow_any_profile_of_type: ['on_behalf_of_token_exchange'] } });
    expect((await mgmt.resourceServers.get(api.id!)).client_id).toBe(client.client_id);
    expect((await mgmt.resourceServers.get(api.identifier!)).client_id).toBe(client.client_id);
    const conflict = await failure(mgmt.clients.create({ name: 'Second', app_type: 'resource_server', resource_server_identifier: api.identifier }));
    expect(conflict.statusCode).toBe(409);
  });
});
