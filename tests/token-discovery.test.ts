import { decodeJwt } from 'jose';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ADMIN_ID, ADMIN_SECRET, eachDialect, startTessera, type TestServer } from './helpers/tessera';

/**
 * The document a real tenant serves (contract §7.11), with {domain} replaced by `base`, less what Tessera does
 * not implement (device flow, dynamic registration, Auth0's legacy per-claim scopes and the claims no
 * token carries), plus RFC 9207's `authorization_response_iss_parameter_supported` and RFC 9449's
 * `dpop_signing_alg_values_supported` (the algorithms Tessera accepts in DPoP proofs).
 */
function auth0Document(base: string) {
  return {
    issuer: `${base}/`,
    authorization_endpoint: `${base}/authorize`,
    token_endpoint: `${base}/oauth/token`,
    userinfo_endpoint: `${base}/userinfo`,
    mfa_challenge_endpoint: `${base}/mfa/challenge`,
    jwks_uri: `${base}/.well-known/jwks.json`,
    revocation_endpoint: `${base}/oauth/revoke`,
    end_session_endpoint: `${base}/oidc/logout`,
    scopes_supported: ['openid', 'profile', 'offline_access', 'email'],
    response_types_supported: ['code', 'token', 'id_token', 'code token', 'code id_token', 'token id_token', 'code token id_token'],
    code_challenge_methods_supported: ['S256', 'plain'],
    response_modes_supported: ['query', 'fragment', 'form_post', 'web_message'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['HS256', 'RS256', 'PS256'],
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt'],
    claims_supported: ['aud', 'auth_time', 'email', 'email_verified', 'exp', 'family_name', 'given_name', 'iat', 'iss', 'name', 'nickname', 'picture', 'sub', 'updated_at'],
    request_uri_parameter_supported: false,
    pushed_authorization_request_endpoint: `${base}/oauth/par`,
    require_pushed_authorization_requests: false,
    request_parameter_supported: false,
    token_endpoint_auth_signing_alg_values_supported: ['RS256', 'RS384', 'PS256'],
    authorization_response_iss_parameter_supported: true,
    dpop_signing_alg_values_supported: ['ES256', 'ES384', 'RS256', 'PS256', 'EdDSA'],
    // the union of the APIs' registered types (none here); tests/flows-rar.test.ts follows it through changes
    authorization_details_types_supported: [],
  };
}

eachDialect('discovery (contract §7.11)', (dialect) => {
  let s: TestServer;
  let custom: TestServer;
  beforeAll(async () => {
    s = await startTessera(dialect);
    custom = await startTessera(dialect, { env: { TESSERA_PUBLIC_URL: 'https://login.example.org/' } });
  });
  afterAll(async () => { await s.close(); await custom.close(); });

  for (const path of ['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server']) {
    it(`GET ${path} is Auth0's document with URLs from TESSERA_PUBLIC_URL`, async () => {
      const res = await s.t.app.inject({ method: 'GET', url: path });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(res.headers['cache-control']).toBe('public, max-age=15');
      expect(res.headers['access-control-allow-origin']).toBe('*'); // public metadata, readable from any page
      expect(res.headers['access-control-allow-credentials']).toBeUndefined();
      expect(res.json()).toEqual(auth0Document('https://tessera.test'));
      expect(Object.keys(res.json())).toEqual(Object.keys(auth0Document('x')));
    });
  }

  it('follows another TESSERA_PUBLIC_URL (trailing slash normalised), and tokens carry the same issuer string', async () => {
    const res = await custom.t.app.inject({ method: 'GET', url: '/.well-known/openid-configuration' });
    expect(res.json()).toEqual(auth0Document('https://login.example.org'));
    const t = await custom.token({ grant_type: 'client_credentials', client_id: ADMIN_ID, client_secret: ADMIN_SECRET, audience: 'https://login.example.org/api/v2/' });
    expect(t.status).toBe(200);
    expect(decodeJwt(t.body.access_token)).toMatchObject({ iss: 'https://login.example.org/', aud: 'https://login.example.org/api/v2/' });
  });

  it('the default Management audience belongs to the configured public URL only', async () => {
    const t = await custom.token({ grant_type: 'client_credentials', client_id: ADMIN_ID, client_secret: ADMIN_SECRET, audience: 'https://tessera.test/api/v2/' });
    expect(t.status).toBe(403);
    expect(t.body).toEqual({ error: 'access_denied', error_description: 'Service not enabled within domain: https://tessera.test/api/v2/' });
  });
});
