import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eachDialect, startTessera, PUBLIC_URL, type TestServer } from '../helpers/tessera';
import { claimsOf, dpopApi, m2m, proof, proofKey, TOKEN_URL, type ProofKey, type ProofOptions } from './dpop';

/**
 * RFC 9449 §4.3 at POST /oauth/token: every check a DPoP proof must pass, one refusal per `it`, on an API that
 * allows DPoP and a confidential M2M client (so no nonce is involved; nonces have their own suite).
 */
const refused = (rule: string) => ({ error: 'invalid_dpop_proof', error_description: `Invalid DPoP proof: ${rule}` });

eachDialect('security: DPoP proof checks at /oauth/token', (dialect) => {
  let s: TestServer;
  let audience: string;
  let client: { client_id: string; client_secret: string };
  let key: ProofKey;
  const masterKey = randomBytes(32).toString('base64');
  beforeAll(async () => {
    s = await startTessera(dialect, { masterKey });
    audience = await dpopApi(s, { mechanism: 'dpop', required: false });
    client = await m2m(s, audience);
    key = await proofKey();
  });
  afterAll(async () => { await s.close(); });

  const params = () => ({ grant_type: 'client_credentials', ...client, audience });
  const withProofs = (...proofs: string[]) => via(s, ...proofs);
  const via = (server: TestServer, ...proofs: string[]) => server.t.app.inject({
    method: 'POST', url: '/oauth/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded', dpop: proofs },
    payload: new URLSearchParams(params()).toString(),
  }).then((r) => ({ status: r.statusCode, body: JSON.parse(r.body), headers: r.headers }));
  const send = async (o: Partial<ProofOptions> = {}, k: ProofKey = key) => withProofs(await proof(k, { now: s.clock.now(), ...o }));

  it('a valid ES256 proof gets a DPoP token bound to the key thumbprint', async () => {
    const r = await send();
    expect(r.status).toBe(200);
    expect(r.body.token_type).toBe('DPoP');
    const { calculateJwkThumbprint } = await import('jose');
    expect(claimsOf(r.body.access_token).cnf).toEqual({ jkt: await calculateJwkThumbprint(key.jwk, 'sha256') });
    expect(r.headers['cache-control']).toBe('no-store');
  });

  it.each(['ES384', 'RS256', 'PS256', 'EdDSA'])('%s proofs are accepted', async (alg) => {
    const r = await send({}, await proofKey(alg));
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.token_type).toBe('DPoP');
  });

  it('refuses a replayed jti', async () => {
    const p = await proof(key, { now: s.clock.now() });
    expect((await withProofs(p)).status).toBe(200);
    const again = await withProofs(p);
    expect(again.status).toBe(400);
    expect(again.body).toEqual(refused('jti was already used'));
  });

  it('of two concurrent requests with one proof, exactly one gets a token', async () => {
    const p = await proof(key, { now: s.clock.now() });
    const results = await Promise.all([withProofs(p), withProofs(p)]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 400]);
  });

  it('refuses a proof replayed to a second instance on the same database', async () => {
    const second = await startTessera(dialect, { database: s.db, masterKey, clock: s.clock });
    try {
      const p = await proof(key, { now: s.clock.now() });
      expect((await withProofs(p)).status).toBe(200);
      const replayed = await via(second, p);
      expect(replayed.status).toBe(400);
      expect(replayed.body).toEqual(refused('jti was already used'));
    } finally { await second.close(); }
  });

  it('refuses a jti replayed by the same key in a fresh proof', async () => {
    const jti = randomUUID();
    expect((await send({ jti })).status).toBe(200);
    expect((await send({ jti, iat: Math.floor(s.clock.now() / 1000) - 1 })).body).toEqual(refused('jti was already used'));
  });

  it('refuses a wrong htm', async () => {
    expect(await send({ htm: 'GET' })).toMatchObject({ status: 400, body: refused('htm must be POST') });
  });

  it('refuses a wrong htu (another endpoint)', async () => {
    expect(await send({ htu: `${PUBLIC_URL}/userinfo` })).toMatchObject({ status: 400, body: refused(`htu must be ${TOKEN_URL}`) });
  });

  it('refuses a wrong htu (another host)', async () => {
    expect(await send({ htu: 'https://attacker.example/oauth/token' })).toMatchObject({ status: 400, body: refused(`htu must be ${TOKEN_URL}`) });
  });

  it('accepts an htu with a query and a fragment (compared without them)', async () => {
    expect((await send({ htu: `${TOKEN_URL}?a=b#c` })).status).toBe(200);
  });

  it('refuses a stale iat (older than 60 s)', async () => {
    expect(await send({ iat: Math.floor(s.clock.now() / 1000) - 61 })).toMatchObject({ status: 400, body: refused('iat is too old') });
  });

  it('refuses a future iat (more than 30 s ahead)', async () => {
    expect(await send({ iat: Math.floor(s.clock.now() / 1000) + 31 })).toMatchObject({ status: 400, body: refused('iat is in the future') });
  });

  it('refuses a symmetric alg (HS256)', async () => {
    const { SignJWT } = await import('jose');
    const secret = new Uint8Array(32).fill(7);
    const jws = await new SignJWT({ htm: 'POST', htu: TOKEN_URL, jti: randomUUID() })
      .setProtectedHeader({ typ: 'dpop+jwt', alg: 'HS256', jwk: { kty: 'oct', k: Buffer.from(secret).toString('base64url') } } as never)
      .setIssuedAt(Math.floor(s.clock.now() / 1000)).sign(secret);
    expect(await withProofs(jws)).toMatchObject({ status: 400, body: refused('alg must be one of ES256, ES384, RS256, PS256, EdDSA') });
  });

  it('refuses alg none', async () => {
    const h = Buffer.from(JSON.stringify({ typ: 'dpop+jwt', alg: 'none', jwk: key.jwk })).toString('base64url');
    const p = Buffer.from(JSON.stringify({ htm: 'POST', htu: TOKEN_URL, jti: randomUUID(), iat: Math.floor(s.clock.now() / 1000) })).toString('base64url');
    expect(await withProofs(`${h}.${p}.`)).toMatchObject({ status: 400, body: refused('alg must be one of ES256, ES384, RS256, PS256, EdDSA') });
  });

  it('refuses a private key in jwk', async () => {
    const { exportJWK } = await import('jose');
    const priv = await exportJWK(key.privateKey);
    expect(await send({ header: { jwk: priv } })).toMatchObject({ status: 400, body: refused('jwk must be a public key') });
  });

  it('refuses a proof whose jwk is not the signing key', async () => {
    const other = await proofKey();
    expect(await send({ header: { jwk: other.jwk } })).toMatchObject({ status: 400, body: refused('signature does not verify with the embedded jwk') });
  });

  it('refuses a key that does not fit alg (a P-384 key claiming ES256)', async () => {
    const p384 = await proofKey('ES384');
    const { SignJWT } = await import('jose');
    const jws = await new SignJWT({ htm: 'POST', htu: TOKEN_URL, jti: randomUUID() })
      .setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES384', jwk: p384.jwk }).setIssuedAt(Math.floor(s.clock.now() / 1000)).sign(p384.privateKey);
    const [h, rest] = [jws.split('.')[0], jws.split('.').slice(1).join('.')];
    const relabelled = `${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(h, 'base64url').toString()), alg: 'ES256' })).toString('base64url')}.${rest}`;
    expect(await withProofs(relabelled)).toMatchObject({ status: 400, body: refused('signature does not verify with the embedded jwk') });
  });

  /** A proof signed with node:crypto, for headers and keys jose refuses to sign with. */
  const rawProof = async (header: Record<string, unknown>, privateKey: import('node:crypto').KeyObject, dsa?: 'ieee-p1363') => {
    const { sign } = await import('node:crypto');
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const input = `${b64(header)}.${b64({ htm: 'POST', htu: TOKEN_URL, jti: randomUUID(), iat: Math.floor(s.clock.now() / 1000) })}`;
    return `${input}.${sign('sha256', Buffer.from(input), dsa ? { key: privateKey, dsaEncoding: dsa } : privateKey).toString('base64url')}`;
  };

  it('refuses an RSA key shorter than 2048 bits', async () => {
    const { generateKeyPairSync } = await import('node:crypto');
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const p = await rawProof({ typ: 'dpop+jwt', alg: 'RS256', jwk: publicKey.export({ format: 'jwk' }) }, privateKey);
    expect(await withProofs(p)).toMatchObject({ status: 400, body: refused('signature does not verify with the embedded jwk') });
  });

  it('refuses a crit header parameter', async () => {
    const { generateKeyPairSync } = await import('node:crypto');
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const p = await rawProof({ typ: 'dpop+jwt', alg: 'ES256', jwk: publicKey.export({ format: 'jwk' }), crit: ['x-unknown'], 'x-unknown': 1 }, privateKey, 'ieee-p1363');
    expect(await withProofs(p)).toMatchObject({ status: 400, body: refused('crit and b64 header parameters are not supported') });
  });

  it('refuses a payload that is not a JSON object', async () => {
    const h = Buffer.from(JSON.stringify({ typ: 'dpop+jwt', alg: 'ES256', jwk: key.jwk })).toString('base64url');
    expect(await withProofs(`${h}.${Buffer.from('[1]').toString('base64url')}.AAAA`)).toMatchObject({ status: 400, body: refused('not a JWS') });
  });

  it('refuses a wrong typ', async () => {
    expect(await send({ header: { typ: 'JWT' } })).toMatchObject({ status: 400, body: refused('typ must be dpop+jwt') });
  });

  it('refuses a proof without jwk', async () => {
    expect(await send({ header: { jwk: undefined } })).toMatchObject({ status: 400, body: refused('jwk is required') });
  });

  it('refuses two proofs (two DPoP header fields)', async () => {
    const a = await proof(key, { now: s.clock.now() });
    const b = await proof(key, { now: s.clock.now() });
    expect(await withProofs(a, b)).toMatchObject({ status: 400, body: refused('exactly one DPoP header is allowed') });
  });

  it('refuses a header that is not a JWS', async () => {
    expect(await withProofs('not-a-jwt')).toMatchObject({ status: 400, body: refused('not a JWS') });
  });

  it('a refused proof does not spend its jti', async () => {
    const jti = randomUUID();
    expect((await send({ jti, htm: 'PUT' })).status).toBe(400);
    expect((await send({ jti })).status).toBe(200);
  });

  describe('discovery', () => {
    it('advertises dpop_signing_alg_values_supported', async () => {
      const r = await s.t.app.inject({ method: 'GET', url: '/.well-known/openid-configuration' });
      expect(JSON.parse(r.body).dpop_signing_alg_values_supported).toEqual(['ES256', 'ES384', 'RS256', 'PS256', 'EdDSA']);
    });
  });
});
