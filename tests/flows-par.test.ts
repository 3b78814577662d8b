import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorize, Browser, CALLBACK, callbackParams, createApi, createUser, createWebApp, exchange, pkce } from './helpers/flows';
import { eachDialect, PUBLIC_URL, startTessera, type TestServer } from './helpers/tessera';

/** Pushed authorization requests (RFC 9126): the push, the single-use request_uri, and every refusal. */
const API = 'https://par.example/';
const PAYMENT = { type: 'payment', instructedAmount: { amount: '10.00', currency: 'EUR' } };
const UNUSABLE = 'The request_uri is invalid, has expired or was already used. Start again from the application.';

eachDialect('pushed authorization requests (RFC 9126)', (dialect) => {
  let s: TestServer;
  let app: { clientId: string; secret: string };
  let other: { clientId: string; secret: string };
  beforeAll(async () => {
    s = await startTessera(dialect);
    await createApi(s, API, { authorization_details: [{ type: 'payment' }] });
    app = await createWebApp(s);
    other = await createWebApp(s, { name: 'Other' });
    expect((await s.api('POST', '/client-grants', { client_id: app.clientId, audience: API, scope: ['read:orders'], subject_type: 'user', authorization_details_types: ['payment'] })).status).toBe(201);
    await createUser(s, 'par@example.com');
  });
  afterAll(async () => { await s.close(); });

  const push = async (params: Record<string, string>, auth: Record<string, string> = { client_id: app.clientId, client_secret: app.secret }) => {
    const r = await s.t.app.inject({ method: 'POST', url: '/oauth/par', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams({ ...auth, ...params }).toString() });
    return { status: r.statusCode, body: JSON.parse(r.body), headers: r.headers };
  };
  const base = () => ({ response_type: 'code', redirect_uri: CALLBACK, audience: API, scope: 'openid read:orders', state: 'pushed-state' });

  it('answers 201 with a request_uri and expires_in 30; /authorize uses only the pushed parameters', async () => {
    const { verifier, challenge } = pkce();
    const r = await push({ ...base(), code_challenge: challenge, code_challenge_method: 'S256', authorization_details: JSON.stringify([PAYMENT]) });
    expect(r.status).toBe(201);
    expect(r.headers['cache-control']).toBe('no-store');
    expect(Object.keys(r.body)).toEqual(['request_uri', 'expires_in']);
    expect(r.body.request_uri).toMatch(/^urn:ietf:params:oauth:request_uri:[A-Za-z0-9_-]{43}$/);
    expect(r.body.expires_in).toBe(30);
    // a state in the query is not the pushed one: only the pushed parameters count
    const { res, pages } = await authorize(s, new Browser(s), { client_id: app.clientId, request_uri: r.body.request_uri, state: 'from-the-query' }, { email: 'par@example.com' });
    expect(pages).toEqual(['login', 'consent']);
    const cb = callbackParams(res.location);
    expect(cb.state).toBe('pushed-state');
    const t = await exchange(s, { client_id: app.clientId, client_secret: app.secret, code: cb.code, code_verifier: verifier });
    expect(t.status).toBe(200);
    expect(t.body.authorization_details).toEqual([PAYMENT]);
  });

  it('Basic authentication works as at the token endpoint', async () => {
    const basic = Buffer.from(`${encodeURIComponent(app.clientId)}:${encodeURIComponent(app.secret)}`).toString('base64');
    const r = await s.t.app.inject({ method: 'POST', url: '/oauth/par', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${basic}` }, payload: new URLSearchParams(base()).toString() });
    expect(r.statusCode).toBe(201);
  });

  describe('refusals', () => {
    it('a replayed request_uri', async () => {
      const { body } = await push(base());
      const b = new Browser(s);
      expect((await b.get(`/authorize?${new URLSearchParams({ client_id: app.clientId, request_uri: body.request_uri })}`)).status).toBe(302);
      const again = await new Browser(s).get(`/authorize?${new URLSearchParams({ client_id: app.clientId, request_uri: body.request_uri })}`);
      expect(again.status).toBe(400);
      expect(again.body).toContain(UNUSABLE);
    });

    it('an expired request_uri (after 30 s)', async () => {
      const { body } = await push(base());
      s.clock.advance(31);
      const r = await new Browser(s).get(`/authorize?${new URLSearchParams({ client_id: app.clientId, request_uri: body.request_uri })}`);
      expect(r.status).toBe(400);
      expect(r.body).toContain(UNUSABLE);
    });

    it('the request_uri of another client, which stays usable by its own client', async () => {
      const { body } = await push(base());
      const stolen = await new Browser(s).get(`/authorize?${new URLSearchParams({ client_id: other.clientId, request_uri: body.request_uri })}`);
      expect(stolen.status).toBe(400);
      expect(stolen.body).toContain(UNUSABLE);
      expect((await new Browser(s).get(`/authorize?${new URLSearchParams({ client_id: app.clientId, request_uri: body.request_uri })}`)).location).toMatch(/^\/u\/login/);
    });

    it('a push without client authentication, or with a wrong secret', async () => {
      expect(await push(base(), { client_id: app.clientId })).toMatchObject({ status: 401, body: { error: 'access_denied', error_description: 'Unauthorized' } });
      expect(await push(base(), { client_id: app.clientId, client_secret: 'wrong' })).toMatchObject({ status: 401, body: { error: 'access_denied' } });
    });

    it('request_uri inside the pushed body', async () => {
      const r = await push({ ...base(), request_uri: 'urn:ietf:params:oauth:request_uri:abc' });
      expect(r).toMatchObject({ status: 400, body: { error: 'invalid_request', error_description: 'request_uri must not be sent to the pushed authorization request endpoint' } });
    });

    it('invalid parameters are refused at the push as JSON errors (unknown type, unregistered callback)', async () => {
      expect((await push({ ...base(), authorization_details: JSON.stringify([{ type: 'refund' }]) })).body).toEqual({ error: 'invalid_authorization_details', error_description: `authorization_details type "refund" is not registered on the API ${API}` });
      expect((await push({ ...base(), redirect_uri: 'https://evil.example/cb' })).body).toEqual({ error: 'invalid_request', error_description: 'Callback URL mismatch. https://evil.example/cb is not in the list of allowed callback URLs' });
    });

    it('a client with require_pushed_authorization_requests sending a plain /authorize', async () => {
      const strict = await createWebApp(s, { name: 'Strict', require_pushed_authorization_requests: true });
      expect((await s.api('GET', `/clients/${strict.clientId}`)).body.require_pushed_authorization_requests).toBe(true);
      const r = await new Browser(s).get(`/authorize?${new URLSearchParams({ ...base(), client_id: strict.clientId })}`);
      expect(callbackParams(r.location)).toEqual({ error: 'invalid_request', error_description: 'This client requires pushed authorization requests: push the request to /oauth/par and send its request_uri', state: 'pushed-state', iss: `${PUBLIC_URL}/` });
      const { body } = await push(base(), { client_id: strict.clientId, client_secret: strict.secret });
      expect((await new Browser(s).get(`/authorize?${new URLSearchParams({ client_id: strict.clientId, request_uri: body.request_uri })}`)).location).toMatch(/^\/u\/login/);
    });
  });

  it('discovery advertises the endpoint and does not require PAR for every client', async () => {
    const doc = JSON.parse((await s.t.app.inject({ method: 'GET', url: '/.well-known/openid-configuration' })).body);
    expect(doc).toMatchObject({ pushed_authorization_request_endpoint: `${PUBLIC_URL}/oauth/par`, require_pushed_authorization_requests: false });
  });
});
