import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt } from 'jose';
import { eachDialect, startTessera, type TestServer } from './helpers/tessera';
import { createApi, uniq } from './helpers/management';

/** Fixture: an API, an M2M client and its grant with the given organization settings. */
async function setup(s: TestServer, grant: Record<string, unknown> = {}, client: Record<string, unknown> = {}) {
  const api = await createApi(s, { scopes: [{ value: 'read:x' }] });
  const c = await s.api('POST', '/clients', { name: `m2m-${uniq()}`, app_type: 'non_interactive', grant_types: ['client_credentials'], ...client });
  expect(c.status, JSON.stringify(c.body)).toBe(201);
  const g = await s.api('POST', '/client-grants', { client_id: c.body.client_id, audience: api.identifier, scope: ['read:x'], ...grant });
  expect(g.status, JSON.stringify(g.body)).toBe(201);
  const token = (extra: Record<string, string> = {}) => s.token({
    grant_type: 'client_credentials', client_id: c.body.client_id, client_secret: c.body.client_secret, audience: api.identifier, ...extra,
  });
  return { api, client: c.body, grant: g.body, token };
}

async function createOrg(s: TestServer) {
  const r = await s.api('POST', '/organizations', { name: `org-${uniq()}` });
  expect(r.status).toBe(201);
  return r.body as { id: string; name: string };
}

const denied = (error_description: string) => ({ error: 'access_denied', error_description });

eachDialect('organizations in client_credentials', (dialect) => {
  let s: TestServer;
  beforeAll(async () => { s = await startTessera(dialect); });
  afterAll(async () => { await s.close(); });

  it('without organization the token has no org_id', async () => {
    const { token } = await setup(s, { organization_usage: 'allow' });
    const r = await token();
    expect(r.status).toBe(200);
    expect(decodeJwt(r.body.access_token)).not.toHaveProperty('org_id');
  });

  it('organization_usage deny (the default) refuses an organization', async () => {
    const org = await createOrg(s);
    for (const grant of [{}, { organization_usage: 'deny' }]) {
      const { token } = await setup(s, grant);
      const r = await token({ organization: org.id });
      expect(r.status).toBe(403);
      expect(r.body).toEqual(denied('The client grant does not allow the use of organizations.'));
      expect(r.headers['cache-control']).toBe('no-store');
    }
  });

  it('allow: the organization must be associated with the grant; by id or by name, the token carries org_id', async () => {
    const { grant, token } = await setup(s, { organization_usage: 'allow' });
    const org = await createOrg(s);
    const before = await token({ organization: org.id });
    expect(before.status).toBe(403);
    expect(before.body).toEqual(denied(`Organization ${org.id} is not associated with this client grant.`));
    expect((await s.api('POST', `/organizations/${org.id}/client-grants`, { grant_id: grant.id })).status).toBe(201);
    for (const value of [org.id, org.name]) {
      const r = await token({ organization: value });
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ access_token: expect.any(String), scope: 'read:x', expires_in: 86400, token_type: 'Bearer' });
      expect(decodeJwt(r.body.access_token)).toMatchObject({ org_id: org.id, sub: `${grant.client_id}@clients`, gty: 'client-credentials' });
    }
    // removing the association is honoured by the next request
    expect((await s.api('DELETE', `/organizations/${org.id}/client-grants/${grant.id}`)).status).toBe(204);
    expect((await token({ organization: org.id })).status).toBe(403);
  });

  it('an unknown organization is refused', async () => {
    const { token } = await setup(s, { organization_usage: 'allow', allow_any_organization: true });
    const r = await token({ organization: 'org_doesnotexist0000' });
    expect(r.status).toBe(403);
    expect(r.body).toEqual(denied('Organization org_doesnotexist0000 does not exist.'));
  });

  it('allow_any_organization accepts any existing organization without an association', async () => {
    const { token } = await setup(s, { organization_usage: 'allow', allow_any_organization: true });
    const org = await createOrg(s);
    const r = await token({ organization: org.name });
    expect(r.status).toBe(200);
    expect(decodeJwt(r.body.access_token).org_id).toBe(org.id);
  });

  it('allow_any_organization does not apply to third-party clients', async () => {
    const { grant, token } = await setup(s, { organization_usage: 'allow', allow_any_organization: true }, { is_first_party: false });
    const org = await createOrg(s);
    expect((await token({ organization: org.id })).body).toEqual(denied(`Organization ${org.id} is not associated with this client grant.`));
    await s.api('POST', `/organizations/${org.id}/client-grants`, { grant_id: grant.id });
    expect((await token({ organization: org.id })).status).toBe(200);
  });

  it('require: an organization must be sent, or the client default_organization for client_credentials applies', async () => {
    const { client, grant, token } = await setup(s, { organization_usage: 'require' });
    const org = await createOrg(s);
    await s.api('POST', `/organizations/${org.id}/client-grants`, { grant_id: grant.id });
    const none = await token();
    expect(none.status).toBe(403);
    expect(none.body).toEqual(denied('An organization is required for this client grant, but none was provided.'));
    expect(decodeJwt((await token({ organization: org.id })).body.access_token).org_id).toBe(org.id);
    const patched = await s.api('PATCH', `/clients/${client.client_id}`, { default_organization: { organization_id: org.id, flows: ['client_credentials'] } });
    expect(patched.status).toBe(200);
    const fallback = await token();
    expect(fallback.status).toBe(200);
    expect(decodeJwt(fallback.body.access_token).org_id).toBe(org.id);
    // the default organization must itself be usable with the grant
    const stranger = await createOrg(s);
    await s.api('PATCH', `/clients/${client.client_id}`, { default_organization: { organization_id: stranger.id, flows: ['client_credentials'] } });
    expect((await token()).body).toEqual(denied(`Organization ${stranger.id} is not associated with this client grant.`));
  });

  it('deleting the organization revokes its use at once', async () => {
    const { grant, token } = await setup(s, { organization_usage: 'allow' });
    const org = await createOrg(s);
    await s.api('POST', `/organizations/${org.id}/client-grants`, { grant_id: grant.id });
    expect((await token({ organization: org.id })).status).toBe(200);
    expect((await s.api('DELETE', `/organizations/${org.id}`)).status).toBe(204);
    expect((await token({ organization: org.id })).body).toEqual(denied(`Organization ${org.id} does not exist.`));
  });

  it('warm organization checks read no storage', async () => {
    const { grant, token } = await setup(s, { organization_usage: 'allow' });
    const org = await createOrg(s);
    await s.api('POST', `/organizations/${org.id}/client-grants`, { grant_id: grant.id });
    await s.t.services.changes.poll(); // the change feed has seen every write above
    expect((await token({ organization: org.name })).status).toBe(200);
    const repo = s.t.services.store.organizations;
    const calls: string[] = [];
    const original = { findById: repo.findById, findByName: repo.findByName, hasClientGrant: repo.hasClientGrant };
    repo.findById = async (id) => { calls.push('findById'); return original.findById.call(repo, id); };
    repo.findByName = async (n) => { calls.push('findByName'); return original.findByName.call(repo, n); };
    repo.hasClientGrant = async (o, g) => { calls.push('hasClientGrant'); return original.hasClientGrant.call(repo, o, g); };
    try {
      for (let i = 0; i < 5; i++) expect((await token({ organization: org.name })).status).toBe(200);
      expect(calls).toEqual([]);
    } finally {
      Object.assign(repo, original);
    }
  });
});
