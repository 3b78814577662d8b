import { decodeJwt, decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  authorize, Browser, CALLBACK, callbackParams, createApi, createUser, createWebApp, exchange, hiddenFields, pkce, PASSWORD,
} from './helpers/flows';
import { eachDialect, PUBLIC_URL, startTessera, type TestServer } from './helpers/tessera';

const API = 'https://orders.example/';
const INVALID_CODE = { error: 'invalid_grant', error_description: 'Invalid authorization code' };

eachDialect('authorization code + PKCE through the hosted pages', (dialect) => {
  let s: TestServer;
  let app: { clientId: string; secret: string };
  let userId: string;
  beforeAll(async () => {
    s = await startTessera(dialect);
    await createApi(s, API, { skip_consent_for_verifiable_first_party_clients: true, allow_offline_access: true });
    app = await createWebApp(s);
    userId = await createUser(s, 'ada@example.com', { name: 'Ada Lovelace' });
  });
  afterAll(async () => { await s.close(); });

  const query = (extra: Record<string, string> = {}) => ({
    response_type: 'code', client_id: app.clientId, redirect_uri: CALLBACK, audience: API,
    scope: 'openid profile email read:orders', state: 'st-1', nonce: 'n-1', ...extra,
  });

  it('logs in, skips consent for a verifiable first-party client and exchanges the code with PKCE', async () => {
    const b = new Browser(s);
    const { verifier, challenge } = pkce();
    const { res, pages } = await authorize(s, b, query({ code_challenge: challenge, code_challenge_method: 'S256' }), { email: 'ada@example.com' });
    expect(pages).toEqual(['login']);
    expect(res.status).toBe(302);
    const cb = callbackParams(res.location);
    expect(Object.keys(cb).sort()).toEqual(['code', 'iss', 'state']);
    expect(cb.iss).toBe(`${PUBLIC_URL}/`); // RFC 9207
    expect(cb.state).toBe('st-1');
    expect(res.location?.startsWith(`${CALLBACK}?`)).toBe(true);
    const t = await exchange(s, { client_id: app.clientId, client_secret: app.secret, code: cb.code, code_verifier: verifier });
    expect(t.status).toBe(200);
    expect(Object.keys(t.body)).toEqual(['access_token', 'id_token', 'scope', 'expires_in', 'token_type']);
    expect(t.body).toMatchObject({ scope: 'openid profile email read:orders', expires_in: 86400, token_type: 'Bearer' });
    const at = decodeJwt(t.body.access_token);
    expect(at).toMatchObject({ iss: `${PUBLIC_URL}/`, sub: userId, aud: [API, `${PUBLIC_URL}/userinfo`], azp: app.clientId, scope: 'openid profile email read:orders' });
    expect(at.gty).toBeUndefined();
    expect(at.exp! - at.iat!).toBe(86400);
    const id = decodeJwt(t.body.id_token);
    expect(decodeProtectedHeader(t.body.id_token)).toMatchObject({ alg: 'RS256', typ: 'JWT' });
    expect(id).toMatchObject({ iss: `${PUBLIC_URL}/`, sub: userId, aud: app.clientId, nonce: 'n-1', name: 'Ada Lovelace', email: 'ada@example.com', email_verified: false });
    expect(typeof id.auth_time).toBe('number');
  });

  it('sets an HttpOnly, Secure, SameSite=None session cookie (silent authentication runs cross-site) and skips the login on the next /authorize', async () => {
    const b = new Browser(s);
    const first = await authorize(s, b, query(), { email: 'ada@example.com' });
    expect(first.pages).toEqual(['login']);
    const setCookie = String(first.res.headers['set-cookie']);
    expect(setCookie).toMatch(/^tessera_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=None; Max-Age=604800; Secure$/);
    const second = await b.get(`/authorize?${new URLSearchParams(query({ state: 'again' }))}`);
    expect(second.status).toBe(302);
    expect(callbackParams(second.location)).toEqual({ code: expect.any(String), state: 'again', iss: `${PUBLIC_URL}/` });
  });

  it('prompt=login asks for the password again even with a session', async () => {
    const b = new Browser(s);
    await authorize(s, b, query(), { email: 'ada@example.com' });
    const again = await b.get(`/authorize?${new URLSearchParams(query({ prompt: 'login' }))}`);
    expect(again.status).toBe(302);
    expect(again.location).toMatch(/^\/u\/login\?state=/);
  });

  it('prompt=none without a session redirects with login_required', async () => {
    const r = await new Browser(s).get(`/authorize?${new URLSearchParams(query({ prompt: 'none' }))}`);
    expect(r.status).toBe(302);
    expect(callbackParams(r.location)).toEqual({ error: 'login_required', error_description: 'Login required', state: 'st-1', iss: `${PUBLIC_URL}/` });
  });

  it('re-renders the login page with 401 "Wrong email or password." for a wrong password and for an unknown user alike', async () => {
    for (const [email, password] of [['ada@example.com', 'nope-nope-1A'], ['nobody@example.com', PASSWORD]]) {
      const b = new Browser(s);
      const start = await b.get(`/authorize?${new URLSearchParams(query())}`);
      const page = await b.get(start.location as string);
      const r = await b.post('/u/login', { ...hiddenFields(page.body), username: email, password });
      expect(r.status).toBe(401);
      expect(r.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(r.body).toContain('<p class="error" role="alert" id="login-error">Wrong email or password.</p>');
      expect(r.headers['set-cookie']).toBeUndefined();
    }
  });

  it('refuses a login form without the CSRF token, or with the cookie from another browser', async () => {
    const b = new Browser(s);
    const start = await b.get(`/authorize?${new URLSearchParams(query())}`);
    const page = await b.get(start.location as string);
    const fields = hiddenFields(page.body);
    const missing = await b.post('/u/login', { state: fields.state, username: 'ada@example.com', password: PASSWORD });
    expect(missing.status).toBe(403);
    const other = new Browser(s);
    await other.get(start.location as string); // a different CSRF cookie
    const forged = await other.post('/u/login', { ...fields, username: 'ada@example.com', password: PASSWORD });
    expect(forged.status).toBe(403);
    expect(forged.body).toContain('The form has expired or was not submitted from this site.');
  });

  it('renders the login page as plain accessible HTML without external assets', async () => {
    const b = new Browser(s);
    const start = await b.get(`/authorize?${new URLSearchParams(query({ login_hint: 'ada@example.com' }))}`);
    const page = await b.get(start.location as string);
    expect(page.headers['content-security-policy']).toMatch(/^default-src 'none'; style-src 'sha256-[^']+'; script-src 'none'; img-src 'self' data:; form-action 'self' https:\/\/app\.example; frame-ancestors 'none'; base-uri 'none'$/);
    expect(page.headers['cache-control']).toBe('no-store');
    expect(page.headers['x-frame-options']).toBe('DENY');
    expect(page.body).toMatch(/^<!DOCTYPE html>\n<html lang="en">/);
    expect(page.body).toContain('<label for="username">Email address or username</label>');
    expect(page.body).toContain('value="ada@example.com"');
    expect(page.body).not.toMatch(/(src|href)="https?:/);
    expect(String(page.headers['set-cookie'])).toMatch(/^tessera_csrf=[A-Za-z0-9_-]{43}; Path=\/u; HttpOnly; SameSite=Lax; Secure$/);
  });

  it('answers malformed page requests with 4xx error pages, never 5xx', async () => {
    const cases: Array<[string, string, string | undefined, string | undefined]> = [
      ['GET', '/u/login', undefined, undefined],
      ['GET', '/u/login?state=garbage', undefined, undefined],
      ['GET', '/u/consent?state=garbage', undefined, undefined],
      ['POST', '/u/login', 'application/x-www-form-urlencoded', 'state=x&state=y&username=a'],
      ['POST', '/u/consent', 'application/json', JSON.stringify({ state: 42, action: 'accept' })],
      ['GET', '/authorize', undefined, undefined],
      ['GET', `/authorize?client_id=a&client_id=b`, undefined, undefined],
      ['GET', `/authorize?client_id=${'x'.repeat(3000)}`, undefined, undefined],
    ];
    for (const [method, url, type, payload] of cases) {
      const r = await s.t.app.inject({ method: method as 'GET', url, headers: type ? { 'content-type': type } : {}, payload });
      expect(r.statusCode, `${method} ${url}`).toBeGreaterThanOrEqual(400);
      expect(r.statusCode, `${method} ${url}`).toBeLessThan(500);
    }
    const garbage = await s.t.app.inject({ method: 'GET', url: '/u/login?state=garbage' });
    expect(garbage.statusCode).toBe(400);
    expect(garbage.body).toContain('The login transaction is invalid or has expired.');
  });

  describe('public clients and code replay', () => {
    it('a public (SPA) client exchanges with PKCE and no secret; without PKCE it is 401', async () => {
      const spa = await createWebApp(s, { name: 'Orders SPA', app_type: 'spa' });
      const { verifier, challenge } = pkce();
      const withPkce = await authorize(s, new Browser(s), { ...query({ code_challenge: challenge, code_challenge_method: 'S256' }), client_id: spa.clientId }, { email: 'ada@example.com' });
      const ok = await exchange(s, { client_id: spa.clientId, code: callbackParams(withPkce.res.location).code, code_verifier: verifier });
      expect(ok.status).toBe(200);
      expect(decodeJwt(ok.body.access_token).azp).toBe(spa.clientId);
      const without = await authorize(s, new Browser(s), { ...query(), client_id: spa.clientId }, { email: 'ada@example.com' });
      const refused = await exchange(s, { client_id: spa.clientId, code: callbackParams(without.res.location).code });
      expect(refused.status).toBe(401);
      expect(refused.body).toEqual({ error: 'access_denied', error_description: 'Unauthorized' });
    });

    it('replaying a code revokes the refresh token minted from it (RFC 6749 §4.1.2)', async () => {
      const { res } = await authorize(s, new Browser(s), query({ scope: 'openid offline_access read:orders' }), { email: 'ada@example.com' });
      const c = callbackParams(res.location).code;
      const first = await exchange(s, { client_id: app.clientId, client_secret: app.secret, code: c });
      expect(first.body.refresh_token).toMatch(/^v1\./);
      expect((await exchange(s, { client_id: app.clientId, client_secret: app.secret, code: c })).body).toEqual(INVALID_CODE);
      const refresh = await s.token({ grant_type: 'refresh_token', client_id: app.clientId, client_secret: app.secret, refresh_token: first.body.refresh_token });
      expect(refresh.status).toBe(403);
      expect(refresh.body).toEqual({ error: 'invalid_grant', error_description: 'Unknown or invalid refresh token.' });
    });
  });

  describe('code exchange errors', () => {
    const code = async (extra: Record<string, string> = {}) => {
      const b = new Browser(s);
      const { res } = await authorize(s, b, query(extra), { email: 'ada@example.com' });
      return callbackParams(res.location).code;
    };
    const secret = () => ({ client_id: app.clientId, client_secret: app.secret });

    it('a code is single use: the second exchange is 403 invalid_grant "Invalid authorization code"', async () => {
      const c = await code();
      expect((await exchange(s, { ...secret(), code: c })).status).toBe(200);
      const again = await exchange(s, { ...secret(), code: c });
      expect(again.status).toBe(403);
      expect(again.body).toEqual(INVALID_CODE);
    });

    it('an unknown code, an expired code and another client\'s code are "Invalid authorization code"', async () => {
      expect((await exchange(s, { ...secret(), code: 'not-a-code' })).body).toEqual(INVALID_CODE);
      const expired = await code();
      s.clock.advance(301);
      const late = await exchange(s, { ...secret(), code: expired });
      s.clock.advance(-301);
      expect(late.status).toBe(403);
      expect(late.body).toEqual(INVALID_CODE);
      const other = await createWebApp(s, { name: 'Other' });
      const stolen = await exchange(s, { client_id: other.clientId, client_secret: other.secret, code: await code() });
      expect(stolen.status).toBe(403);
      expect(stolen.body).toEqual(INVALID_CODE);
    });

    it('a different redirect_uri is refused', async () => {
      const r = await exchange(s, { ...secret(), code: await code(), redirect_uri: 'http://localhost:3000/callback' });
      expect(r.status).toBe(403);
      expect(r.body).toEqual(INVALID_CODE);
    });

    it('a wrong or missing code_verifier is 403 "Failed to verify code verifier"', async () => {
      const { challenge } = pkce();
      const wrong = await exchange(s, { ...secret(), code: await code({ code_challenge: challenge, code_challenge_method: 'S256' }), code_verifier: pkce().verifier });
      expect(wrong.status).toBe(403);
      expect(wrong.body).toEqual({ error: 'invalid_grant', error_description: 'Failed to verify code verifier' });
      const missing = await exchange(s, { ...secret(), code: await code({ code_challenge: challenge, code_challenge_method: 'S256' }) });
      expect(missing.body).toEqual({ error: 'invalid_grant', error_description: 'Failed to verify code verifier' });
    });

    it('a client without the authorization_code grant type gets 403 unauthorized_client', async () => {
      const c = await code();
      expect((await s.api('PATCH', `/clients/${app.clientId}`, { grant_types: ['refresh_token', 'implicit'] })).status).toBe(200);
      const r = await exchange(s, { ...secret(), code: c });
      await s.api('PATCH', `/clients/${app.clientId}`, { grant_types: ['authorization_code', 'refresh_token', 'implicit', 'password', 'http://auth0.com/oauth/grant-type/password-realm'] });
      expect(r.status).toBe(403);
      expect(r.body).toEqual({ error: 'unauthorized_client', error_description: "Grant type 'authorization_code' not allowed for the client.", error_uri: 'https://auth0.com/docs/clients/client-grant-types' });
    });
  });
});
