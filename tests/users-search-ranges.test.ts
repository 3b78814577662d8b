import { afterAll, beforeAll, expect, it } from 'vitest';
import { ADMIN_ID, ADMIN_SECRET, eachDialect, MGMT_AUDIENCE, startTessera, type TestServer } from './helpers/tessera';
import { createWebApp } from './helpers/flows';

const DB = 'Username-Password-Authentication';
const PASSWORD = 'Corr3ct-Horse';
const REALM = 'http://auth0.com/oauth/grant-type/password-realm';
const enc = encodeURIComponent;

/**
 * Ranges in GET /users?q= (Lucene `[a TO b]`, `{a TO b}`, mixed, `*` open) on created_at, updated_at, last_login
 * and logins_count, and the login statistics they search: logins_count, last_login and last_ip kept at each login.
 * Users are created and log in at fixed instants of the test clock, which only moves forward (in 2030, after the
 * signing keys were made); each Management call uses a token minted at the clock's time.
 */
eachDialect('users: range queries and login statistics', (dialect) => {
  let s: TestServer;
  let app: { clientId: string; secret: string };
  const at = (iso: string) => {
    expect(Date.parse(iso)).toBeGreaterThanOrEqual(s.clock.ms);
    s.clock.ms = Date.parse(iso);
  };
  const api = async (method: string, path: string, body?: unknown) => {
    const t = await s.token({ grant_type: 'client_credentials', client_id: ADMIN_ID, client_secret: ADMIN_SECRET, audience: MGMT_AUDIENCE });
    return s.api(method, path, body, { token: t.body.access_token });
  };
  const create = async (name: string, created: string) => {
    at(created);
    const r = await api('POST', '/users', { connection: DB, email: `${name}@ranges.example`, password: PASSWORD, name });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    return r.body;
  };
  const login = async (name: string, when: string, password = PASSWORD) => {
    at(when);
    return s.token({ grant_type: REALM, realm: DB, username: `${name}@ranges.example`, password, client_id: app.clientId, client_secret: app.secret, scope: 'openid' });
  };
  const search = async (q: string) => {
    const r = await api('GET', `/users?q=${enc(q)}&search_engine=v3&sort=name:1&fields=name`);
    expect(r.status, `${q}: ${JSON.stringify(r.body)}`).toBe(200);
    return r.body.map((u: { name: string }) => u.name);
  };

  beforeAll(async () => {
    s = await startTessera(dialect);
    app = await createWebApp(s);
    await create('anna', '2029-12-31T23:59:59.999Z');
    await create('boris', '2030-01-01T00:00:00.000Z');
    await create('clara', '2030-01-31T12:00:00.000Z');
    await create('dmitri', '2030-02-01T00:00:00.000Z');
    await create('emma', '2030-03-15T08:30:00.000Z');
    for (let i = 0; i < 3; i++) expect((await login('boris', `2030-03-1${i + 6}T10:00:00.000Z`)).status).toBe(200);
    expect((await login('clara', '2030-03-20T10:00:00.000Z')).status).toBe(200);
    // twelve logins at once: the count is an atomic increment, none is lost
    at('2030-04-01T10:00:00.000Z');
    const emma = await Promise.all(Array.from({ length: 12 }, () => login('emma', '2030-04-01T10:00:00.000Z')));
    expect(emma.map((r) => r.status)).toEqual(Array(12).fill(200));
    expect((await login('anna', '2030-04-02T10:00:00.000Z', 'Wrong-Passw0rd')).status).toBe(403); // a failed login counts nothing
  }, 400_000);
  afterAll(async () => { await s.close(); });

  it('each login counts: logins_count, last_login and last_ip appear after the first login only', async () => {
    const users = (await api('GET', '/users?sort=name:1')).body as Array<Record<string, unknown>>;
    const stats = Object.fromEntries(users.map((u) => [u.name, { logins_count: u.logins_count, last_login: u.last_login, last_ip: u.last_ip }]));
    expect(stats).toEqual({
      anna: { logins_count: undefined, last_login: undefined, last_ip: undefined },
      boris: { logins_count: 3, last_login: '2030-03-18T10:00:00.000Z', last_ip: '127.0.0.1' },
      clara: { logins_count: 1, last_login: '2030-03-20T10:00:00.000Z', last_ip: '127.0.0.1' },
      dmitri: { logins_count: undefined, last_login: undefined, last_ip: undefined },
      emma: { logins_count: 12, last_login: '2030-04-01T10:00:00.000Z', last_ip: '127.0.0.1' },
    });
  });

  it('a profile update does not reset the login statistics', async () => {
    const boris = (await api('GET', `/users?q=${enc('name:boris')}`)).body[0];
    const r = await api('PATCH', `/users/${enc(boris.user_id)}`, { nickname: 'bo', app_metadata: { x: 1 } });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ logins_count: 3, last_login: '2030-03-18T10:00:00.000Z' });
    expect((await api('GET', `/users/${enc(boris.user_id)}`)).body).toMatchObject({ logins_count: 3, nickname: 'bo' });
  });

  it.each([
    ['created_at:[2030-01-01 TO *]', ['boris', 'clara', 'dmitri', 'emma']],
    ['created_at:{2030-01-01 TO *]', ['clara', 'dmitri', 'emma']], // exclusive: after the whole day
    ['created_at:[* TO 2030-01-31]', ['anna', 'boris', 'clara']], // inclusive: the whole 31st
    ['created_at:[* TO 2030-01-31}', ['anna', 'boris']],
    ['created_at:[2030-01 TO 2030-01]', ['boris', 'clara']], // a month
    ['created_at:[2029 TO 2029]', ['anna']], // a year
    ['created_at:[2030-01-01T00:00:00.000Z TO 2030-02-01T00:00:00Z}', ['boris', 'clara']],
    ['created_at:[2030-01-01T01:00:00+01:00 TO 2030-01-01T01:00:00+01:00]', ['boris']], // an offset, to the second
    ['created_at:["2030-03-15T08:30" TO *]', ['emma']], // quoted, to the minute
    ['created_at:[* TO *]', ['anna', 'boris', 'clara', 'dmitri', 'emma']],
    ['created_at:2030-01-31', ['clara']], // a date without range: its whole day
    ['last_login:[2030-03-19 TO *]', ['clara', 'emma']],
    ['last_login:[* TO *]', ['boris', 'clara', 'emma']],
    ['updated_at:[2030-03-01 TO *] AND NOT name:boris', ['emma']],
  ])('dates: %s', async (q, names) => {
    expect(await search(q)).toEqual(names);
  });

  it.each([
    ['logins_count:[1 TO *]', ['boris', 'clara', 'emma']],
    ['logins_count:{1 TO 10]', ['boris']],
    ['logins_count:[1 TO 10}', ['boris', 'clara']],
    ['logins_count:{3 TO 12}', []],
    ['logins_count:[0 TO 0]', ['anna', 'dmitri']], // never logged in counts as 0
    ['logins_count:12', ['emma']],
    ['logins_count:[* TO 3] AND created_at:[2030-01-01 TO *]', ['boris', 'clara', 'dmitri']],
    ['logins_count:[10 TO *] OR created_at:[* TO 2029-12-31]', ['anna', 'emma']],
    ['last_ip:"127.0.0.1"', ['boris', 'clara', 'emma']],
  ])('numbers: %s', async (q, names) => {
    expect(await search(q)).toEqual(names);
  });

  it('sort by logins_count and last_login', async () => {
    const r = await api('GET', '/users?sort=logins_count:-1&fields=name');
    expect(r.body.map((u: { name: string }) => u.name)).toEqual(['emma', 'boris', 'clara', 'anna', 'dmitri']);
    const l = await api('GET', '/users?sort=last_login:1&fields=name');
    expect(l.body.map((u: { name: string }) => u.name)).toEqual(['boris', 'clara', 'emma', 'anna', 'dmitri']); // never logged in: last
  });

  it.each([
    ['name:[a TO c]', 'Ranges are supported only on created_at, updated_at, last_login and logins_count, not on name'],
    ['app_metadata.x:[1 TO 2]', 'Ranges are supported only on created_at, updated_at, last_login and logins_count, not on app_metadata.x'],
    ['created_at:[2030-13-01 TO *]', 'created_at takes a valid date: 2030-13-01'],
    ['created_at:[2030-02-30 TO *]', 'created_at takes a valid date: 2030-02-30'],
    ['created_at:[next week TO *]', 'A range is written [lower TO upper] or {lower TO upper}'],
    ['created_at:[2030-01-01 TO *', 'Unterminated range'],
    ['created_at:[2030-01-01 TO [*]]', 'Nested brackets in a range'],
    ['logins_count:[one TO 5]', 'logins_count takes a whole number: one'],
    ['logins_count:1.5', 'logins_count takes a whole number: 1.5'],
    ['logins_count:1*', 'logins_count takes a whole number: 1*'],
    ['[1 TO 5]', 'A range needs a field (created_at:[a TO b])'],
    ['created_at:[2030-01-01T10:00:00+25:00 TO *]', 'created_at takes a valid time zone offset: 2030-01-01T10:00:00+25:00'],
    ["created_at:[2030-01-01';DROP TO *]", "created_at takes an ISO 8601 date or date-time (2026-01-31, 2026-01-31T10:00:00Z): 2030-01-01';DROP"],
  ])('refuses %s with 400 invalid_query_string', async (q, why) => {
    const r = await api('GET', `/users?q=${enc(q)}&search_engine=v3`);
    expect(r.status).toBe(400);
    expect(r.body).toEqual({
      statusCode: 400, error: 'Bad Request', errorCode: 'invalid_query_string',
      message: `Query validation error: '${why}' on property q (Query in Lucene query string syntax. Some query types cannot be used on metadata fields, for details see Searchable Fields.).`,
    });
  });
});
