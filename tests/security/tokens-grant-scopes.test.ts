import { afterAll, beforeAll, expect, it } from 'vitest';
import { eachDialect, startTessera, type TestServer } from '../helpers/tessera';
import { createApi, createM2mClient } from '../helpers/management';

const defs = (...values: string[]) => values.map((value) => ({ value }));

eachDialect('security: a scope removed from an API leaves the client grants too', (dialect) => {
  let s: TestServer;
  beforeAll(async () => { s = await startTessera(dialect); });
  afterAll(async () => { await s.close(); });

  const setup = async (grant: Record<string, unknown> = {}) => {
    const api = await createApi(s, { scopes: defs('read:a', 'write:a', 'delete:a') });
    const client = await createM2mClient(s);
    const g = await s.api('POST', '/client-grants', { client_id: client.client_id, audience: api.identifier, scope: ['read:a', 'write:a'], ...grant });
    expect(g.status).toBe(201);
    const token = async () => {
      const r = await s.token({ grant_type: 'client_credentials', client_id: client.client_id, client_secret: client.client_secret, audience: api.identifier });
      expect(r.status).toBe(200);
      return r.body.scope as string;
    };
    const setScopes = async (...values: string[]) => expect((await s.api('PATCH', `/resource-servers/${api.id}`, { scopes: defs(...values) })).status).toBe(200);
    return { api, client, grant: g.body, token, setScopes };
  };

  it('the grant read back through the API no longer lists the removed scope', async () => {
    const { grant, setScopes } = await setup();
    await setScopes('read:a', 'delete:a');
    const r = await s.api('GET', `/client-grants/${grant.id}`);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ ...grant, scope: ['read:a'] });
  });

  it('re-adding the scope to the API does not bring it back to the grant', async () => {
    const { grant, setScopes } = await setup();
    await setScopes('read:a');
    await setScopes('read:a', 'write:a', 'delete:a');
    expect((await s.api('GET', `/client-grants/${grant.id}`)).body.scope).toEqual(['read:a']);
  });

  it('tokens issued after the removal (warm token-path caches) never regain the scope', async () => {
    const { token, setScopes } = await setup();
    expect(await token()).toBe('read:a write:a'); // caches now hold the grant
    await setScopes('read:a');
    expect(await token()).toBe('read:a');
    await setScopes('read:a', 'write:a');
    expect(await token()).toBe('read:a');
  });

  it('removing every scope leaves an empty scope list on the grant', async () => {
    const { grant, setScopes } = await setup();
    await setScopes();
    expect((await s.api('GET', `/client-grants/${grant.id}`)).body).toEqual({ ...grant, scope: [] });
  });

  it('user grants (subject_type user) are pruned as well', async () => {
    const { grant, setScopes } = await setup({ subject_type: 'user' });
    await setScopes('write:a');
    expect((await s.api('GET', `/client-grants/${grant.id}`)).body).toEqual({ ...grant, scope: ['write:a'] });
  });

  it('grants of other APIs and allow_all_scopes grants are left as they were', async () => {
    const { grant, setScopes } = await setup();
    const other = await setup();
    const all = await createM2mClient(s);
    const api = (await s.api('GET', `/client-grants/${grant.id}`)).body.audience;
    const wide = (await s.api('POST', '/client-grants', { client_id: all.client_id, audience: api, allow_all_scopes: true })).body;
    await setScopes('delete:a');
    expect((await s.api('GET', `/client-grants/${other.grant.id}`)).body).toEqual(other.grant);
    expect((await s.api('GET', `/client-grants/${wide.id}`)).body).toEqual(wide);
  });

  it('a PATCH of the API without scopes changes no grant', async () => {
    const { api, grant } = await setup();
    expect((await s.api('PATCH', `/resource-servers/${api.id}`, { token_lifetime: 600 })).status).toBe(200);
    expect((await s.api('GET', `/client-grants/${grant.id}`)).body).toEqual(grant);
  });
});
