import { createHash } from 'node:crypto';
import { createLocalJWKSet, decodeJwt, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  authorize, Browser, CALLBACK, callbackParams, CONNECTION, createApi, createUser, createWebApp, PASSWORD,
} from './helpers/flows';
import { eachDialect, PUBLIC_URL, startTessera, type TestServer } from './helpers/tessera';

const REALM = 'http://auth0.com/oauth/grant-type/password-realm';
const API = 'https://orders.example/';
const BAD_REFRESH = { error: 'invalid_grant', error_description: 'Unknown or invalid refresh token.' };
const halfHash = (v: string) => createHash('sha256').update(v).digest().subarray(0, 16).toString('base64url');

eachDialect('refresh tokens, password grants, implicit/hybrid, userinfo, revoke', (dialect) => {
  let s: TestServer;
  let web: { clientId: string; secret: string };
  let ada: string;
  const password = (c: { clientId: string; secret: string }, extra: Record<string, string> = {}) =>
    s.token({ grant_type: REALM, realm: CONNECTION, username: 'ada@example.com', password: PASSWORD, client_id: c.clientId, client_secret: c.secret, audience: API, scope: 'openid offline_access read:orders', ...extra });

  beforeAll(async () => {
    s = await startTessera(dialect);
    await createApi(s, API, { allow_offline_access: true, skip_consent_for_verifiable_first_party_clients: true, token_lifetime: 7200, token_lifetime_for_web: 900 });
    await createApi(s, 'https://online.example/', { skip_consent_for_verifiable_first_party_clients: true });
    web = await createWebApp(s, { refresh_token: { rotation_type: 'rotating', expiration_type: 'expiring', leeway: 0, token_lifetime: 86400, idle_token_lifetime: 3600, infinite_token_lifetime: false, infinite_idle_token_lifetime: false } });
    ada = await createUser(s, 'ada@example.com', { name: 'Ada' });
  });
  afterAll(async () => { await s.close(); });

  describe('refresh_token issuance', () => {
    it('is issued with offline_access on an API that allows offline access, for a client with the grant', async () => {
      const r = await password(web);
      expect(Object.keys(r.body)).toEqual(['access_token', 'refresh_token', 'id_token', 'scope', 'expires_in', 'token_type']);
      expect(r.body.refresh_token).toMatch(/^v1\./);
      expect(r.body.scope).toBe('openid offline_access read:orders');
    });

    it('is not issued without offline_access, when the API disallows it, or when the client lacks the grant type', async () => {
      expect((await password(web, { scope: 'openid read:orders' })).body.refresh_token).toBeUndefined();
      const online = await password(web, { audience: 'https://online.example/' });
      expect(online.body.refresh_token).toBeUndefined();
      expect(online.body.scope).toBe('openid read:orders');
      const noRefresh = await createWebApp(s, { name: 'No refresh', grant_types: [REALM] });
      const r = await password(noRefresh);
      expect(r.status).toBe(200);
      expect(r.body.refresh_token).toBeUndefined();
    });
  });

  describe('refresh_token grant', () => {
    it('rotates: returns a new refresh token with gty refresh_token, and the same scopes', async () => {
      const first = await password(web);
      const r = await s.token({ grant_type: 'refresh_token', client_id: web.clientId, client_secret: web.secret, refresh_token: first.body.refresh_token });
      expect(r.status).toBe(200);
      expect(Object.keys(r.body)).toEqual(['access_token', 'refresh_token', 'id_token', 'scope', 'expires_in', 'token_type']);
      expect(r.body.refresh_token).not.toBe(first.body.refresh_token);
      expect(r.body.expires_in).toBe(7200);
      expect(decodeJwt(r.body.access_token)).toMatchObject({ gty: 'refresh_token', sub: ada, scope: 'openid offline_access read:orders' });
      expect(decodeJwt(r.body.id_token)).toMatchObject({ sub: ada, aud: web.clientId });
    });

    it('narrows scopes on request, and refuses scopes beyond the original grant', async () => {
      const first = await password(web);
      const narrow = await s.token({ grant_type: 'refresh_token', client_id: web.clientId, client_secret: web.secret, refresh_token: first.body.refresh_token, scope: 'read:orders' });
      expect(narrow.body.scope).toBe('read:orders');
      const wide = await s.token({ grant_type: 'refresh_token', client_id: web.clientId, client_secret: web.secret, refresh_token: narrow.body.refresh_token, scope: 'read:orders write:orders' });
      expect(wide.status).toBe(400);
      expect(wide.body).toEqual({ error: 'invalid_scope', error_description: 'The requested scope exceeds the scope granted by the resource owner: write:orders' });
    });

    it('reuse of a rotated token revokes the whole family', async () => {
      const first = await password(web);
      const second = await s.token({ grant_type: 'refresh_token', client_id: web.clientId, client_secret: web.secret, refresh_token: first.body.refresh_token });
      expect(second.status).toBe(200);
      const replay = await s.token({ grant_type: 'refresh_token', client_id: web.clientId, client_secret: web.secret, refresh_token: first.body.refresh_token });
      expect(replay.status).toBe(403);
      expect(replay.body).toEqual(BAD_REFRESH);
      const successor = await s.token({ grant_type: 'refresh_token', client_id: web.clientId, client_secret: web.secret, refresh_token: second.body.refresh_token });
      expect(successor.status).toBe(403);
      expect(successor.body).toEqual(BAD_REFRESH);
    });

    it('non-rotating clients keep using the same token and get no new one', async () => {
      const fixed = await createWebApp(s, { name: 'Non rotating' });
      const first = await password(fixed);
      for (let i = 0; i < 2; i++) {
        const r = await s.token({ grant_type: 'refresh_token', client_id: fixed.clientId, client_secret: fixed.secret, refresh_token: first.body.refresh_token });
        expect(r.status).toBe(200);
        expect(r.body.refresh_token).toBeUndefined();
      }
    });

    it('unknown tokens, other clients\' tokens and idle-expired tokens are "Unknown or invalid refresh token."', async () => {
      expect((await s.token({ grant_type: 'refresh_token', client_id: web.clientId, client_secret: web.secret, refresh_token: 'v1.nope' })).body).toEqual(BAD_REFRESH);
      const other = await createWebApp(s, { name: 'Other' });
      const mine = await password(web);
      const stolen = await s.token({ grant_type: 'refresh_token', client_id: other.clientId, client_secret: other.secret, refresh_token: mine.body.refresh_token });
      expect(stolen.status).toBe(403);
      expect(stolen.body).toEqual(BAD_REFRESH);
      s.clock.advance(3601);
      const idle = await s.token({ grant_type: 'refresh_token', client_id: web.clientId, client_secret: web.secret, refresh_token: mine.body.refresh_token });
      s.clock.advance(-3601);
      expect(idle.body).toEqual(BAD_REFRESH);
    });

    it('a client without the refresh_token grant type gets 403 unauthorized_client', async () => {
      const first = await password(web);
      await s.api('PATCH', `/clients/${web.clientId}`, { grant_types: [REALM, 'authorization_code', 'implicit'] });
      const r = await s.token({ grant_type: 'refresh_token', client_id: web.clientId, client_secret: web.secret, refresh_token: first.body.refresh_token });
      await s.api('PATCH', `/clients/${web.clientId}`, { grant_types: [REALM, 'authorization_code', 'implicit', 'refresh_token', 'password'] });
      expect(r.status).toBe(403);
      expect(r.body).toEqual({ error: 'unauthorized_client', error_description: "Grant type 'refresh_token' not allowed for the client.", error_uri: 'https://auth0.com/docs/clients/client-grant-types' });
    });
  });

  describe('password grants', () => {
    it('wrong password and unknown user are the same 403 "Wrong email or password."', async () => {
      for (const extra of [{ password: 'Wrong-pass-1' }, { username: 'ghost@example.com' }, { realm: 'other-connection' }] as Record<string, string>[]) {
        const r = await password(web, extra);
        expect(r.status).toBe(403);
        expect(r.body).toEqual({ error: 'invalid_grant', error_description: 'Wrong email or password.' });
      }
    });

    it('grant_type=password uses the database connection and gty password', async () => {
      const r = await s.token({ grant_type: 'password', username: 'ada@example.com', password: PASSWORD, client_id: web.clientId, client_secret: web.secret, audience: API, scope: 'read:orders' }, { json: true });
      expect(r.status).toBe(200);
      expect(decodeJwt(r.body.access_token)).toMatchObject({ gty: 'password', sub: ada, aud: API, scope: 'read:orders' });
    });

    it('an unknown audience is 403 "Service not enabled within domain"', async () => {
      const r = await password(web, { audience: 'https://nope.example/' });
      expect(r.status).toBe(403);
      expect(r.body).toEqual({ error: 'access_denied', error_description: 'Service not enabled within domain: https://nope.example/' });
    });

    it('without an audience the access token is for /userinfo only', async () => {
      const r = await password(web, { audience: '', scope: 'openid profile' });
      expect(r.status).toBe(200);
      expect(decodeJwt(r.body.access_token)).toMatchObject({ aud: `${PUBLIC_URL}/userinfo`, scope: 'openid profile' });
    });

    it('signing_alg applies to user tokens: HS256 with the API secret (no /userinfo audience), PS256 with the tenant key', async () => {
      const hs = await s.api('POST', '/resource-servers', { identifier: 'https://hs.example/', signing_alg: 'HS256', scopes: [{ value: 'read:orders' }] });
      const t = await password(web, { audience: 'https://hs.example/', scope: 'openid read:orders' });
      expect(t.status).toBe(200);
      const { payload, protectedHeader } = await jwtVerify(t.body.access_token, new TextEncoder().encode(hs.body.signing_secret), { issuer: `${PUBLIC_URL}/`, audience: 'https://hs.example/' });
      expect(protectedHeader).toEqual({ alg: 'HS256', typ: 'JWT' });
      expect(payload).toMatchObject({ aud: 'https://hs.example/', sub: ada, scope: 'openid read:orders' });
      await s.api('POST', '/resource-servers', { identifier: 'https://ps.example/', signing_alg: 'PS256', token_lifetime: 1234, scopes: [{ value: 'read:orders' }] });
      const ps = await password(web, { audience: 'https://ps.example/', scope: 'read:orders' });
      const jwks = createLocalJWKSet(JSON.parse((await s.t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).body));
      const verified = await jwtVerify(ps.body.access_token, jwks, { issuer: `${PUBLIC_URL}/`, audience: 'https://ps.example/', algorithms: ['PS256'] });
      expect(verified.payload.exp! - verified.payload.iat!).toBe(1234);
    });

    it('a client without the grant type gets unauthorized_client', async () => {
      const c = await createWebApp(s, { name: 'No ROPG', grant_types: ['authorization_code'] });
      const r = await password(c);
      expect(r.status).toBe(403);
      expect(r.body.error_description).toBe(`Grant type '${REALM}' not allowed for the client.`);
    });
  });

  describe('implicit and hybrid flows', () => {
    const q = (response_type: string, extra: Record<string, string> = {}) => ({
      response_type, client_id: web.clientId, redirect_uri: CALLBACK, audience: API, scope: 'openid read:orders', nonce: 'nn', state: 'st', ...extra,
    });

    it('token id_token: fragment response, token_lifetime_for_web, at_hash in the ID token', async () => {
      const r = await authorize(s, new Browser(s), q('token id_token'), { email: 'ada@example.com' });
      expect(r.res.location?.startsWith(`${CALLBACK}#`)).toBe(true);
      const p = callbackParams(r.res.location);
      expect(Object.keys(p).sort()).toEqual(['access_token', 'expires_in', 'id_token', 'iss', 'scope', 'state', 'token_type']);
      expect(p).toMatchObject({ token_type: 'Bearer', expires_in: '900', scope: 'openid read:orders', state: 'st' });
      const at = decodeJwt(p.access_token);
      expect(at.exp! - at.iat!).toBe(900);
      expect(decodeJwt(p.id_token)).toMatchObject({ nonce: 'nn', at_hash: halfHash(p.access_token), aud: web.clientId });
    });

    it('code id_token: c_hash, and the code exchanges normally', async () => {
      const r = await authorize(s, new Browser(s), q('code id_token'), { email: 'ada@example.com' });
      const p = callbackParams(r.res.location);
      expect(decodeJwt(p.id_token).c_hash).toBe(halfHash(p.code));
      const t = await s.token({ grant_type: 'authorization_code', client_id: web.clientId, client_secret: web.secret, code: p.code, redirect_uri: CALLBACK });
      expect(t.status).toBe(200);
      expect(t.body.expires_in).toBe(7200);
    });

    it('form_post answers with an auto-submitting form', async () => {
      const r = await authorize(s, new Browser(s), q('code', { response_mode: 'form_post' }), { email: 'ada@example.com' });
      expect(r.res.status).toBe(200);
      expect(r.res.body).toContain(`<form method="post" action="${CALLBACK}">`);
      expect(r.res.body).toMatch(/<input type="hidden" name="code" value="[A-Za-z0-9_-]{43}"><input type="hidden" name="state" value="st"><input type="hidden" name="iss" value="https:\/\/tessera\.test\/">/);
      expect(r.res.headers['content-security-policy']).toMatch(/script-src 'sha256-[^']+'.*form-action 'self' https:\/\/app\.example/);
    });

    it('an id_token response needs a nonce; query mode is refused for tokens; unknown response types are refused', async () => {
      const b = new Browser(s);
      const noNonce = await b.get(`/authorize?${new URLSearchParams(q('id_token', { nonce: '' }))}`);
      expect(callbackParams(noNonce.location)).toEqual({ error: 'invalid_request', error_description: 'Missing required parameter: nonce', state: 'st', iss: `${PUBLIC_URL}/` });
      const query = await b.get(`/authorize?${new URLSearchParams(q('token', { response_mode: 'query' }))}`);
      expect(callbackParams(query.location)).toEqual({ error: 'invalid_request', error_description: 'response_mode query is not allowed with response_type token', state: 'st', iss: `${PUBLIC_URL}/` });
      const weird = await b.get(`/authorize?${new URLSearchParams(q('code banana'))}`);
      expect(weird.location?.startsWith(`${CALLBACK}?`)).toBe(true);
      expect(callbackParams(weird.location)).toEqual({ error: 'unsupported_response_type', error_description: 'Unsupported response type: code banana', state: 'st', iss: `${PUBLIC_URL}/` });
    });

    it('implicit needs the implicit grant type on the client', async () => {
      const c = await createWebApp(s, { name: 'Code only', grant_types: ['authorization_code'] });
      const r = await new Browser(s).get(`/authorize?${new URLSearchParams({ ...q('token'), client_id: c.clientId })}`);
      expect(callbackParams(r.location)).toEqual({ error: 'unauthorized_client', error_description: "Grant type 'implicit' not allowed for the client.", state: 'st', iss: `${PUBLIC_URL}/` });
    });

    it('an unknown client or an unregistered redirect_uri renders an error page instead of redirecting', async () => {
      const unknown = await new Browser(s).get(`/authorize?${new URLSearchParams({ ...q('code'), client_id: 'nope' })}`);
      expect(unknown.status).toBe(400);
      expect(unknown.headers.location).toBeUndefined();
      expect(unknown.body).toContain('<strong>invalid_request</strong>: Unknown client: nope');
      const evil = await new Browser(s).get(`/authorize?${new URLSearchParams({ ...q('code'), redirect_uri: 'https://evil.example/cb' })}`);
      expect(evil.status).toBe(400);
      expect(evil.body).toContain('Callback URL mismatch. https://evil.example/cb is not in the list of allowed callback URLs');
    });

    it('PKCE plain is refused unless the client allows it', async () => {
      const plain = { code_challenge: 'a'.repeat(43), code_challenge_method: 'plain' };
      const refused = await new Browser(s).get(`/authorize?${new URLSearchParams(q('code', plain))}`);
      expect(callbackParams(refused.location)).toEqual({ error: 'invalid_request', error_description: 'code_challenge_method plain is not allowed for this client; use S256', state: 'st', iss: `${PUBLIC_URL}/` });
      const allowed = await createWebApp(s, { name: 'Plain PKCE', client_metadata: { tessera_allow_pkce_plain: 'true' } });
      const r = await authorize(s, new Browser(s), { ...q('code', plain), client_id: allowed.clientId }, { email: 'ada@example.com' });
      const t = await s.token({ grant_type: 'authorization_code', client_id: allowed.clientId, client_secret: allowed.secret, code: callbackParams(r.res.location).code, redirect_uri: CALLBACK, code_verifier: 'a'.repeat(43) });
      expect(t.status).toBe(200);
    });
  });

  describe('/userinfo and /oauth/revoke', () => {
    it('returns claims by scope for a token whose aud includes /userinfo', async () => {
      const t = await password(web, { scope: 'openid profile email read:orders' });
      const r = await s.t.app.inject({ method: 'GET', url: '/userinfo', headers: { authorization: `Bearer ${t.body.access_token}` } });
      expect(r.statusCode).toBe(200);
      expect(r.json()).toEqual({ sub: ada, name: 'Ada', nickname: 'ada', picture: expect.any(String), updated_at: expect.any(String), email: 'ada@example.com', email_verified: false });
      const onlyOpenid = await password(web, { scope: 'openid' });
      const minimal = await s.t.app.inject({ method: 'GET', url: '/userinfo', headers: { authorization: `Bearer ${onlyOpenid.body.access_token}` } });
      expect(minimal.json()).toEqual({ sub: ada });
    });

    it('refuses a token without the /userinfo audience, a missing token and an expired token with 401', async () => {
      const apiOnly = await password(web, { scope: 'read:orders' });
      const expired = await password(web, { scope: 'openid' });
      for (const authorization of [`Bearer ${apiOnly.body.access_token}`, undefined, 'Bearer garbage']) {
        const r = await s.t.app.inject({ method: 'GET', url: '/userinfo', headers: authorization ? { authorization } : {} });
        expect(r.statusCode).toBe(401);
        expect(r.body).toBe('Unauthorized');
        expect(r.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
      }
      s.clock.advance(7201);
      const late = await s.t.app.inject({ method: 'GET', url: '/userinfo', headers: { authorization: `Bearer ${expired.body.access_token}` } });
      s.clock.advance(-7201);
      expect(late.statusCode).toBe(401);
    });

    it('revokes a refresh token family (JSON or form), answers 200 for unknown tokens, 401 for bad client auth', async () => {
      for (const json of [true, false]) {
        const t = await password(web);
        const body = { client_id: web.clientId, client_secret: web.secret, token: t.body.refresh_token };
        const r = await s.t.app.inject({
          method: 'POST', url: '/oauth/revoke',
          headers: { 'content-type': json ? 'application/json' : 'application/x-www-form-urlencoded' },
          payload: json ? JSON.stringify(body) : new URLSearchParams(body).toString(),
        });
        expect(r.statusCode).toBe(200);
        expect(r.body).toBe('');
        const after = await s.token({ grant_type: 'refresh_token', client_id: web.clientId, client_secret: web.secret, refresh_token: t.body.refresh_token });
        expect(after.body).toEqual(BAD_REFRESH);
      }
      const unknown = await s.t.app.inject({ method: 'POST', url: '/oauth/revoke', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ client_id: web.clientId, client_secret: web.secret, token: 'v1.unknown' }) });
      expect(unknown.statusCode).toBe(200);
      const badAuth = await s.t.app.inject({ method: 'POST', url: '/oauth/revoke', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ client_id: web.clientId, client_secret: 'wrong', token: 'v1.x' }) });
      expect(badAuth.statusCode).toBe(401);
      expect(badAuth.json()).toEqual({ error: 'access_denied', error_description: 'Unauthorized' });
      const missing = await s.t.app.inject({ method: 'POST', url: '/oauth/revoke', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ client_id: web.clientId, client_secret: web.secret }) });
      expect(missing.statusCode).toBe(400);
      expect(missing.json()).toEqual({ error: 'invalid_request', error_description: 'Missing required parameter: token' });
    });

    it('deleting a user ends their refresh tokens and sessions', async () => {
      const eve = await createUser(s, 'eve@example.com');
      const t = await password(web, { username: 'eve@example.com' });
      const b = new Browser(s);
      await authorize(s, b, { response_type: 'code', client_id: web.clientId, redirect_uri: CALLBACK, audience: API, scope: 'openid' }, { email: 'eve@example.com' });
      expect((await s.api('DELETE', `/users/${encodeURIComponent(eve)}`)).status).toBe(204);
      expect((await s.token({ grant_type: 'refresh_token', client_id: web.clientId, client_secret: web.secret, refresh_token: t.body.refresh_token })).body).toEqual(BAD_REFRESH);
      const again = await b.get(`/authorize?${new URLSearchParams({ response_type: 'code', client_id: web.clientId, redirect_uri: CALLBACK, audience: API })}`);
      expect(again.location).toMatch(/^\/u\/login\?/);
    });
  });
});
