import { Secret, TOTP } from 'otpauth';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CONNECTION, createUser, createWebApp, PASSWORD } from './helpers/flows';
import { eachDialect, PUBLIC_URL, startTessera, type TestServer } from './helpers/tessera';

const REALM = 'http://auth0.com/oauth/grant-type/password-realm';
const MFA_OTP = 'http://auth0.com/oauth/grant-type/mfa-otp';
const codeAt = (secret: string, ms: number) => new TOTP({ algorithm: 'SHA1', digits: 6, period: 30, secret: Secret.fromBase32(secret) }).generate({ timestamp: ms });

/** Wrong second-factor codes fill the address's failure bucket (suspicious-IP throttling) like wrong passwords. */
eachDialect('wrong MFA codes count towards the suspicious-address throttling', (dialect) => {
  let s: TestServer;
  let web: { clientId: string; secret: string };
  beforeAll(async () => {
    s = await startTessera(dialect, { env: { TESSERA_SUSPICIOUS_IP_THROTTLING: '3/3600' } });
    web = await createWebApp(s, { grant_types: ['password', REALM, MFA_OTP] });
  });
  afterAll(async () => { await s.close(); });

  const enrolled = async (email: string) => {
    await createUser(s, email);
    const login = { grant_type: REALM, realm: CONNECTION, username: email, password: PASSWORD, client_id: web.clientId, client_secret: web.secret };
    const t = await s.token({ ...login, audience: `${PUBLIC_URL}/mfa/`, scope: 'enroll' });
    const assoc = await s.t.app.inject({ method: 'POST', url: '/mfa/associate', headers: { authorization: `Bearer ${t.body.access_token}` }, payload: { authenticator_types: ['otp'] } });
    return { login, secret: JSON.parse(assoc.body).secret as string };
  };

  it('three wrong codes for two users from one address: the address is refused, right codes included', async () => {
    const a = await enrolled('bf-a@example.com');
    const b = await enrolled('bf-b@example.com');
    const tokenA = (await s.token(a.login)).body.mfa_token as string;
    const tokenB = (await s.token(b.login)).body.mfa_token as string;
    for (const t of [tokenA, tokenA, tokenB]) {
      expect((await s.token({ grant_type: MFA_OTP, mfa_token: t, otp: '000000', client_id: web.clientId, client_secret: web.secret })).body.error).toBe('invalid_grant');
    }
    const right = await s.token({ grant_type: MFA_OTP, mfa_token: tokenB, otp: codeAt(b.secret, s.clock.now()), client_id: web.clientId, client_secret: web.secret });
    expect(right.status).toBe(429);
    expect(right.body.error).toBe('too_many_attempts');
    // the bucket drains (3 per hour): after 20 minutes one more attempt is allowed, and the right code works
    s.clock.advance(20 * 60 + 1);
    const later = await s.token({ grant_type: MFA_OTP, mfa_token: (await s.token(b.login)).body.mfa_token, otp: codeAt(b.secret, s.clock.now()), client_id: web.clientId, client_secret: web.secret });
    expect(later.status, JSON.stringify(later.body)).toBe(200);
  });
});
