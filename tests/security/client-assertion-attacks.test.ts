import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniq } from '../helpers/management';
import { createLogger, createTessera, loadConfig } from '@tessera/server';
import { ADMIN_ID, ADMIN_SECRET, eachDialect, MGMT_AUDIENCE, PUBLIC_URL, startTessera, type TestServer } from '../helpers/tessera';
import { attackerKey, jws } from './forge';

/**
 * private_key_jwt client assertions (RFC 7523 §3) at POST /oauth/token: forged, replayed and misaddressed
 * assertions are refused with Auth0's 401 access_denied "Unauthorized", and no token is issued.
 */
const ISSUER = `${PUBLIC_URL}/`;
const API = 'https://ledger.example/';
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const UNAUTHORIZED = { error: 'access_denied', error_description: 'Unauthorized' };

type Pair = ReturnType<typeof attackerKey>;

eachDialect('security: private_key_jwt client assertion attacks', (dialect) => {
  let s: TestServer;
  let client: { id: string; secret: string; credentialId: string; key: Pair };
  let bystander: string;

  /** A confidential M2M client holding one registered public key and a grant on API. */
  async function keyHolder(): Promise<typeof client> {
    const key = attackerKey();
    const pem = key.publicKey.export({ type: 'spki', format: 'pem' }) as string;
    const created = await s.api('POST', '/clients', {
      name: `key-holder-${uniq()}`, app_type: 'non_interactive', grant_types: ['client_credentials'],
      client_authentication_methods: { private_key_jwt: { credentials: [{ credential_type: 'public_key', name: 'k1', pem, alg: 'RS256' }] } },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = created.body.client_id as string;
    expect((await s.api('POST', '/client-grants', { client_id: id, audience: API, scope: ['read:ledger'] })).status).toBe(201);
    const credentialId = created.body.client_authentication_methods.private_key_jwt.credentials[0].id as string;
    return { id, secret: created.body.client_secret as string, credentialId, key };
  }

  const masterKey = randomBytes(32).toString('base64');
  beforeAll(async () => {
    s = await startTessera(dialect, { masterKey });
    expect((await s.api('POST', '/resource-servers', { identifier: API, scopes: [{ value: 'read:ledger' }] })).status).toBe(201);
    client = await keyHolder();
    bystander = (await keyHolder()).id;
  });
  afterAll(async () => { await s.close(); });

  const nowS = () => Math.floor(s.clock.now() / 1000);
  const claims = (extra: Record<string, unknown> = {}) => ({
    iss: client.id, sub: client.id, aud: ISSUER, jti: randomUUID(), iat: nowS(), exp: nowS() + 120, ...extra,
  });
  const signed = (c: Record<string, unknown> = claims(), header: Record<string, unknown> = {}, key = client.key.privateKey) =>
    jws({ alg: 'RS256', typ: 'JWT', ...header }, c, key);
  const present = (assertion: string, extra: Record<string, string> = {}) => s.token({
    grant_type: 'client_credentials', audience: API, client_assertion_type: ASSERTION_TYPE, client_assertion: assertion, ...extra,
  });
  async function refused(assertion: string, extra: Record<string, string> = {}): Promise<void> {
    const r = await present(assertion, extra);
    expect(r.status).toBe(401);
    expect(r.body).toEqual(UNAUTHORIZED);
    expect(r.headers['cache-control']).toBe('no-store');
  }

  it('control: an honest assertion signed with the registered key gets a token', async () => {
    const r = await present(signed());
    expect(r.status).toBe(200);
    expect(r.body.scope).toBe('read:ledger');
  });

  describe('replay', () => {
    it('the same assertion presented twice is refused the second time', async () => {
      const a = signed();
      expect((await present(a)).status).toBe(200);
      await refused(a);
    });

    it('the same assertion replayed to a second instance on the same database is refused', async () => {
      const b = await createTessera(loadConfig({
        TESSERA_DATABASE_URL: s.db.url, TESSERA_PUBLIC_URL: PUBLIC_URL, TESSERA_PORT: '0', TESSERA_ADMIN_CLIENT_ID: ADMIN_ID,
        TESSERA_ADMIN_CLIENT_SECRET: ADMIN_SECRET, TESSERA_MASTER_KEY: masterKey, TESSERA_LOG_LEVEL: 'silent',
      }), { clock: s.clock, logger: createLogger('silent') });
      try {
        const a = signed();
        expect((await present(a)).status).toBe(200);
        const res = await b.app.inject({
          method: 'POST', url: '/oauth/token', headers: { 'content-type': 'application/x-www-form-urlencoded' },
          payload: new URLSearchParams({ grant_type: 'client_credentials', audience: API, client_assertion_type: ASSERTION_TYPE, client_assertion: a }).toString(),
        });
        expect(res.statusCode).toBe(401);
        expect(JSON.parse(res.body)).toEqual(UNAUTHORIZED);
      } finally { await b.close(); }
    });

    it('a new assertion reusing a spent jti is refused', async () => {
      const jti = randomUUID();
      expect((await present(signed(claims({ jti })))).status).toBe(200);
      await refused(signed(claims({ jti })));
    });

    it('an assertion without jti is refused (single use cannot be enforced)', async () => {
      await refused(signed(claims({ jti: undefined })));
    });
  });

  describe('audience and parties', () => {
    it.each([
      'https://elsewhere.example/', MGMT_AUDIENCE, API, 'https://tessera.test', 'https://TESSERA.test/', `${PUBLIC_URL}/oauth/token/`, `${PUBLIC_URL}/oauth/token?x=1`,
    ])('audience %s is refused', async (aud) => {
      await refused(signed(claims({ aud })));
    });

    it('an assertion without aud is refused', async () => {
      await refused(signed(claims({ aud: undefined })));
    });

    it('iss different from sub is refused', async () => {
      await refused(signed(claims({ iss: bystander })));
      await refused(signed(claims({ iss: 'https://attacker.example/' })));
    });

    it("an assertion naming another client (sub and iss) but signed with this client's key is refused", async () => {
      await refused(signed(claims({ iss: bystander, sub: bystander })));
      await refused(signed(claims({ iss: bystander, sub: bystander })), { client_id: bystander });
    });

    it('a body client_id naming another client than the assertion is refused', async () => {
      await refused(signed(), { client_id: bystander });
    });
  });

  describe('time', () => {
    it('an expired assertion is refused', async () => {
      await refused(signed(claims({ iat: nowS() - 600, exp: nowS() - 60 })));
    });

    it('an assertion without exp is refused', async () => {
      await refused(signed(claims({ exp: undefined })));
    });

    it('an assertion living longer than 5 minutes is refused', async () => {
      await refused(signed(claims({ exp: nowS() + 3600 })));
    });

    it('an assertion not valid before a future nbf is refused', async () => {
      await refused(signed(claims({ nbf: nowS() + 120, exp: nowS() + 240 })));
    });

    it('an assertion issued an hour in the future is refused', async () => {
      await refused(signed(claims({ iat: nowS() + 3600 })));
    });
  });

  describe('keys and signatures', () => {
    it('an assertion signed by an unregistered key is refused, with or without the credential id as kid', async () => {
      const stranger = attackerKey().privateKey;
      await refused(signed(claims(), {}, stranger));
      await refused(signed(claims(), { kid: client.credentialId }, stranger));
    });

    it('an assertion signed by a removed (revoked) credential is refused', async () => {
      const victim = await keyHolder();
      const own = (c: Record<string, unknown> = {}) => jws({ alg: 'RS256', typ: 'JWT' }, { iss: victim.id, sub: victim.id, aud: ISSUER, jti: randomUUID(), iat: nowS(), exp: nowS() + 120, ...c }, victim.key.privateKey);
      expect((await present(own())).status).toBe(200);
      const replacement = attackerKey().publicKey.export({ type: 'spki', format: 'pem' }) as string;
      const patched = await s.api('PATCH', `/clients/${victim.id}`, {
        client_authentication_methods: { private_key_jwt: { credentials: [{ credential_type: 'public_key', name: 'k2', pem: replacement }] } },
      });
      expect(patched.status).toBe(200);
      await refused(own());
    });

    it('an assertion signed by an expired credential is refused', async () => {
      const key = attackerKey();
      const pem = key.publicKey.export({ type: 'spki', format: 'pem' }) as string;
      const created = await s.api('POST', '/clients', {
        name: `expiring-${uniq()}`, app_type: 'non_interactive', grant_types: ['client_credentials'],
        client_authentication_methods: { private_key_jwt: { credentials: [{ credential_type: 'public_key', pem, expires_at: new Date(s.clock.now() + 3_600_000).toISOString() }] } },
      });
      expect(created.status).toBe(201);
      const id = created.body.client_id as string;
      expect((await s.api('POST', '/client-grants', { client_id: id, audience: API, scope: ['read:ledger'] })).status).toBe(201);
      const own = () => jws({ alg: 'RS256', typ: 'JWT' }, { iss: id, sub: id, aud: ISSUER, jti: randomUUID(), iat: nowS(), exp: nowS() + 120 }, key.privateKey);
      expect((await present(own())).status).toBe(200);
      s.clock.advance(7200);
      try { await refused(own()); } finally { s.clock.advance(-7200); }
    });

    it('a credential whose expires_at is not a date is refused at registration (it could never expire)', async () => {
      const pem = attackerKey().publicKey.export({ type: 'spki', format: 'pem' }) as string;
      const r = await s.api('POST', '/clients', {
        name: `never-expiring-${uniq()}`, app_type: 'non_interactive',
        client_authentication_methods: { private_key_jwt: { credentials: [{ credential_type: 'public_key', pem, expires_at: 'never' }] } },
      });
      expect(r.status).toBe(400);
      expect(r.body).toEqual({
        statusCode: 400, error: 'Bad Request', errorCode: 'invalid_body',
        message: "Payload validation error: 'Object didn't pass validation for format date-time: never' on property client_authentication_methods.private_key_jwt.credentials[0].expires_at.",
      });
    });

    it.each(['none', 'None', 'NONE'])('alg "%s" is refused', async (alg) => {
      await refused(jws({ alg, typ: 'JWT' }, claims()));
      await refused(jws({ alg, typ: 'JWT', kid: client.credentialId }, claims()));
    });

    it('HS256 signed with the registered public key (PEM or DER) is refused', async () => {
      for (const secret of [
        Buffer.from(client.key.publicKey.export({ type: 'spki', format: 'pem' }) as string),
        client.key.publicKey.export({ type: 'spki', format: 'der' }),
        Buffer.from(client.key.publicKey.export({ type: 'pkcs1', format: 'pem' }) as string),
      ]) {
        await refused(jws({ alg: 'HS256', typ: 'JWT' }, claims(), secret));
      }
    });

    it('HS256 signed with the client secret (client_secret_jwt is not offered) is refused', async () => {
      await refused(jws({ alg: 'HS256', typ: 'JWT' }, claims(), Buffer.from(client.secret)));
    });

    it('a jwk header carrying the attacker key is refused', async () => {
      const attacker = attackerKey();
      await refused(signed(claims(), { jwk: attacker.publicKey.export({ format: 'jwk' }), kid: client.credentialId }, attacker.privateKey));
    });

    it('a stripped or flipped signature is refused', async () => {
      const [h, p, sig] = signed().split('.');
      await refused(`${h}.${p}.`);
      await refused(`${h}.${p}`);
      const bytes = Buffer.from(sig, 'base64url');
      bytes[10] ^= 0x80;
      await refused(`${h}.${p}.${bytes.toString('base64url')}`);
    });

    it.each([
      ['path traversal', '../../../../etc/passwd'], ['SQL injection', "' OR 1=1 --"], ['very long', 'k'.repeat(8192)],
    ])('an injected kid (%s) is refused with 401', async (_name, kid) => {
      await refused(signed(claims(), { kid }));
    });

    it.each([
      ['not a JWT', 'garbage'], ['empty parts', '..'], ['bad base64 payload', 'eyJhbGciOiJSUzI1NiJ9.!!!.x'],
      ['sub is an object', `eyJhbGciOiJSUzI1NiJ9.${Buffer.from(JSON.stringify({ sub: { $ne: '' } })).toString('base64url')}.x`],
      ['sub is an injected id', `eyJhbGciOiJSUzI1NiJ9.${Buffer.from(JSON.stringify({ sub: "x' OR '1'='1" })).toString('base64url')}.x`],
    ])('a malformed assertion (%s) is refused with 401, never 5xx', async (_name, assertion) => {
      await refused(assertion);
    });
  });
});
