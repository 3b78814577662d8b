import { createLocalJWKSet, decodeJwt, jwtVerify } from 'jose';
import { Secret, TOTP } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONNECTION, createApi, createUser, createWebApp, PASSWORD } from './helpers/flows';
import { eachDialect, PUBLIC_URL, startTessera, type TestServer } from './helpers/tessera';

const REALM = 'http://auth0.com/oauth/grant-type/password-realm';
const MFA_OTP = 'http://auth0.com/oauth/grant-type/mfa-otp';
const MFA_RECOVERY = 'http://auth0.com/oauth/grant-type/mfa-recovery-code';
const API = 'https://orders.example/';
const MFA_AUDIENCE = `${PUBLIC_URL}/mfa/`;
const GRANTS = ['password', REALM, MFA_OTP, MFA_RECOVERY, 'refresh_token'];

/** The authenticator app: RFC 6238 codes from the secret /mfa/associate returned, at the server's (test) clock. */
const codeAt = (secret: string, ms: number) =>
  new TOTP({ algorithm: 'SHA1', digits: 6, period: 30, secret: Secret.fromBase32(secret) }).generate({ timestamp: ms });

eachDialect('MFA API: mfa_required, /mfa/associate, /mfa/challenge, mfa-otp and mfa-recovery-code grants', (dialect) => {
  let s: TestServer;
  let web: { clientId: string; secret: string };
  let other: { clientId: string; secret: string };
  let userId: string;
  let secret: string;
  let recovery: string;
  const email = 'mfa-api@example.com';
  const login = (c = web, extra: Record<string, string> = {}) =>
    s.token({ grant_type: REALM, realm: CONNECTION, username: email, password: PASSWORD, client_id: c.clientId, client_secret: c.secret, audience: API, scope: 'openid offline_access read:orders', ...extra });
  const otp = (mfaToken: string, code: string, c = web) => s.token({ grant_type: MFA_OTP, mfa_token: mfaToken, otp: code, client_id: c.clientId, client_secret: c.secret });
  const mfaToken = async () => {
    const r = await login();
    expect(r.status, JSON.stringify(r.body)).toBe(403);
    return r.body.mfa_token as string;
  };
  const call = async (method: string, url: string, token: string, body?: unknown) => {
    const r = await s.t.app.inject({ method: method as 'GET', url, headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) }, payload: body ? JSON.stringify(body) : undefined });
    return { status: r.statusCode, body: r.body ? JSON.parse(r.body) : undefined };
  };
  const nextStep = () => s.clock.advance(30);
  const jwks = async () => createLocalJWKSet(JSON.parse((await s.t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).body));

  beforeAll(async () => {
    s = await startTessera(dialect);
    await createApi(s, API, { allow_offline_access: true, skip_consent_for_verifiable_first_party_clients: true });
    web = await createWebApp(s, { grant_types: GRANTS });
    other = await createWebApp(s, { name: 'Other app', grant_types: GRANTS });
    userId = await createUser(s, email);
  });
  afterAll(async () => { await s.close(); });

  it('a user without a second factor gets tokens from the password grant, and an MFA API token with enroll', async () => {
    expect((await login()).status).toBe(200);
    const r = await login(web, { audience: MFA_AUDIENCE, scope: 'enroll read:authenticators remove:authenticators' });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(decodeJwt(r.body.access_token).aud).toBe(MFA_AUDIENCE);
    expect(r.body.scope).toBe('enroll read:authenticators remove:authenticators');
    expect(r.body.refresh_token).toBeUndefined();

    const assoc = await call('POST', '/mfa/associate', r.body.access_token, { authenticator_types: ['otp'] });
    expect(assoc.status, JSON.stringify(assoc.body)).toBe(200);
    expect(assoc.body.authenticator_type).toBe('otp');
    expect(assoc.body.secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(assoc.body.barcode_uri).toMatch(/^otpauth:\/\/totp\/tessera\.test:mfa-api%40example\.com\?issuer=tessera\.test&secret=[A-Z2-7]{32}&algorithm=SHA1&digits=6&period=30$/);
    expect(assoc.body.recovery_codes).toHaveLength(1);
    expect(assoc.body.recovery_codes[0]).toMatch(/^[A-Z0-9]{24}$/);
    secret = assoc.body.secret;
    recovery = assoc.body.recovery_codes[0];

    const list = await call('GET', '/mfa/authenticators', r.body.access_token);
    expect(list.body.map((a: { authenticator_type: string; active: boolean }) => [a.authenticator_type, a.active])).toEqual([['otp', false], ['recovery-code', false]]);
  });

  it('refuses /mfa/associate without a token, with a token lacking enroll, with a non-MFA token, or for other types', async () => {
    expect((await s.t.app.inject({ method: 'POST', url: '/mfa/associate', payload: { authenticator_types: ['otp'] } })).statusCode).toBe(401);
    const ordersToken = (await s.token({ grant_type: 'client_credentials', client_id: web.clientId, client_secret: web.secret, audience: API })).body.access_token ?? 'x.y.z';
    expect((await call('POST', '/mfa/associate', ordersToken, { authenticator_types: ['otp'] })).status).toBe(401);
    expect((await call('POST', '/mfa/associate', 'not-an-mfa-token', { authenticator_types: ['otp'] })).status).toBe(401);
  });

  it('then answers the password grant with 403 mfa_required and an mfa_token (pending enrollment included)', async () => {
    const r = await login();
    expect(r.status).toBe(403);
    expect(r.body).toEqual({ error: 'mfa_required', error_description: 'Multifactor authentication required', mfa_token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) });
    const c = await s.t.app.inject({ method: 'POST', url: '/mfa/challenge', payload: { client_id: web.clientId, client_secret: web.secret, mfa_token: r.body.mfa_token, challenge_type: 'otp' } });
    expect(c.statusCode).toBe(200);
    expect(JSON.parse(c.body)).toEqual({ challenge_type: 'otp' });
    const oob = await s.t.app.inject({ method: 'POST', url: '/mfa/challenge', payload: { client_id: web.clientId, client_secret: web.secret, mfa_token: r.body.mfa_token, challenge_type: 'oob' } });
    expect(JSON.parse(oob.body).error).toBe('unsupported_challenge_type');
    const foreign = await s.t.app.inject({ method: 'POST', url: '/mfa/challenge', payload: { client_id: other.clientId, client_secret: other.secret, mfa_token: r.body.mfa_token } });
    expect(JSON.parse(foreign.body)).toEqual({ error: 'invalid_grant', error_description: 'Malformed mfa_token' });
  });

  it('mfa-otp: a wrong code is refused, the right one confirms the enrollment and issues tokens with amr ["mfa"]', async () => {
    const token = await mfaToken();
    const wrong = await otp(token, codeAt(secret, s.clock.now() + 600_000));
    expect(wrong.status).toBe(403);
    expect(wrong.body).toEqual({ error: 'invalid_grant', error_description: 'Invalid otp_code.' });
    expect((await otp(token, 'abcdef')).body.error_description).toBe('Invalid otp_code.');
    const ok = await otp(token, codeAt(secret, s.clock.now()));
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    const { payload } = await jwtVerify(ok.body.access_token, await jwks(), { issuer: `${PUBLIC_URL}/`, audience: API, currentDate: new Date(s.clock.now()) });
    expect(payload.amr).toEqual(['mfa']);
    expect(payload.sub).toBe(userId);
    expect(decodeJwt(ok.body.id_token).amr).toEqual(['mfa']);
    expect(ok.body.scope).toBe('openid offline_access read:orders');
    // a refreshed token still records the second factor of its login
    const refreshed = await s.token({ grant_type: 'refresh_token', refresh_token: ok.body.refresh_token, client_id: web.clientId, client_secret: web.secret });
    expect(decodeJwt(refreshed.body.access_token).amr).toEqual(['mfa']);
    const methods = await s.api('GET', `/users/${encodeURIComponent(userId)}/authentication-methods`);
    expect(methods.body.map((m: { type: string; confirmed: boolean }) => [m.type, m.confirmed])).toEqual([['totp', true], ['recovery-code', true]]);
  });

  it('an mfa_token is single use, refused for another client, and expires after 10 minutes', async () => {
    nextStep();
    const token = await mfaToken();
    expect((await otp(token, codeAt(secret, s.clock.now()), other)).body).toEqual({ error: 'invalid_grant', error_description: 'Malformed mfa_token' });
    expect((await otp(token, codeAt(secret, s.clock.now()))).status).toBe(200);
    nextStep();
    expect((await otp(token, codeAt(secret, s.clock.now()))).body).toEqual({ error: 'invalid_grant', error_description: 'mfa_token has already been used' });
    const late = await mfaToken();
    s.clock.advance(601);
    const r = await otp(late, codeAt(secret, s.clock.now()));
    expect(r.status).toBe(403);
    expect(r.body).toEqual({ error: 'expired_token', error_description: 'mfa_token is expired' });
    expect((await otp('made-up-token', codeAt(secret, s.clock.now()))).body.error_description).toBe('Malformed mfa_token');
  });

  it('a code is accepted once: replayed with a new mfa_token, or an older code of the window, it is refused', async () => {
    nextStep();
    const code = codeAt(secret, s.clock.now());
    const previous = codeAt(secret, s.clock.now() - 30_000);
    expect((await otp(await mfaToken(), code)).status).toBe(200);
    const replay = await otp(await mfaToken(), code);
    expect(replay.body).toEqual({ error: 'invalid_grant', error_description: 'Invalid otp_code.' });
    expect((await otp(await mfaToken(), previous)).body.error_description).toBe('Invalid otp_code.');
    // the next step's code works (the window allows one step of drift)
    expect((await otp(await mfaToken(), codeAt(secret, s.clock.now() + 30_000))).status).toBe(200);
  });

  it('mfa-recovery-code: the code works once and the response carries its replacement', async () => {
    const r = await s.token({ grant_type: MFA_RECOVERY, mfa_token: await mfaToken(), recovery_code: recovery.toLowerCase(), client_id: web.clientId, client_secret: web.secret });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.recovery_code).toMatch(/^[A-Z0-9]{24}$/);
    expect(r.body.recovery_code).not.toBe(recovery);
    expect(decodeJwt(r.body.access_token).amr).toEqual(['mfa']);
    const again = await s.token({ grant_type: MFA_RECOVERY, mfa_token: await mfaToken(), recovery_code: recovery, client_id: web.clientId, client_secret: web.secret });
    expect(again.body).toEqual({ error: 'invalid_grant', error_description: 'Invalid recovery_code.' });
    recovery = r.body.recovery_code;
  });

  it('five wrong codes lock the second factor for 15 minutes (even the right code), then it works again', async () => {
    s.clock.advance(60);
    expect((await otp(await mfaToken(), codeAt(secret, s.clock.now()))).status).toBe(200); // a success resets the count
    nextStep();
    const token = await mfaToken();
    for (let i = 0; i < 4; i++) expect((await otp(token, '000000')).status).toBe(403);
    const fifth = await otp(token, '000001');
    expect(fifth.status).toBe(429);
    expect(fifth.body.error).toBe('too_many_attempts');
    const right = await otp(token, codeAt(secret, s.clock.now()));
    expect(right.status).toBe(429);
    expect((await s.token({ grant_type: MFA_RECOVERY, mfa_token: token, recovery_code: recovery, client_id: web.clientId, client_secret: web.secret })).status).toBe(429);
    s.clock.advance(15 * 60 + 1);
    expect((await otp(await mfaToken(), codeAt(secret, s.clock.now()))).status).toBe(200);
  });

  it('the client needs the mfa-otp grant type; a wrong client secret is refused before the code is looked at', async () => {
    const narrow = await createWebApp(s, { name: 'No MFA grant', grant_types: ['password', REALM] });
    const r = await login(narrow);
    expect(r.body.error).toBe('mfa_required');
    expect((await otp(r.body.mfa_token, '123456', narrow)).body.error).toBe('unauthorized_client');
    expect((await s.token({ grant_type: MFA_OTP, mfa_token: r.body.mfa_token, otp: '123456', client_id: web.clientId, client_secret: 'wrong' })).status).toBe(401);
  });

  it('with an MFA API token from an MFA login: list and delete authenticators; a password-only token may not', async () => {
    nextStep();
    const t = await s.token({ grant_type: REALM, realm: CONNECTION, username: email, password: PASSWORD, client_id: web.clientId, client_secret: web.secret, audience: MFA_AUDIENCE, scope: 'read:authenticators remove:authenticators' });
    const withMfa = await otp(t.body.mfa_token, codeAt(secret, s.clock.now()));
    expect(withMfa.status).toBe(200);
    const list = await call('GET', '/mfa/authenticators', withMfa.body.access_token);
    expect(list.body.map((a: { authenticator_type: string }) => a.authenticator_type)).toEqual(['otp', 'recovery-code']);
    // associate again while enrolled: refused
    expect((await call('POST', '/mfa/associate', await mfaToken(), { authenticator_types: ['otp'] })).body).toEqual({ error: 'access_denied', error_description: 'User is already enrolled.' });
    const del = await call('DELETE', `/mfa/authenticators/${encodeURIComponent(list.body[0].id)}`, withMfa.body.access_token);
    expect(del.status).toBe(204);
    // no second factor any more: the password grant answers with tokens again
    expect((await login()).status).toBe(200);
  });

  it('an MFA API token from before the enrollment cannot remove the confirmed authenticator', async () => {
    const bob = 'mfa-api-bob@example.com';
    await createUser(s, bob);
    const early = await s.token({ grant_type: REALM, realm: CONNECTION, username: bob, password: PASSWORD, client_id: web.clientId, client_secret: web.secret, audience: MFA_AUDIENCE, scope: 'enroll read:authenticators remove:authenticators' });
    const assoc = await call('POST', '/mfa/associate', early.body.access_token, { authenticator_types: ['otp'] });
    const t = await s.token({ grant_type: REALM, realm: CONNECTION, username: bob, password: PASSWORD, client_id: web.clientId, client_secret: web.secret, audience: API });
    expect((await otp(t.body.mfa_token, codeAt(assoc.body.secret, s.clock.now()))).status).toBe(200);
    const list = await call('GET', '/mfa/authenticators', early.body.access_token);
    const del = await call('DELETE', `/mfa/authenticators/${encodeURIComponent(list.body[0].id)}`, early.body.access_token);
    expect(del.status).toBe(403);
    expect(del.body.error).toBe('access_denied');
    expect((await call('POST', '/mfa/associate', early.body.access_token, { authenticator_types: ['otp'] })).status).toBe(403);
  });

  it('Management API: authentication methods and Guardian enrollments with Auth0 shapes, deletion ends the challenge', async () => {
    const carol = 'mfa-api-carol@example.com';
    const carolId = await createUser(s, carol);
    const early = await s.token({ grant_type: REALM, realm: CONNECTION, username: carol, password: PASSWORD, client_id: web.clientId, client_secret: web.secret, audience: MFA_AUDIENCE, scope: 'enroll' });
    const assoc = await call('POST', '/mfa/associate', early.body.access_token, { authenticator_types: ['otp'] });
    const id = encodeURIComponent(carolId);
    let list = await s.api('GET', `/users/${id}/authentication-methods`);
    expect(list.status).toBe(200);
    expect(list.body).toEqual([
      { id: expect.stringMatching(/^totp\|dev_[A-Za-z0-9]{16}$/), type: 'totp', confirmed: false, created_at: new Date(s.clock.now()).toISOString() },
      { id: expect.stringMatching(/^recovery-code\|dev_[A-Za-z0-9]{16}$/), type: 'recovery-code', confirmed: false, created_at: new Date(s.clock.now()).toISOString() },
    ]);
    expect(JSON.stringify(list.body)).not.toContain(assoc.body.secret);
    const paged = await s.api('GET', `/users/${id}/authentication-methods?include_totals=true&per_page=1&page=1`);
    expect(paged.body).toEqual({ start: 1, limit: 1, total: 2, authenticators: [list.body[1]] });
    const t = await s.token({ grant_type: REALM, realm: CONNECTION, username: carol, password: PASSWORD, client_id: web.clientId, client_secret: web.secret, audience: API });
    expect((await otp(t.body.mfa_token, codeAt(assoc.body.secret, s.clock.now()))).status).toBe(200);
    list = await s.api('GET', `/users/${id}/authentication-methods`);
    const totpId = list.body[0].id as string;
    expect(list.body[0]).toMatchObject({ type: 'totp', confirmed: true, last_auth_at: new Date(s.clock.now()).toISOString() });
    expect((await s.api('GET', `/users/${id}/authentication-methods/${encodeURIComponent(totpId)}`)).body).toEqual(list.body[0]);
    expect((await s.api('GET', `/users/${id}/authentication-methods/totp%7Cdev_nope`)).body).toEqual({ statusCode: 404, error: 'Not Found', message: 'Authentication method not found.', errorCode: 'inexistent_authentication_method' });
    expect((await s.api('GET', '/users/auth0%7Cnobody/authentication-methods')).body.errorCode).toBe('inexistent_user');
    // another user's method id is not found under this user
    expect((await s.api('DELETE', `/users/${encodeURIComponent(userId)}/authentication-methods/${encodeURIComponent(totpId)}`)).status).toBe(404);

    const enrollments = await s.api('GET', `/users/${id}/enrollments`);
    expect(enrollments.body).toEqual([{ id: totpId.slice(5), status: 'confirmed', type: 'authenticator', auth_method: 'authenticator', enrolled_at: list.body[0].created_at, last_auth: list.body[0].last_auth_at }]);
    expect((await s.api('GET', `/guardian/enrollments/${totpId.slice(5)}`)).body).toEqual(enrollments.body[0]);
    expect((await s.api('GET', '/guardian/enrollments/dev_nope')).status).toBe(404);

    // still challenged; deleting the TOTP removes the recovery code too and ends the challenge
    expect((await s.token({ grant_type: REALM, realm: CONNECTION, username: carol, password: PASSWORD, client_id: web.clientId, client_secret: web.secret })).body.error).toBe('mfa_required');
    expect((await s.api('DELETE', `/users/${id}/authentication-methods/${encodeURIComponent(totpId)}`)).status).toBe(204);
    expect((await s.api('GET', `/users/${id}/authentication-methods`)).body).toEqual([]);
    expect((await s.token({ grant_type: REALM, realm: CONNECTION, username: carol, password: PASSWORD, client_id: web.clientId, client_secret: web.secret })).status).toBe(200);

    // Guardian deletion and delete-all work the same way
    const again = await call('POST', '/mfa/associate', early.body.access_token, { authenticator_types: ['otp'] });
    expect(again.status).toBe(200);
    const pendingId = (await s.api('GET', `/users/${id}/enrollments`)).body[0].id as string;
    expect((await s.api('DELETE', `/guardian/enrollments/${pendingId}`)).status).toBe(204);
    expect((await s.api('GET', `/users/${id}/authentication-methods`)).body).toEqual([]);
    await call('POST', '/mfa/associate', early.body.access_token, { authenticator_types: ['otp'] });
    expect((await s.api('DELETE', `/users/${id}/authentication-methods`)).status).toBe(204);
    expect((await s.api('GET', `/users/${id}/authentication-methods`)).body).toEqual([]);
  });
});
