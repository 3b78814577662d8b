import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eachDialect, startTessera, type TestServer } from './helpers/tessera';
import { managementToken, uniq } from './helpers/management';

const DB = 'Username-Password-Authentication';
const PASSWORD = 'Corr3ct-Horse';
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** Fixture: a user with a fresh address. */
async function createUser(s: TestServer, extra: Record<string, unknown> = {}) {
  const email = `u-${uniq()}@example.com`;
  const r = await s.api('POST', '/users', { connection: DB, email, password: PASSWORD, ...extra });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body;
}

const enc = (id: string) => encodeURIComponent(id);

eachDialect('users', (dialect) => {
  let s: TestServer;
  beforeAll(async () => { s = await startTessera(dialect); });
  afterAll(async () => { await s.close(); });

  describe('POST /users', () => {
    it('creates a database user in Auth0 shape, with defaults and no password in the response', async () => {
      const email = `Mixed.Case-${uniq()}@Example.com`;
      const r = await s.api('POST', '/users', { connection: DB, email, password: PASSWORD });
      expect(r.status).toBe(201);
      const lower = email.toLowerCase();
      const id = r.body.user_id as string;
      expect(id).toMatch(/^auth0\|[0-9a-f]{24}$/);
      expect(r.body).toEqual({
        user_id: id, email: lower, email_verified: false, name: lower, nickname: lower.slice(0, lower.indexOf('@')),
        picture: expect.stringMatching(/^https:\/\/s\.gravatar\.com\/avatar\/[0-9a-f]{32}\?s=480&r=pg&d=/),
        identities: [{ connection: DB, user_id: id.slice('auth0|'.length), provider: 'auth0', isSocial: false }],
        created_at: expect.stringMatching(ISO), updated_at: r.body.created_at,
      });
      expect(r.headers['content-type']).toBe('application/json; charset=utf-8');
    });

    it('echoes profile fields, metadata and a caller-chosen id', async () => {
      const own = `custom-${uniq()}`;
      const u = await createUser(s, {
        user_id: own, name: 'Ada Lovelace', nickname: 'ada', given_name: 'Ada', family_name: 'Lovelace', picture: 'https://img.example.com/ada.png',
        email_verified: true, verify_email: false, blocked: false, app_metadata: { plan: 'gold' }, user_metadata: { theme: 'dark', n: 1 },
      });
      expect(u).toMatchObject({
        user_id: `auth0|${own}`, name: 'Ada Lovelace', nickname: 'ada', given_name: 'Ada', family_name: 'Lovelace', picture: 'https://img.example.com/ada.png',
        email_verified: true, blocked: false, app_metadata: { plan: 'gold' }, user_metadata: { theme: 'dark', n: 1 },
        identities: [{ connection: DB, user_id: own, provider: 'auth0', isSocial: false }],
      });
    });

    it('stores the password as a salted scrypt hash and verifies it for the login flows', async () => {
      const u = await createUser(s);
      const stored = await s.t.services.store.users.findById(u.user_id);
      expect(stored?.password_hash).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
      expect(JSON.stringify(stored)).not.toContain(PASSWORD);
      const other = await createUser(s);
      const otherHash = (await s.t.services.store.users.findById(other.user_id))?.password_hash;
      expect(otherHash?.split('$')[4]).not.toBe(stored?.password_hash?.split('$')[4]);
      const users = s.t.services.users;
      expect((await users.verifyPassword(DB, u.email.toUpperCase(), PASSWORD))?.user_id).toBe(u.user_id);
      expect(await users.verifyPassword(DB, u.email, 'Wrong-Passw0rd')).toBeUndefined();
      expect(await users.verifyPassword(DB, `nobody-${uniq()}@example.com`, PASSWORD)).toBeUndefined();
      expect(await users.verifyPassword('other-connection', u.email, PASSWORD)).toBeUndefined();
    });

    it('refuses a second user with the same email (case-insensitive) with 409', async () => {
      const u = await createUser(s);
      const r = await s.api('POST', '/users', { connection: DB, email: u.email.toUpperCase(), password: PASSWORD });
      expect(r.status).toBe(409);
      expect(r.body).toEqual({ statusCode: 409, error: 'Conflict', message: 'The user already exists.', errorCode: 'auth0_idp_error' });
    });

    it.each([
      [{ email: 'a@example.com', password: PASSWORD }, "Payload validation error: 'Missing required property: connection'.", 'invalid_body'],
      [{ connection: 'google-oauth2', email: 'a@example.com', password: PASSWORD }, 'The connection does not exist.', 'inexistent_connection'],
      [{ connection: DB, password: PASSWORD }, "Payload validation error: 'Missing required property: email'.", 'invalid_body'],
      [{ connection: DB, email: 'a@example.com' }, "Payload validation error: 'Missing required property: password'.", 'invalid_body'],
      [{ connection: DB, email: 'not-an-email', password: PASSWORD }, "Payload validation error: 'Object didn't pass validation for format email: not-an-email' on property email (The user's email).", 'invalid_body'],
      [{ connection: DB, email: 'a@example.com', password: 'short1A' }, 'PasswordStrengthError: Password is too weak', 'invalid_body'],
      [{ connection: DB, email: 'a@example.com', password: 'alllowercase' }, 'PasswordStrengthError: Password is too weak', 'invalid_body'],
      [{ connection: DB, email: 'a@example.com', password: PASSWORD, phone: '1' }, "Payload validation error: 'Additional properties not allowed: phone'.", 'invalid_body'],
      [{ connection: DB, email: 'a@example.com', password: PASSWORD, verify_email: true }, "Payload validation error: 'No enum match for: true' on property verify_email (Tessera sends no verification email; only false is accepted.).", 'invalid_body'],
      [{ connection: DB, email: 'a@example.com', password: PASSWORD, user_id: 'google-oauth2|x' }, "Payload validation error: 'user_id must be the id without a provider prefix, or start with auth0| (the only provider of this connection): google-oauth2|x' on property user_id (The user_id of the user to create.).", 'invalid_body'],
    ])('rejects %j with 400', async (body, message, errorCode) => {
      const r = await s.api('POST', '/users', body);
      expect(r.status).toBe(400);
      expect(r.body).toEqual({ statusCode: 400, error: 'Bad Request', message, errorCode });
    });
  });

  describe('GET /users', () => {
    it('gets one user by its URL-encoded id and answers 404 for an unknown one', async () => {
      const u = await createUser(s);
      const r = await s.api('GET', `/users/${enc(u.user_id)}`);
      expect(r.status).toBe(200);
      expect(r.body).toEqual(u);
      const missing = await s.api('GET', `/users/${enc('auth0|000000000000000000000000')}`);
      expect(missing.status).toBe(404);
      expect(missing.body).toEqual({ statusCode: 404, error: 'Not Found', message: 'The user does not exist.', errorCode: 'inexistent_user' });
    });

    it('pages with page/per_page/include_totals, returns an empty page past the end, and a bare array without paging', async () => {
      const fresh = await startTessera(dialect);
      try {
        const ids: string[] = [];
        for (let i = 0; i < 3; i++) {
          const r = await fresh.api('POST', '/users', { connection: DB, email: `p${i}-${uniq()}@example.com`, password: PASSWORD });
          ids.push(r.body.user_id);
        }
        const p0 = await fresh.api('GET', '/users?page=0&per_page=2&include_totals=true');
        expect(p0.status).toBe(200);
        expect({ ...p0.body, users: p0.body.users.map((u: any) => u.user_id) }).toEqual({ start: 0, limit: 2, total: 3, users: ids.slice(0, 2) });
        const p1 = await fresh.api('GET', '/users?page=1&per_page=2&include_totals=true');
        expect({ ...p1.body, users: p1.body.users.map((u: any) => u.user_id) }).toEqual({ start: 2, limit: 2, total: 3, users: ids.slice(2) });
        const past = await fresh.api('GET', '/users?page=5&per_page=2&include_totals=true');
        expect(past.body).toEqual({ start: 10, limit: 2, total: 3, users: [] });
        const bare = await fresh.api('GET', '/users');
        expect(bare.body.map((u: any) => u.user_id)).toEqual(ids);
        expect(bare.body[0]).not.toHaveProperty('password_hash');
        const q = await fresh.api('GET', '/users?q=email:x&unknown=1');
        expect(q.status).toBe(400);
        expect(q.body).toEqual({ statusCode: 400, error: 'Bad Request', message: "Query validation error: 'Additional properties not allowed: unknown'.", errorCode: 'invalid_query_string' });
      } finally {
        await fresh.close();
      }
    });
  });

  describe('PATCH /users/{id}', () => {
    it('updates profile fields and merges metadata key by key (null removes a key)', async () => {
      const u = await createUser(s, { app_metadata: { plan: 'gold', region: 'eu' }, user_metadata: { theme: 'dark' }, given_name: 'Old' });
      s.clock.advance(5);
      const r = await s.api('PATCH', `/users/${enc(u.user_id)}`, {
        name: 'New Name', nickname: 'nn', blocked: true, email_verified: true, given_name: null,
        app_metadata: { plan: 'silver', region: null, tier: 2 }, user_metadata: { lang: 'fr' },
      });
      expect(r.status).toBe(200);
      expect(r.body).toEqual({
        ...u, name: 'New Name', nickname: 'nn', blocked: true, email_verified: true,
        given_name: undefined, app_metadata: { plan: 'silver', tier: 2 }, user_metadata: { theme: 'dark', lang: 'fr' },
        updated_at: expect.stringMatching(ISO),
      });
      expect(r.body).not.toHaveProperty('given_name');
      expect(Date.parse(r.body.updated_at) - Date.parse(u.updated_at)).toBe(5000);
      expect((await s.api('GET', `/users/${enc(u.user_id)}`)).body).toEqual(r.body);
      const cleared = await s.api('PATCH', `/users/${enc(u.user_id)}`, { user_metadata: {} });
      expect(cleared.body).not.toHaveProperty('user_metadata');
      expect(cleared.body.app_metadata).toEqual({ plan: 'silver', tier: 2 });
    });

    it('changes the email (lower-cased, unverified again) and refuses one another user has', async () => {
      const u = await createUser(s, { email_verified: true });
      const other = await createUser(s);
      const email = `New-${uniq()}@example.com`;
      const r = await s.api('PATCH', `/users/${enc(u.user_id)}`, { email });
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ email: email.toLowerCase(), email_verified: false });
      const dup = await s.api('PATCH', `/users/${enc(u.user_id)}`, { email: other.email });
      expect(dup.status).toBe(409);
      expect(dup.body).toEqual({ statusCode: 409, error: 'Conflict', message: 'The specified new email already exists', errorCode: 'auth0_idp_error' });
    });

    it('changes the password (the old one stops working) and refuses email and password together', async () => {
      const u = await createUser(s);
      const r = await s.api('PATCH', `/users/${enc(u.user_id)}`, { password: 'N3w-Secret!', connection: DB });
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ ...u, updated_at: expect.stringMatching(ISO) });
      expect(await s.t.services.users.verifyPassword(DB, u.email, PASSWORD)).toBeUndefined();
      expect((await s.t.services.users.verifyPassword(DB, u.email, 'N3w-Secret!'))?.user_id).toBe(u.user_id);
      const both = await s.api('PATCH', `/users/${enc(u.user_id)}`, { password: 'N3w-Secret!2', email: `x-${uniq()}@example.com` });
      expect(both.status).toBe(400);
      expect(both.body).toEqual({ statusCode: 400, error: 'Bad Request', message: 'Cannot update password and email simultaneously', errorCode: 'invalid_body' });
      const weak = await s.api('PATCH', `/users/${enc(u.user_id)}`, { password: 'weak' });
      expect(weak.body).toEqual({ statusCode: 400, error: 'Bad Request', message: 'PasswordStrengthError: Password is too weak', errorCode: 'invalid_body' });
    });

    it('answers 404 for an unknown user and 400 for another connection', async () => {
      const missing = await s.api('PATCH', `/users/${enc('auth0|nobody')}`, { name: 'x' });
      expect(missing.status).toBe(404);
      expect(missing.body.errorCode).toBe('inexistent_user');
      const u = await createUser(s);
      const other = await s.api('PATCH', `/users/${enc(u.user_id)}`, { connection: 'github', name: 'x' });
      expect(other.body).toEqual({ statusCode: 400, error: 'Bad Request', message: 'The connection does not exist.', errorCode: 'inexistent_connection' });
    });
  });

  describe('DELETE /users/{id}', () => {
    it('deletes with 204 and empty body; the user is gone and the email is free again', async () => {
      const u = await createUser(s);
      const r = await s.api('DELETE', `/users/${enc(u.user_id)}`);
      expect(r.status).toBe(204);
      expect(r.body).toBeUndefined();
      expect((await s.api('GET', `/users/${enc(u.user_id)}`)).status).toBe(404);
      const again = await s.api('DELETE', `/users/${enc(u.user_id)}`);
      expect(again.status).toBe(404);
      expect(again.body).toEqual({ statusCode: 404, error: 'Not Found', message: 'The user does not exist.', errorCode: 'inexistent_user' });
      expect((await s.api('POST', '/users', { connection: DB, email: u.email, password: PASSWORD })).status).toBe(201);
    });
  });

  describe('scopes', () => {
    it('needs read:users to read, create:users to create, update:users (or update:users_app_metadata) to patch and delete:users to delete', async () => {
      const u = await createUser(s);
      const reader = await managementToken(s, ['read:users']);
      expect((await s.api('GET', `/users/${enc(u.user_id)}`, undefined, { token: reader })).status).toBe(200);
      const cases: Array<[string, string, unknown, string]> = [
        ['POST', '/users', { connection: DB, email: `z-${uniq()}@example.com`, password: PASSWORD }, 'create:users'],
        ['PATCH', `/users/${enc(u.user_id)}`, { name: 'x' }, 'update:users,update:users_app_metadata'],
        ['DELETE', `/users/${enc(u.user_id)}`, undefined, 'delete:users'],
      ];
      for (const [method, path, body, scope] of cases) {
        const r = await s.api(method, path, body, { token: reader });
        expect(r.status).toBe(403);
        expect(r.body).toEqual({ statusCode: 403, error: 'Forbidden', message: `Insufficient scope, expected any of: ${scope}`, errorCode: 'insufficient_scope' });
      }
      const none = await managementToken(s, ['read:clients']);
      expect((await s.api('GET', '/users', undefined, { token: none })).body.message).toBe('Insufficient scope, expected any of: read:users');
    });
  });
});
