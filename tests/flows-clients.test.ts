import { Agent } from 'node:https';
import { connect } from 'node:net';
import { AuthenticationClient } from 'auth0/legacy';
import { decodeJwt } from 'jose';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorize, Browser, CALLBACK, CONNECTION, createApi, createUser, createWebApp, PASSWORD } from './helpers/flows';
import { startListening, type ListeningServer } from './helpers/listening';
import { eachDialect, PUBLIC_URL } from './helpers/tessera';

const API = 'https://orders.example/';

/** Sends every https://tessera.test request to the listening socket (clients.md §0, pattern 1). */
function rewrite(to: string): typeof fetch {
  return (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    if (!url.startsWith(PUBLIC_URL)) throw new Error(`unexpected request outside ${PUBLIC_URL}: ${url}`);
    const target = to + url.slice(PUBLIC_URL.length);
    // the SDK hands its node:https agent to fetch as well; undici cannot use it
    const { dispatcher: _d, agent: _a, ...rest } = (init ?? {}) as RequestInit & { dispatcher?: unknown; agent?: unknown };
    return input instanceof Request ? fetch(new Request(target, input), rest) : fetch(target, rest);
  };
}

/**
 * The SDK's ID-token validator fetches https://<domain>/.well-known/jwks.json with node:https and an optional
 * agent; this agent hands it a plain TCP connection to the listening socket instead of a TLS one.
 */
class LoopbackAgent extends Agent {
  constructor(private readonly port: number) { super({ keepAlive: false }); }
  override createConnection(): ReturnType<typeof connect> { return connect(this.port, '127.0.0.1'); }
}

eachDialect('real clients drive the user flows', (dialect) => {
  let l: ListeningServer;
  let app: { clientId: string; secret: string };
  let userId: string;
  beforeAll(async () => {
    l = await startListening(dialect, { publicUrl: PUBLIC_URL });
    await createApi(l.s, API, { allow_offline_access: true, skip_consent_for_verifiable_first_party_clients: true, enforce_policies: true, token_dialect: 'access_token_authz' });
    app = await createWebApp(l.s, { refresh_token: { rotation_type: 'rotating', expiration_type: 'expiring', leeway: 0, token_lifetime: 86400, idle_token_lifetime: 3600, infinite_token_lifetime: false, infinite_idle_token_lifetime: false } });
    userId = await createUser(l.s, 'grace@example.com', { name: 'Grace Hopper' });
    expect((await l.s.api('POST', `/users/${encodeURIComponent(userId)}/permissions`, { permissions: [{ resource_server_identifier: API, permission_name: 'read:orders' }] })).status).toBe(201);
  });
  afterAll(async () => { await l.close(); });

  describe('openid-client v6 against the discovery document', () => {
    let config: oidc.Configuration;
    beforeAll(async () => {
      config = await oidc.discovery(new URL(`${PUBLIC_URL}/`), app.clientId, app.secret, undefined, { [oidc.customFetch]: rewrite(l.origin) as unknown as oidc.CustomFetch });
    });

    it('completes authorization code + PKCE, refresh and userinfo', async () => {
      const verifier = oidc.randomPKCECodeVerifier();
      const state = oidc.randomState();
      const nonce = oidc.randomNonce();
      const url = oidc.buildAuthorizationUrl(config, {
        redirect_uri: CALLBACK, scope: 'openid profile email offline_access read:orders write:orders', audience: API,
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state, nonce,
      });
      expect(url.origin).toBe(PUBLIC_URL);
      const b = new Browser(l.s);
      const { res, pages } = await authorize(l.s, b, Object.fromEntries(url.searchParams), { email: 'grace@example.com' });
      expect(pages).toEqual(['login']);
      const tokens = await oidc.authorizationCodeGrant(config, new URL(res.location as string), { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce });
      expect(tokens.token_type).toBe('bearer');
      expect(tokens.scope).toBe('openid profile email offline_access read:orders');
      expect(tokens.claims()).toMatchObject({ sub: userId, aud: app.clientId, nonce, name: 'Grace Hopper' });
      expect(decodeJwt(tokens.access_token)).toMatchObject({ permissions: ['read:orders'], aud: [API, `${PUBLIC_URL}/userinfo`] });
      const info = await oidc.fetchUserInfo(config, tokens.access_token, userId);
      expect(info).toMatchObject({ sub: userId, name: 'Grace Hopper', email: 'grace@example.com' });
      const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token as string);
      expect(refreshed.refresh_token).toBeDefined();
      expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
      expect(refreshed.claims()?.sub).toBe(userId);
      await expect(oidc.refreshTokenGrant(config, tokens.refresh_token as string)).rejects.toMatchObject({ error: 'invalid_grant', error_description: 'Unknown or invalid refresh token.' });
    });
  });

  describe('auth0 SDK AuthenticationClient (auth0/legacy) with its ID-token validator', () => {
    let auth: AuthenticationClient;
    beforeAll(() => {
      auth = new AuthenticationClient({
        domain: new URL(PUBLIC_URL).host, clientId: app.clientId, clientSecret: app.secret,
        fetch: rewrite(l.origin), agent: new LoopbackAgent(l.port) as never,
      });
    });

    it('password-realm returns tokens whose ID token the SDK validates, then refreshes and revokes', async () => {
      const { data } = await auth.oauth.passwordGrant({ username: 'grace@example.com', password: PASSWORD, realm: CONNECTION, audience: API, scope: 'openid profile offline_access read:orders' });
      expect(data).toMatchObject({ token_type: 'Bearer', expires_in: 86400, scope: 'openid profile offline_access read:orders' });
      expect(decodeJwt(data.id_token as string)).toMatchObject({ sub: userId, aud: app.clientId, iss: `${PUBLIC_URL}/` });
      expect(decodeJwt(data.access_token)).toMatchObject({ gty: 'password', sub: userId });
      const refreshed = await auth.oauth.refreshTokenGrant({ refresh_token: data.refresh_token as string });
      expect(decodeJwt(refreshed.data.access_token)).toMatchObject({ gty: 'refresh_token', sub: userId });
      await auth.oauth.revokeRefreshToken({ token: refreshed.data.refresh_token as string });
      await expect(auth.oauth.refreshTokenGrant({ refresh_token: refreshed.data.refresh_token as string }))
        .rejects.toMatchObject({ error: 'invalid_grant', error_description: 'Unknown or invalid refresh token.', statusCode: 403 });
    });

    it('a wrong password surfaces as AuthApiError invalid_grant "Wrong email or password."', async () => {
      await expect(auth.oauth.passwordGrant({ username: 'grace@example.com', password: 'Wrong-password-1', realm: CONNECTION }))
        .rejects.toMatchObject({ error: 'invalid_grant', error_description: 'Wrong email or password.', statusCode: 403 });
    });

    it('the validator rejects an ID token for another client (the check is real)', async () => {
      const other = new AuthenticationClient({ domain: new URL(PUBLIC_URL).host, clientId: 'someone-else', clientSecret: app.secret, fetch: async (input, init) => {
        const body = new URLSearchParams(String(init?.body));
        body.set('client_id', app.clientId);
        return rewrite(l.origin)(input, { ...init, body: body.toString() });
      }, agent: new LoopbackAgent(l.port) as never });
      await expect(other.oauth.passwordGrant({ username: 'grace@example.com', password: PASSWORD, realm: CONNECTION, scope: 'openid' }))
        .rejects.toThrow(/aud/);
    });
  });
});
