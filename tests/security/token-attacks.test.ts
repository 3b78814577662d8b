import { decodeJwt, decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONNECTION, createApi, createUser, createWebApp, PASSWORD } from '../helpers/flows';
import { createM2mClient } from '../helpers/management';
import { eachDialect, MGMT_AUDIENCE, PUBLIC_URL, startTessera, type TestServer } from '../helpers/tessera';
import { attackerKey, b64, flipSignatureBit, jws, publicKeyEncodings, tenantKey } from './forge';

/**
 * Forged and misused access tokens against the two verifiers inside Tessera: the Management API (`/api/v2`)
 * and `/userinfo`. Every attack is refused with the verifier's usual 401; a control case shows that the same
 * forging machinery with honest claims is accepted, so each refusal is caused by the attack itself.
 */
const ISSUER = `${PUBLIC_URL}/`;
const USERINFO = `${PUBLIC_URL}/userinfo`;
const API = 'https://orders.example/';
const unauthorized = (message: string, errorCode = 'invalid_token') => ({ statusCode: 401, error: 'Unauthorized', message, errorCode, attributes: { error: message } });
const INVALID = unauthorized('Invalid token');

eachDialect('security: forged and misused access tokens', (dialect) => {
  let s: TestServer;
  let userId: string;
  let web: { clientId: string; secret: string };
  beforeAll(async () => {
    s = await startTessera(dialect);
    await createApi(s, API, { skip_consent_for_verifiable_first_party_clients: true });
    web = await createWebApp(s);
    userId = await createUser(s, 'mallory-target@example.com');
  });
  afterAll(async () => { await s.close(); });

  const nowS = () => Math.floor(s.clock.now() / 1000);
  const mgmtClaims = (extra: Record<string, unknown> = {}) => ({
    iss: ISSUER, sub: 'forged@clients', aud: MGMT_AUDIENCE, azp: 'forged', scope: 'read:resource_servers', iat: nowS(), exp: nowS() + 3600, ...extra,
  });
  const userClaims = (extra: Record<string, unknown> = {}) => ({
    iss: ISSUER, sub: userId, aud: [API, USERINFO], azp: web.clientId, scope: 'openid email', iat: nowS(), exp: nowS() + 3600, ...extra,
  });
  /** Signed with the tenant's own key and kid: only the claims (or header extras) are wrong. */
  const tenantSigned = (claims: Record<string, unknown>, header: Record<string, unknown> = {}) => {
    const { kid, key } = tenantKey(s);
    return jws({ alg: 'RS256', typ: 'JWT', kid, ...header }, claims, key);
  };

  const mgmt = (token: string) => s.t.app.inject({ method: 'GET', url: '/api/v2/resource-servers', headers: { authorization: `Bearer ${token}` } });
  const userinfo = (token: string) => s.t.app.inject({ method: 'GET', url: '/userinfo', headers: { authorization: `Bearer ${token}` } });
  async function mgmtRefuses(token: string, body: unknown = INVALID): Promise<void> {
    const r = await mgmt(token);
    expect(r.statusCode).toBe(401);
    expect(JSON.parse(r.body)).toEqual(body);
    expect(r.headers['www-authenticate']).toMatch(/^Bearer error="invalid_token"/);
  }
  async function userinfoRefuses(token: string): Promise<void> {
    const r = await userinfo(token);
    expect(r.statusCode).toBe(401);
    expect(r.body).toBe('Unauthorized');
    expect(r.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
  }
  const genuineUserTokens = async () => {
    const r = await s.token({
      grant_type: 'http://auth0.com/oauth/grant-type/password-realm', realm: CONNECTION, username: 'mallory-target@example.com', password: PASSWORD,
      client_id: web.clientId, client_secret: web.secret, audience: API, scope: 'openid email',
    });
    expect(r.status).toBe(200);
    return r.body as { access_token: string; id_token: string };
  };

  it('control: the forging helpers with honest claims are accepted by both verifiers', async () => {
    expect((await mgmt(tenantSigned(mgmtClaims()))).statusCode).toBe(200);
    const r = await userinfo(tenantSigned(userClaims()));
    expect(r.statusCode).toBe(200);
    expect(JSON.parse(r.body)).toMatchObject({ sub: userId, email: 'mallory-target@example.com' });
    expect((await userinfo((await genuineUserTokens()).access_token)).statusCode).toBe(200);
  });

  describe('signature and algorithm', () => {
    it.each(['none', 'None', 'NONE', 'nOnE'])('alg "%s" (unsigned) is refused', async (alg) => {
      const { kid } = tenantKey(s);
      await mgmtRefuses(jws({ alg, typ: 'JWT', kid }, mgmtClaims()));
      await userinfoRefuses(jws({ alg, typ: 'JWT', kid }, userClaims()));
    });

    it('HS256 signed with the tenant public key (algorithm confusion) is refused in every encoding', async () => {
      const { kid } = tenantKey(s);
      const encodings = await publicKeyEncodings(s, kid);
      expect(encodings).toHaveLength(8);
      for (const [, secret] of encodings) {
        await mgmtRefuses(jws({ alg: 'HS256', typ: 'JWT', kid }, mgmtClaims(), secret));
        await userinfoRefuses(jws({ alg: 'HS256', typ: 'JWT', kid }, userClaims(), secret));
      }
    });

    it('a genuine token with the signature stripped (empty or missing third part) is refused', async () => {
      for (const token of [tenantSigned(mgmtClaims()), (await genuineUserTokens()).access_token]) {
        const [h, p] = token.split('.');
        for (const stripped of [`${h}.${p}.`, `${h}.${p}`]) {
          await mgmtRefuses(stripped);
          await userinfoRefuses(stripped);
        }
      }
    });

    it('a genuine token with one signature bit flipped is refused', async () => {
      await mgmtRefuses(flipSignatureBit(await s.adminToken()));
      await userinfoRefuses(flipSignatureBit((await genuineUserTokens()).access_token));
    });

    it('a crit header naming an extension Tessera does not understand (b64: false) is refused', async () => {
      await mgmtRefuses(tenantSigned(mgmtClaims(), { crit: ['b64'], b64: false }));
      await userinfoRefuses(tenantSigned(userClaims(), { crit: ['x-unknown'], 'x-unknown': true }));
    });

    it('a genuine token with its payload swapped for a more privileged one is refused', async () => {
      const [h, , sig] = (await s.adminToken()).split('.');
      await mgmtRefuses(`${h}.${b64(mgmtClaims({ scope: 'delete:clients' }))}.${sig}`);
    });
  });

  describe('kid', () => {
    it('an unknown kid is refused even with the tenant key signature', async () => {
      await mgmtRefuses(tenantSigned(mgmtClaims(), { kid: 'no-such-kid' }));
      await userinfoRefuses(tenantSigned(userClaims(), { kid: 'no-such-kid' }));
    });

    it.each([
      ['path traversal', '../../../../../../etc/passwd'],
      ['SQL injection', "' OR 1=1 --"],
      ['very long', 'k'.repeat(8192)],
      ['NUL byte', 'kid\u0000x'],
      ['object', { $ne: null }],
    ])('an injected kid (%s) is refused with 401, never 5xx', async (_name, kid) => {
      await mgmtRefuses(tenantSigned(mgmtClaims(), { kid }));
      await userinfoRefuses(tenantSigned(userClaims(), { kid }));
    });

    it('a token without kid is refused', async () => {
      const { key } = tenantKey(s);
      await mgmtRefuses(jws({ alg: 'RS256', typ: 'JWT' }, mgmtClaims(), key));
      await userinfoRefuses(jws({ alg: 'RS256', typ: 'JWT' }, userClaims(), key));
    });
  });

  describe('embedded keys pointing at the attacker', () => {
    const attacker = attackerKey();
    const jwk = attacker.publicKey.export({ format: 'jwk' });
    const der = attacker.publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
    it.each([
      ['jwk', { jwk }],
      ['jku', { jku: 'https://attacker.example/jwks.json' }],
      ['x5u', { x5u: 'https://attacker.example/cert.pem' }],
      ['x5c', { x5c: [der] }],
    ])('a "%s" header with a token signed by the attacker key and the tenant kid is refused', async (_name, extra) => {
      const { kid } = tenantKey(s);
      await mgmtRefuses(jws({ alg: 'RS256', typ: 'JWT', kid, ...extra }, mgmtClaims(), attacker.privateKey));
      await userinfoRefuses(jws({ alg: 'RS256', typ: 'JWT', kid, ...extra }, userClaims(), attacker.privateKey));
      await mgmtRefuses(jws({ alg: 'RS256', typ: 'JWT', ...extra }, mgmtClaims(), attacker.privateKey));
    });
  });

  describe('time claims', () => {
    it('an expired token is refused (Management: "Expired token received for JSON Web Token validation")', async () => {
      const message = 'Expired token received for JSON Web Token validation';
      await mgmtRefuses(tenantSigned(mgmtClaims({ iat: nowS() - 7200, exp: nowS() - 1 })), unauthorized(message, 'token_expired'));
      await userinfoRefuses(tenantSigned(userClaims({ iat: nowS() - 7200, exp: nowS() - 1 })));
    });

    it('a token whose nbf lies in the future is refused', async () => {
      await mgmtRefuses(tenantSigned(mgmtClaims({ nbf: nowS() + 3600 })));
      await userinfoRefuses(tenantSigned(userClaims({ nbf: nowS() + 3600 })));
    });

    it('a token without exp is refused (RFC 9068 §2.2)', async () => {
      await mgmtRefuses(tenantSigned(mgmtClaims({ exp: undefined })));
      await userinfoRefuses(tenantSigned(userClaims({ exp: undefined })));
    });

    it('a token without iat is refused (RFC 9068 §2.2)', async () => {
      await mgmtRefuses(tenantSigned(mgmtClaims({ iat: undefined })));
      await userinfoRefuses(tenantSigned(userClaims({ iat: undefined })));
    });

    it('a token issued an hour in the future is refused; 30 s ahead is within the 60 s leeway', async () => {
      await mgmtRefuses(tenantSigned(mgmtClaims({ iat: nowS() + 3600, exp: nowS() + 7200 })));
      await userinfoRefuses(tenantSigned(userClaims({ iat: nowS() + 3600, exp: nowS() + 7200 })));
      await mgmtRefuses(tenantSigned(mgmtClaims({ iat: nowS() + 61 })));
      expect((await mgmt(tenantSigned(mgmtClaims({ iat: nowS() + 30 })))).statusCode).toBe(200);
      expect((await userinfo(tenantSigned(userClaims({ iat: nowS() + 30 })))).statusCode).toBe(200);
    });

    it('non-numeric time claims are refused', async () => {
      await mgmtRefuses(tenantSigned(mgmtClaims({ exp: String(nowS() + 3600) })));
      await userinfoRefuses(tenantSigned(userClaims({ iat: 'now' })));
    });
  });

  describe('audience and issuer', () => {
    it.each([
      'https://tessera.test/api/v2', 'https://TESSERA.test/api/v2/', 'https://tessera.test/API/V2/', 'https://tessera.test/api/v2//', 'https://tessera.test:443/api/v2/',
    ])('Management API: audience %s is refused as "Bad audience"', async (aud) => {
      await mgmtRefuses(tenantSigned(mgmtClaims({ aud })), unauthorized(`Bad audience: ${aud}`));
    });

    it.each([`${PUBLIC_URL}/userinfo/`, 'https://TESSERA.test/userinfo', `${PUBLIC_URL}/USERINFO`])('/userinfo: audience %s is refused', async (aud) => {
      await userinfoRefuses(tenantSigned(userClaims({ aud: [API, aud] })));
    });

    it.each([
      'https://tessera.test', 'https://tessera.test//', 'https://TESSERA.test/', 'HTTPS://tessera.test/', 'http://tessera.test/', 'https://tessera.test.evil.example/', ' https://tessera.test/',
    ])('issuer %j is refused (exact string match)', async (iss) => {
      await mgmtRefuses(tenantSigned(mgmtClaims({ iss })), unauthorized(`Bad issuer: ${iss}`));
      await userinfoRefuses(tenantSigned(userClaims({ iss })));
    });

    it('a token without iss is refused', async () => {
      await mgmtRefuses(tenantSigned(mgmtClaims({ iss: undefined })));
      await userinfoRefuses(tenantSigned(userClaims({ iss: undefined })));
    });
  });

  describe('tokens that are genuine elsewhere', () => {
    it("another Tessera instance's tokens (same public URL, its own keys) are refused", async () => {
      const other = await startTessera(dialect);
      try {
        await mgmtRefuses(await other.adminToken());
        const { kid, key } = tenantKey(other);
        await userinfoRefuses(jws({ alg: 'RS256', typ: 'JWT', kid }, userClaims(), key));
      } finally { await other.close(); }
    });

    it('an ID token is refused as an access token', async () => {
      const { id_token: idToken } = await genuineUserTokens();
      expect(decodeJwt(idToken).aud).toBe(web.clientId);
      await mgmtRefuses(idToken, unauthorized(`Bad audience: ${web.clientId}`));
      await userinfoRefuses(idToken);
    });

    it('a client cannot choose its client_id (an ID token for it would carry the Management API audience)', async () => {
      const r = await s.api('POST', '/clients', { name: 'audience squatter', client_id: MGMT_AUDIENCE });
      expect(r.status).toBe(400);
      expect(r.body).toMatchObject({ statusCode: 400, error: 'Bad Request', errorCode: 'invalid_body' });
      expect((await s.api('GET', '/clients')).body.some((c: { client_id: string }) => c.client_id === MGMT_AUDIENCE)).toBe(false);
    });

    it('an RS256 token for a custom API is refused by the Management API and by /userinfo', async () => {
      const c = await createM2mClient(s);
      expect((await s.api('POST', '/client-grants', { client_id: c.client_id, audience: API, scope: ['read:orders'] })).status).toBe(201);
      const t = await s.token({ grant_type: 'client_credentials', client_id: c.client_id, client_secret: c.client_secret, audience: API });
      expect(t.status).toBe(200);
      expect(decodeProtectedHeader(t.body.access_token).alg).toBe('RS256');
      await mgmtRefuses(t.body.access_token, unauthorized(`Bad audience: ${API}`));
      await userinfoRefuses(t.body.access_token);
    });

    it("an HS256 token signed with a custom API's own secret is refused", async () => {
      const hsApi = 'https://hs256.example/';
      const created = await s.api('POST', '/resource-servers', { identifier: hsApi, signing_alg: 'HS256' });
      expect(created.status).toBe(201);
      const secret = Buffer.from(created.body.signing_secret as string);
      await mgmtRefuses(jws({ alg: 'HS256', typ: 'JWT' }, mgmtClaims(), secret));
      await userinfoRefuses(jws({ alg: 'HS256', typ: 'JWT' }, userClaims(), secret));
    });

    // Last: it rotates and revokes the tenant key.
    it('tokens signed with a revoked key are refused', async () => {
      const oldAdmin = await s.adminToken();
      const oldUser = tenantSigned(userClaims());
      const oldKid = tenantKey(s).kid;
      expect((await s.api('POST', '/keys/signing/rotate')).status).toBe(201);
      expect(tenantKey(s).kid).not.toBe(oldKid);
      const fresh = tenantSigned(mgmtClaims({ scope: 'update:signing_keys read:resource_servers' }));
      const revoked = await s.api('PUT', `/keys/signing/${oldKid}/revoke`, undefined, { token: fresh });
      expect(revoked.status).toBe(200);
      await mgmtRefuses(oldAdmin);
      await userinfoRefuses(oldUser);
      expect((await mgmt(fresh)).statusCode).toBe(200);
    });
  });
});
