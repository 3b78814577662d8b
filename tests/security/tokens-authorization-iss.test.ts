import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorize, Browser, CALLBACK, callbackParams, createApi, createUser, createWebApp, hiddenFields, type Res } from '../helpers/flows';
import { eachDialect, PUBLIC_URL, startTessera, type TestServer } from '../helpers/tessera';

const API = 'https://iss.example/';
const ISSUER = `${PUBLIC_URL}/`;
const RESPONSE_TYPES = ['code', 'token', 'id_token', 'code token', 'code id_token', 'token id_token', 'code token id_token'];

/** The authorization response parameters, whichever way they were delivered. */
function responseParams(r: Res): Record<string, string> {
  if (r.status === 200) {
    expect(r.body).toContain(`<form method="post" action="${CALLBACK}">`);
    return hiddenFields(r.body);
  }
  expect(r.status).toBe(302);
  return callbackParams(r.location);
}

eachDialect('security: RFC 9207 iss on every authorization response', (dialect) => {
  let s: TestServer;
  let web: { clientId: string };
  let b: Browser;
  beforeAll(async () => {
    s = await startTessera(dialect);
    await createApi(s, API, { skip_consent_for_verifiable_first_party_clients: true });
    web = await createWebApp(s);
    await createUser(s, 'iss@example.com');
    b = new Browser(s);
    const first = await authorize(s, b, { response_type: 'code', client_id: web.clientId, redirect_uri: CALLBACK, audience: API, scope: 'openid', state: 'login' }, { email: 'iss@example.com' });
    expect(first.res.status).toBe(302);
  });
  afterAll(async () => { await s.close(); });

  const query = (response_type: string, response_mode: string | undefined, extra: Record<string, string> = {}) => new URLSearchParams({
    response_type, client_id: web.clientId, redirect_uri: CALLBACK, audience: API, scope: 'openid read:orders', nonce: 'n', state: 'st',
    ...(response_mode && { response_mode }), ...extra,
  });

  const cases = RESPONSE_TYPES.flatMap((t) => (t === 'code' ? ['query', 'fragment', 'form_post'] : ['fragment', 'form_post']).map((m) => [t, m] as const));

  it.each(cases)('response_type=%s, response_mode=%s carries iss with the result', async (type, mode) => {
    const p = responseParams(await b.get(`/authorize?${query(type, mode)}`));
    expect(p.iss).toBe(ISSUER);
    expect(p.state).toBe('st');
    for (const part of type.split(' ')) expect(p[part === 'token' ? 'access_token' : part]).toEqual(expect.any(String));
  });

  it('the default mode (query for code, fragment otherwise) carries iss', async () => {
    const code = await b.get(`/authorize?${query('code', undefined)}`);
    expect(code.location?.startsWith(`${CALLBACK}?`)).toBe(true);
    expect(callbackParams(code.location).iss).toBe(ISSUER);
    const implicit = await b.get(`/authorize?${query('id_token', undefined)}`);
    expect(implicit.location?.startsWith(`${CALLBACK}#`)).toBe(true);
    expect(callbackParams(implicit.location).iss).toBe(ISSUER);
  });

  describe('error responses', () => {
    it.each(['query', 'fragment', 'form_post'])('a request error redirected in %s mode carries iss', async (mode) => {
      const p = responseParams(await b.get(`/authorize?${query('code', mode, { prompt: 'banana' })}`));
      expect(p).toEqual({ error: 'invalid_request', error_description: 'Unsupported prompt: banana', state: 'st', iss: ISSUER });
    });

    it.each(['query', 'fragment', 'form_post'])('login_required (prompt=none without a session) in %s mode carries iss', async (mode) => {
      const p = responseParams(await new Browser(s).get(`/authorize?${query('code', mode, { prompt: 'none' })}`));
      expect(p).toEqual({ error: 'login_required', error_description: 'Login required', state: 'st', iss: ISSUER });
    });

    it('an unknown audience (access_denied after login) carries iss', async () => {
      const p = responseParams(await b.get(`/authorize?${query('code', 'query', { audience: 'https://unknown.example/' })}`));
      expect(p).toEqual({ error: 'access_denied', error_description: 'Service not found: https://unknown.example/', state: 'st', iss: ISSUER });
    });
  });
});

describe('security: discovery advertises only what exists', () => {
  let s: TestServer;
  let doc: Record<string, unknown>;
  beforeAll(async () => {
    s = await startTessera('sqlite');
    doc = (await s.t.app.inject({ method: 'GET', url: '/.well-known/openid-configuration' })).json();
  });
  afterAll(async () => { await s.close(); });

  it('says authorization responses carry iss (RFC 9207 §3)', () => {
    expect(doc.authorization_response_iss_parameter_supported).toBe(true);
  });

  it('lists no endpoint Tessera does not serve', () => {
    for (const key of ['device_authorization_endpoint', 'registration_endpoint', 'introspection_endpoint']) {
      expect(doc, key).not.toHaveProperty(key);
    }
  });

  it('every URL in the document is served (GET or POST answers something other than 404)', async () => {
    const urls = Object.entries(doc).filter(([k]) => k.endsWith('_endpoint') || k.endsWith('_uri'));
    expect(urls.map(([k]) => k).sort()).toEqual(['authorization_endpoint', 'end_session_endpoint', 'jwks_uri', 'mfa_challenge_endpoint', 'pushed_authorization_request_endpoint', 'revocation_endpoint', 'token_endpoint', 'userinfo_endpoint']);
    for (const [key, url] of urls) {
      expect(url).toMatch(new RegExp(`^${PUBLIC_URL}/`));
      const path = new URL(url as string).pathname;
      const answers = await Promise.all(['GET', 'POST'].map(async (method) => (await s.t.app.inject({ method: method as 'GET', url: path, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: method === 'POST' ? '' : undefined })).statusCode));
      expect(answers.some((status) => status !== 404), `${key} ${path} answered ${answers.join('/')}`).toBe(true);
      expect(answers.every((status) => status < 500), `${key} ${path} answered ${answers.join('/')}`).toBe(true);
    }
  });
});
