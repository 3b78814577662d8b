import { afterAll, beforeAll, expect, it } from 'vitest';
import { eachDialect, MGMT_AUDIENCE, startTessera, type TestServer } from './helpers/tessera';
import { badRequest, createApi, createM2mClient, snapshot } from './helpers/management';

eachDialect('management: client grants list', (dialect) => {
  let s: TestServer;
  let apiA: Record<string, any>;
  let apiB: Record<string, any>;
  const grants: Array<Record<string, any>> = [];
  beforeAll(async () => {
    s = await startTessera(dialect);
    apiA = await createApi(s, { identifier: 'https://a.example.com', scopes: [{ value: 'r' }] });
    apiB = await createApi(s, { identifier: 'https://b.example.com', scopes: [{ value: 'r' }] });
    for (let i = 0; i < 3; i++) {
      const c = await createM2mClient(s, `grantee-${i}`);
      for (const [api, subject_type] of [[apiA, 'client'], [apiB, 'client'], [apiA, 'user']] as const) {
        const r = await s.api('POST', '/client-grants', { client_id: c.client_id, audience: api.identifier, scope: ['r'], subject_type });
        grants.push(r.body);
      }
    }
  });
  afterAll(async () => { await s.close(); });

  const all = () => grants.length + 1; // + the bootstrap admin's Management API grant

  it('no paging parameters: a bare array of every grant (SDK v4)', async () => {
    const r = await s.api('GET', '/client-grants');
    expect(r.status).toBe(200);
    expect(r.body).toHaveLength(all());
    expect(r.body[0]).toMatchObject({ audience: MGMT_AUDIENCE, allow_all_scopes: true, subject_type: 'client' });
    expect(r.body.slice(1)).toEqual(grants);
  });

  it('checkpoint paging: take/from walk every grant, next omitted on the last page', async () => {
    const seen: Array<Record<string, any>> = [];
    let from: string | undefined;
    let pages = 0;
    for (;;) {
      const r = await s.api('GET', `/client-grants?include_totals=true&take=4${from ? `&from=${encodeURIComponent(from)}` : ''}`);
      expect(r.status).toBe(200);
      pages++;
      seen.push(...r.body.client_grants);
      if (r.body.next === undefined) {
        expect(Object.keys(r.body)).toEqual(['client_grants']);
        break;
      }
      expect(Object.keys(r.body).sort()).toEqual(['client_grants', 'next']);
      expect(r.body.client_grants).toHaveLength(4);
      from = r.body.next;
    }
    expect(pages).toBe(Math.ceil(all() / 4));
    expect(seen.slice(1)).toEqual(grants);
  });

  it('take wins over per_page/include_totals (Terraform data source)', async () => {
    const r = await s.api('GET', `/client-grants?client_id=${grants[0].client_id}&include_totals=true&per_page=50&take=100`);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ client_grants: grants.slice(0, 3) });
  });

  it('a take equal to the remaining count has no next', async () => {
    const r = await s.api('GET', `/client-grants?take=${all()}`);
    expect(r.body.client_grants).toHaveLength(all());
    expect('next' in r.body).toBe(false);
  });

  it('offset paging with include_totals gives the exact total', async () => {
    const r = await s.api('GET', '/client-grants?page=1&per_page=4&include_totals=true');
    expect(r.body).toEqual({ start: 4, limit: 4, total: all(), client_grants: grants.slice(3, 7) });
    const past = await s.api('GET', '/client-grants?page=10&per_page=4&include_totals=true');
    expect(past.body).toEqual({ start: 40, limit: 4, total: all(), client_grants: [] });
  });

  it('filters: audience, client_id, subject_type, and the three together (Terraform lookup)', async () => {
    const byAud = await s.api('GET', `/client-grants?audience=${encodeURIComponent(apiB.identifier)}`);
    expect(byAud.body).toEqual(grants.filter((g) => g.audience === apiB.identifier));
    const byClient = await s.api('GET', `/client-grants?client_id=${grants[3].client_id}`);
    expect(byClient.body).toEqual(grants.slice(3, 6));
    const users = await s.api('GET', '/client-grants?subject_type=user&include_totals=true&per_page=50');
    expect(users.body).toEqual({ start: 0, limit: 50, total: 3, client_grants: grants.filter((g) => g.subject_type === 'user') });
    const one = await s.api('GET', `/client-grants?audience=${encodeURIComponent(apiA.identifier)}&client_id=${grants[6].client_id}&subject_type=client&include_totals=true&per_page=50`);
    expect(one.body).toEqual({ start: 0, limit: 50, total: 1, client_grants: [grants[6]] });
  });

  it('allow_any_organization=true filters; false is refused (only true is accepted)', async () => {
    expect((await s.api('GET', '/client-grants?allow_any_organization=true')).body).toEqual([]);
    const r = await s.api('GET', '/client-grants?allow_any_organization=false');
    expect(r.status).toBe(400);
    expect(r.body.errorCode).toBe('invalid_query_string');
  });

  it.each([
    ['take=0', "Query validation error: 'Value 0 is less than minimum 1' on property take (Number of results per page. Defaults to 50.)."],
    ['take=101', "Query validation error: 'Value 101 is greater than maximum 100' on property take (Number of results per page. Defaults to 50.)."],
    ['from=%21%21garbage', "Query validation error: 'Invalid checkpoint' on property from (Optional Id from which to start selection.)."],
    ['subject_type=robot', "Query validation error: 'No enum match for: \"robot\"' on property subject_type."],
  ])('bad query %s → 400 invalid_query_string', async (q, message) => {
    const r = await s.api('GET', `/client-grants?${q}`);
    expect(r.status).toBe(400);
    expect(r.body).toEqual(badRequest(message, 'invalid_query_string'));
  });

  it('failed writes leave the list unchanged', async () => {
    const before = await snapshot(s);
    await s.api('POST', '/client-grants', { client_id: grants[0].client_id, audience: apiA.identifier, scope: ['r'] });
    await s.api('POST', '/client-grants', { client_id: grants[0].client_id, audience: 'https://c.example.com' });
    await s.api('PATCH', `/client-grants/${grants[0].id}`, { audience: apiB.identifier });
    expect(await snapshot(s)).toEqual(before);
  });
});
