import { createLocalJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  authorize, Browser, CALLBACK, callbackParams, createApi, createUser, createWebApp, exchange, pkce,
} from './helpers/flows';
import { eachDialect, PUBLIC_URL, startTessera, type TestServer } from './helpers/tessera';

/**
 * Rich Authorization Requests (RFC 9396) at /authorize, on the consent page and at the token endpoint: the types an
 * API registers, the types a client grant allows, narrowing on exchange and refresh, and every refusal.
 */
const API = 'https://payments.example/';
const OTHER_API = 'https://plain.example/';
const PAYMENT = { type: 'payment', instructedAmount: { amount: '2500.00', currency: 'EUR' }, creditorName: 'Merchant <A> & "Sons"', creditorAccount: { iban: 'DE02100100109307118603' } };
const SHIPPING = { type: 'shipping', address: ['1 Main St', 'Springfield'] };

eachDialect('rich authorization requests (RFC 9396)', (dialect) => {
  let s: TestServer;
  let app: { clientId: string; secret: string };
  let bare: { clientId: string; secret: string };
  let userId: string;
  let jwks: ReturnType<typeof createLocalJWKSet>;

  beforeAll(async () => {
    s = await startTessera(dialect);
    await createApi(s, API, { allow_offline_access: true, authorization_details: [{ type: 'payment' }, { type: 'shipping' }, { type: 'not-granted' }] });
    await createApi(s, OTHER_API);
    app = await createWebApp(s);
    bare = await createWebApp(s, { name: 'No grant' });
    expect((await s.api('POST', '/client-grants', { client_id: app.clientId, audience: API, scope: ['read:orders'], subject_type: 'user', authorization_details_types: ['payment', 'shipping'] })).status).toBe(201);
    userId = await createUser(s, 'payer@example.com');
    jwks = createLocalJWKSet(JSON.parse((await s.t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).body));
  });
  afterAll(async () => { await s.close(); });

  const query = (details: unknown, extra: Record<string, string> = {}) => ({
    response_type: 'code', client_id: app.clientId, redirect_uri: CALLBACK, audience: API, scope: 'openid read:orders offline_access', state: 'st',
    authorization_details: typeof details === 'string' ? details : JSON.stringify(details), ...extra,
  });

  /** Logs in, accepts consent and exchanges the code; returns the token response and the consent page. */
  async function flow(details: unknown, tokenExtra: Record<string, string> = {}) {
    const b = new Browser(s);
    const { verifier, challenge } = pkce();
    const { res, pages, consentHtml } = await authorize(s, b, query(details, { code_challenge: challenge, code_challenge_method: 'S256' }), { email: 'payer@example.com' });
    const cb = callbackParams(res.location);
    expect(cb.code, JSON.stringify(cb)).toBeDefined();
    const t = await exchange(s, { client_id: app.clientId, client_secret: app.secret, code: cb.code, code_verifier: verifier, ...tokenExtra });
    return { t, pages, consentHtml, b, code: cb.code, verifier };
  }

  describe('discovery', () => {
    const types = async () => JSON.parse((await s.t.app.inject({ method: 'GET', url: '/.well-known/openid-configuration' })).body).authorization_details_types_supported;

    it('authorization_details_types_supported is the union of every API\'s types and follows Management API changes', async () => {
      expect(await types()).toEqual(['not-granted', 'payment', 'shipping']);
      const created = await s.api('POST', '/resource-servers', { identifier: 'https://accounts.example/', authorization_details: [{ type: 'account_information' }, { type: 'payment' }] });
      expect(created.status).toBe(201);
      expect(await types()).toEqual(['account_information', 'not-granted', 'payment', 'shipping']);
      expect((await s.api('PATCH', `/resource-servers/${created.body.id}`, { authorization_details: [{ type: 'payment' }] })).status).toBe(200);
      expect(await types()).toEqual(['not-granted', 'payment', 'shipping']);
      // a refused write changes nothing
      expect((await s.api('PATCH', `/resource-servers/${created.body.id}`, { authorization_details: [{ type: 42 }] })).status).toBe(400);
      expect(await types()).toEqual(['not-granted', 'payment', 'shipping']);
      expect((await s.api('PATCH', `/resource-servers/${created.body.id}`, { authorization_details: [{ type: 'account_information' }] })).status).toBe(200);
      expect((await s.api('DELETE', `/resource-servers/${created.body.id}`)).status).toBe(204);
      expect(await types()).toEqual(['not-granted', 'payment', 'shipping']);
    });

    it('a write by another instance sharing the store is picked up through the change feed', async () => {
      const store = s.t.services.store;
      const other = (await store.resourceServers.findByIdentifier(OTHER_API))!;
      await types(); // cached now
      // committed straight to the store, as another process would: no local notification
      await store.write((tx) => tx.resourceServers.insert({ ...other, id: 'rs_elsewhere0000000000000', identifier: 'https://elsewhere.example/', authorization_details: [{ type: 'elsewhere' }] }));
      await s.t.services.changes.poll();
      expect(await types()).toEqual(['elsewhere', 'not-granted', 'payment', 'shipping']);
    });
  });

  describe('issued details', () => {
    it('the consent page lists each entry field by field, escaped, under the strict CSP', async () => {
      const b = new Browser(s);
      const r = await authorize(s, b, query([PAYMENT, SHIPPING]), { email: 'payer@example.com', consent: 'deny' });
      expect(r.pages).toEqual(['login', 'consent']);
      const html = r.consentHtml as string;
      expect(html).toContain('<section class="detail"><h2><code>payment</code></h2>');
      expect(html).toContain('<dt>Instructed amount</dt><dd><dl><dt>Amount</dt><dd>2500.00</dd><dt>Currency</dt><dd>EUR</dd></dl></dd>');
      expect(html).toContain('<dt>Creditor name</dt><dd>Merchant &lt;A&gt; &amp; &quot;Sons&quot;</dd>');
      expect(html).toContain('<dt>Address</dt><dd><ul><li>1 Main St</li><li>Springfield</li></ul></dd>');
      expect(html).not.toContain('<A>');
      expect(html).not.toMatch(/<script/);
      expect(callbackParams(r.res.location)).toMatchObject({ error: 'access_denied', state: 'st' });
    });

    it('a hostile field cannot inject markup or script into the consent page', async () => {
      const b = new Browser(s);
      const evil = { type: 'payment', '<img src=x onerror=alert(1)>': '</dd><script>alert(1)</script>' };
      await authorize(s, b, query([evil]), { email: 'payer@example.com', consent: 'deny' });
      const page = await b.get(`/authorize?${new URLSearchParams(query([evil]))}`);
      const consent = await b.get(page.location as string);
      expect(consent.status).toBe(200);
      expect(consent.body).not.toContain('<script>alert');
      expect(consent.body).not.toContain('<img');
      expect(consent.body).toContain('&lt;/dd&gt;&lt;script&gt;alert(1)&lt;/script&gt;');
      expect(String(consent.headers['content-security-policy'])).toMatch(/script-src 'none'/);
    });

    it('the token response and the signed access token carry the approved details', async () => {
      const { t, pages } = await flow([PAYMENT, SHIPPING]);
      expect(pages).toEqual(['login', 'consent']);
      expect(t.status, JSON.stringify(t.body)).toBe(200);
      expect(Object.keys(t.body)).toEqual(['access_token', 'refresh_token', 'id_token', 'scope', 'expires_in', 'token_type', 'authorization_details']);
      expect(t.body.authorization_details).toEqual([PAYMENT, SHIPPING]);
      const { payload } = await jwtVerify(t.body.access_token, jwks, { issuer: `${PUBLIC_URL}/`, audience: API });
      expect(payload).toMatchObject({ sub: userId, authorization_details: [PAYMENT, SHIPPING] });
    });

    it('consent for details is asked on every transaction, never remembered', async () => {
      await flow([PAYMENT]);
      const again = await flow([PAYMENT]);
      expect(again.pages).toEqual(['login', 'consent']);
      // the same scopes without details are remembered as usual
      const b = new Browser(s);
      const plain = { response_type: 'code', client_id: app.clientId, redirect_uri: CALLBACK, audience: API, scope: 'openid read:orders offline_access' };
      expect((await authorize(s, b, plain, { email: 'payer@example.com' })).pages).toEqual(['login']);
    });

    it('prompt=none with details → consent_required', async () => {
      const { b } = await flow([PAYMENT]);
      const r = await b.get(`/authorize?${new URLSearchParams(query([PAYMENT], { prompt: 'none' }))}`);
      expect(callbackParams(r.location)).toMatchObject({ error: 'consent_required', state: 'st' });
    });

    it('the code exchange may narrow to a subset of the approved entries, and the refresh token keeps the whole grant', async () => {
      const { t } = await flow([PAYMENT, SHIPPING], { authorization_details: JSON.stringify([SHIPPING]) });
      expect(t.status, JSON.stringify(t.body)).toBe(200);
      expect(t.body.authorization_details).toEqual([SHIPPING]);
      const r = await s.token({ grant_type: 'refresh_token', client_id: app.clientId, client_secret: app.secret, refresh_token: t.body.refresh_token });
      expect(r.status).toBe(200);
      expect(r.body.authorization_details).toEqual([PAYMENT, SHIPPING]);
    });

    it('a JSON token request may send the details as a JSON array', async () => {
      const b = new Browser(s);
      const { verifier, challenge } = pkce();
      const { res } = await authorize(s, b, query([PAYMENT, SHIPPING], { code_challenge: challenge, code_challenge_method: 'S256' }), { email: 'payer@example.com' });
      const t = await s.token({ grant_type: 'authorization_code', client_id: app.clientId, client_secret: app.secret, code: callbackParams(res.location).code, code_verifier: verifier, redirect_uri: CALLBACK, authorization_details: [PAYMENT] as unknown as string }, { json: true });
      expect(t.status, JSON.stringify(t.body)).toBe(200);
      expect(t.body.authorization_details).toEqual([PAYMENT]);
    });

    it('a refresh may narrow (key order does not matter) but not widen', async () => {
      const { t } = await flow([PAYMENT]);
      const reordered = { creditorAccount: PAYMENT.creditorAccount, creditorName: PAYMENT.creditorName, instructedAmount: { currency: 'EUR', amount: '2500.00' }, type: 'payment' };
      const ok = await s.token({ grant_type: 'refresh_token', client_id: app.clientId, client_secret: app.secret, refresh_token: t.body.refresh_token, authorization_details: JSON.stringify([reordered]) });
      expect(ok.status, JSON.stringify(ok.body)).toBe(200);
      expect(ok.body.authorization_details).toEqual([reordered]);
      const wider = await s.token({ grant_type: 'refresh_token', client_id: app.clientId, client_secret: app.secret, refresh_token: t.body.refresh_token, authorization_details: JSON.stringify([{ ...PAYMENT, instructedAmount: { amount: '9999.00', currency: 'EUR' } }]) });
      expect(wider.status).toBe(400);
      expect(wider.body).toEqual({ error: 'invalid_authorization_details', error_description: 'authorization_details exceeds what was authorized: the entry of type "payment" was not granted' });
    });

    it('details whose type was withdrawn from the client grant since the approval drop out of refreshed tokens', async () => {
      const other = await createWebApp(s, { name: 'Withdrawn' });
      const g = await s.api('POST', '/client-grants', { client_id: other.clientId, audience: API, scope: ['read:orders'], subject_type: 'user', authorization_details_types: ['payment', 'shipping'] });
      const b = new Browser(s);
      const { verifier, challenge } = pkce();
      const { res } = await authorize(s, b, { ...query([PAYMENT, SHIPPING], { code_challenge: challenge, code_challenge_method: 'S256' }), client_id: other.clientId }, { email: 'payer@example.com' });
      const t = await exchange(s, { client_id: other.clientId, client_secret: other.secret, code: callbackParams(res.location).code, code_verifier: verifier });
      expect(t.body.authorization_details).toEqual([PAYMENT, SHIPPING]);
      expect((await s.api('PATCH', `/client-grants/${g.body.id}`, { authorization_details_types: ['shipping'] })).status).toBe(200);
      const r = await s.token({ grant_type: 'refresh_token', client_id: other.clientId, client_secret: other.secret, refresh_token: t.body.refresh_token });
      expect(r.body.authorization_details).toEqual([SHIPPING]);
    });
  });

  describe('refusals at /authorize (redirected as invalid_authorization_details)', () => {
    const cases: Array<[string, unknown, string, Record<string, string>?]> = [
      ['malformed JSON', '[{"type":"payment"', 'authorization_details must be valid JSON'],
      ['not an array', { type: 'payment' }, 'authorization_details must be a JSON array'],
      ['an empty array', [], 'authorization_details must not be empty'],
      ['an entry that is not an object', ['payment'], 'authorization_details[0] must be a JSON object'],
      ['an entry without type', [{ type: 'payment' }, { amount: 1 }], 'authorization_details[1] is missing the required field type'],
      ['a type that is not a string', [{ type: 7 }], 'authorization_details[0].type must be a non-empty string'],
      ['a type the API does not register', [{ type: 'refund' }], `authorization_details type "refund" is not registered on the API ${API}`],
      ['a registered type the client grant does not allow', [{ type: 'not-granted' }], `authorization_details type "not-granted" is not allowed for this client: add it to the authorization_details_types of the client's user grant for ${API}`],
      ['no audience', [PAYMENT], 'authorization_details needs an audience: the API that registers the authorization details types', { audience: '' }],
      ['an API without registered types', [PAYMENT], `authorization_details type "payment" is not registered on the API ${OTHER_API}`, { audience: OTHER_API }],
      ['nesting deeper than 8 levels', [{ type: 'payment', a: [[[[[[[[1]]]]]]]] }], 'authorization_details is nested deeper than 8 levels'],
      ['more than 20 entries', Array.from({ length: 21 }, () => SHIPPING), 'authorization_details has 21 entries, at most 20 are allowed'],
    ];
    for (const [name, details, description, extra] of cases) {
      it(name, async () => {
        const q: Record<string, string> = query(details, extra);
        if (q.audience === '') delete q.audience;
        const r = await new Browser(s).get(`/authorize?${new URLSearchParams(q)}`);
        expect(r.status).toBe(302);
        expect(callbackParams(r.location)).toEqual({ error: 'invalid_authorization_details', error_description: description, state: 'st', iss: `${PUBLIC_URL}/` });
      });
    }

    it('a client without a user grant for the API may not ask for any type', async () => {
      const r = await new Browser(s).get(`/authorize?${new URLSearchParams({ ...query([PAYMENT]), client_id: bare.clientId })}`);
      expect(callbackParams(r.location)).toMatchObject({ error: 'invalid_authorization_details', error_description: `authorization_details type "payment" is not allowed for this client: add it to the authorization_details_types of the client's user grant for ${API}` });
    });

    it('a type withdrawn from the API while the user logs in is refused after the login', async () => {
      const id = (await s.api('GET', `/resource-servers/${encodeURIComponent(API)}`)).body.id as string;
      const b = new Browser(s);
      const start = await b.get(`/authorize?${new URLSearchParams(query([SHIPPING]))}`);
      expect(start.location).toMatch(/^\/u\/login/);
      expect((await s.api('PATCH', `/resource-servers/${id}`, { authorization_details: [{ type: 'payment' }, { type: 'not-granted' }] })).status).toBe(200);
      try {
        const { res } = await authorize(s, b, query([SHIPPING]), { email: 'payer@example.com' });
        expect(callbackParams(res.location)).toMatchObject({ error: 'invalid_authorization_details', error_description: `authorization_details type "shipping" is not registered on the API ${API}` });
      } finally {
        expect((await s.api('PATCH', `/resource-servers/${id}`, { authorization_details: [{ type: 'payment' }, { type: 'shipping' }, { type: 'not-granted' }] })).status).toBe(200);
      }
    });
  });

  describe('refusals at the token endpoint', () => {
    it('narrowing to an entry that was not approved is refused and leaves the code usable', async () => {
      const b = new Browser(s);
      const { verifier, challenge } = pkce();
      const { res } = await authorize(s, b, query([SHIPPING], { code_challenge: challenge, code_challenge_method: 'S256' }), { email: 'payer@example.com' });
      const code = callbackParams(res.location).code;
      const bad = await exchange(s, { client_id: app.clientId, client_secret: app.secret, code, code_verifier: verifier, authorization_details: JSON.stringify([PAYMENT]) });
      expect(bad.status).toBe(400);
      expect(bad.body).toEqual({ error: 'invalid_authorization_details', error_description: 'authorization_details exceeds what was authorized: the entry of type "payment" was not granted' });
      const malformed = await exchange(s, { client_id: app.clientId, client_secret: app.secret, code, code_verifier: verifier, authorization_details: '{' });
      expect(malformed.body).toEqual({ error: 'invalid_authorization_details', error_description: 'authorization_details must be valid JSON' });
      const good = await exchange(s, { client_id: app.clientId, client_secret: app.secret, code, code_verifier: verifier });
      expect(good.status).toBe(200);
      expect(good.body.authorization_details).toEqual([SHIPPING]);
    });

    it('a code issued without details cannot gain any at the exchange', async () => {
      const b = new Browser(s);
      const { verifier, challenge } = pkce();
      const plain = { response_type: 'code', client_id: app.clientId, redirect_uri: CALLBACK, audience: API, scope: 'read:orders', code_challenge: challenge, code_challenge_method: 'S256' };
      const { res } = await authorize(s, b, plain, { email: 'payer@example.com' });
      const t = await exchange(s, { client_id: app.clientId, client_secret: app.secret, code: callbackParams(res.location).code, code_verifier: verifier, authorization_details: JSON.stringify([SHIPPING]) });
      expect(t.status).toBe(400);
      expect(t.body.error).toBe('invalid_authorization_details');
    });

    it('client_credentials refuses authorization_details (Auth0 offers RAR for user flows only)', async () => {
      const m2m = await s.api('POST', '/clients', { name: 'M2M', app_type: 'non_interactive', grant_types: ['client_credentials'] });
      expect((await s.api('POST', '/client-grants', { client_id: m2m.body.client_id, audience: API, scope: ['read:orders'] })).status).toBe(201);
      const creds = { grant_type: 'client_credentials', client_id: m2m.body.client_id, client_secret: m2m.body.client_secret, audience: API };
      const r = await s.token({ ...creds, authorization_details: JSON.stringify([PAYMENT]) });
      expect(r.status).toBe(400);
      expect(r.body).toEqual({ error: 'invalid_authorization_details', error_description: 'authorization_details is not supported with grant type client_credentials' });
      expect((await s.token(creds)).status).toBe(200);
    });

    it('the password grant refuses authorization_details', async () => {
      const r = await s.token({ grant_type: 'password', client_id: app.clientId, client_secret: app.secret, username: 'payer@example.com', password: 'Correct-Horse-9', audience: API, authorization_details: JSON.stringify([PAYMENT]) });
      expect(r.body).toEqual({ error: 'invalid_authorization_details', error_description: 'authorization_details is not supported with grant type password' });
    });
  });
});
