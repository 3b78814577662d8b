import type { Server } from 'node:http';
import express, { type ErrorRequestHandler } from 'express';
import { auth } from 'express-oauth2-jwt-bearer';
import { calculateJwkThumbprint, createRemoteJWKSet, exportJWK, jwtVerify } from 'jose';
import * as oauth from 'oauth4webapi';
import { withNonceRetry } from '../helpers/dpop-retry';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorize, Browser, CALLBACK, callbackParams, createUser, createWebApp, PASSWORD } from '../helpers/flows';
import { startListening, type ListeningServer } from '../helpers/listening';
import { eachDialect, type TestServer } from '../helpers/tessera';
import { m2m, publicClient } from './dpop';

/**
 * Independent judges of Tessera's DPoP tokens: oauth4webapi's own DPoP support (proofs, the nonce challenge and
 * retry, refresh) obtains them over a real socket; jose checks `cnf.jkt` against the proof key; Auth0's
 * express-oauth2-jwt-bearer 1.10 accepts a bound token with its proof at an Express API and refuses it without;
 * openid-client v6 binds an authorization code to its DPoP key with `dpop_jkt` (RFC 9449 §10) through the hosted
 * login pages.
 */
const insecure = { [oauth.allowInsecureRequests]: true } as const;

eachDialect('security: DPoP judged by oauth4webapi, jose and express-oauth2-jwt-bearer', (dialect) => {
  let l: ListeningServer;
  let as: oauth.AuthorizationServer;
  let audience: string;
  let rs: Server;
  let rsOrigin: string;
  /** The listening server seen through the fixture helpers, with a Management token for its own public URL. */
  let sv: TestServer;

  beforeAll(async () => {
    l = await startListening(dialect);
    sv = { ...l.s, api: async (m, p, b, o = {}) => l.s.api(m, p, b, { ...o, token: o.token ?? await l.adminToken() }) };
    const issuer = new URL(`${l.publicUrl}/`);
    as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { ...insecure, algorithm: 'oidc' }));
    audience = 'https://dpop-judged.example/';
    const api = await l.mgmt('POST', '/resource-servers', {
      identifier: audience, scopes: [{ value: 'read:data' }], allow_offline_access: true, proof_of_possession: { mechanism: 'dpop', required: true },
    });
    expect(api.status).toBe(201);
    const app = express();
    app.get('/data', auth({ issuerBaseURL: l.publicUrl, audience, dpop: { enabled: true, required: true } }), (req, res) => { res.json({ sub: req.auth?.payload.sub }); });
    const onError: ErrorRequestHandler = (err, _req, res, _next) => { res.status(err.status ?? 500).set(err.headers ?? {}).json({ error: err.code ?? 'server_error' }); };
    app.use(onError);
    rs = await new Promise<Server>((resolve) => { const srv = app.listen(0, '127.0.0.1', () => resolve(srv)); });
    rsOrigin = `http://127.0.0.1:${(rs.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => rs?.close(r));
    await l.close();
  });

  async function clientCredentials(keys: CryptoKeyPair) {
    const c = await m2m(sv, audience);
    const client: oauth.Client = { client_id: c.client_id };
    const DPoP = oauth.DPoP(client, keys);
    const { result } = await withNonceRetry(async () => oauth.processClientCredentialsResponse(as, client,
      await oauth.clientCredentialsGrantRequest(as, client, oauth.ClientSecretPost(c.client_secret), { audience }, { DPoP, ...insecure })));
    return result;
  }

  it('oauth4webapi obtains a DPoP token with client_credentials; jose finds cnf.jkt = the proof key thumbprint', async () => {
    const keys = await oauth.generateKeyPair('ES256');
    const tokens = await clientCredentials(keys);
    expect(tokens.token_type).toBe('dpop');
    const { payload } = await jwtVerify(tokens.access_token, createRemoteJWKSet(new URL(as.jwks_uri as string)), { issuer: as.issuer, audience });
    expect(payload.cnf).toEqual({ jkt: await calculateJwkThumbprint(await exportJWK(keys.publicKey), 'sha256') });
  });

  it('oauth4webapi as a public client answers the nonce challenge, then refreshes with the same key', async () => {
    const keys = await oauth.generateKeyPair('ES256');
    const c = await publicClient(sv, { refresh_token: { rotation_type: 'rotating', expiration_type: 'non-expiring', leeway: 0 } });
    const client: oauth.Client = { client_id: c.client_id };
    const DPoP = oauth.DPoP(client, keys);
    const first = await withNonceRetry(async () => oauth.processGenericTokenEndpointResponse(as, client,
      await oauth.genericTokenEndpointRequest(as, client, oauth.None(), 'password',
        { username: c.email, password: PASSWORD, audience, scope: 'openid offline_access read:data' }, { DPoP, ...insecure })));
    expect(first.retried).toBe(true);
    expect(first.result.token_type).toBe('dpop');
    const refreshed = await withNonceRetry(async () => oauth.processRefreshTokenResponse(as, client,
      await oauth.refreshTokenGrantRequest(as, client, oauth.None(), first.result.refresh_token as string, { DPoP, ...insecure })));
    expect(refreshed.retried).toBe(false);
    expect(refreshed.result.token_type).toBe('dpop');
    expect(refreshed.result.refresh_token).toBeDefined();
  });

  describe('express-oauth2-jwt-bearer at an Express API', () => {
    it('accepts a DPoP-bound token with its proof', async () => {
      const keys = await oauth.generateKeyPair('ES256');
      const tokens = await clientCredentials(keys);
      const res = await oauth.protectedResourceRequest(tokens.access_token, 'GET', new URL(`${rsOrigin}/data`), undefined, undefined, { DPoP: oauth.DPoP({}, keys), ...insecure });
      expect(res.status).toBe(200);
      expect((await res.json()).sub).toMatch(/@clients$/);
    });

    it('refuses the same token sent as Bearer without a proof', async () => {
      const tokens = await clientCredentials(await oauth.generateKeyPair('ES256'));
      const res = await fetch(`${rsOrigin}/data`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
      expect(res.status).toBe(400);
    });

    it('refuses the token with a proof from another key', async () => {
      const tokens = await clientCredentials(await oauth.generateKeyPair('ES256'));
      const err = await oauth.protectedResourceRequest(tokens.access_token, 'GET', new URL(`${rsOrigin}/data`), undefined, undefined,
        { DPoP: oauth.DPoP({}, await oauth.generateKeyPair('ES256')), ...insecure }).then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(oauth.WWWAuthenticateChallengeError);
      const challenge = err as oauth.WWWAuthenticateChallengeError;
      expect(challenge.response.status).toBe(401);
      expect(challenge.cause[0].scheme).toBe('dpop');
      expect(challenge.cause[0].parameters.error).toBe('invalid_token'); // the library reports a cnf.jkt mismatch against the token
    });
  });

  describe('dpop_jkt at /authorize (RFC 9449 §10), driven by openid-client v6 through the hosted login', () => {
    let config: oidc.Configuration;
    let email: string;
    beforeAll(async () => {
      const web = await createWebApp(sv);
      email = `dpop-jkt-${Date.now()}@example.com`;
      await createUser(sv, email);
      config = await oidc.discovery(new URL(`${l.publicUrl}/`), web.clientId, web.secret, undefined, { execute: [oidc.allowInsecureRequests] });
    });

    /** /authorize with dpop_jkt = the thumbprint of `DPoP`'s key, login and consent; returns the callback URL and the checks. */
    async function codeBoundTo(DPoP: oidc.DPoPHandle, extra: Record<string, string> = {}) {
      const verifier = oidc.randomPKCECodeVerifier();
      const state = oidc.randomState();
      const url = oidc.buildAuthorizationUrl(config, {
        redirect_uri: CALLBACK, scope: 'openid read:data', audience, state, dpop_jkt: await DPoP.calculateThumbprint(),
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', ...extra,
      });
      const { res } = await authorize(l.s, new Browser(l.s), Object.fromEntries(url.searchParams), { email });
      expect(res.status).toBe(302);
      return { callback: new URL(res.location as string), checks: { pkceCodeVerifier: verifier, expectedState: state } };
    }

    it('the code exchange with a proof from the same key gets a token bound to it', async () => {
      const keys = await oidc.randomDPoPKeyPair('ES256');
      const DPoP = oidc.getDPoPHandle(config, keys);
      const { callback, checks } = await codeBoundTo(DPoP);
      const tokens = await oidc.authorizationCodeGrant(config, callback, checks, undefined, { DPoP });
      expect(tokens.token_type).toBe('dpop');
      const { payload } = await jwtVerify(tokens.access_token, createRemoteJWKSet(new URL(as.jwks_uri as string)), { issuer: as.issuer, audience });
      expect(payload.cnf).toEqual({ jkt: await DPoP.calculateThumbprint() });
    });

    it('refuses the exchange with a proof from another key (invalid_dpop_proof), and the code stays usable by its key', async () => {
      const keys = await oidc.randomDPoPKeyPair('ES256');
      const DPoP = oidc.getDPoPHandle(config, keys);
      const { callback, checks } = await codeBoundTo(DPoP);
      const thief = oidc.getDPoPHandle(config, await oidc.randomDPoPKeyPair('ES256'));
      const err = await oidc.authorizationCodeGrant(config, callback, checks, undefined, { DPoP: thief }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(oidc.ResponseBodyError);
      expect(err).toMatchObject({ status: 400, error: 'invalid_dpop_proof', error_description: 'Invalid DPoP proof: the key is not the one the authorization code is bound to (dpop_jkt)' });
      expect((await oidc.authorizationCodeGrant(config, callback, checks, undefined, { DPoP })).token_type).toBe('dpop');
    });

    it('refuses the exchange without a proof', async () => {
      const DPoP = oidc.getDPoPHandle(config, await oidc.randomDPoPKeyPair('ES256'));
      const { callback, checks } = await codeBoundTo(DPoP);
      const err = await oidc.authorizationCodeGrant(config, callback, checks).catch((e: unknown) => e);
      expect(err).toMatchObject({ status: 400, error: 'invalid_request', error_description: 'DPoP proof required: the authorization code is bound to a DPoP key (dpop_jkt)' });
    });

    it('refuses a malformed dpop_jkt at /authorize with a redirect error', async () => {
      const web = await createWebApp(sv);
      const r = await new Browser(l.s).get(`/authorize?${new URLSearchParams({ response_type: 'code', client_id: web.clientId, redirect_uri: CALLBACK, dpop_jkt: 'not a thumbprint', state: 's' })}`);
      expect(r.status).toBe(302);
      expect(callbackParams(r.location)).toMatchObject({ error: 'invalid_request', error_description: 'Invalid dpop_jkt: expected a base64url SHA-256 JWK thumbprint (RFC 7638)', state: 's' });
    });

    it('refuses dpop_jkt with a response_type that returns an access token from /authorize', async () => {
      const web = await createWebApp(sv);
      const r = await new Browser(l.s).get(`/authorize?${new URLSearchParams({
        response_type: 'token', client_id: web.clientId, redirect_uri: CALLBACK, audience, dpop_jkt: 'A'.repeat(43), state: 's',
      })}`);
      expect(r.status).toBe(302);
      expect(callbackParams(r.location)).toMatchObject({ error: 'invalid_request', error_description: 'dpop_jkt cannot be used with a response_type that returns an access token from /authorize' });
    });
  });
});
