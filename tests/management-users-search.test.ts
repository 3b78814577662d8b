import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eachDialect, startTessera, type TestServer } from './helpers/tessera';
import { managementToken, uniq } from './helpers/management';
import { authorize, Browser, CALLBACK, callbackParams, createWebApp, exchange } from './helpers/flows';

const DB = 'Username-Password-Authentication';
const PASSWORD = 'Corr3ct-Horse';
const enc = encodeURIComponent;

/**
 * Issue 14, users: usernames, caller-chosen ids (Terraform's `auth0|<id>`), login by username, the Lucene
 * subset of GET /users?q=, sort, and GET /users-by-email, each with its refusals.
 */
eachDialect('users: usernames, ids, search', (dialect) => {
  let s: TestServer;
  beforeAll(async () => { s = await startTessera(dialect); });
  afterAll(async () => { await s.close(); });

  const create = async (extra: Record<string, unknown>) => {
    const r = await s.api('POST', '/users', { connection: DB, email: `u-${uniq()}@example.com`, password: PASSWORD, ...extra });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    return r.body;
  };
  const count = async () => (await s.api('GET', '/users?include_totals=true&per_page=1')).body.total as number;

  describe('usernames', () => {
    it('POST /users with a username stores it lower case and returns it on every read', async () => {
      const name = `Ada_${uniq()}`.slice(0, 15);
      const u = await create({ username: name });
      expect(u.username).toBe(name.toLowerCase());
      expect((await s.api('GET', `/users/${enc(u.user_id)}`)).body.username).toBe(name.toLowerCase());
      const patched = await s.api('PATCH', `/users/${enc(u.user_id)}`, { username: `${name}.2` });
      expect(patched.status).toBe(200);
      expect(patched.body.username).toBe(`${name}.2`.toLowerCase());
    });

    it("accepts Auth0's username characters", async () => {
      const u = await create({ username: `a_+-.!#$'^\`~@${uniq()}` });
      expect(u.username).toMatch(/^a_\+-\.!#\$'\^`~@[0-9a-f]+$/);
    });

    it.each([
      ['a space', 'ada lovelace', "Username can only contain alphanumeric characters and: '_', '+', '-', '.', '!', '#', '$', ''', '^', '`', '~' and '@'."],
      ['a slash', 'ada/lovelace', "Username can only contain alphanumeric characters and: '_', '+', '-', '.', '!', '#', '$', ''', '^', '`', '~' and '@'."],
      ['accented letters', 'adà', "Username can only contain alphanumeric characters and: '_', '+', '-', '.', '!', '#', '$', ''', '^', '`', '~' and '@'."],
      ['an email address', 'ada@example.com', 'Username cannot be an email address.'],
    ])('refuses a username with %s (400, nothing created)', async (_what, username, message) => {
      const before = await count();
      const r = await s.api('POST', '/users', { connection: DB, email: `u-${uniq()}@example.com`, password: PASSWORD, username });
      expect(r.status).toBe(400);
      expect(r.body).toEqual({ statusCode: 400, error: 'Bad Request', message, errorCode: 'invalid_body' });
      expect(await count()).toBe(before);
    });

    it('refuses an empty or over-long username with the payload validation error', async () => {
      const long = await s.api('POST', '/users', { connection: DB, email: `u-${uniq()}@example.com`, password: PASSWORD, username: 'a'.repeat(129) });
      expect(long.status).toBe(400);
      expect(long.body).toMatchObject({ errorCode: 'invalid_body', message: expect.stringContaining('on property username') });
      const empty = await s.api('POST', '/users', { connection: DB, email: `u-${uniq()}@example.com`, password: PASSWORD, username: '' });
      expect(empty.status).toBe(400);
      expect((await create({ username: 'b'.repeat(128) })).username).toBe('b'.repeat(128));
    });

    it('a username is unique per connection, whatever its case: 409 on create and on update, nothing half-written', async () => {
      const name = `dup${uniq()}`;
      const first = await create({ username: name });
      const before = await count();
      const again = await s.api('POST', '/users', { connection: DB, email: `u-${uniq()}@example.com`, password: PASSWORD, username: name.toUpperCase() });
      expect(again.status).toBe(409);
      expect(again.body).toEqual({ statusCode: 409, error: 'Conflict', message: 'The username provided is in use already.', errorCode: 'auth0_idp_error' });
      expect(await count()).toBe(before);
      const other = await create({});
      const clash = await s.api('PATCH', `/users/${enc(other.user_id)}`, { username: name, name: 'Renamed' });
      expect(clash.status).toBe(409);
      expect(clash.body.message).toBe('The username provided is in use already.');
      const unchanged = await s.api('GET', `/users/${enc(other.user_id)}`);
      expect(unchanged.body.name).toBe(other.name);
      expect(unchanged.body.username).toBeUndefined();
      expect((await s.api('GET', `/users/${enc(first.user_id)}`)).body.username).toBe(name);
    });
  });

  describe('caller-chosen user_id', () => {
    it('a bare id and an auth0|-prefixed id both become auth0|<id> (Terraform shape), readable through %7C and a raw |', async () => {
      const bare = `tf${uniq()}`;
      const a = await create({ user_id: bare });
      expect(a.user_id).toBe(`auth0|${bare}`);
      expect(a.identities).toEqual([{ connection: DB, user_id: bare, provider: 'auth0', isSocial: false }]);
      const prefixed = `tf${uniq()}`;
      const b = await create({ user_id: `auth0|${prefixed}` });
      expect(b.user_id).toBe(`auth0|${prefixed}`);
      expect((await s.api('GET', `/users/auth0%7C${prefixed}`)).body.user_id).toBe(`auth0|${prefixed}`);
      expect((await s.api('GET', `/users/auth0|${prefixed}`)).body.user_id).toBe(`auth0|${prefixed}`);
      const patched = await s.api('PATCH', `/users/auth0%7C${prefixed}`, { name: 'Terraformed' });
      expect(patched.status).toBe(200);
      expect(patched.body).toMatchObject({ user_id: `auth0|${prefixed}`, name: 'Terraformed' });
      expect((await s.api('DELETE', `/users/auth0%7C${prefixed}`)).status).toBe(204);
      expect((await s.api('GET', `/users/auth0%7C${prefixed}`)).body).toEqual({ statusCode: 404, error: 'Not Found', message: 'The user does not exist.', errorCode: 'inexistent_user' });
    });

    it('refuses another provider prefix or a second |, and a taken id with 409', async () => {
      for (const user_id of ['google-oauth2|123', 'auth0|a|b', 'auth0|']) {
        const r = await s.api('POST', '/users', { connection: DB, email: `u-${uniq()}@example.com`, password: PASSWORD, user_id });
        expect(r.status, user_id).toBe(400);
        expect(r.body).toMatchObject({ statusCode: 400, errorCode: 'invalid_body', message: expect.stringContaining('on property user_id') });
      }
      const id = `taken${uniq()}`;
      await create({ user_id: id });
      const dup = await s.api('POST', '/users', { connection: DB, email: `u-${uniq()}@example.com`, password: PASSWORD, user_id: `auth0|${id}` });
      expect(dup.status).toBe(409);
      expect(dup.body).toEqual({ statusCode: 409, error: 'Conflict', message: 'The user already exists.', errorCode: 'auth0_idp_error' });
    });
  });

  describe('login by username', () => {
    it('the password grant and the hosted login page accept the username as well as the email', async () => {
      const app = await createWebApp(s, { name: `web-${uniq()}` });
      const username = `login${uniq()}`;
      const u = await create({ username });
      const byName = await s.token({ grant_type: 'password', client_id: app.clientId, client_secret: app.secret, username: username.toUpperCase(), password: PASSWORD, scope: 'openid' });
      expect(byName.status, JSON.stringify(byName.body)).toBe(200);
      expect(decodeJwt(byName.body.id_token).sub).toBe(u.user_id);
      const realm = await s.token({ grant_type: 'http://auth0.com/oauth/grant-type/password-realm', realm: DB, client_id: app.clientId, client_secret: app.secret, username, password: PASSWORD, scope: 'openid' });
      expect(realm.status).toBe(200);
      const wrong = await s.token({ grant_type: 'password', client_id: app.clientId, client_secret: app.secret, username, password: 'Wrong-Passw0rd', scope: 'openid' });
      expect(wrong.status).toBe(403);
      expect(wrong.body).toEqual({ error: 'invalid_grant', error_description: 'Wrong email or password.' });
      const nobody = await s.token({ grant_type: 'password', client_id: app.clientId, client_secret: app.secret, username: `nobody${uniq()}`, password: PASSWORD, scope: 'openid' });
      expect(nobody.status).toBe(403);

      const b = new Browser(s);
      const { res } = await authorize(s, b, { client_id: app.clientId, response_type: 'code', redirect_uri: CALLBACK, scope: 'openid', state: 'st' }, { email: username, password: PASSWORD });
      expect(res.status, res.body).toBe(302);
      const { code } = callbackParams(res.location);
      const t = await exchange(s, { client_id: app.clientId, client_secret: app.secret, code });
      expect(t.status).toBe(200);
      expect(decodeJwt(t.body.id_token).sub).toBe(u.user_id);
    });
  });

  describe('GET /users?q=', () => {
    const tag = uniq();
    const people: Record<string, any> = {};
    beforeAll(async () => {
      people.ada = await create({ email: `ada.lovelace-${tag}@analytical.example`, name: 'Ada Lovelace', given_name: 'Ada', username: `ada${tag}`, app_metadata: { plan: 'gold', tag, seats: 3 }, email_verified: true });
      people.charles = await create({ email: `charles-${tag}@analytical.example`, name: 'Charles Babbage', app_metadata: { plan: 'silver', tag }, blocked: true });
      people.grace = await create({ email: `grace-${tag}@navy.example`, name: 'Grace Hopper', app_metadata: { plan: 'gold', tag }, user_metadata: { team: 'Cobol' } });
    });
    const search = async (q: string, extra = '') => {
      const r = await s.api('GET', `/users?q=${enc(q)}&search_engine=v3${extra}`);
      expect(r.status, `${q}: ${JSON.stringify(r.body)}`).toBe(200);
      return (r.body as Array<{ user_id: string }>).map((u) => Object.entries(people).find(([, p]) => p.user_id === u.user_id)?.[0] ?? u.user_id);
    };

    it('field:value, quoted values and case-insensitive normalised fields', async () => {
      expect(await search(`email:"${people.ada.email.toUpperCase()}"`)).toEqual(['ada']);
      expect(await search(`name:"grace hopper"`)).toEqual(['grace']);
      expect(await search(`user_id:"${people.charles.user_id}"`)).toEqual(['charles']);
      expect(await search(`username:ada${tag}`)).toEqual(['ada']);
      expect(await search(`app_metadata.tag:"${tag}" AND app_metadata.plan:"gold"`)).toEqual(['ada', 'grace']);
      expect(await search(`app_metadata.plan:"Gold" AND app_metadata.tag:"${tag}"`)).toEqual([]); // metadata is case-sensitive
      expect(await search(`app_metadata.seats:3`)).toEqual(['ada']);
      expect(await search(`user_metadata.team:"Cobol"`)).toEqual(['grace']);
    });

    it('wildcards on email and name, email.domain, booleans, identities.connection', async () => {
      expect(await search(`email:ada.lovelace-${tag}*`)).toEqual(['ada']);
      expect(await search(`name:charl* AND app_metadata.tag:"${tag}"`)).toEqual(['charles']);
      expect(await search(`name:*opper AND app_metadata.tag:"${tag}"`)).toEqual(['grace']);
      expect(await search(`email.domain:"analytical.example" AND app_metadata.tag:"${tag}"`)).toEqual(['ada', 'charles']);
      expect(await search(`blocked:true AND app_metadata.tag:"${tag}"`)).toEqual(['charles']);
      expect(await search(`email_verified:true AND app_metadata.tag:"${tag}"`)).toEqual(['ada']);
      expect(await search(`identities.connection:"${DB}" AND app_metadata.tag:"${tag}"`)).toEqual(['ada', 'charles', 'grace']);
    });

    it('AND, OR, NOT and parentheses', async () => {
      expect(await search(`app_metadata.tag:"${tag}" AND (name:"ada lovelace" OR name:"grace hopper")`)).toEqual(['ada', 'grace']);
      expect(await search(`app_metadata.tag:"${tag}" AND NOT app_metadata.plan:"gold"`)).toEqual(['charles']);
      expect(await search(`(email:"${people.ada.email}" OR email:"${people.charles.email}") AND blocked:false`)).toEqual(['ada']);
      expect(await search(`app_metadata.tag:"${tag}" name:grace*`)).toEqual(['grace']); // juxtaposed terms: AND
    });

    it('a bare term matches identifiers and names', async () => {
      expect(await search(`"${people.grace.email}"`)).toEqual(['grace']);
      expect(await search(`ada${tag}`)).toEqual(['ada']);
    });

    it('sort, include_totals and fields apply to search results', async () => {
      const q = `app_metadata.tag:"${tag}"`;
      expect(await search(q, '&sort=name:1')).toEqual(['ada', 'charles', 'grace']);
      expect(await search(q, '&sort=email:-1')).toEqual(['grace', 'charles', 'ada']);
      const r = await s.api('GET', `/users?q=${enc(q)}&search_engine=v3&page=1&per_page=2&include_totals=true&fields=email&sort=created_at:1`);
      expect(r.body).toEqual({ start: 2, limit: 2, total: 3, users: [{ email: people.grace.email }] });
    });

    it.each([
      ['a range on a text field', 'name:[a TO c]'],
      ['a range on a date field with a non-date bound', 'created_at:[yesterday TO *]'],
      ['a fuzzy term', 'name:ada~'],
      ['a ? wildcard', 'name:a?a'],
      ['an inner wildcard', 'email:a*b*c'],
      ['a wildcard on metadata', 'user_metadata.team:Cob*'],
      ['a short leading wildcard', 'name:*da'],
      ['an unknown field', 'phone_number:"+15551234"'],
      ['a regular expression', 'name:/ad.*/'],
      ['an unbalanced parenthesis', '(name:ada OR name:grace'],
      ['a dangling operator', 'name:ada AND'],
      ['a missing value', 'name:'],
      ['a non-boolean for a boolean field', 'blocked:yes'],
    ])('refuses %s with 400 invalid_query_string', async (_what, q) => {
      const r = await s.api('GET', `/users?q=${enc(q)}&search_engine=v3`);
      expect(r.status).toBe(400);
      expect(r.body).toMatchObject({ statusCode: 400, error: 'Bad Request', errorCode: 'invalid_query_string', message: expect.stringMatching(/^Query validation error: '.+' on property q \(/) });
    });

    it('hostile values are only ever data', async () => {
      for (const q of [`email:"x' OR '1'='1"`, `name:"%"`, `name:_*`, `app_metadata.plan:"gold\\" OR 1=1 --"`, `user_id:"\\\\"`]) {
        const r = await s.api('GET', `/users?q=${enc(q)}&search_engine=v3`);
        expect(r.status, q).toBe(200);
        expect(r.body, q).toEqual([]);
      }
    });

    it('refuses search_engine v1/v2, a bad sort, and paging past the first 1000 results', async () => {
      const v2 = await s.api('GET', '/users?q=name%3Aada&search_engine=v2');
      expect(v2.status).toBe(400);
      expect(v2.body).toMatchObject({ errorCode: 'invalid_query_string', message: 'You are not allowed to use search_engine=v2. Use search_engine=v3 instead.' });
      expect((await s.api('GET', '/users?search_engine=v4')).status).toBe(400);
      for (const sort of ['name', 'name:2', 'app_metadata.plan:1', 'password_hash:1']) {
        const r = await s.api('GET', `/users?sort=${enc(sort)}`);
        expect(r.status, sort).toBe(400);
        expect(r.body.errorCode).toBe('invalid_query_string');
      }
      const far = await s.api('GET', '/users?q=name%3Aada&page=10&per_page=100');
      expect(far.status).toBe(400);
      expect(far.body.errorCode).toBe('invalid_query_string');
      expect((await s.api('GET', '/users?q=name%3Aada&page=9&per_page=100')).status).toBe(200);
    });
  });

  describe('GET /users-by-email', () => {
    it('finds the user by exact address, case-insensitive, with fields', async () => {
      const u = await create({ email: `Finder-${uniq()}@Example.com` });
      const r = await s.api('GET', `/users-by-email?email=${enc(u.email.toUpperCase())}`);
      expect(r.status).toBe(200);
      expect(r.body).toEqual([u]);
      const p = await s.api('GET', `/users-by-email?email=${enc(u.email)}&fields=user_id,email&include_fields=true`);
      expect(p.body).toEqual([{ user_id: u.user_id, email: u.email }]);
      expect((await s.api('GET', `/users-by-email?email=${enc(u.email.slice(1))}`)).body).toEqual([]);
    });

    it('refuses a missing email (400) and a token without read:users (403)', async () => {
      const r = await s.api('GET', '/users-by-email');
      expect(r.status).toBe(400);
      expect(r.body).toEqual({ statusCode: 400, error: 'Bad Request', message: "Query validation error: 'Missing required property: email'.", errorCode: 'invalid_query_string' });
      const token = await managementToken(s, ['read:clients']);
      const denied = await s.api('GET', '/users-by-email?email=a%40example.com', undefined, { token });
      expect(denied.status).toBe(403);
      expect(denied.body).toMatchObject({ statusCode: 403, error: 'Forbidden', errorCode: 'insufficient_scope' });
    });
  });
});
