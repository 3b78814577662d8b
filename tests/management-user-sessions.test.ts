import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorize, Browser, CALLBACK, callbackParams, CONNECTION, createApi, createUser, createWebApp, PASSWORD } from './helpers/flows';
import { managementToken } from './helpers/management';
import { eachDialect, startTessera, type TestServer } from './helpers/tessera';

const REALM = 'http://auth0.com/oauth/grant-type/password-realm';
const API = 'https://orders.example/';
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/**
 * /api/v2/users/{id}/sessions, /sessions/{id}, /users/{id}/refresh-tokens and /refresh-tokens/{id}: what a user
 * holds is listed while it works, and ending it takes effect at the hosted login and the token endpoint at once.
 */
eachDialect('Management API: user sessions and refresh tokens', (dialect) => {
  let s: TestServer;
  let web: { clientId: string; secret: string };
  let ada: string;
  let bob: string;
  const enc = (id: string) => encodeURIComponent(id);
  const refresh = (token: string) => s.token({ grant_type: 'refresh_token', client_id: web.clientId, client_secret: web.secret, refresh_token: token });
  const passwordGrant = (username: string) => s.token({ grant_type: REALM, realm: CONNECTION, username, password: PASSWORD, client_id: web.clientId, client_secret: web.secret, audience: API, scope: 'openid offline_access read:orders' });
  /** Logs in at the hosted pages; the browser keeps the session cookie. */
  const query = (extra: Record<string, string> = {}) => ({ response_type: 'code', client_id: web.clientId, redirect_uri: CALLBACK, audience: API, scope: 'openid read:orders', state: 'st', ...extra });
  const login = async (email: string) => {
    const b = new Browser(s);
    const { res } = await authorize(s, b, query(), { email });
    expect(callbackParams(res.location)).toHaveProperty('code');
    return b;
  };
  /** prompt=none: a code while the session lives, login_required once it ended. */
  const silent = async (b: Browser) => callbackParams((await b.get(`/authorize?${new URLSearchParams(query({ prompt: 'none' }))}`)).location);

  beforeAll(async () => {
    s = await startTessera(dialect);
    await createApi(s, API, { allow_offline_access: true, skip_consent_for_verifiable_first_party_clients: true });
    web = await createWebApp(s, { refresh_token: { rotation_type: 'rotating', expiration_type: 'expiring', leeway: 0, token_lifetime: 86400, idle_token_lifetime: 3600, infinite_token_lifetime: false, infinite_idle_token_lifetime: false } });
    ada = await createUser(s, 'ada@example.com');
    bob = await createUser(s, 'bob@example.com');
  });
  afterAll(async () => { await s?.close(); });

  describe('sessions', () => {
    it('lists the hosted-login sessions of a user; deleting one logs that browser out at once (202), the other stays', async () => {
      const first = await login('ada@example.com');
      const second = await login('ada@example.com');
      await login('bob@example.com');
      const list = await s.api('GET', `/users/${enc(ada)}/sessions`);
      expect(list.status).toBe(200);
      expect(list.body.sessions).toHaveLength(2);
      const [one] = list.body.sessions;
      expect(one).toEqual({
        id: expect.any(String), user_id: ada, created_at: expect.stringMatching(ISO), updated_at: expect.stringMatching(ISO),
        authenticated_at: expect.stringMatching(ISO), expires_at: expect.stringMatching(ISO), authentication: { methods: [{ name: 'pwd', timestamp: expect.stringMatching(ISO) }] },
      });
      expect((await s.api('GET', `/sessions/${one.id}`)).body).toEqual(one);

      expect(await silent(first)).toHaveProperty('code');
      expect(await silent(second)).toHaveProperty('code');
      const ids = list.body.sessions.map((x: { id: string }) => x.id);
      for (const id of ids) {
        const del = await s.api('DELETE', `/sessions/${id}`);
        expect(del.status).toBe(202);
        const left = (await s.api('GET', `/users/${enc(ada)}/sessions`)).body.sessions.map((x: { id: string }) => x.id);
        expect(left).not.toContain(id);
      }
      expect((await silent(first)).error).toBe('login_required');
      expect((await silent(second)).error).toBe('login_required');
      expect((await s.api('GET', `/users/${enc(bob)}/sessions`)).body.sessions).toHaveLength(1);
    });

    it('deletes every session of a user at once; pages with from/take', async () => {
      const a = await login('ada@example.com');
      await login('ada@example.com');
      await login('ada@example.com');
      const page1 = (await s.api('GET', `/users/${enc(ada)}/sessions?take=2`)).body;
      expect(page1.sessions).toHaveLength(2);
      expect(page1.next).toBe('2');
      const page2 = (await s.api('GET', `/users/${enc(ada)}/sessions?take=2&from=${page1.next}`)).body;
      expect(page2).toEqual({ sessions: [expect.objectContaining({ user_id: ada })] });
      expect((await s.api('DELETE', `/users/${enc(ada)}/sessions`)).status).toBe(202);
      expect((await s.api('GET', `/users/${enc(ada)}/sessions`)).body).toEqual({ sessions: [] });
      expect((await silent(a)).error).toBe('login_required');
      expect((await s.api('GET', `/users/${enc(bob)}/sessions`)).body.sessions).toHaveLength(1);
    });

    it('answers Auth0 errors for unknown users and sessions, bad paging and missing scopes', async () => {
      expect(await s.api('GET', '/users/auth0%7Cnobody/sessions')).toMatchObject({ status: 404, body: { statusCode: 404, error: 'Not Found', message: 'The user does not exist.', errorCode: 'inexistent_user' } });
      expect(await s.api('DELETE', '/users/auth0%7Cnobody/sessions')).toMatchObject({ status: 404, body: { errorCode: 'inexistent_user' } });
      expect(await s.api('GET', '/sessions/nope')).toMatchObject({ status: 404, body: { statusCode: 404, error: 'Not Found', message: 'The session does not exist.', errorCode: 'inexistent_session' } });
      expect(await s.api('DELETE', '/sessions/nope')).toMatchObject({ status: 404, body: { errorCode: 'inexistent_session' } });
      expect(await s.api('GET', `/users/${enc(ada)}/sessions?from=x`)).toMatchObject({ status: 400, body: { errorCode: 'invalid_query_string' } });
      expect((await s.api('GET', `/users/${enc(ada)}/sessions?take=0`)).status).toBe(400);
      const narrow = await managementToken(s, ['read:users']);
      expect(await s.api('GET', `/users/${enc(ada)}/sessions`, undefined, { token: narrow })).toMatchObject({ status: 403, body: { statusCode: 403, error: 'Forbidden', errorCode: 'insufficient_scope' } });
      expect((await s.api('DELETE', `/users/${enc(bob)}/sessions`, undefined, { token: narrow })).status).toBe(403);
      expect((await s.api('GET', `/users/${enc(bob)}/sessions`)).body.sessions).toHaveLength(1);
    });
  });

  describe('refresh tokens', () => {
    it('lists one entry per family with its API and scopes; rotation keeps the id; deleting it revokes the family (202)', async () => {
      const issued = await passwordGrant('ada@example.com');
      expect(issued.status).toBe(200);
      const list = (await s.api('GET', `/users/${enc(ada)}/refresh-tokens`)).body;
      expect(list.tokens).toEqual([{
        id: expect.any(String), user_id: ada, client_id: web.clientId, created_at: expect.stringMatching(ISO), expires_at: expect.stringMatching(ISO),
        idle_expires_at: expect.stringMatching(ISO), rotating: true, resource_servers: [{ audience: API, scopes: expect.stringContaining('read:orders') }],
      }]);
      const [{ id }] = list.tokens;
      const rotated = await refresh(issued.body.refresh_token);
      expect(rotated.status).toBe(200);
      const after = (await s.api('GET', `/refresh-tokens/${id}`)).body;
      expect(after).toMatchObject({ id, created_at: list.tokens[0].created_at, last_exchanged_at: expect.stringMatching(ISO) });

      expect((await s.api('DELETE', `/refresh-tokens/${id}`)).status).toBe(202);
      expect(await refresh(rotated.body.refresh_token)).toMatchObject({ status: 403, body: { error: 'invalid_grant', error_description: 'Unknown or invalid refresh token.' } });
      expect((await s.api('GET', `/users/${enc(ada)}/refresh-tokens`)).body).toEqual({ tokens: [] });
      expect(await s.api('GET', `/refresh-tokens/${id}`)).toMatchObject({ status: 404, body: { message: 'The refresh token does not exist.', errorCode: 'inexistent_refresh_token' } });
      expect((await s.api('DELETE', `/refresh-tokens/${id}`)).status).toBe(404);
    });

    it('revokes every refresh token of one user, leaving other users\' tokens working', async () => {
      const a1 = await passwordGrant('ada@example.com');
      const a2 = await passwordGrant('ada@example.com');
      const b1 = await passwordGrant('bob@example.com');
      expect((await s.api('GET', `/users/${enc(ada)}/refresh-tokens`)).body.tokens).toHaveLength(2);
      expect((await s.api('DELETE', `/users/${enc(ada)}/refresh-tokens`)).status).toBe(202);
      expect((await refresh(a1.body.refresh_token))).toMatchObject({ status: 403, body: { error: 'invalid_grant' } });
      expect((await refresh(a2.body.refresh_token))).toMatchObject({ status: 403, body: { error: 'invalid_grant' } });
      expect((await refresh(b1.body.refresh_token)).status).toBe(200);
      expect((await s.api('GET', `/users/${enc(bob)}/refresh-tokens`)).body.tokens).toHaveLength(1);
      expect(await s.api('GET', '/users/auth0%7Cnobody/refresh-tokens')).toMatchObject({ status: 404, body: { errorCode: 'inexistent_user' } });
      const narrow = await managementToken(s, ['read:refresh_tokens']);
      expect((await s.api('DELETE', `/users/${enc(bob)}/refresh-tokens`, undefined, { token: narrow })).status).toBe(403);
      expect((await s.api('GET', `/users/${enc(bob)}/refresh-tokens`, undefined, { token: narrow })).status).toBe(200);
    });
  });
});
