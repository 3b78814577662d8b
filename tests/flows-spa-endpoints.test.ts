import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorize, Browser, callbackParams, createApi, createUser, pkce } from './helpers/flows';
import { eachDialect, PUBLIC_URL, startTessera, type TestServer } from './helpers/tessera';

const API = 'https://orders.example/';
const APP = 'https://spa.example';
const CALLBACK = `${APP}/callback`;
const FOREIGN = 'https://evil.example';
const FOREIGN_CALLBACK = 'https://partner.example/callback'; // registered callback whose origin is not a web origin

/** The data a web_message page posts, and the CSP it is sent with. */
function webMessage(html: string): { origin: string; response: Record<string, string> } {
  const m = /<script type="application\/json" id="authorization-response">([^<]*)<\/script>/.exec(html);
  expect(m, 'web_message page').not.toBeNull();
  return JSON.parse(m![1]);
}

eachDialect('browser applications: CORS, web_message, prompt=none, logout', (dialect) => {
  let s: TestServer;
  let clientId: string;
  beforeAll(async () => {
    s = await startTessera(dialect, { env: { TESSERA_ALLOWED_LOGOUT_URLS: 'https://tenant.example/bye' } });
    await createApi(s, API, { allow_offline_access: true, skip_consent_for_verifiable_first_party_clients: true });
    const r = await s.api('POST', '/clients', {
      name: 'Orders SPA', app_type: 'spa', callbacks: [CALLBACK, FOREIGN_CALLBACK], web_origins: [APP], allowed_origins: ['https://admin.example'],
      allowed_logout_urls: [`${APP}/`, `${APP}/goodbye`], grant_types: ['authorization_code', 'refresh_token'],
    });
    expect(r.status).toBe(201);
    clientId = r.body.client_id;
    await createUser(s, 'ada@example.com');
    await createUser(s, 'bob@example.com');
  });
  afterAll(async () => { await s.close(); });

  const query = (extra: Record<string, string> = {}) => {
    const { challenge } = pkce();
    return new URLSearchParams({
      response_type: 'code', client_id: clientId, redirect_uri: CALLBACK, audience: API, scope: 'openid offline_access read:orders',
      state: 'st-silent', code_challenge: challenge, code_challenge_method: 'S256', ...extra,
    });
  };
  const loggedIn = async (email = 'ada@example.com') => {
    const b = new Browser(s);
    const { res } = await authorize(s, b, Object.fromEntries(query()), { email });
    expect(res.status).toBe(302);
    return b;
  };
  const tokenFromBrowser = (origin: string, params: Record<string, string>) => s.t.app.inject({
    method: 'POST', url: '/oauth/token', headers: { origin, 'content-type': 'application/json' }, payload: JSON.stringify(params),
  });

  describe('CORS', () => {
    it('preflights of /oauth/token, /oauth/revoke and /userinfo are answered; no credentials are ever allowed', async () => {
      for (const [url, methods] of [['/oauth/token', 'POST'], ['/oauth/revoke', 'POST'], ['/userinfo', 'GET, POST']]) {
        const r = await s.t.app.inject({ method: 'OPTIONS', url, headers: { origin: APP, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,auth0-client' } });
        expect(r.statusCode).toBe(204);
        expect(r.headers).toMatchObject({ 'access-control-allow-origin': APP, 'access-control-allow-methods': methods, vary: 'Origin' });
        expect(String(r.headers['access-control-allow-headers'])).toContain('Auth0-Client');
        expect(r.headers['access-control-allow-credentials']).toBeUndefined();
      }
      const wellKnown = await s.t.app.inject({ method: 'OPTIONS', url: '/.well-known/jwks.json', headers: { origin: FOREIGN, 'access-control-request-method': 'GET' } });
      expect(wellKnown.statusCode).toBe(204);
      expect(wellKnown.headers['access-control-allow-origin']).toBe('*');
      const jwks = await s.t.app.inject({ method: 'GET', url: '/.well-known/jwks.json', headers: { origin: FOREIGN } });
      expect(jwks.headers['access-control-allow-origin']).toBe('*');
    });

    it('the token endpoint answers a listed web origin (or allowed origin) with its CORS headers, errors included', async () => {
      for (const origin of [APP, 'https://admin.example']) {
        const r = await tokenFromBrowser(origin, { grant_type: 'refresh_token', client_id: clientId, refresh_token: 'v1.unknown' });
        expect(r.statusCode).toBe(403);
        expect(r.json()).toEqual({ error: 'invalid_grant', error_description: 'Unknown or invalid refresh token.' });
        expect(r.headers['access-control-allow-origin']).toBe(origin);
        expect(r.headers['access-control-allow-credentials']).toBeUndefined();
      }
    });

    it('refuses a token request from an unlisted origin with 401 access_denied and no CORS headers; the code stays unused', async () => {
      const b = new Browser(s);
      const { verifier, challenge } = pkce();
      const { res } = await authorize(s, b, Object.fromEntries(query({ code_challenge: challenge })), { email: 'ada@example.com' });
      const { code } = callbackParams(res.location);
      const params = { grant_type: 'authorization_code', client_id: clientId, code, code_verifier: verifier, redirect_uri: CALLBACK };
      for (const origin of [FOREIGN, 'null', 'https://spa.example:8443']) {
        const refused = await tokenFromBrowser(origin, params);
        expect(refused.statusCode).toBe(401);
        expect(refused.json()).toEqual({ error: 'access_denied', error_description: 'Unauthorized' });
        expect(refused.headers['access-control-allow-origin']).toBeUndefined();
      }
      const ok = await tokenFromBrowser(APP, params);
      expect(ok.statusCode).toBe(200);
      expect(ok.json().refresh_token).toMatch(/^v1\./);
      // a server-side client sends no Origin and is not affected
      const revoke = await s.t.app.inject({ method: 'POST', url: '/oauth/revoke', headers: { origin: FOREIGN, 'content-type': 'application/json' }, payload: JSON.stringify({ client_id: clientId, token: ok.json().refresh_token }) });
      expect(revoke.statusCode).toBe(401);
      const userinfoForeign = await s.t.app.inject({ method: 'GET', url: '/userinfo', headers: { origin: FOREIGN, authorization: `Bearer ${ok.json().access_token}` } });
      expect(userinfoForeign.statusCode).toBe(200);
      expect(userinfoForeign.headers['access-control-allow-origin']).toBeUndefined();
      const userinfo = await s.t.app.inject({ method: 'GET', url: '/userinfo', headers: { origin: APP, authorization: `Bearer ${ok.json().access_token}` } });
      expect(userinfo.headers['access-control-allow-origin']).toBe(APP);
    });
  });

  describe('silent authentication (prompt=none, response_mode=web_message)', () => {
    it('posts the code to the web origin only, from a page that only that origin may frame, with a nonce script', async () => {
      const b = await loggedIn();
      const r = await b.get(`/authorize?${query({ prompt: 'none', response_mode: 'web_message' })}`);
      expect(r.status).toBe(200);
      const data = webMessage(r.body);
      expect(data.origin).toBe(APP);
      expect(Object.keys(data.response).sort()).toEqual(['code', 'iss', 'state']);
      expect(data.response).toMatchObject({ state: 'st-silent', iss: `${PUBLIC_URL}/` });
      const policy = String(r.headers['content-security-policy']);
      expect(policy).toContain(`frame-ancestors ${APP}`);
      const nonce = /script-src 'nonce-([A-Za-z0-9+/=]+)'/.exec(policy)?.[1];
      expect(nonce).toBeDefined();
      expect(r.body).toContain(`<script nonce="${nonce}">`);
      expect(r.body.match(/<script(?! type="application\/json")/g)).toHaveLength(1); // the one executable script carries the nonce
      expect(r.headers['x-frame-options']).toBeUndefined();
    });

    it('refuses web_message to an origin that is not in web_origins: an error page, nothing posted', async () => {
      const b = await loggedIn();
      const r = await b.get(`/authorize?${query({ prompt: 'none', response_mode: 'web_message', redirect_uri: FOREIGN_CALLBACK })}`);
      expect(r.status).toBe(400);
      expect(r.body).toContain('https://partner.example is not in the list of allowed web origins');
      expect(r.body).not.toContain('authorization-response');
      expect(r.body).not.toContain('code=');
    });

    it('state and values cannot break out of the script element', async () => {
      const b = await loggedIn();
      const r = await b.get(`/authorize?${query({ prompt: 'none', response_mode: 'web_message', state: '</script><script>alert(1)</script>\u2028' })}`);
      expect(r.status).toBe(200);
      expect(r.body).not.toContain('</script><script>alert(1)');
      expect(webMessage(r.body).response.state).toBe('</script><script>alert(1)</script>\u2028');
    });

    it('login_required without a session, by web_message and by redirect', async () => {
      const b = new Browser(s);
      const wm = await b.get(`/authorize?${query({ prompt: 'none', response_mode: 'web_message' })}`);
      expect(webMessage(wm.body).response).toMatchObject({ error: 'login_required', state: 'st-silent' });
      const redirect = await b.get(`/authorize?${query({ prompt: 'none' })}`);
      expect(callbackParams(redirect.location)).toMatchObject({ error: 'login_required', state: 'st-silent' });
    });

    it('consent_required when the user has not consented (third-party client), interaction_required for another account', async () => {
      const b = await loggedIn();
      const third = await s.api('POST', '/clients', { name: 'Partner', app_type: 'spa', is_first_party: false, callbacks: [CALLBACK], web_origins: [APP] });
      await s.api('POST', '/client-grants', { client_id: third.body.client_id, audience: API, scope: ['read:orders'], subject_type: 'user' });
      const consent = await b.get(`/authorize?${query({ client_id: third.body.client_id, prompt: 'none', response_mode: 'web_message' })}`);
      expect(webMessage(consent.body).response).toMatchObject({ error: 'consent_required', state: 'st-silent' });
      const other = await b.get(`/authorize?${query({ prompt: 'none', response_mode: 'web_message', login_hint: 'bob@example.com' })}`);
      expect(webMessage(other.body).response).toMatchObject({ error: 'interaction_required', state: 'st-silent' });
      const same = await b.get(`/authorize?${query({ prompt: 'none', login_hint: 'ADA@example.com' })}`);
      expect(callbackParams(same.location).code).toBeDefined();
    });
  });

  describe('logout', () => {
    it('GET /v2/logout ends the session (stored and cookie) and redirects to a listed returnTo', async () => {
      const b = await loggedIn();
      const r = await b.get(`/v2/logout?client_id=${clientId}&returnTo=${encodeURIComponent(`${APP}/goodbye`)}&federated`);
      expect(r.status).toBe(302);
      expect(r.location).toBe(`${APP}/goodbye`);
      expect(String(r.headers['set-cookie'])).toMatch(/^tessera_session=; Path=\/; HttpOnly; SameSite=None; Max-Age=0; Secure$/);
      expect(b.jar.get('tessera_session')).toBe('');
      const silent = await b.get(`/authorize?${query({ prompt: 'none' })}`);
      expect(callbackParams(silent.location).error).toBe('login_required');
    });

    it('the stored session is deleted: the old cookie replayed does not log in', async () => {
      const b = await loggedIn();
      const cookie = b.jar.get('tessera_session') as string;
      await b.get(`/v2/logout?client_id=${clientId}`);
      const replay = await s.t.app.inject({ method: 'GET', url: `/authorize?${query({ prompt: 'none' })}`, headers: { cookie: `tessera_session=${cookie}` } });
      expect(callbackParams(replay.headers.location as string).error).toBe('login_required');
    });

    it('without returnTo it goes to the client\'s first logout URL; without client_id returnTo must be a tenant URL', async () => {
      const first = await (await loggedIn()).get(`/v2/logout?client_id=${clientId}`);
      expect(first.location).toBe(`${APP}/`);
      const tenant = await (await loggedIn()).get(`/v2/logout?returnTo=${encodeURIComponent('https://tenant.example/bye')}`);
      expect(tenant.location).toBe('https://tenant.example/bye');
      const page = await (await loggedIn()).get('/v2/logout');
      expect(page.status).toBe(200);
      expect(page.body).toContain('You are logged out');
    });

    it('refuses an unknown returnTo (or a client URL without client_id) with an error page and keeps the session', async () => {
      const b = await loggedIn();
      for (const url of [
        `/v2/logout?client_id=${clientId}&returnTo=${encodeURIComponent(`${FOREIGN}/`)}`,
        `/v2/logout?returnTo=${encodeURIComponent(`${APP}/goodbye`)}`,
        `/v2/logout?client_id=nope&returnTo=${encodeURIComponent(`${APP}/goodbye`)}`,
      ]) {
        const r = await b.get(url);
        expect(r.status).toBe(400);
        expect(r.headers['content-type']).toContain('text/html');
        expect(r.headers['set-cookie']).toBeUndefined();
      }
      const refused = await b.get(`/v2/logout?client_id=${clientId}&returnTo=${encodeURIComponent(`${FOREIGN}/`)}`);
      expect(refused.body).toContain(`The &quot;returnTo&quot; querystring parameter &quot;${FOREIGN}/&quot; is not defined as a valid URL in &quot;Allowed Logout URLs&quot;.`);
      expect(callbackParams((await b.get(`/authorize?${query({ prompt: 'none' })}`)).location).code).toBeDefined();
    });

    it('OIDC RP-initiated logout: id_token_hint names the client, post_logout_redirect_uri is checked, state comes back', async () => {
      const b = new Browser(s);
      const { verifier, challenge } = pkce();
      const { res } = await authorize(s, b, Object.fromEntries(query({ code_challenge: challenge })), { email: 'ada@example.com' });
      const t = await s.token({ grant_type: 'authorization_code', client_id: clientId, code: callbackParams(res.location).code, code_verifier: verifier, redirect_uri: CALLBACK });
      const idToken = t.body.id_token as string;
      expect(decodeJwt(idToken).aud).toBe(clientId);
      const wrongUrl = await b.get(`/oidc/logout?id_token_hint=${idToken}&post_logout_redirect_uri=${encodeURIComponent(`${FOREIGN}/`)}`);
      expect(wrongUrl.status).toBe(400);
      const parts = idToken.split('.');
      const forged = `${parts[0]}.${Buffer.from(JSON.stringify({ ...decodeJwt(idToken), aud: 'other' })).toString('base64url')}.${parts[2]}`;
      const bad = await b.get(`/oidc/logout?id_token_hint=${forged}&post_logout_redirect_uri=${encodeURIComponent(`${APP}/`)}`);
      expect(bad.status).toBe(400);
      expect(bad.body).toContain('id_token_hint is not a valid ID token');
      const mismatch = await b.get(`/oidc/logout?id_token_hint=${idToken}&client_id=other`);
      expect(mismatch.status).toBe(400);
      const noClient = await b.get(`/oidc/logout?post_logout_redirect_uri=${encodeURIComponent(`${APP}/`)}`);
      expect(noClient.status).toBe(400);
      // an expired hint is still a valid hint (OIDC RP-Initiated Logout §2)
      s.clock.advance(40_000);
      try {
        const r = await b.post('/oidc/logout', { id_token_hint: idToken, post_logout_redirect_uri: `${APP}/goodbye`, state: 'bye-1', logout_hint: 'ignored' });
        expect(r.status).toBe(302);
        expect(r.location).toBe(`${APP}/goodbye?state=bye-1`);
      } finally { s.clock.advance(-40_000); }
      expect(callbackParams((await b.get(`/authorize?${query({ prompt: 'none' })}`)).location).error).toBe('login_required');
    });
  });
});
