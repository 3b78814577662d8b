import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eachDialect, startTessera, type TestServer } from './helpers/tessera';
import { badRequest, uniq } from './helpers/management';
import { createUser } from './helpers/flows';

/** Roles' `type` and `owner_id` (SDK v7): create-only; organization roles apply only to that organization's members. */
eachDialect('rbac: organization-owned roles', (dialect) => {
  let s: TestServer;
  let orgId: string;
  let otherOrg: string;
  beforeAll(async () => {
    s = await startTessera(dialect);
    orgId = (await s.api('POST', '/organizations', { name: `owner-${uniq()}` })).body.id;
    otherOrg = (await s.api('POST', '/organizations', { name: `other-${uniq()}` })).body.id;
  });
  afterAll(async () => { await s.close(); });

  it('creates an organization role (200, type and owner_id returned and stored); tenant roles stay type tenant without owner', async () => {
    const r = await s.api('POST', '/roles', { name: `org-role-${uniq()}`, description: 'Acme admins', type: 'organization', owner_id: orgId });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ id: expect.stringMatching(/^rol_/), name: r.body.name, description: 'Acme admins', type: 'organization', owner_id: orgId });
    expect((await s.api('GET', `/roles/${r.body.id}`)).body).toEqual(r.body);
    const t = await s.api('POST', '/roles', { name: `tenant-role-${uniq()}`, type: 'tenant' });
    expect(t.body).toEqual({ id: t.body.id, name: t.body.name, type: 'tenant' });
  });

  it('type and owner_id are create-only: PATCH with either → 400 and nothing changes', async () => {
    const r = (await s.api('POST', '/roles', { name: `fixed-${uniq()}`, type: 'organization', owner_id: orgId })).body;
    const p1 = await s.api('PATCH', `/roles/${r.id}`, { type: 'tenant' });
    expect(p1.status).toBe(400);
    expect(p1.body).toEqual(badRequest("Payload validation error: 'Additional properties not allowed: type'."));
    const p2 = await s.api('PATCH', `/roles/${r.id}`, { name: 'renamed', owner_id: otherOrg });
    expect(p2.body).toEqual(badRequest("Payload validation error: 'Additional properties not allowed: owner_id'."));
    expect((await s.api('GET', `/roles/${r.id}`)).body).toEqual(r);
  });

  it('refusals on create: organization without owner, owner on a tenant role, unknown owner, bad type; nothing created', async () => {
    const name = `refused-${uniq()}`;
    expect((await s.api('POST', '/roles', { name, type: 'organization' })).body).toEqual(badRequest("Payload validation error: 'owner_id is required when type is organization' on property owner_id."));
    expect((await s.api('POST', '/roles', { name, owner_id: orgId })).body).toEqual(badRequest("Payload validation error: 'owner_id is only allowed when type is organization' on property owner_id."));
    expect((await s.api('POST', '/roles', { name, type: 'tenant', owner_id: orgId })).status).toBe(400);
    const unknown = await s.api('POST', '/roles', { name, type: 'organization', owner_id: 'org_doesnotexist' });
    expect(unknown.status).toBe(404);
    expect(unknown.body.errorCode).toBe('inexistent_organization');
    expect((await s.api('POST', '/roles', { name, type: 'team' })).status).toBe(400);
    expect(((await s.api('GET', `/roles?name_filter=${name}`)).body as unknown[])).toEqual([]);
  });

  it('filters: type=tenant, type=organization&owner_id, owner_id alone; type=organization without owner_id → 400', async () => {
    const mine = (await s.api('POST', '/roles', { name: `filter-org-${uniq()}`, type: 'organization', owner_id: orgId })).body;
    const theirs = (await s.api('POST', '/roles', { name: `filter-other-${uniq()}`, type: 'organization', owner_id: otherOrg })).body;
    const tenant = (await s.api('POST', '/roles', { name: `filter-tenant-${uniq()}` })).body;
    const ids = async (q: string) => ((await s.api('GET', `/roles?${q}`)).body as Array<{ id: string }>).map((r) => r.id);
    expect(await ids('type=tenant')).toContain(tenant.id);
    expect(await ids('type=tenant')).not.toContain(mine.id);
    expect(await ids(`type=organization&owner_id=${orgId}`)).toContain(mine.id);
    expect(await ids(`type=organization&owner_id=${orgId}`)).not.toContain(theirs.id);
    expect(await ids(`owner_id=${otherOrg}`)).toEqual(expect.arrayContaining([theirs.id]));
    expect(await ids(`owner_id=${otherOrg}`)).not.toContain(tenant.id);
    expect(await ids('')).toEqual(expect.arrayContaining([mine.id, theirs.id, tenant.id]));
    const bad = await s.api('GET', '/roles?type=organization');
    expect(bad.status).toBe(400);
    expect(bad.body.errorCode).toBe('invalid_query_string');
  });

  it('an organization role is assigned only to members of its organization, never tenant-wide', async () => {
    const role = (await s.api('POST', '/roles', { name: `assign-${uniq()}`, type: 'organization', owner_id: orgId })).body;
    const user = await createUser(s, `holder-${uniq()}@example.com`);
    const tenantWide = await s.api('POST', `/users/${encodeURIComponent(user)}/roles`, { roles: [role.id] });
    expect(tenantWide.status).toBe(400);
    expect(tenantWide.body.message).toBe(`The role ${role.id} belongs to the organization ${orgId} and can only be assigned to its members.`);
    expect((await s.api('POST', `/roles/${role.id}/users`, { users: [user] })).status).toBe(400);
    expect((await s.api('GET', `/users/${encodeURIComponent(user)}/roles`)).body).toEqual([]);

    await s.api('POST', `/organizations/${otherOrg}/members`, { members: [user] });
    const elsewhere = await s.api('POST', `/organizations/${otherOrg}/members/${encodeURIComponent(user)}/roles`, { roles: [role.id] });
    expect(elsewhere.status).toBe(400);

    await s.api('POST', `/organizations/${orgId}/members`, { members: [user] });
    expect((await s.api('POST', `/organizations/${orgId}/members/${encodeURIComponent(user)}/roles`, { roles: [role.id] })).status).toBe(204);
    expect((await s.api('GET', `/organizations/${orgId}/members/${encodeURIComponent(user)}/roles`)).body).toEqual([role]);
  });

  it('deleting the organization deletes its roles', async () => {
    const org = (await s.api('POST', '/organizations', { name: `doomed-${uniq()}` })).body.id as string;
    const role = (await s.api('POST', '/roles', { name: `doomed-role-${uniq()}`, type: 'organization', owner_id: org })).body;
    expect((await s.api('DELETE', `/organizations/${org}`)).status).toBe(204);
    expect((await s.api('GET', `/roles/${role.id}`)).status).toBe(404);
  });
});
