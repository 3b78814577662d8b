import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseLogQuery } from '@tessera/core';
import { ADMIN_ID, ADMIN_SECRET, MGMT_AUDIENCE, eachDialect, startTessera, type TestServer } from './helpers/tessera';
import { Browser, CALLBACK, PASSWORD, authorize, callbackParams, createApi, createUser, createWebApp, exchange } from './helpers/flows';
import { managementToken, uniq } from './helpers/management';

const API = 'https://orders.logs.example';

/** Tenant logs: each flow leaves Auth0's event, served by GET /api/v2/logs, with nothing secret in it. */
eachDialect('tenant logs', (dialect) => {
  let s: TestServer;
  const secrets: string[] = [];
  let web: { clientId: string; secret: string };
  let email: string;
  let userId: string;

  const logs = async (query = '', token?: string) => {
    await s.t.services.events.flush();
    return s.api('GET', `/logs${query}`, undefined, token === undefined ? {} : { token });
  };
  const ofType = async (type: string) => (await logs(`?q=${encodeURIComponent(`type:${type}`)}&per_page=100`)).body as Array<Record<string, any>>;

  beforeAll(async () => {
    s = await startTessera(dialect, { env: { TESSERA_BRUTE_FORCE_THRESHOLD: '3' } });
    secrets.push(ADMIN_SECRET, PASSWORD);
    await createApi(s, API, { allow_offline_access: true });
    web = await createWebApp(s);
    secrets.push(web.secret);
    email = `buyer-${uniq()}@example.com`;
    userId = await createUser(s, email);
  });
  afterAll(async () => { await s.close(); });

  it('client credentials: seccft with client, audience, scope, address and agent; feccft with the refusal', async () => {
    const ok = await s.token({ grant_type: 'client_credentials', client_id: ADMIN_ID, client_secret: ADMIN_SECRET, audience: MGMT_AUDIENCE }, { headers: { 'user-agent': 'logs-test/1.0' } });
    expect(ok.status).toBe(200);
    secrets.push(ok.body.access_token);
    const bad = await s.token({ grant_type: 'client_credentials', client_id: ADMIN_ID, client_secret: 'wrong-secret-value', audience: MGMT_AUDIENCE });
    expect(bad.status).toBe(401);
    const success = (await ofType('seccft')).find((e) => e.user_agent === 'logs-test/1.0');
    expect(success).toMatchObject({
      type: 'seccft', client_id: ADMIN_ID, client_name: expect.any(String), audience: MGMT_AUDIENCE, ip: '127.0.0.1', hostname: 'tessera.test',
      details: { grant_type: 'client_credentials' },
    });
    expect(success?.scope).toContain('read:clients');
    expect(success?.log_id).toMatch(/^\d+$/);
    expect(new Date(success?.date).getTime()).toBeGreaterThan(Date.now() - 60_000);
    const failure = (await ofType('feccft'))[0];
    expect(failure).toMatchObject({ type: 'feccft', client_id: ADMIN_ID, description: expect.any(String), details: { error: 'access_denied' } });
    expect(JSON.stringify(failure)).not.toContain('wrong-secret-value');
  });

  it('login page, code exchange, refresh, replays and password grants leave s, seacft/feacft, sertft/fertft, sepft/fepft, fp and fu', async () => {
    const b = new Browser(s);
    const { res } = await authorize(s, b, { response_type: 'code', client_id: web.clientId, redirect_uri: CALLBACK, scope: 'openid offline_access read:orders', audience: API, state: 'st' }, { email });
    const { code } = callbackParams(res.location);
    secrets.push(code);
    const tokens = await exchange(s, { client_id: web.clientId, client_secret: web.secret, code });
    expect(tokens.status).toBe(200);
    secrets.push(tokens.body.access_token, tokens.body.refresh_token, tokens.body.id_token);
    const refreshed = await s.token({ grant_type: 'refresh_token', client_id: web.clientId, client_secret: web.secret, refresh_token: tokens.body.refresh_token });
    expect(refreshed.status).toBe(200);
    secrets.push(refreshed.body.access_token);
    expect((await exchange(s, { client_id: web.clientId, client_secret: web.secret, code })).status).toBe(403);
    expect((await s.token({ grant_type: 'refresh_token', client_id: web.clientId, client_secret: web.secret, refresh_token: 'not-a-token' })).status).toBe(403);
    const pw = await s.token({ grant_type: 'password', client_id: web.clientId, client_secret: web.secret, username: email, password: PASSWORD, audience: API, scope: 'read:orders' });
    expect(pw.status).toBe(200);
    secrets.push(pw.body.access_token);
    expect((await s.token({ grant_type: 'password', client_id: web.clientId, client_secret: web.secret, username: email, password: 'Wrong-Password-1' })).status).toBe(403);
    expect((await s.token({ grant_type: 'password', client_id: web.clientId, client_secret: web.secret, username: 'nobody@example.com', password: 'Wrong-Password-1' })).status).toBe(403);

    expect((await ofType('s'))[0]).toMatchObject({ type: 's', user_id: userId, user_name: email, client_id: web.clientId, client_name: 'Orders Web', connection: 'Username-Password-Authentication' });
    expect((await ofType('seacft'))[0]).toMatchObject({ client_id: web.clientId, user_id: userId, audience: API, scope: 'openid offline_access read:orders' });
    expect((await ofType('feacft'))[0]).toMatchObject({ client_id: web.clientId, details: { error: 'invalid_grant' } });
    expect((await ofType('sertft'))[0]).toMatchObject({ client_id: web.clientId, user_id: userId, audience: API });
    expect((await ofType('fertft'))[0]).toMatchObject({ client_id: web.clientId, details: { error: 'invalid_grant' } });
    expect((await ofType('sepft'))[0]).toMatchObject({ client_id: web.clientId, user_id: userId, scope: 'read:orders' });
    expect((await ofType('fepft')).length).toBe(2);
    expect((await ofType('fp'))[0]).toMatchObject({ user_name: email, user_id: userId, client_id: web.clientId });
    expect((await ofType('fu'))[0]).toMatchObject({ user_name: 'nobody@example.com', client_id: web.clientId });
    expect((await ofType('fu'))[0].user_id).toBeUndefined();
  });

  it('brute force: the block is limit_wc (once made, and each refused attempt)', async () => {
    const victim = `victim-${uniq()}@example.com`;
    await createUser(s, victim);
    for (let i = 0; i < 4; i++) await s.token({ grant_type: 'password', client_id: web.clientId, client_secret: web.secret, username: victim, password: 'Wrong-Password-1' });
    const blocks = (await ofType('limit_wc')).filter((e) => e.user_name === victim);
    expect(blocks.length).toBe(2);
    expect(blocks[0]).toMatchObject({ description: expect.stringContaining('blocked'), ip: '127.0.0.1' });
  });

  it('silent authentication: fsa without a session, ssa with one; logout: slo', async () => {
    const b = new Browser(s);
    const q = { response_type: 'code', client_id: web.clientId, redirect_uri: CALLBACK, scope: 'openid', prompt: 'none', state: 'x' };
    const none = await b.get(`/authorize?${new URLSearchParams(q)}`);
    expect(callbackParams(none.location).error).toBe('login_required');
    await authorize(s, b, { ...q, prompt: 'login' }, { email });
    const silent = await b.get(`/authorize?${new URLSearchParams(q)}`);
    expect(callbackParams(silent.location).code).toBeDefined();
    secrets.push(callbackParams(silent.location).code);
    const out = await b.get(`/v2/logout?client_id=${web.clientId}`);
    expect(out.status).toBe(200);
    expect((await ofType('fsa'))[0]).toMatchObject({ client_id: web.clientId, description: 'Login required' });
    expect((await ofType('ssa'))[0]).toMatchObject({ client_id: web.clientId, user_id: userId });
    expect((await ofType('slo'))[0]).toMatchObject({ client_id: web.clientId, user_id: userId });
  });

  it('Management operations: sapi with the operation and resource id, fapi for refusals; reads are not logged', async () => {
    const created = await s.api('POST', '/clients', { name: `logged-${uniq()}` });
    expect(created.status).toBe(201);
    secrets.push(created.body.client_secret);
    expect((await s.api('PATCH', `/clients/${created.body.client_id}`, { description: 'x' })).status).toBe(200);
    const weak = await managementToken(s, ['read:clients']);
    expect((await s.api('DELETE', `/clients/${created.body.client_id}`, undefined, { token: weak })).status).toBe(403);
    const rotated = await s.api('POST', '/keys/signing/rotate');
    expect(rotated.status).toBe(201);
    const sapi = await ofType('sapi');
    expect(sapi.find((e) => e.details.request.method === 'POST' && e.details.request.id === created.body.client_id)).toMatchObject({
      client_id: ADMIN_ID, description: 'Create a client', details: { request: { path: '/api/v2/clients' }, response: { statusCode: 201 } },
    });
    expect(sapi.find((e) => e.details.request.method === 'PATCH' && e.details.request.id === created.body.client_id)).toMatchObject({ details: { request: { id: created.body.client_id }, response: { statusCode: 200 } } });
    expect(sapi.find((e) => e.details.request.path === '/api/v2/keys/signing/rotate')).toMatchObject({ description: 'Rotate the application signing key', details: { request: { id: rotated.body.kid } } });
    expect((await ofType('fapi')).find((e) => e.details.request.method === 'DELETE')).toMatchObject({ details: { request: { id: created.body.client_id }, response: { statusCode: 403 } } });
    const all = (await logs('?per_page=100')).body as Array<Record<string, any>>;
    expect(all.some((e) => e.details?.request?.method === 'GET')).toBe(false);
  });

  it('searches: q on type, client_id, user_id and dates, sort, paging with totals, fields', async () => {
    const byClient = (await logs(`?q=${encodeURIComponent(`client_id:"${web.clientId}" AND type:(seacft OR sertft)`)}`)).body as Array<Record<string, any>>;
    expect(byClient.length).toBeGreaterThanOrEqual(2);
    expect(new Set(byClient.map((e) => e.type))).toEqual(new Set(['seacft', 'sertft']));
    const byUser = (await logs(`?q=${encodeURIComponent(`user_id:"${userId}"`)}&per_page=100`)).body as Array<Record<string, any>>;
    expect(byUser.every((e) => e.user_id === userId)).toBe(true);
    const dates = (await logs('?per_page=100')).body.map((e: any) => e.date);
    expect(dates).toEqual([...dates].sort().reverse());
    const asc = (await logs('?per_page=100&sort=date:1')).body.map((e: any) => e.date);
    expect(asc).toEqual([...asc].sort());
    const future = new Date(Date.now() + 3600_000).toISOString();
    expect((await logs(`?q=${encodeURIComponent(`date:[${future} TO *]`)}`)).body).toEqual([]);
    const past = new Date(Date.now() - 3600_000).toISOString();
    expect((await logs(`?q=${encodeURIComponent(`date:>=${past}`)}&per_page=5`)).body.length).toBe(5);
    const page = await logs('?page=1&per_page=2&include_totals=true');
    expect(page.body).toMatchObject({ start: 2, limit: 2, length: 2, total: dates.length });
    expect(page.body.logs.map((e: any) => e.date)).toEqual(dates.slice(2, 4));
    const slim = (await logs('?per_page=1&fields=type,log_id&include_fields=true')).body;
    expect(Object.keys(slim[0]).sort()).toEqual(['log_id', 'type']);
  });

  it('checkpoint paging with from/take follows the log order; GET /logs/{id}', async () => {
    const first = (await logs('?take=3')).body as Array<Record<string, any>>;
    expect(first.length).toBe(3);
    const newest = (await logs('?per_page=1')).body[0];
    expect(first[2].log_id).toBe(newest.log_id);
    const older = (await logs('?per_page=100&sort=date:1')).body as Array<Record<string, any>>;
    const next = (await logs(`?from=${older[0].log_id}&take=2`)).body as Array<Record<string, any>>;
    expect(next.map((e) => e.log_id)).toEqual(older.slice(1, 3).map((e) => e.log_id));
    const one = await s.api('GET', `/logs/${newest.log_id}`);
    expect(one.status).toBe(200);
    expect(one.body).toEqual(newest);
    expect(await s.api('GET', '/logs/900000')).toMatchObject({ status: 404, body: { statusCode: 404, error: 'Not Found', errorCode: 'inexistent_log' } });
  });

  it('refuses what it does not understand, pages past 1,000 and callers without read:logs or read:logs_users', async () => {
    for (const q of ['password:x', 'type:s*', 'date:[yesterday TO *]', 'type:s OR', 'client_id:(']) {
      const r = await logs(`?q=${encodeURIComponent(q)}`);
      expect(r.status, q).toBe(400);
      expect(r.body.errorCode).toBe('invalid_query_string');
    }
    expect((await logs('?sort=type:1')).status).toBe(400);
    expect((await logs('?page=10&per_page=100')).body).toMatchObject({ statusCode: 400, errorCode: 'invalid_paging' });
    expect((await logs('?take=101')).status).toBe(400);
    expect((await logs('', await managementToken(s, ['read:logs_users']))).status).toBe(200);
    expect((await logs('', await managementToken(s, ['read:logs']))).status).toBe(200);
    const none = await logs('', await managementToken(s, ['read:clients']));
    expect(none).toMatchObject({ status: 403, body: { message: 'Insufficient scope, expected any of: read:logs,read:logs_users' } });
  });

  it('no event holds a secret, token, password or code', async () => {
    const all = JSON.stringify((await logs('?per_page=100')).body) + JSON.stringify((await logs('?per_page=100&page=1')).body);
    for (const secret of secrets.filter(Boolean)) expect(all).not.toContain(secret);
    expect(all).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\./);
  });

  it('retention drops events older than the window and beyond the row limit', async () => {
    const repo = s.t.services.store.logs;
    const before = await repo.lastSeq();
    await repo.append([
      { log_id: `9001${uniq()}`, date: '2001-01-01T00:00:00.000Z', type: 'sapi' },
      { log_id: `9002${uniq()}`, date: '2001-01-02T00:00:00.000Z', type: 'sapi' },
    ]);
    expect(await repo.lastSeq()).toBe(before + 2);
    expect(await repo.prune('2001-01-02T00:00:00.000Z', 1_000_000)).toBe(1);
    const total = (await logs('?include_totals=true&per_page=1')).body.total as number;
    expect(await repo.prune('2001-01-01T00:00:00.000Z', 5)).toBe(total - 5);
    expect((await logs('?include_totals=true&per_page=1')).body.total).toBe(5);
  });
});

describe('log search syntax', () => {
  it('parses the supported subset', () => {
    expect(parseLogQuery('type:s AND client_id:"a b" user_id:(x OR "y|z")')).toEqual([
      { field: 'type', values: ['s'] }, { field: 'client_id', values: ['a b'] }, { field: 'user_id', values: ['x', 'y|z'] },
    ]);
    expect(parseLogQuery('date:{2024-01-01 TO 2024-02-01]')).toEqual([{ field: 'date', from: '2024-01-01T00:00:00.000Z', to: '2024-02-01T00:00:00.000Z', fromExclusive: true, toExclusive: false }]);
    expect(parseLogQuery('date:2024-03-04')).toEqual([{ field: 'date', from: '2024-03-04T00:00:00.000Z', to: '2024-03-05T00:00:00.000Z', toExclusive: true }]);
    expect(parseLogQuery('')).toEqual([]);
  });
});
