import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  authorize, Browser, CALLBACK, callbackParams, CONNECTION, createApi, createUser, createWebApp, hiddenFields, PASSWORD,
} from '../helpers/flows';
import { eachDialect, PUBLIC_URL, startTessera, type TestServer } from '../helpers/tessera';

/**
 * A password change, a block or a deletion through the Management API ends what the user already holds:
 * login sessions (the SSO cookie), refresh tokens and unexchanged authorization codes. Two instances share
 * one database: the change goes through A, the cookie and the refresh token are presented to B (and A).
 */
const API = 'https://orders.sessions.test/';
const NEW_PASSWORD = 'Another-Horse-42';
const BAD_REFRESH = { error: 'invalid_grant', error_description: 'Unknown or invalid refresh token.' };
const WRONG_PASSWORD = { error: 'invalid_grant', error_description: 'Wrong email or password.' };
const BLOCKED = { error: 'unauthorized', error_description: 'user is blocked' };
const enc = encodeURIComponent;

eachDialect('sessions and refresh tokens follow the user', (dialect) => {
  let a: TestServer;
  let b: TestServer;
  let web: { clientId: string; secret: string };

  beforeAll(async () => {
    const masterKey = randomBytes(32).toString('base64');
    a = await startTessera(dialect, { masterKey });
    b = await startTessera(dialect, { masterKey, database: a.db, clock: a.clock });
    await createApi(a, API, { allow_offline_access: true, skip_consent_for_verifiable_first_party_clients: true });
    web = await createWebApp(a);
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  const codeQuery = (extra: Record<string, string> = {}) => ({
    response_type: 'code', client_id: web.clientId, redirect_uri: CALLBACK, audience: API, scope: 'openid offline_access read:orders', state: 'st', ...extra,
  });

  /** What one user holds on instance `on`: a browser with a session cookie and a refresh token. */
  async function holdings(on: TestServer, email: string) {
    const browser = new Browser(on);
    const login = await authorize(on, browser, codeQuery(), { email });
    expect(login.pages).toEqual(['login']);
    const grant = await passwordGrant(on, email);
    expect(grant.status, JSON.stringify(grant.body)).toBe(200);
    return { browser, refreshToken: grant.body.refresh_token as string, accessToken: grant.body.access_token as string };
  }

  const passwordGrant = (on: TestServer, email: string, password = PASSWORD) => on.token({
    grant_type: 'http://auth0.com/oauth/grant-type/password-realm', realm: CONNECTION, username: email, password,
    client_id: web.clientId, client_secret: web.secret, audience: API, scope: 'openid offline_access read:orders',
  });
  const refresh = (on: TestServer, token: string) =>
    on.token({ grant_type: 'refresh_token', client_id: web.clientId, client_secret: web.secret, refresh_token: token });

  /** The session cookie still logs the browser in: /authorize answers with a code, no login page. */
  async function sessionLogsIn(on: TestServer, browser: Browser): Promise<boolean> {
    const res = await copyJar(browser, on).get(`/authorize?${new URLSearchParams(codeQuery({ state: 'again' }))}`);
    expect(res.status).toBe(302);
    if (res.location?.startsWith('/u/login?')) return false;
    expect(callbackParams(res.location)).toEqual({ code: expect.any(String), state: 'again', iss: `${PUBLIC_URL}/` });
    return true;
  }

  /** The same cookies in a browser talking to instance `on`. */
  function copyJar(from: Browser, on: TestServer): Browser {
    const to = new Browser(on);
    for (const [k, v] of from.jar) to.jar.set(k, v);
    return to;
  }

  async function promptNone(on: TestServer, browser: Browser) {
    const r = await copyJar(browser, on).get(`/authorize?${new URLSearchParams(codeQuery({ prompt: 'none', state: 'silent' }))}`);
    expect(r.status).toBe(302);
    return callbackParams(r.location);
  }

  const mail = (tag: string) => `${tag}-${randomBytes(4).toString('hex')}@example.com`;

  describe('password change', () => {
    let email: string;
    let userId: string;
    let held: Awaited<ReturnType<typeof holdings>>;
    let pendingCode: string;

    beforeAll(async () => {
      email = mail('pw');
      userId = await createUser(a, email);
      held = await holdings(b, email);
      expect(await sessionLogsIn(b, held.browser)).toBe(true);
      pendingCode = callbackParams((await copyJar(held.browser, b).get(`/authorize?${new URLSearchParams(codeQuery())}`)).location).code;
      const r = await a.api('PATCH', `/users/${enc(userId)}`, { password: NEW_PASSWORD, connection: CONNECTION });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
    });

    it('ends the session on the other instance: /authorize shows the login page again', async () => {
      expect(await sessionLogsIn(b, held.browser)).toBe(false);
      expect(await sessionLogsIn(a, held.browser)).toBe(false);
    });

    it('prompt=none answers login_required with the old cookie', async () => {
      expect(await promptNone(b, held.browser)).toEqual({ error: 'login_required', error_description: 'Login required', state: 'silent', iss: `${PUBLIC_URL}/` });
    });

    it('revokes the refresh token on the other instance', async () => {
      expect(await refresh(b, held.refreshToken)).toEqual({ status: 403, body: BAD_REFRESH, headers: expect.anything() });
      expect((await refresh(a, held.refreshToken)).body).toEqual(BAD_REFRESH);
    });

    it('refuses an authorization code issued before the change', async () => {
      const r = await b.token({ grant_type: 'authorization_code', client_id: web.clientId, client_secret: web.secret, code: pendingCode, redirect_uri: CALLBACK });
      expect(r.status).toBe(403);
      expect(r.body).toEqual({ error: 'invalid_grant', error_description: 'Invalid authorization code' });
    });

    it('refuses the old password and accepts the new one, with a fresh session that works', async () => {
      expect((await passwordGrant(b, email)).body).toEqual(WRONG_PASSWORD);
      const fresh = await passwordGrant(b, email, NEW_PASSWORD);
      expect(fresh.status).toBe(200);
      expect((await refresh(b, fresh.body.refresh_token)).status).toBe(200);
      const browser = new Browser(b);
      expect((await authorize(b, browser, codeQuery(), { email, password: NEW_PASSWORD })).pages).toEqual(['login']);
      expect(await sessionLogsIn(b, browser)).toBe(true);
    });

    it('leaves access tokens already issued valid until they expire (stateless): /userinfo still answers', async () => {
      const r = await b.t.app.inject({ method: 'GET', url: '/userinfo', headers: { authorization: `Bearer ${held.accessToken}` } });
      expect(r.statusCode).toBe(200);
      expect(r.json()).toEqual({ sub: userId });
    });
  });

  describe('blocking', () => {
    let email: string;
    let userId: string;
    let held: Awaited<ReturnType<typeof holdings>>;

    beforeAll(async () => {
      email = mail('block');
      userId = await createUser(a, email);
      held = await holdings(b, email);
      expect(await sessionLogsIn(b, held.browser)).toBe(true);
      expect((await a.api('PATCH', `/users/${enc(userId)}`, { blocked: true })).status).toBe(200);
    });

    it('ends the session on the other instance', async () => {
      expect(await sessionLogsIn(b, held.browser)).toBe(false);
      expect(await promptNone(b, held.browser)).toEqual({ error: 'login_required', error_description: 'Login required', state: 'silent', iss: `${PUBLIC_URL}/` });
    });

    it('revokes the refresh token on the other instance', async () => {
      expect(await refresh(b, held.refreshToken)).toEqual({ status: 403, body: BAD_REFRESH, headers: expect.anything() });
    });

    it('refuses the password grant with 401 "user is blocked" and the login page with "Your account is blocked."', async () => {
      expect(await passwordGrant(b, email)).toEqual({ status: 401, body: BLOCKED, headers: expect.anything() });
      const browser = new Browser(b);
      const start = await browser.get(`/authorize?${new URLSearchParams(codeQuery())}`);
      const page = await browser.get(start.location as string);
      const r = await browser.post('/u/login', { ...hiddenFields(page.body), username: email, password: PASSWORD });
      expect(r.status).toBe(401);
      expect(r.body).toContain('<p class="error" role="alert" id="login-error">Your account is blocked.</p>');
      expect(r.headers['set-cookie']).toBeUndefined();
    });

    it('refuses /userinfo for the blocked user', async () => {
      const r = await b.t.app.inject({ method: 'GET', url: '/userinfo', headers: { authorization: `Bearer ${held.accessToken}` } });
      expect(r.statusCode).toBe(401);
      expect(r.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
    });

    it('unblocking does not bring the session or the refresh token back; a new login works', async () => {
      expect((await a.api('PATCH', `/users/${enc(userId)}`, { blocked: false })).status).toBe(200);
      expect((await refresh(b, held.refreshToken)).body).toEqual(BAD_REFRESH);
      expect(await sessionLogsIn(b, held.browser)).toBe(false);
      const fresh = await passwordGrant(b, email);
      expect(fresh.status).toBe(200);
      expect((await refresh(b, fresh.body.refresh_token)).status).toBe(200);
    });
  });

  describe('deletion', () => {
    let email: string;
    let userId: string;
    let held: Awaited<ReturnType<typeof holdings>>;

    beforeAll(async () => {
      email = mail('gone');
      userId = await createUser(a, email, { user_id: `gone-${randomBytes(4).toString('hex')}` });
      held = await holdings(b, email);
      expect(await sessionLogsIn(b, held.browser)).toBe(true);
      expect((await a.api('DELETE', `/users/${enc(userId)}`)).status).toBe(204);
    });

    it('ends the session and the refresh token on the other instance', async () => {
      expect(await sessionLogsIn(b, held.browser)).toBe(false);
      expect(await refresh(b, held.refreshToken)).toEqual({ status: 403, body: BAD_REFRESH, headers: expect.anything() });
    });

    it('a new user with the same user_id and email does not inherit them', async () => {
      const again = await createUser(a, email, { user_id: userId.slice('auth0|'.length) });
      expect(again).toBe(userId);
      expect(await sessionLogsIn(b, held.browser)).toBe(false);
      expect((await refresh(b, held.refreshToken)).body).toEqual(BAD_REFRESH);
    });
  });

  describe('a consent page open during the change', () => {
    it('the consent form submitted after a password change goes back to the login page, with no code', async () => {
      const consentApi = 'https://consent.sessions.test/';
      await createApi(a, consentApi); // no consent skipping: the consent page is shown
      const email = mail('consent');
      const userId = await createUser(a, email);
      const browser = new Browser(b);
      const start = await browser.get(`/authorize?${new URLSearchParams(codeQuery({ audience: consentApi, scope: 'openid read:orders' }))}`);
      const login = await browser.get(start.location as string);
      const toConsent = await browser.post('/u/login', { ...hiddenFields(login.body), username: email, password: PASSWORD });
      expect(toConsent.location).toMatch(/^\/u\/consent\?state=/);
      const consent = await browser.get(toConsent.location as string);
      expect(consent.status).toBe(200);
      expect((await a.api('PATCH', `/users/${enc(userId)}`, { password: NEW_PASSWORD })).status).toBe(200);
      const r = await browser.post('/u/consent', { ...hiddenFields(consent.body), action: 'accept' });
      expect(r.status).toBe(302);
      expect(r.location).toMatch(/^\/u\/login\?state=/);
    });
  });

  describe('other changes', () => {
    it('changing user_metadata, name or email_verified keeps the session and the refresh token', async () => {
      const email = mail('keep');
      const userId = await createUser(a, email);
      const held = await holdings(b, email);
      const r = await a.api('PATCH', `/users/${enc(userId)}`, { user_metadata: { theme: 'dark' }, name: 'Renamed', email_verified: true, blocked: false });
      expect(r.status).toBe(200);
      expect(await sessionLogsIn(b, held.browser)).toBe(true);
      expect((await refresh(b, held.refreshToken)).status).toBe(200);
    });

    it('another user\'s password change leaves this user\'s session and refresh token alone', async () => {
      const email = mail('bystander');
      await createUser(a, email);
      const held = await holdings(b, email);
      const other = await createUser(a, mail('other'));
      expect((await a.api('PATCH', `/users/${enc(other)}`, { password: NEW_PASSWORD })).status).toBe(200);
      expect(await sessionLogsIn(b, held.browser)).toBe(true);
      expect((await refresh(b, held.refreshToken)).status).toBe(200);
    });
  });
});
