import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  authorize, Browser, CALLBACK, callbackParams, createApi, createUser, createWebApp, exchange, hiddenFields, pkce, type Res,
} from '../helpers/flows';
import { eachDialect, PUBLIC_URL, startTessera, type TestServer } from '../helpers/tessera';

/**
 * Attacks on the browser flows: redirect_uri manipulation at /authorize and at the code exchange, PKCE
 * downgrades, authorization-code replay, and cross-site form posts to the login and consent pages.
 */
const API = 'https://orders.example/';
const FIRST_PARTY_API = 'https://first-party.example/';
const INVALID_CODE = { error: 'invalid_grant', error_description: 'Invalid authorization code' };
const BAD_VERIFIER = { error: 'invalid_grant', error_description: 'Failed to verify code verifier' };
const CSRF_REFUSED = 'The form has expired or was not submitted from this site. Go back and try again.';

/** Registered: https://app.example/callback. Each of these differs from it in a way a lax matcher might let through. */
const REDIRECT_TRICKS: Array<[string, string]> = [
  ['prefix: longer path', 'https://app.example/callback.attacker.example'],
  ['prefix: extra segment', 'https://app.example/callback/attacker'],
  ['prefix: host suffix', 'https://app.example.attacker.example/callback'],
  ['@ userinfo pointing elsewhere', 'https://app.example@attacker.example/callback'],
  ['@ userinfo in front of the real host', 'https://attacker.example@app.example/callback'],
  ['backslash before @', 'https://app.example\\@attacker.example/callback'],
  ['backslash as path separator', 'https://attacker.example\\app.example/callback'],
  ['different port', 'https://app.example:8443/callback'],
  ['explicit default port', 'https://app.example:443/callback'],
  ['http instead of https', 'http://app.example/callback'],
  ['upper-case host', 'https://APP.example/callback'],
  ['upper-case path', 'https://app.example/Callback'],
  ['added fragment', 'https://app.example/callback#attacker'],
  ['.. out of the path', 'https://app.example/callback/../attacker'],
  ['.. into the path', 'https://app.example/attacker/../callback'],
  ['extra query', 'https://app.example/callback?next=https://attacker.example/'],
  ['encoded slash before @', 'https://app.example%2F@attacker.example/callback'],
  ['encoded ..', 'https://app.example/callback/%2e%2e/attacker'],
  ['encoded path separator', 'https://app.example/callback%2F..%2Fattacker'],
  ['trailing dot host', 'https://app.example./callback'],
  ['trailing whitespace', 'https://app.example/callback '],
  ['javascript scheme', 'javascript://app.example/callback%0aalert(1)'],
];

eachDialect('security: browser flow attacks', (dialect) => {
  let s: TestServer;
  let web: { clientId: string; secret: string };
  let userId: string;
  beforeAll(async () => {
    s = await startTessera(dialect);
    await createApi(s, API, { allow_offline_access: true });
    await createApi(s, FIRST_PARTY_API, { allow_offline_access: true, skip_consent_for_verifiable_first_party_clients: true });
    web = await createWebApp(s, { refresh_token: { rotation_type: 'rotating', expiration_type: 'non-expiring', leeway: 0 } });
    userId = await createUser(s, 'victim@example.com');
  });
  afterAll(async () => { await s.close(); });

  const query = (extra: Record<string, string> = {}) => ({
    response_type: 'code', client_id: web.clientId, redirect_uri: CALLBACK, audience: FIRST_PARTY_API, scope: 'openid offline_access read:orders', state: 'st', ...extra,
  });
  /** A code issued to the victim through the hosted pages. */
  async function victimCode(extra: Record<string, string> = {}): Promise<string> {
    const { res } = await authorize(s, new Browser(s), query(extra), { email: 'victim@example.com' });
    expect(res.status).toBe(302);
    return callbackParams(res.location).code;
  }
  const redeem = (code: string, extra: Record<string, string> = {}) => exchange(s, { client_id: web.clientId, client_secret: web.secret, code, ...extra });

  function isErrorPage(r: Res, status: number, text: string): void {
    expect(r.status).toBe(status);
    expect(r.location).toBeUndefined();
    expect(r.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(r.headers['content-security-policy']).toContain("default-src 'none'");
    expect(r.body).toContain(text);
    expect(r.body).not.toMatch(/<(a|form|script|iframe)\b|http-equiv/i);
  }

  describe('redirect_uri at /authorize: an error page, never a redirect to the attacker', () => {
    it.each(REDIRECT_TRICKS)('%s', async (_name, uri) => {
      const r = await new Browser(s).get(`/authorize?${new URLSearchParams(query({ redirect_uri: uri }))}`);
      isErrorPage(r, 400, 'Callback URL mismatch.');
      expect(r.body).toContain('is not in the list of allowed callback URLs');
    });

    it('an unregistered redirect_uri with an error-provoking request is still not redirected to', async () => {
      const r = await new Browser(s).get(`/authorize?${new URLSearchParams(query({ redirect_uri: 'https://attacker.example/cb', response_type: 'bogus' }))}`);
      isErrorPage(r, 400, 'Callback URL mismatch.');
    });
  });

  describe('redirect_uri at the code exchange', () => {
    it('every trick is refused with "Invalid authorization code"; the registered URI still redeems the code', async () => {
      const code = await victimCode();
      for (const [name, uri] of REDIRECT_TRICKS) {
        const r = await redeem(code, { redirect_uri: uri });
        expect(r.status, name).toBe(403);
        expect(r.body, name).toEqual(INVALID_CODE);
      }
      expect((await redeem(code)).status).toBe(200);
    });

    it('leaving out redirect_uri when /authorize had one is refused', async () => {
      const code = await victimCode();
      const { redirect_uri: _omit, ...rest } = { redirect_uri: '', client_id: web.clientId, client_secret: web.secret, code, grant_type: 'authorization_code' };
      const r = await s.token(rest);
      expect(r.status).toBe(403);
      expect(r.body).toEqual(INVALID_CODE);
    });
  });

  describe('PKCE', () => {
    it('a code issued for an S256 challenge is refused without a code_verifier', async () => {
      const { challenge } = pkce();
      const r = await redeem(await victimCode({ code_challenge: challenge, code_challenge_method: 'S256' }));
      expect(r.status).toBe(403);
      expect(r.body).toEqual(BAD_VERIFIER);
    });

    it('a code issued for an S256 challenge is refused when the challenge itself is sent as a plain verifier', async () => {
      const { challenge } = pkce();
      const code = await victimCode({ code_challenge: challenge, code_challenge_method: 'S256' });
      for (const extra of [{ code_verifier: challenge }, { code_verifier: challenge, code_challenge_method: 'plain' }] as Array<Record<string, string>>) {
        const r = await redeem(code, extra);
        expect(r.status).toBe(403);
        expect(r.body).toEqual(BAD_VERIFIER);
      }
    });

    it('a wrong code_verifier is refused, and does not spend the code for its owner', async () => {
      const { verifier, challenge } = pkce();
      const code = await victimCode({ code_challenge: challenge, code_challenge_method: 'S256' });
      const r = await redeem(code, { code_verifier: pkce().verifier });
      expect(r.status).toBe(403);
      expect(r.body).toEqual(BAD_VERIFIER);
      expect((await redeem(code, { code_verifier: verifier })).status).toBe(200);
    });

    it('a verifier invented for a code issued without PKCE is refused', async () => {
      const r = await redeem(await victimCode(), { code_verifier: pkce().verifier });
      expect(r.status).toBe(403);
      expect(r.body).toEqual(BAD_VERIFIER);
    });

    it.each([
      ['plain', 'code_challenge_method plain is not allowed for this client; use S256'],
      ['s256', 'Unsupported code_challenge_method: s256'],
      ['S512', 'Unsupported code_challenge_method: S512'],
    ])('/authorize refuses code_challenge_method=%s with invalid_request at the registered callback', async (method, description) => {
      const r = await new Browser(s).get(`/authorize?${new URLSearchParams(query({ code_challenge: pkce().challenge, code_challenge_method: method }))}`);
      expect(r.status).toBe(302);
      expect(r.location?.startsWith(`${CALLBACK}?`)).toBe(true);
      expect(callbackParams(r.location)).toEqual({ error: 'invalid_request', error_description: description, state: 'st', iss: `${PUBLIC_URL}/` });
    });

    it('a public client cannot redeem a code obtained without PKCE', async () => {
      const spa = await s.api('POST', '/clients', { name: 'SPA', app_type: 'spa', token_endpoint_auth_method: 'none', callbacks: [CALLBACK], grant_types: ['authorization_code'] });
      expect(spa.status).toBe(201);
      const { res } = await authorize(s, new Browser(s), query({ client_id: spa.body.client_id, scope: 'openid' }), { email: 'victim@example.com' });
      const r = await exchange(s, { client_id: spa.body.client_id, code: callbackParams(res.location).code });
      expect(r.status).toBe(401);
      expect(r.body).toEqual({ error: 'access_denied', error_description: 'Unauthorized' });
    });
  });

  describe('authorization code replay', () => {
    it('a second redemption is refused and revokes the refresh tokens of the first, rotated ones included', async () => {
      const code = await victimCode();
      const first = await redeem(code);
      expect(first.status).toBe(200);
      const rotated = await s.token({ grant_type: 'refresh_token', client_id: web.clientId, client_secret: web.secret, refresh_token: first.body.refresh_token });
      expect(rotated.status).toBe(200);
      const again = await redeem(code);
      expect(again.status).toBe(403);
      expect(again.body).toEqual(INVALID_CODE);
      for (const token of [first.body.refresh_token, rotated.body.refresh_token]) {
        const r = await s.token({ grant_type: 'refresh_token', client_id: web.clientId, client_secret: web.secret, refresh_token: token });
        expect(r.status).toBe(403);
        expect(r.body).toEqual({ error: 'invalid_grant', error_description: 'Unknown or invalid refresh token.' });
      }
    });

    it("another client cannot redeem the victim's code", async () => {
      const other = await createWebApp(s);
      const r = await exchange(s, { client_id: other.clientId, client_secret: other.secret, code: await victimCode() });
      expect(r.status).toBe(403);
      expect(r.body).toEqual(INVALID_CODE);
    });
  });

  describe('CSRF on the login form', () => {
    /** A login page opened by the victim's browser, and the fields a genuine submission would send. */
    async function loginForm(b = new Browser(s)) {
      const start = await b.get(`/authorize?${new URLSearchParams(query())}`);
      const page = await b.get(start.location as string);
      const fields: Record<string, string> = { ...hiddenFields(page.body), username: 'victim@example.com', password: 'Correct-Horse-9' };
      return { b, fields };
    }
    const refusedLogin = (r: Res) => {
      isErrorPage(r, 403, CSRF_REFUSED);
      expect(String(r.headers['set-cookie'] ?? '')).not.toContain('tessera_session=');
    };

    it('a post without the csrf field is refused and starts no session', async () => {
      const { b, fields } = await loginForm();
      const { csrf: _drop, ...rest } = fields;
      refusedLogin(await b.post('/u/login', rest));
    });

    it('a post with a made-up csrf value is refused', async () => {
      const { b, fields } = await loginForm();
      refusedLogin(await b.post('/u/login', { ...fields, csrf: 'A'.repeat(43) }));
    });

    it("a post carrying another browser's csrf value is refused", async () => {
      const victim = await loginForm();
      const attacker = await loginForm();
      refusedLogin(await victim.b.post('/u/login', { ...victim.fields, csrf: attacker.fields.csrf }));
    });

    it('a cross-site post without the csrf cookie (SameSite) is refused', async () => {
      const { fields } = await loginForm();
      refusedLogin(await new Browser(s).post('/u/login', fields));
    });

    it('a csrf value bound to another login transaction is refused', async () => {
      const b = new Browser(s);
      const one = await loginForm(b);
      const two = await loginForm(b);
      refusedLogin(await b.post('/u/login', { ...two.fields, csrf: one.fields.csrf === two.fields.csrf ? 'x' : one.fields.csrf }));
    });
  });

  describe('CSRF on the consent form', () => {
    /** The victim is logged in and looking at the consent page of a third-party-style API (no consent skipping). */
    async function consentForm() {
      const b = new Browser(s);
      const start = await b.get(`/authorize?${new URLSearchParams(query({ audience: API, scope: 'read:orders' }))}`);
      const login = await b.get(start.location as string);
      const afterLogin = await b.post('/u/login', { ...hiddenFields(login.body), username: 'victim@example.com', password: 'Correct-Horse-9' });
      expect(afterLogin.location).toMatch(/^\/u\/consent\?/);
      const page = await b.get(afterLogin.location as string);
      expect(page.status).toBe(200);
      const fields: Record<string, string> = { ...hiddenFields(page.body), action: 'accept' };
      return { b, fields };
    }
    async function refusedConsent(r: Res): Promise<void> {
      isErrorPage(r, 403, CSRF_REFUSED);
      const grants = await s.api('GET', `/grants?user_id=${encodeURIComponent(userId)}`);
      expect(grants.status).toBe(200);
      expect(grants.body.filter((g: { audience: string }) => g.audience === API)).toEqual([]);
    }

    it('a post without the csrf field grants nothing', async () => {
      const { b, fields } = await consentForm();
      const { csrf: _drop, ...rest } = fields;
      await refusedConsent(await b.post('/u/consent', rest));
    });

    it('a post with a made-up csrf value grants nothing', async () => {
      const { b, fields } = await consentForm();
      await refusedConsent(await b.post('/u/consent', { ...fields, csrf: 'A'.repeat(43) }));
    });

    it("a post carrying another session's csrf value grants nothing", async () => {
      const victim = await consentForm();
      const attacker = await consentForm();
      await refusedConsent(await victim.b.post('/u/consent', { ...victim.fields, csrf: attacker.fields.csrf }));
    });

    it('control: the genuine consent form grants, so the refusals above are the CSRF check', async () => {
      const { b, fields } = await consentForm();
      const r = await b.post('/u/consent', fields);
      expect(r.status).toBe(302);
      expect(callbackParams(r.location)).toEqual({ code: expect.any(String), state: 'st', iss: `${PUBLIC_URL}/` });
      const grants = await s.api('GET', `/grants?user_id=${encodeURIComponent(userId)}`);
      expect(grants.body.filter((g: { audience: string }) => g.audience === API)).toHaveLength(1);
      expect((await s.api('DELETE', `/grants?user_id=${encodeURIComponent(userId)}`)).status).toBe(204);
    });
  });
});
