import { afterAll, beforeAll, expect, it } from 'vitest';
import { eachDialect, startTessera, type TestServer } from './helpers/tessera';
import { uniq } from './helpers/management';

const DB = 'Username-Password-Authentication';
const PASSWORD = 'Corr3ct-Horse';

/**
 * `fields` / `include_fields` through the one projection helper, on every route Auth0 documents them for:
 * users (list and get), clients (list and get) and organization members (offset and checkpoint paging).
 */
eachDialect('fields and include_fields', (dialect) => {
  let s: TestServer;
  let user: Record<string, any>;
  let orgId: string;
  beforeAll(async () => {
    s = await startTessera(dialect);
    const u = await s.api('POST', '/users', { connection: DB, email: `p-${uniq()}@example.com`, password: PASSWORD, user_metadata: { a: 1 } });
    expect(u.status).toBe(201);
    user = u.body;
    const o = await s.api('POST', '/organizations', { name: `org-${uniq()}` });
    expect(o.status).toBe(201);
    orgId = o.body.id;
    expect((await s.api('POST', `/organizations/${orgId}/members`, { members: [user.user_id] })).status).toBe(204);
  });
  afterAll(async () => { await s.close(); });

  it('GET /users/{id}: include keeps only the named fields, exclude drops them, empty means everything', async () => {
    const id = encodeURIComponent(user.user_id);
    const inc = await s.api('GET', `/users/${id}?fields=user_id,email,user_metadata&include_fields=true`);
    expect(inc.status).toBe(200);
    expect(inc.body).toEqual({ user_id: user.user_id, email: user.email, user_metadata: { a: 1 } });
    const dflt = await s.api('GET', `/users/${id}?fields=email`);
    expect(dflt.body).toEqual({ email: user.email });
    const exc = await s.api('GET', `/users/${id}?fields=identities,picture,user_metadata&include_fields=false`);
    expect(Object.keys(exc.body).sort()).toEqual(['created_at', 'email', 'email_verified', 'name', 'nickname', 'updated_at', 'user_id']);
    expect((await s.api('GET', `/users/${id}?fields=&include_fields=false`)).body).toEqual(user);
    expect((await s.api('GET', `/users/${id}?fields=nope`)).body).toEqual({});
  });

  it('GET /users/{id}: the projection never lets the password hash out, even when asked for by name', async () => {
    const r = await s.api('GET', `/users/${encodeURIComponent(user.user_id)}?fields=password_hash,password,connection`);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({});
  });

  it('GET /users: the projection applies to each item, with and without totals', async () => {
    const r = await s.api('GET', '/users?fields=user_id&include_totals=true');
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ start: 0, limit: 50, total: 1, users: [{ user_id: user.user_id }] });
    expect((await s.api('GET', '/users?fields=user_id,email')).body).toEqual([{ user_id: user.user_id, email: user.email }]);
  });

  it('refuses a non-boolean include_fields with 400', async () => {
    const r = await s.api('GET', '/users?fields=email&include_fields=maybe');
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ statusCode: 400, error: 'Bad Request', errorCode: 'invalid_query_string' });
  });

  it('GET /clients and /clients/{id} use the same projection', async () => {
    const c = await s.api('POST', '/clients', { name: `c-${uniq()}`, app_type: 'non_interactive' });
    const one = await s.api('GET', `/clients/${c.body.client_id}?fields=client_id,name`);
    expect(one.body).toEqual({ client_id: c.body.client_id, name: c.body.name });
    const list = await s.api('GET', '/clients?fields=client_id&include_fields=true');
    expect(list.body).toContainEqual({ client_id: c.body.client_id });
    for (const item of list.body) expect(Object.keys(item)).toEqual(['client_id']);
  });

  it('GET /organizations/{id}/members with fields, include_fields, from and take', async () => {
    const offset = await s.api('GET', `/organizations/${orgId}/members?fields=user_id,email&include_fields=true&page=0&per_page=10&include_totals=true`);
    expect(offset.status).toBe(200);
    expect(offset.body).toEqual({ start: 0, limit: 10, total: 1, members: [{ user_id: user.user_id, email: user.email }] });
    const checkpoint = await s.api('GET', `/organizations/${orgId}/members?fields=picture&include_fields=false&take=5`);
    expect(checkpoint.status).toBe(200);
    expect(checkpoint.body).toEqual({ members: [{ user_id: user.user_id, email: user.email, name: user.name }] });
  });
});
