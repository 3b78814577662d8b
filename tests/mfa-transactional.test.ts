import { decodeJwt } from 'jose';
import { Secret, TOTP } from 'otpauth';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Browser, CALLBACK, callbackParams, createUser, createWebApp, exchange, hiddenFields, PASSWORD, pkce } from './helpers/flows';
import { eachDialect, startTessera, type TestServer } from './helpers/tessera';

const API = 'https://payments.example/';
const PLAIN = 'https://plain-payments.example/';
const PAYMENT = { type: 'payment_initiation', instructedAmount: { currency: 'EUR', amount: '10.00' } };
const MULTI_FACTOR = 'http://schemas.openid.net/pape/policies/2007/06/multi-factor';
const codeAt = (secret: string, ms: number) => new TOTP({ algorithm: 'SHA1', digits: 6, period: 30, secret: Secret.fromBase32(secret) }).generate({ timestamp: ms });

eachDialect('consent_policy transactional-authorization-with-mfa', (dialect) => {
  let s: TestServer;
  let app: { clientId: string; secret: string };
  let userId: string;
  let secret: string;
  let b: Browser;
  const email = 'tx@example.com';
  const p = pkce();
  const query = (audience: string, extra: Record<string, string> = {}) => new URLSearchParams({
    client_id: app.clientId, response_type: 'code', redirect_uri: CALLBACK, audience, scope: 'openid payments:initiate', state: 'st',
    code_challenge: p.challenge, code_challenge_method: 'S256', authorization_details: JSON.stringify([PAYMENT]), ...extra,
  });
  const tokens = async (location: string | undefined) => {
    const cb = callbackParams(location);
    expect(cb.code, JSON.stringify(cb)).toBeDefined();
    const r = await exchange(s, { code: cb.code, client_id: app.clientId, client_secret: app.secret, code_verifier: p.verifier });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    return r.body as { access_token: string; authorization_details?: unknown };
  };
  const withoutDetails = (audience: string) => { const q = query(audience); q.delete('authorization_details'); return q; };

  beforeAll(async () => {
    s = await startTessera(dialect);
    for (const identifier of [API, PLAIN]) {
      const r = await s.api('POST', '/resource-servers', {
        identifier, name: identifier === API ? 'Payments' : 'Plain payments', scopes: [{ value: 'payments:initiate', description: 'Initiate payments' }],
        authorization_details: [{ type: 'payment_initiation' }], skip_consent_for_verifiable_first_party_clients: true,
        ...(identifier === API && { consent_policy: 'transactional-authorization-with-mfa' }),
      });
      expect(r.status, JSON.stringify(r.body)).toBe(201);
    }
    app = await createWebApp(s);
    for (const audience of [API, PLAIN]) {
      expect((await s.api('POST', '/client-grants', { client_id: app.clientId, audience, scope: ['payments:initiate'], subject_type: 'user', authorization_details_types: ['payment_initiation'] })).status).toBe(201);
    }
    userId = await createUser(s, email);
    // a session with a second factor: enroll through acr_values, on a request that does not involve the transactional API
    b = new Browser(s);
    const start = await b.get(`/authorize?${withoutDetails(PLAIN)}&acr_values=${encodeURIComponent(MULTI_FACTOR)}`);
    const lp = await b.get(start.location as string);
    const mfa = await b.post('/u/login', { ...hiddenFields(lp.body), username: email, password: PASSWORD });
    const page = await b.get(mfa.location as string);
    secret = (/<code id="totp-secret">([A-Z2-7 ]+)<\/code>/.exec(page.body)?.[1] as string).replace(/ /g, '');
    const ok = await b.post('/u/mfa', { ...hiddenFields(page.body), action: 'otp', code: codeAt(secret, s.clock.now()) });
    await tokens((await b.post('/u/mfa/continue', hiddenFields(ok.body))).location);
  });
  afterAll(async () => { await s.close(); });

  it('with authorization_details: consent every time, even for a first-party client the API would skip; never remembered', async () => {
    const first = await b.get(`/authorize?${query(API)}`);
    expect(first.location).toMatch(/^\/u\/consent\?/);
    const page = await b.get(first.location as string);
    expect(page.body).toContain('id="transaction-mfa"'); // the login's second factor belongs to another transaction
    s.clock.advance(30);
    const ok = await b.post('/u/consent', { ...hiddenFields(page.body), action: 'accept', code: codeAt(secret, s.clock.now()) });
    const t = await tokens(ok.location);
    expect(decodeJwt(t.access_token)).toMatchObject({ amr: ['mfa'], authorization_details: [PAYMENT] });
    // the same request again: consent again, and nothing was remembered
    expect((await b.get(`/authorize?${query(API)}`)).location).toMatch(/^\/u\/consent\?/);
    expect((await s.api('GET', `/grants?user_id=${encodeURIComponent(userId)}&audience=${encodeURIComponent(API)}`)).body).toEqual([]);
  });

  it('without authorization_details the normal consent rules apply (here: skipped for the first-party client)', async () => {
    const r = await b.get(`/authorize?${withoutDetails(API)}`);
    expect(callbackParams(r.location).code).toBeDefined();
    // and an API without the policy does not ask for consent with details either
    expect(callbackParams((await b.get(`/authorize?${query(PLAIN)}`)).location).code).toBeDefined();
  });

  it('refusals: accept without a code, a wrong code, a replayed code, prompt=none, declining', async () => {
    const start = await b.get(`/authorize?${query(API)}`);
    const page = await b.get(start.location as string);
    // accepting without a code issues nothing: back to the consent page
    const bare = await b.post('/u/consent', { ...hiddenFields(page.body), action: 'accept' });
    expect(bare.location).toMatch(/^\/u\/consent\?/);
    const wrong = await b.post('/u/consent', { ...hiddenFields(page.body), action: 'accept', code: '000000' });
    expect(wrong.status).toBe(401);
    expect(wrong.body).toContain('That code is not valid');
    // the code accepted in the previous test (same step): refused
    const replay = await b.post('/u/consent', { ...hiddenFields(page.body), action: 'accept', code: codeAt(secret, s.clock.now()) });
    expect(replay.status).toBe(401);
    expect(callbackParams((await b.get(`/authorize?${query(API, { prompt: 'none' })}`)).location)).toMatchObject({ error: 'consent_required' });
    expect(callbackParams((await b.post('/u/consent', { ...hiddenFields(page.body), action: 'deny' })).location)).toMatchObject({ error: 'access_denied' });
    s.clock.advance(30);
    const right = await b.post('/u/consent', { ...hiddenFields(wrong.body), action: 'accept', code: codeAt(secret, s.clock.now()) });
    expect(decodeJwt((await tokens(right.location)).access_token).amr).toEqual(['mfa']);
  });

  it('a user without a second factor enrolls before consenting; the enrollment counts for the transaction', async () => {
    await createUser(s, 'tx-new@example.com');
    const nb = new Browser(s);
    const start = await nb.get(`/authorize?${query(API)}`);
    const lp = await nb.get(start.location as string);
    const afterLogin = await nb.post('/u/login', { ...hiddenFields(lp.body), username: 'tx-new@example.com', password: PASSWORD });
    expect(afterLogin.location).toMatch(/^\/u\/consent\?/);
    const toEnroll = await nb.get(afterLogin.location as string);
    expect(toEnroll.location).toMatch(/^\/u\/mfa\?/);
    const page = await nb.get(toEnroll.location as string);
    const key = (/<code id="totp-secret">([A-Z2-7 ]+)<\/code>/.exec(page.body)?.[1] as string).replace(/ /g, '');
    const rec = await nb.post('/u/mfa', { ...hiddenFields(page.body), action: 'otp', code: codeAt(key, s.clock.now()) });
    const consent = await nb.get((await nb.post('/u/mfa/continue', hiddenFields(rec.body))).location as string);
    expect(consent.status).toBe(200);
    expect(consent.body).not.toContain('id="transaction-mfa"');
    const t = await tokens((await nb.post('/u/consent', { ...hiddenFields(consent.body), action: 'accept' })).location);
    expect(decodeJwt(t.access_token)).toMatchObject({ amr: ['mfa'], authorization_details: [PAYMENT] });
  });
});
