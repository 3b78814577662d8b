import { decodeJwt } from 'jose';
import { Secret, TOTP } from 'otpauth';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Browser, CALLBACK, callbackParams, createApi, createUser, createWebApp, exchange, hiddenFields, PASSWORD, pkce } from './helpers/flows';
import { eachDialect, startTessera, type TestServer } from './helpers/tessera';

const API = 'https://orders.example/';
const MULTI_FACTOR = 'http://schemas.openid.net/pape/policies/2007/06/multi-factor';
const codeAt = (secret: string, ms: number) =>
  new TOTP({ algorithm: 'SHA1', digits: 6, period: 30, secret: Secret.fromBase32(secret) }).generate({ timestamp: ms });

eachDialect('hosted MFA pages: enrollment, challenge at login, recovery code, step-up and bypass attempts', (dialect) => {
  let s: TestServer;
  let app: { clientId: string; secret: string };
  let secret: string;
  let recovery: string;
  let userId: string;
  const email = 'mfa-pages@example.com';
  const p = pkce();
  const query = (extra: Record<string, string> = {}) => ({
    client_id: app.clientId, response_type: 'code', redirect_uri: CALLBACK, audience: API, scope: 'openid read:orders', state: 'st', nonce: 'n1',
    code_challenge: p.challenge, code_challenge_method: 'S256', ...extra,
  });
  const login = async (b: Browser, extra: Record<string, string> = {}) => {
    const start = await b.get(`/authorize?${new URLSearchParams(query(extra))}`);
    expect(start.location).toMatch(/^\/u\/login\?state=/);
    const page = await b.get(start.location as string);
    return { loginState: new URL(start.location as string, 'https://x').searchParams.get('state') as string, res: await b.post('/u/login', { ...hiddenFields(page.body), username: email, password: PASSWORD }) };
  };
  const submitCode = async (b: Browser, mfaLocation: string, code: string) => {
    const page = await b.get(mfaLocation);
    return b.post('/u/mfa', { ...hiddenFields(page.body), action: 'otp', code });
  };
  const tokensFrom = async (location: string | undefined) => {
    const cb = callbackParams(location);
    expect(cb.code, JSON.stringify(cb)).toBeDefined();
    const r = await exchange(s, { code: cb.code, client_id: app.clientId, client_secret: app.secret, code_verifier: p.verifier });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    return r.body as { access_token: string; id_token: string };
  };

  beforeAll(async () => {
    s = await startTessera(dialect);
    await createApi(s, API, { skip_consent_for_verifiable_first_party_clients: true });
    app = await createWebApp(s);
    userId = await createUser(s, email);
  });
  afterAll(async () => { await s.close(); });

  it('acr_values multi-factor: enrollment page with a server-rendered QR code and the key, then the recovery code once', async () => {
    const b = new Browser(s);
    const { res } = await login(b, { acr_values: MULTI_FACTOR });
    expect(res.location).toMatch(/^\/u\/mfa\?state=/);
    expect(b.jar.has('tessera_session')).toBe(false); // no session before the second factor
    const page = await b.get(res.location as string);
    expect(page.status).toBe(200);
    expect(page.body).toContain('<img id="totp-qr" src="data:image/svg+xml;base64,');
    const qr = Buffer.from(/src="data:image\/svg\+xml;base64,([^"]+)"/.exec(page.body)?.[1] as string, 'base64').toString();
    expect(qr).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(page.headers['content-security-policy']).toContain("script-src 'none'");
    secret = (/<code id="totp-secret">([A-Z2-7 ]+)<\/code>/.exec(page.body)?.[1] as string).replace(/ /g, '');
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    // nothing is stored before the first code (a link to this page cannot enroll anyone)
    expect((await s.api('GET', `/users/${encodeURIComponent(userId)}/authentication-methods`)).body).toEqual([]);

    const wrong = await b.post('/u/mfa', { ...hiddenFields(page.body), action: 'otp', code: codeAt(secret, s.clock.now() + 3_600_000) });
    expect(wrong.status).toBe(401);
    expect(wrong.body).toContain('That code is not valid');
    const ok = await b.post('/u/mfa', { ...hiddenFields(wrong.body), action: 'otp', code: codeAt(secret, s.clock.now()) });
    expect(ok.status).toBe(200);
    recovery = /<code id="recovery-code">([A-Z0-9]{24})<\/code>/.exec(ok.body)?.[1] as string;
    expect(recovery).toBeDefined();
    expect(b.jar.has('tessera_session')).toBe(true);
    const done = await b.post('/u/mfa/continue', hiddenFields(ok.body));
    const tokens = await tokensFrom(done.location);
    expect(decodeJwt(tokens.access_token).amr).toEqual(['mfa']);
    expect(decodeJwt(tokens.id_token)).toMatchObject({ amr: ['mfa'], acr: MULTI_FACTOR, nonce: 'n1' });
    // the recovery code is never shown again: the same session goes straight through
    const again = await b.get(`/authorize?${new URLSearchParams(query())}`);
    expect(callbackParams(again.location).code).toBeDefined();
  });

  it('an enrolled user is challenged after the password; skipping the challenge page by URL leads back to the login', async () => {
    s.clock.advance(30);
    const b = new Browser(s);
    const { loginState, res } = await login(b);
    expect(res.location).toMatch(/^\/u\/mfa\?state=/);
    expect(b.jar.has('tessera_session')).toBe(false);
    const page = await b.get(res.location as string);
    expect(page.body).toContain('Verify your identity');
    expect(page.body).not.toContain('totp-secret');
    // bypass attempts: the consent page, /authorize again, the recovery page's continue, all without a session
    expect((await b.get(`/u/consent?state=${encodeURIComponent(loginState)}`)).location).toMatch(/^\/u\/login\?/);
    expect((await b.get(`/authorize?${new URLSearchParams(query())}`)).location).toMatch(/^\/u\/login\?/);
    const cont = await b.post('/u/mfa/continue', hiddenFields(page.body));
    expect(cont.location).toMatch(/^\/u\/login\?/);
    // the challenge page's state carries the checked password: it does not open a session without a code
    expect((await b.post('/u/mfa', { ...hiddenFields(page.body), action: 'otp', code: '' })).status).toBe(401);
    expect(b.jar.has('tessera_session')).toBe(false);
    // a forged or edited state is refused
    expect((await b.post('/u/mfa', { ...hiddenFields(page.body), state: `${hiddenFields(page.body).state}x`, action: 'otp', code: '123456' })).status).toBe(400);

    const ok = await submitCode(b, res.location as string, codeAt(secret, s.clock.now()));
    const tokens = await tokensFrom(ok.location);
    expect(decodeJwt(tokens.access_token).amr).toEqual(['mfa']);
  });

  it('a replayed code is refused; the recovery code works once and a new one is shown', async () => {
    const b = new Browser(s);
    const { res } = await login(b);
    const replay = await submitCode(b, res.location as string, codeAt(secret, s.clock.now()));
    expect(replay.status).toBe(401);
    const page = await b.get(res.location as string);
    const r = await b.post('/u/mfa', { ...hiddenFields(page.body), action: 'recovery', recovery_code: recovery });
    expect(r.status).toBe(200);
    const fresh = /<code id="recovery-code">([A-Z0-9]{24})<\/code>/.exec(r.body)?.[1] as string;
    expect(fresh).not.toBe(recovery);
    const tokens = await tokensFrom((await b.post('/u/mfa/continue', hiddenFields(r.body))).location);
    expect(decodeJwt(tokens.access_token).amr).toEqual(['mfa']);
    const b2 = new Browser(s);
    const second = await login(b2);
    const page2 = await b2.get(second.res.location as string);
    expect((await b2.post('/u/mfa', { ...hiddenFields(page2.body), action: 'recovery', recovery_code: recovery })).status).toBe(401);
    recovery = fresh;
  });

  it('a session from before the enrollment steps up; deleting the enrollment ends the challenge', async () => {
    const other = 'mfa-pages-late@example.com';
    const userId = await createUser(s, other);
    const b = new Browser(s);
    const start = await b.get(`/authorize?${new URLSearchParams(query())}`);
    const lp = await b.get(start.location as string);
    const first = await b.post('/u/login', { ...hiddenFields(lp.body), username: other, password: PASSWORD });
    expect(decodeJwt((await tokensFrom(first.location)).access_token).amr).toBeUndefined();
    // the same session asks for a second factor: enrollment, then marked on the session
    const step = await b.get(`/authorize?${new URLSearchParams(query({ acr_values: MULTI_FACTOR }))}`);
    expect(step.location).toMatch(/^\/u\/mfa\?/);
    const page = await b.get(step.location as string);
    const key = (/<code id="totp-secret">([A-Z2-7 ]+)<\/code>/.exec(page.body)?.[1] as string).replace(/ /g, '');
    const ok = await b.post('/u/mfa', { ...hiddenFields(page.body), action: 'otp', code: codeAt(key, s.clock.now()) });
    await tokensFrom((await b.post('/u/mfa/continue', hiddenFields(ok.body))).location);
    const later = await b.get(`/authorize?${new URLSearchParams(query())}`);
    expect(decodeJwt((await tokensFrom(later.location)).access_token).amr).toEqual(['mfa']);
    // a new browser is challenged, until the administrator deletes the enrollment
    const b2 = new Browser(s);
    const s2 = await b2.get(`/authorize?${new URLSearchParams(query())}`);
    const lp2 = await b2.get(s2.location as string);
    expect((await b2.post('/u/login', { ...hiddenFields(lp2.body), username: other, password: PASSWORD })).location).toMatch(/^\/u\/mfa\?/);
    expect((await s.api('DELETE', `/users/${encodeURIComponent(userId)}/authentication-methods`)).status).toBe(204);
    const b3 = new Browser(s);
    const s3 = await b3.get(`/authorize?${new URLSearchParams(query())}`);
    const lp3 = await b3.get(s3.location as string);
    const direct = await b3.post('/u/login', { ...hiddenFields(lp3.body), username: other, password: PASSWORD });
    expect(callbackParams(direct.location).code).toBeDefined();
  });

  it('five wrong codes on the page lock the second factor', async () => {
    s.clock.advance(60);
    const b = new Browser(s);
    const { res } = await login(b);
    let last = await submitCode(b, res.location as string, '000000');
    for (let i = 0; i < 4; i++) last = await submitCode(b, res.location as string, '000000');
    expect(last.status).toBe(429);
    expect(last.body).toContain('Too many failed attempts');
    expect((await submitCode(b, res.location as string, codeAt(secret, s.clock.now()))).status).toBe(429);
    s.clock.advance(15 * 60 + 1);
    const { res: res2 } = await login(b);
    expect(callbackParams((await submitCode(b, res2.location as string, codeAt(secret, s.clock.now()))).location).code).toBeDefined();
  });
});
