import type { Server } from 'node:http';
import express, { type ErrorRequestHandler } from 'express';
import { auth } from 'express-oauth2-jwt-bearer';
import { calculateJwkThumbprint, createRemoteJWKSet, exportJWK, jwtVerify } from 'jose';
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD } from '../helpers/flows';
import { startListening, type ListeningServer } from '../helpers/listening';
import { eachDialect, type TestServer } from '../helpers/tessera';
import { m2m, publicClient } from './dpop';

/**
 * Independent judges of Tessera's DPoP tokens: oauth4webapi's own DPoP support (proofs, the nonce challenge and
 * retry, refresh) obtains them over a real socket; jose checks `cnf.jkt` against the proof key; Auth0's
 * express-oauth2-jwt-bearer 1.10 accepts a bound token with its proof at an Express API and refuses it without.
 */
const insecure = { [oauth.allowInsecureRequests]: true } as const;

/** One oauth4webapi call, retried once after a use_dpop_nonce challenge (the handle keeps the nonce it was given). */
async function withNonceRetry<T>(call: () => Promise<T>): Promise<{ result: T; retried: boolean }> {
  try {
    return { result: await call(), retried: false };
  } catch (e) {
    if (!oauth.isDPoPNonceError(e)) throw e;
    return { result: await call(), retried: true };
  }
}

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
});
