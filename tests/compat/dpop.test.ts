// DPoP (RFC 9449) with unmodified clients against `tessera serve` over HTTPS: oauth4webapi's DPoP handle obtains
// sender-constrained tokens (client_credentials; a public client through the nonce challenge, then a refresh), so does
// openid-client v6 (getDPoPHandle; it answers the nonce challenge itself),
// jose checks cnf.jkt against the proof key, and oauth4webapi's validateJwtAccessToken (requireDPoP) verifies the
// token with its proof as a resource server would, and refuses it without one.
import { createHash, randomUUID } from 'node:crypto';
import { calculateJwkThumbprint, createRemoteJWKSet, exportJWK, jwtVerify, SignJWT } from 'jose';
import * as oauth from 'oauth4webapi';
import { withNonceRetry } from '../helpers/dpop-retry';
import * as oidc from 'openid-client';
import { beforeAll, expect, it } from 'vitest';
import { forEachTarget } from './setup/targets';
import { apiFixture, m2mClientFor, tokenRequest, unique, userFlowFixture } from './setup/http';

const RS_URL = 'https://rs.example.test/orders';

forEachTarget('DPoP (oauth4webapi, openid-client v6, jose)', (target) => {
  const tag = unique('dpop');
  const audience = `https://${tag}.example.test/`;
  let as: oauth.AuthorizationServer;
  let creds: { client_id: string; client_secret: string };

  const boundToken = async (keys: CryptoKeyPair) => {
    const cl: oauth.Client = { client_id: creds.client_id };
    const DPoP = oauth.DPoP(cl, keys);
    const { result } = await withNonceRetry(async () => oauth.processClientCredentialsResponse(as, cl,
      await oauth.clientCredentialsGrantRequest(as, cl, oauth.ClientSecretPost(creds.client_secret), { audience }, { DPoP })));
    return result;
  };
  const resourceRequest = async (token: string, keys?: CryptoKeyPair) => {
    const headers: Record<string, string> = { authorization: `${keys ? 'DPoP' : 'Bearer'} ${token}` };
    if (keys) {
      headers.dpop = await new SignJWT({ htm: 'GET', htu: RS_URL, jti: randomUUID(), ath: createHash('sha256').update(token).digest('base64url') })
        .setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES256', jwk: await exportJWK(keys.publicKey) } as never).setIssuedAt().sign(keys.privateKey);
    }
    return new Request(RS_URL, { headers });
  };

  beforeAll(async () => {
    const issuer = new URL(target.issuer);
    as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oidc' }));
    await apiFixture(target, {
      identifier: audience, token_dialect: 'rfc9068_profile', signing_alg: 'RS256', scopes: [{ value: 'read:orders' }],
      allow_offline_access: true, proof_of_possession: { mechanism: 'dpop', required: true },
    });
    creds = await m2mClientFor(target, audience, ['read:orders']);
  });

  it('discovery lists dpop_signing_alg_values_supported', () => {
    expect(as.dpop_signing_alg_values_supported).toEqual(['ES256', 'ES384', 'RS256', 'PS256', 'EdDSA']);
  });

  it('client_credentials with a DPoP handle: token_type DPoP, cnf.jkt = the key thumbprint (jose)', async () => {
    const keys = await oauth.generateKeyPair('ES256');
    const t = await boundToken(keys);
    expect(t.token_type).toBe('dpop');
    const { payload } = await jwtVerify(t.access_token, createRemoteJWKSet(new URL(as.jwks_uri as string)), { issuer: target.issuer, audience });
    expect(payload.cnf).toEqual({ jkt: await calculateJwkThumbprint(await exportJWK(keys.publicKey), 'sha256') });
  });

  it('validateJwtAccessToken (requireDPoP) accepts the token with its proof', async () => {
    const keys = await oauth.generateKeyPair('ES256');
    const t = await boundToken(keys);
    const claims = await oauth.validateJwtAccessToken(as, await resourceRequest(t.access_token, keys), audience, { requireDPoP: true });
    expect(claims.cnf).toEqual({ jkt: await calculateJwkThumbprint(await exportJWK(keys.publicKey), 'sha256') });
  });

  it('validateJwtAccessToken refuses the token sent as Bearer without a proof', async () => {
    const t = await boundToken(await oauth.generateKeyPair('ES256'));
    await expect(oauth.validateJwtAccessToken(as, await resourceRequest(t.access_token), audience)).rejects.toThrow();
  });

  it('without a proof the API that requires DPoP issues nothing', async () => {
    const r = await tokenRequest(target, { grant_type: 'client_credentials', ...creds, audience });
    expect(r.status).toBe(400);
    expect(r.body).toEqual({ error: 'invalid_request', error_description: `DPoP proof required: the API "${audience}" requires proof of possession` });
  });

  it('a public client answers the nonce challenge, then refreshes with the same key', async () => {
    const f = await userFlowFixture(target, unique('dpop-pub'), ['password', 'refresh_token'], {
      app_type: 'native', token_endpoint_auth_method: 'none', refresh_token: { rotation_type: 'rotating', expiration_type: 'non-expiring', leeway: 0 },
    });
    await apiFixture(target, { identifier: `${f.audience}dpop`, allow_offline_access: true, scopes: [{ value: 'read:orders' }], proof_of_possession: { mechanism: 'dpop', required: false } });
    const cl: oauth.Client = { client_id: f.clientId };
    const DPoP = oauth.DPoP(cl, await oauth.generateKeyPair('ES256'));
    const first = await withNonceRetry(async () => oauth.processGenericTokenEndpointResponse(as, cl,
      await oauth.genericTokenEndpointRequest(as, cl, oauth.None(), 'password',
        { username: f.username, password: f.password, audience: `${f.audience}dpop`, scope: 'openid offline_access' }, { DPoP })));
    expect(first.retried).toBe(true);
    expect(first.result.token_type).toBe('dpop');
    const next = await withNonceRetry(async () => oauth.processRefreshTokenResponse(as, cl,
      await oauth.refreshTokenGrantRequest(as, cl, oauth.None(), first.result.refresh_token as string, { DPoP })));
    expect(next.result.token_type).toBe('dpop');
  });

  it('openid-client v6: client_credentials with getDPoPHandle gets a DPoP token bound to the key', async () => {
    const config = await oidc.discovery(new URL(target.issuer), creds.client_id, creds.client_secret);
    const keys = await oidc.randomDPoPKeyPair('ES256');
    const t = await oidc.clientCredentialsGrant(config, { audience }, { DPoP: oidc.getDPoPHandle(config, keys) });
    expect(t.token_type).toBe('dpop');
    const { payload } = await jwtVerify(t.access_token, createRemoteJWKSet(new URL(as.jwks_uri as string)), { issuer: target.issuer, audience });
    expect(payload.cnf).toEqual({ jkt: await calculateJwkThumbprint(await exportJWK(keys.publicKey), 'sha256') });
  });

  it('openid-client v6: a public client passes the nonce challenge on its own, then refreshes', async () => {
    const f = await userFlowFixture(target, unique('dpop-oidc'), ['password', 'refresh_token'], {
      app_type: 'native', token_endpoint_auth_method: 'none', refresh_token: { rotation_type: 'rotating', expiration_type: 'non-expiring', leeway: 0 },
    });
    await apiFixture(target, { identifier: `${f.audience}dpop`, allow_offline_access: true, scopes: [{ value: 'read:orders' }], proof_of_possession: { mechanism: 'dpop', required: false } });
    const config = await oidc.discovery(new URL(target.issuer), f.clientId, undefined, oidc.None());
    const DPoP = oidc.getDPoPHandle(config, await oidc.randomDPoPKeyPair('ES256'));
    const first = await oidc.genericGrantRequest(config, 'password', { username: f.username, password: f.password, audience: `${f.audience}dpop`, scope: 'openid offline_access' }, { DPoP });
    expect(first.token_type).toBe('dpop');
    expect(first.refresh_token).toBeDefined();
    const next = await oidc.refreshTokenGrant(config, first.refresh_token as string, undefined, { DPoP });
    expect(next.token_type).toBe('dpop');
    expect(next.refresh_token).not.toBe(first.refresh_token);
  });
});
