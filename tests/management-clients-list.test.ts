import { afterAll, beforeAll, expect, it } from 'vitest';
import { ADMIN_ID, eachDialect, MGMT_AUDIENCE, startTessera, type TestServer } from './helpers/tessera';

eachDialect('management: clients list', (dialect) => {
  let s: TestServer;
  const made: Array<Record<string, any>> = [];
  beforeAll(async () => {
    s = await startTessera(dialect);
    for (let i = 0; i < 4; i++) {
      const r = await s.api('POST', '/clients', { name: `list-${i}`, app_type: i % 2 ? 'spa' : 'non_interactive' });
      made.push(r.body);
    }
  });
  afterAll(async () => { await s.close(); });

  it('no paging parameters: a bare array (the bootstrap admin first)', async () => {
    const r = await s.api('GET', '/clients');
    expect(r.status).toBe(200);
    expect(r.body).toHaveLength(5);
    expect(r.body[0].client_id).toBe(ADMIN_ID);
    expect(r.body.slice(1).map((c: { client_id: string }) => c.client_id)).toEqual(made.map((c) => c.client_id));
  });

  it('a0deploy paging: page=0&per_page=100&include_totals=true&is_global=false with an exact total', async () => {
    const r = await s.api('GET', '/clients?page=0&per_page=100&include_totals=true&is_global=false');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ start: 0, limit: 100, total: 5 });
    expect(r.body.clients).toHaveLength(5);
  });

  it('offset pages and an empty page past the end', async () => {
    const p1 = await s.api('GET', '/clients?page=1&per_page=2&include_totals=true');
    expect(p1.body).toMatchObject({ start: 2, limit: 2, total: 5 });
    expect(p1.body.clients.map((c: { name: string }) => c.name)).toEqual(['list-1', 'list-2']);
    const past = await s.api('GET', '/clients?page=9&per_page=2&include_totals=true');
    expect(past.status).toBe(200);
    expect(past.body).toEqual({ start: 18, limit: 2, total: 5, clients: [] });
  });

  it('is_global=true matches nothing (no global client yet); app_type filters', async () => {
    expect((await s.api('GET', '/clients?is_global=true')).body).toEqual([]);
    const spa = await s.api('GET', '/clients?app_type=spa');
    expect(spa.body.map((c: { name: string }) => c.name)).toEqual(['list-1', 'list-3']);
  });

  it('fields + include_fields=true projects; include_fields=false excludes', async () => {
    const r = await s.api('GET', '/clients?fields=client_id%2Cname&include_fields=true&page=0&per_page=50&include_totals=true');
    expect(r.status).toBe(200);
    for (const c of r.body.clients) expect(Object.keys(c).sort()).toEqual(['client_id', 'name']);
    const ex = await s.api('GET', `/clients/${made[0].client_id}?fields=client_secret,refresh_token&include_fields=false`);
    expect(ex.status).toBe(200);
    expect(ex.body.client_id).toBe(made[0].client_id);
    expect('client_secret' in ex.body).toBe(false);
    expect('refresh_token' in ex.body).toBe(false);
    const one = await s.api('GET', `/clients/${made[0].client_id}?fields=client_id&include_fields=true`);
    expect(one.body).toEqual({ client_id: made[0].client_id });
  });

  it('per_page=0 is allowed for clients; per_page=101 is not', async () => {
    expect((await s.api('GET', '/clients?per_page=0&include_totals=true')).body).toMatchObject({ total: 5, clients: [] });
    const r = await s.api('GET', '/clients?per_page=101');
    expect(r.status).toBe(400);
    expect(r.body.errorCode).toBe('invalid_query_string');
  });

  it('the management client grant is listed for the admin', async () => {
    const r = await s.api('GET', `/client-grants?client_id=${ADMIN_ID}&audience=${encodeURIComponent(MGMT_AUDIENCE)}`);
    expect(r.body).toHaveLength(1);
  });
});
