import { ManagementClient, Management } from 'auth0';
import { createLocalJWKSet, jwtVerify } from 'jose';
import * as oauth from 'oauth4webapi';
import { Secret, TOTP } from 'otpauth';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CONNECTION, createUser, createWebApp, PASSWORD } from './helpers/flows';
import { startListening, type ListeningServer } from './helpers/listening';
import { ADMIN_ID, ADMIN_SECRET, eachDialect, PUBLIC_URL } from './helpers/tessera';

const REALM = 'http://auth0.com/oauth/grant-type/password-realm';
const MFA_OTP = 'http://auth0.com/oauth/grant-type/mfa-otp';

const codeAt = (secret: string, ms: number) => new TOTP({ algorithm: 'SHA1', digits: 6, period: 30, secret: Secret.fromBase32(secret) }).generate({ timestamp: ms });

/**
 * Independent clients judge the MFA surfaces: oauth4webapi runs the password grant, reads `mfa_required` and its
 * mfa_token from the error body, and completes the mfa-otp grant (ID token checks included); jose verifies `amr`
 * against the served JWKS; the auth0 v7 ManagementClient reads and deletes authentication methods and enrollments.
 */
eachDialect('MFA judged by oauth4webapi, jose and the auth0 v7 ManagementClient', (dialect) => {
  let l: ListeningServer;
  let as: oauth.AuthorizationServer;
  let mgmt: ManagementClient;
  let web: { clientId: string; secret: string };
  let userId: string;
  let secret: string;
  const email = 'judged@example.com';
  /** The clients call https://tessera.test (the issuer); the requests go to the socket. */
  const toSocket = (input: RequestInfo | URL, init?: RequestInit) => fetch(String(input instanceof Request ? input.url : input).replace(PUBLIC_URL, l.origin), init);
  const insecure = { [oauth.customFetch]: toSocket } as const;

  beforeAll(async () => {
    l = await startListening(dialect, { publicUrl: PUBLIC_URL });
    const issuer = new URL(`${PUBLIC_URL}/`);
    as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { ...insecure, algorithm: 'oidc' }));
    mgmt = new ManagementClient({
      domain: new URL(PUBLIC_URL).host, clientId: ADMIN_ID, clientSecret: ADMIN_SECRET, fetch: toSocket as typeof fetch,
    });
    web = await createWebApp(l.s, { grant_types: ['password', REALM, MFA_OTP] });
    userId = await createUser(l.s, email);
    const t = await l.s.token({ grant_type: REALM, realm: CONNECTION, username: email, password: PASSWORD, client_id: web.clientId, client_secret: web.secret, audience: `${PUBLIC_URL}/mfa/`, scope: 'enroll' });
    const assoc = await l.s.t.app.inject({ method: 'POST', url: '/mfa/associate', headers: { authorization: `Bearer ${t.body.access_token}` }, payload: { authenticator_types: ['otp'] } });
    secret = JSON.parse(assoc.body).secret;
  });
  afterAll(async () => { await l.close(); });

  it('oauth4webapi: mfa_required with an mfa_token, then mfa-otp; jose verifies amr in both tokens', async () => {
    const client: oauth.Client = { client_id: web.clientId };
    const auth = oauth.ClientSecretPost(web.secret);
    const first = await oauth.genericTokenEndpointRequest(as, client, auth, REALM, { realm: CONNECTION, username: email, password: PASSWORD, scope: 'openid' }, insecure);
    const err = await oauth.processGenericTokenEndpointResponse(as, client, first).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(oauth.ResponseBodyError);
    const body = (err as oauth.ResponseBodyError).cause as Record<string, string>;
    expect((err as oauth.ResponseBodyError).status).toBe(403);
    expect(body).toMatchObject({ error: 'mfa_required', error_description: 'Multifactor authentication required' });
    const wrong = await oauth.genericTokenEndpointRequest(as, client, auth, MFA_OTP, { mfa_token: body.mfa_token, otp: '000000' }, insecure);
    const wrongErr = await oauth.processGenericTokenEndpointResponse(as, client, wrong).then(() => undefined, (e: unknown) => e);
    expect((wrongErr as oauth.ResponseBodyError).error).toBe('invalid_grant');
    const ok = await oauth.genericTokenEndpointRequest(as, client, auth, MFA_OTP, { mfa_token: body.mfa_token, otp: codeAt(secret, l.s.clock.now()) }, insecure);
    const result = await oauth.processGenericTokenEndpointResponse(as, client, ok);
    const claims = oauth.getValidatedIdTokenClaims(result);
    expect(claims?.sub).toBe(userId);
    const jwks = createLocalJWKSet(await (await toSocket(as.jwks_uri as string)).json());
    const at = await jwtVerify(result.access_token, jwks, { issuer: as.issuer, currentDate: new Date(l.s.clock.now()) });
    const id = await jwtVerify(result.id_token as string, jwks, { issuer: as.issuer, audience: web.clientId, currentDate: new Date(l.s.clock.now()) });
    expect(at.payload.amr).toEqual(['mfa']);
    expect(id.payload.amr).toEqual(['mfa']);
    expect(as.mfa_challenge_endpoint).toBe(`${PUBLIC_URL}/mfa/challenge`);
  });

  it('auth0 v7 ManagementClient: authentication methods and Guardian enrollments list, get and delete', async () => {
    const page = await mgmt.users.authenticationMethods.list(userId);
    expect(page.data.map((m) => [m.type, m.confirmed])).toEqual([['totp', true], ['recovery-code', true]]);
    const totp = page.data[0];
    expect((await mgmt.users.authenticationMethods.get(userId, totp.id)).type).toBe('totp');
    const enrollments = await mgmt.users.enrollments.get(userId);
    expect(enrollments).toEqual([expect.objectContaining({ status: 'confirmed', auth_method: 'authenticator' })]);
    expect((await mgmt.guardian.enrollments.get(enrollments[0].id as string)).status).toBe('confirmed');
    const missing = await mgmt.users.authenticationMethods.get(userId, 'totp|dev_missing').then(() => undefined, (e: unknown) => e);
    expect(missing).toBeInstanceOf(Management.NotFoundError);
    await mgmt.users.authenticationMethods.delete(userId, totp.id);
    expect((await mgmt.users.authenticationMethods.list(userId)).data).toEqual([]);
    const again = await l.s.token({ grant_type: REALM, realm: CONNECTION, username: email, password: PASSWORD, client_id: web.clientId, client_secret: web.secret });
    expect(again.status).toBe(200);
    await mgmt.users.authenticationMethods.deleteAll(userId);
  });
});
