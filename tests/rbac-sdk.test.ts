import { ManagementClient, Management } from 'auth0';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startListening, type ListeningServer } from './helpers/listening';
import { ADMIN_ID, ADMIN_SECRET, eachDialect, PUBLIC_URL } from './helpers/tessera';

/**
 * The auth0 SDK v7 ManagementClient driving users, roles, permissions and organizations over a real
 * socket, with its own defaults (include_totals, page/per_page, checkpoint take) and its own parsing.
 */
function rewritingFetch(from: string, to: string, seen: string[]): typeof fetch {
  return (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    const target = to + url.slice(from.length);
    seen.push(`${init?.method ?? (input instanceof Request ? input.method : 'GET')} ${url.slice(from.length)}`);
    return input instanceof Request ? fetch(new Request(target, input), init) : fetch(target, init);
  };
}

const collect = async <T>(pager: AsyncIterable<T>): Promise<T[]> => {
  const out: T[] = [];
  for await (const x of pager) out.push(x);
  return out;
};

eachDialect('auth0 SDK v7: users, roles, permissions, organizations', (dialect) => {
  let l: ListeningServer;
  let mgmt: ManagementClient;
  const seen: string[] = [];

  beforeAll(async () => {
    l = await startListening(dialect, { publicUrl: PUBLIC_URL });
    mgmt = new ManagementClient({ domain: new URL(PUBLIC_URL).host, clientId: ADMIN_ID, clientSecret: ADMIN_SECRET, fetch: rewritingFetch(PUBLIC_URL, l.origin, seen) });
  });
  afterAll(async () => { await l.close(); });

  it('users, roles and permissions round trip through the SDK', async () => {
    const api = await mgmt.resourceServers.create({ identifier: 'https://sdk-rbac.example/', name: 'RBAC API', scopes: [{ value: 'read:a', description: 'Read A' }, { value: 'write:a' }] });
    const users = [];
    for (const n of [1, 2, 3]) users.push(await mgmt.users.create({ connection: 'Username-Password-Authentication', email: `sdk${n}@example.com`, password: 'Corr3ct-Horse', user_metadata: { n } }));
    expect(users[0]).toMatchObject({ user_id: expect.stringMatching(/^auth0\|/), email: 'sdk1@example.com', user_metadata: { n: 1 }, identities: [{ provider: 'auth0', isSocial: false }] });
    expect((await collect(await mgmt.users.list({ per_page: 2 }))).map((u) => u.email)).toEqual(['sdk1@example.com', 'sdk2@example.com', 'sdk3@example.com']);
    const updated = await mgmt.users.update(users[0].user_id!, { user_metadata: { lang: 'fr' } });
    expect(updated.user_metadata).toEqual({ n: 1, lang: 'fr' });
    const dupUser = await mgmt.users.create({ connection: 'Username-Password-Authentication', email: 'sdk1@example.com', password: 'Corr3ct-Horse' }).then(() => undefined, (e: unknown) => e);
    expect(dupUser).toBeInstanceOf(Management.ConflictError);

    const role = await mgmt.roles.create({ name: 'SDK Reader', description: 'reads' });
    expect(role).toMatchObject({ id: expect.stringMatching(/^rol_/), name: 'SDK Reader', description: 'reads' });
    await mgmt.roles.permissions.add(role.id!, { permissions: [{ resource_server_identifier: api.identifier!, permission_name: 'read:a' }] });
    expect(await collect(await mgmt.roles.permissions.list(role.id!))).toEqual([
      { permission_name: 'read:a', description: 'Read A', resource_server_name: 'RBAC API', resource_server_identifier: api.identifier },
    ]);
    await mgmt.roles.users.assign(role.id!, { users: users.map((u) => u.user_id!) });
    expect((await collect(await mgmt.roles.users.list(role.id!, { take: 2 }))).map((u) => u.email)).toEqual(['sdk1@example.com', 'sdk2@example.com', 'sdk3@example.com']);
    expect((await collect(await mgmt.users.roles.list(users[0].user_id!))).map((r) => r.id)).toEqual([role.id]);

    await mgmt.users.permissions.create(users[0].user_id!, { permissions: [{ resource_server_identifier: api.identifier!, permission_name: 'write:a' }] });
    const perms = await collect(await mgmt.users.permissions.list(users[0].user_id!));
    expect(perms.map((p) => [p.permission_name, (p as { sources?: Array<{ source_type: string }> }).sources?.map((x) => x.source_type)])).toEqual([['write:a', ['DIRECT']], ['read:a', ['ROLE']]]);
    expect(await l.s.t.services.permissions.permissionsFor(users[0].user_id!, api.identifier!)).toEqual(['read:a', 'write:a']);

    await mgmt.users.roles.delete(users[0].user_id!, { roles: [role.id!] });
    await mgmt.users.permissions.delete(users[0].user_id!, { permissions: [{ resource_server_identifier: api.identifier!, permission_name: 'write:a' }] });
    expect(await collect(await mgmt.users.permissions.list(users[0].user_id!))).toEqual([]);
    await mgmt.roles.delete(role.id!);
    expect(await mgmt.roles.get(role.id!).then(() => undefined, (e: unknown) => e)).toBeInstanceOf(Management.NotFoundError);
    await mgmt.users.delete(users[2].user_id!);
    expect(await mgmt.users.get(users[2].user_id!).then(() => undefined, (e: unknown) => e)).toBeInstanceOf(Management.NotFoundError);
  });

  it('organizations: members, member roles and client grants through the SDK, then an org token', async () => {
    const api = await mgmt.resourceServers.create({ identifier: 'https://sdk-org.example/', scopes: [{ value: 'read:o' }] });
    const org = await mgmt.organizations.create({ name: 'sdk-org', display_name: 'SDK Org' });
    expect(org).toMatchObject({ id: expect.stringMatching(/^org_/), name: 'sdk-org', display_name: 'SDK Org' });
    const user = await mgmt.users.create({ connection: 'Username-Password-Authentication', email: 'member@example.com', password: 'Corr3ct-Horse' });
    await mgmt.organizations.members.create(org.id!, { members: [user.user_id!] });
    expect((await collect(await mgmt.organizations.members.list(org.id!))).map((m) => m.user_id)).toEqual([user.user_id]);
    const role = await mgmt.roles.create({ name: 'Org Member' });
    await mgmt.organizations.members.roles.assign(org.id!, user.user_id!, { roles: [role.id!] });
    expect((await collect(await mgmt.organizations.members.roles.list(org.id!, user.user_id!))).map((r) => r.id)).toEqual([role.id]);

    const client = await mgmt.clients.create({ name: 'SDK org worker', app_type: 'non_interactive', grant_types: ['client_credentials'] });
    const grant = await mgmt.clientGrants.create({ client_id: client.client_id!, audience: api.identifier!, scope: ['read:o'], organization_usage: 'require' });
    const assoc = await mgmt.organizations.clientGrants.create(org.id!, { grant_id: grant.id! });
    expect(assoc).toMatchObject({ grant_id: grant.id, audience: api.identifier, organization_usage: 'require' });
    expect((await collect(await mgmt.organizations.clientGrants.list(org.id!))).map((g) => g.id)).toEqual([grant.id]);
    const token = await l.s.token({ grant_type: 'client_credentials', client_id: client.client_id!, client_secret: client.client_secret!, audience: api.identifier!, organization: 'sdk-org' });
    expect(token.status).toBe(200);
    expect(decodeJwt(token.body.access_token).org_id).toBe(org.id);
    await mgmt.organizations.clientGrants.delete(org.id!, grant.id!);
    expect((await l.s.token({ grant_type: 'client_credentials', client_id: client.client_id!, client_secret: client.client_secret!, audience: api.identifier!, organization: org.id! })).status).toBe(403);
    await mgmt.organizations.delete(org.id!);
    expect(await mgmt.organizations.get(org.id!).then(() => undefined, (e: unknown) => e)).toBeInstanceOf(Management.NotFoundError);
  });

  it('the SDK sent its own paging parameters', () => {
    expect(seen).toContain('GET /api/v2/users?page=0&per_page=2&include_totals=true');
    expect(seen).toContain(`GET /api/v2/users?page=1&per_page=2&include_totals=true`);
    expect(seen.some((r) => /^GET \/api\/v2\/roles\/rol_\w+\/users\?include_totals=true&take=2$/.test(r))).toBe(true);
    expect(seen.some((r) => /^GET \/api\/v2\/roles\/rol_\w+\/users\?include_totals=true&from=\w+&take=2$/.test(r))).toBe(true);
    expect(seen.some((r) => /^GET \/api\/v2\/organizations\/org_\w+\/members\?include_totals=true&take=50$/.test(r))).toBe(true);
  });
});
