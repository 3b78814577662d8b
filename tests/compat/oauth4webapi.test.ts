// oauth4webapi (panva): the strictest RFC 9068 resource-server check, validateJwtAccessToken, plus its
// client-credentials response checks. The RFC 9068 dialects must pass; Auth0's own dialect (typ JWT) and HS256
// must be refused by it, as they are by design.
import * as oauth from 'oauth4webapi';
import { beforeAll, describe, expect, it } from 'vitest';
import { Secret, TOTP } from 'otpauth';
import { forEachTarget } from './setup/targets';
import { apiFixture, DEFAULT_CONNECTION, m2mClientFor, mgmt, PASSWORD_REALM, unique, userFlowFixture } from './setup/http';

forEachTarget('oauth4webapi', (target) => {
  const tag = unique('o4w');
  const api = (dialect: string, alg: string) => `https://${tag}.example.test/${dialect}/${alg}`;
  let as: oauth.AuthorizationServer;
  let creds: { client_id: string; client_secret: string };

  const issue = async (audience: string): Promise<oauth.TokenEndpointResponse> => {
    const cl: oauth.Client = { client_id: creds.client_id };
    const res = await oauth.clientCredentialsGrantRequest(as, cl, oauth.ClientSecretPost(creds.client_secret), { audience });
    return oauth.processClientCredentialsResponse(as, cl, res);
  };
  const validate = (token: string, audience: string) =>
    oauth.validateJwtAccessToken(as, new Request('https://rs.example.test/orders', { headers: { authorization: `Bearer ${token}` } }), audience);

  beforeAll(async () => {
    const issuer = new URL(target.issuer);
    as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oidc' }));
    const specs = [['rfc9068_profile', 'RS256'], ['rfc9068_profile', 'PS256'], ['rfc9068_profile_authz', 'RS256'], ['rfc9068_profile_authz', 'PS256'],
      ['access_token', 'RS256'], ['rfc9068_profile', 'HS256']];
    for (const [dialect, alg] of specs) {
      await apiFixture(target, { identifier: api(dialect, alg), token_dialect: dialect, signing_alg: alg, enforce_policies: dialect.endsWith('_authz'), scopes: [{ value: 'read:orders' }] });
    }
    creds = await m2mClientFor(target, api('rfc9068_profile', 'RS256'), ['read:orders']);
    for (const [dialect, alg] of specs.slice(1)) {
      await mgmt(target, 'POST', '/client-grants', { client_id: creds.client_id, audience: api(dialect, alg), scope: ['read:orders'] });
    }
  });

  it('discovery: processDiscoveryResponse accepts the metadata for the issuer', () => {
    expect(as.issuer).toBe(target.issuer);
    expect(as.token_endpoint).toBe(`${target.baseUrl}/oauth/token`);
  });

  describe('validateJwtAccessToken accepts rfc9068_profile* tokens', () => {
    for (const dialect of ['rfc9068_profile', 'rfc9068_profile_authz']) {
      for (const alg of ['RS256', 'PS256']) {
        it(`${dialect} / ${alg}`, async () => {
          const t = await issue(api(dialect, alg));
          expect(t).toMatchObject({ token_type: 'bearer', expires_in: 86400, scope: 'read:orders' });
          const claims = await validate(t.access_token, api(dialect, alg));
          expect(claims).toMatchObject({ iss: target.issuer, aud: api(dialect, alg), sub: `${creds.client_id}@clients`, client_id: creds.client_id, scope: 'read:orders' });
          if (dialect.endsWith('_authz')) expect(claims.permissions).toEqual(['read:orders']);
        });
      }
    }
  });

  describe('and refuses what RFC 9068 does not allow', () => {
    it('Auth0 access_token dialect (typ JWT) → unexpected typ', async () => {
      const t = await issue(api('access_token', 'RS256'));
      await expect(validate(t.access_token, api('access_token', 'RS256'))).rejects.toMatchObject({ code: oauth.INVALID_RESPONSE, message: 'unexpected JWT "typ" header parameter value' });
    });

    it('an HS256 token → "alg" outside its asymmetric allow-list', async () => {
      const t = await issue(api('rfc9068_profile', 'HS256'));
      await expect(validate(t.access_token, api('rfc9068_profile', 'HS256'))).rejects.toMatchObject({ code: oauth.INVALID_RESPONSE, message: 'unexpected JWT "alg" header parameter' });
    });

    it('a token for another audience → unexpected aud', async () => {
      const t = await issue(api('rfc9068_profile', 'RS256'));
      await expect(validate(t.access_token, api('rfc9068_profile', 'PS256'))).rejects.toMatchObject({ code: oauth.JWT_CLAIM_COMPARISON, message: 'unexpected JWT "aud" (audience) claim value' });
    });
  });

  it('MFA: the password-realm grant answers mfa_required with an mfa_token, the mfa-otp grant completes it (amr mfa)', async () => {
    const MFA_OTP = 'http://auth0.com/oauth/grant-type/mfa-otp';
    const f = await userFlowFixture(target, unique('o4w-mfa'), [PASSWORD_REALM, MFA_OTP]);
    const cl: oauth.Client = { client_id: f.clientId };
    const auth = oauth.ClientSecretPost(f.clientSecret);
    const login = { realm: DEFAULT_CONNECTION, username: f.username, password: f.password, audience: f.audience, scope: 'openid read:orders' };
    const enroll = await oauth.processGenericTokenEndpointResponse(as, cl, await oauth.genericTokenEndpointRequest(as, cl, auth, PASSWORD_REALM, { ...login, audience: `${target.baseUrl}/mfa/`, scope: 'enroll' }));
    const assoc = await fetch(`${target.baseUrl}/mfa/associate`, { method: 'POST', headers: { authorization: `Bearer ${enroll.access_token}`, 'content-type': 'application/json' }, body: JSON.stringify({ authenticator_types: ['otp'] }) });
    expect(assoc.status).toBe(200);
    const { secret } = await assoc.json() as { secret: string };
    const refused = await oauth.processGenericTokenEndpointResponse(as, cl, await oauth.genericTokenEndpointRequest(as, cl, auth, PASSWORD_REALM, login)).then(() => undefined, (e: unknown) => e);
    expect(refused).toBeInstanceOf(oauth.ResponseBodyError);
    expect((refused as oauth.ResponseBodyError).error).toBe('mfa_required');
    const mfaToken = ((refused as oauth.ResponseBodyError).cause as { mfa_token: string }).mfa_token;
    const otp = new TOTP({ algorithm: 'SHA1', digits: 6, period: 30, secret: Secret.fromBase32(secret) }).generate();
    const t = await oauth.processGenericTokenEndpointResponse(as, cl, await oauth.genericTokenEndpointRequest(as, cl, auth, MFA_OTP, { mfa_token: mfaToken, otp }));
    expect(oauth.getValidatedIdTokenClaims(t)?.sub).toBe(f.userId);
    const claims = await validate(t.access_token, f.audience);
    expect(claims).toMatchObject({ sub: f.userId, amr: ['mfa'] });
  });
});
