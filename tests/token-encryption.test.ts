import { execFileSync } from 'node:child_process';
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { calculateJwkThumbprint, compactDecrypt, createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet, type JWTPayload } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { authorize, Browser, CALLBACK, callbackParams, createUser, createWebApp, exchange, pkce, PASSWORD } from './helpers/flows';
import { badRequest, snapshot, uniq } from './helpers/management';
import { eachDialect, MGMT_AUDIENCE, PUBLIC_URL, startTessera, type TestServer } from './helpers/tessera';
import { claimsOf, proof, proofKey, TOKEN_URL } from './security/dpop';
import { clientCert, type ClientCert } from './security/mtls';

/**
 * Encrypted access tokens (contract §7.10, issue 11 part 1): an API with `token_encryption` gets a compact JWE
 * (RSA-OAEP-256/384/512 + A256GCM, cty JWT) around the signed JWT, for every grant type. The judge is jose:
 * compactDecrypt with the API's private key, then jwtVerify against Tessera's JWKS.
 */
interface KeyPair { publicPem: string; privateKey: KeyObject; privatePem: string }
const rsaPair = (bits = 2048): KeyPair => {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: bits });
  return { publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(), privateKey, privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
};
/** An RSA public key PEM with a random modulus of exactly `bits` bits and the given exponent (no private key exists). */
const rsaFromParts = (bits: number, e: string): string => {
  const n = randomBytes(bits / 8);
  n[0] |= 0x80;
  n[n.length - 1] |= 1;
  return createPublicKey({ key: { kty: 'RSA', n: n.toString('base64url'), e }, format: 'jwk' }).export({ type: 'spki', format: 'pem' }).toString();
};
const ALGS = ['RSA-OAEP-256', 'RSA-OAEP-384', 'RSA-OAEP-512'] as const;
const HEADER = 'x-client-cert';
const halfHash = (v: string) => createHash('sha256').update(v).digest().subarray(0, 16).toString('base64url');

let main: KeyPair;
let other: KeyPair;
let certPem: string;
let certKey: KeyObject;
let alice: ClientCert;
beforeAll(() => {
  main = rsaPair();
  other = rsaPair();
  const dir = mkdtempSync(join(tmpdir(), 'tessera-jwe-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem'), '-days', '2', '-subj', '/CN=orders-api'], { stdio: 'pipe' });
  certPem = readFileSync(join(dir, 'c.pem'), 'utf8');
  certKey = createPrivateKey(readFileSync(join(dir, 'k.pem'), 'utf8'));
  alice = clientCert(dir, 'alice');
});

eachDialect('token encryption: JWE access tokens', (dialect) => {
  let s: TestServer;
  let jwks: ReturnType<typeof createLocalJWKSet>;

  const encryption = (alg: string, pem: string, extra: Record<string, unknown> = {}) => ({ format: 'compact-nested-jwe', encryption_key: { name: 'orders-key', alg, pem, ...extra } });
  const newApi = async (extra: Record<string, unknown>) => {
    const identifier = `https://jwe-${uniq()}.example/`;
    const r = await s.api('POST', '/resource-servers', { identifier, scopes: [{ value: 'read:data' }], allow_offline_access: true, skip_consent_for_verifiable_first_party_clients: true, ...extra });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    return { identifier, id: r.body.id as string, body: r.body };
  };
  const m2m = async (audience: string) => {
    const c = await s.api('POST', '/clients', { name: `jwe-m2m-${uniq()}`, app_type: 'non_interactive', grant_types: ['client_credentials'] });
    expect((await s.api('POST', '/client-grants', { client_id: c.body.client_id, audience, scope: ['read:data'] })).status).toBe(201);
    return { client_id: c.body.client_id as string, client_secret: c.body.client_secret as string };
  };
  const cc = async (audience: string, headers: Record<string, string> = {}) => {
    const r = await s.token({ grant_type: 'client_credentials', audience, ...await m2m(audience) }, { headers });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    return r.body as { access_token: string; expires_in: number; token_type: string; scope?: string };
  };
  /** The judge: decrypt with the API's private key (only the configured alg, A256GCM), then verify the inner JWT. */
  const open = async (jwe: string, key: KeyObject, alg: string, audience: string): Promise<{ payload: JWTPayload; inner: string }> => {
    const { plaintext, protectedHeader } = await compactDecrypt(jwe, key, { keyManagementAlgorithms: [alg], contentEncryptionAlgorithms: ['A256GCM'] });
    expect(protectedHeader.cty).toBe('JWT');
    const inner = new TextDecoder().decode(plaintext);
    const { payload } = await jwtVerify(inner, jwks, { issuer: `${PUBLIC_URL}/`, audience, algorithms: ['RS256', 'PS256', 'RS512'] });
    return { payload, inner };
  };

  beforeAll(async () => {
    s = await startTessera(dialect, { env: { TESSERA_MTLS_PROXY_HEADER: HEADER, TESSERA_MTLS_TRUSTED_PROXIES: '127.0.0.1' } });
    const res = await s.t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' });
    jwks = createLocalJWKSet(res.json() as JSONWebKeySet);
  }, 30_000);
  afterAll(async () => { await s?.close(); });
  afterEach(() => { vi.restoreAllMocks(); });

  describe('issuance (client_credentials)', () => {
    it('returns a 5-segment compact JWE: alg from the key, enc A256GCM, cty JWT, kid when configured; token_type and expires_in unchanged', async () => {
      const api = await newApi({ token_lifetime: 3600, token_encryption: encryption('RSA-OAEP-256', main.publicPem, { kid: 'orders-2026' }) });
      const body = await cc(api.identifier);
      expect(body.access_token.split('.')).toHaveLength(5);
      expect(decodeProtectedHeader(body.access_token)).toEqual({ alg: 'RSA-OAEP-256', enc: 'A256GCM', cty: 'JWT', kid: 'orders-2026' });
      expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 3600, scope: 'read:data' });
      const { payload, inner } = await open(body.access_token, main.privateKey, 'RSA-OAEP-256', api.identifier);
      expect(inner.split('.')).toHaveLength(3);
      expect(payload).toMatchObject({ aud: api.identifier, scope: 'read:data', gty: 'client-credentials' });
      expect(payload.exp! - payload.iat!).toBe(3600);
    });

    it.each(ALGS)('%s: the header carries that alg and no kid when none is configured', async (alg) => {
      const api = await newApi({ token_encryption: encryption(alg, main.publicPem) });
      const { access_token } = await cc(api.identifier);
      expect(decodeProtectedHeader(access_token)).toEqual({ alg, enc: 'A256GCM', cty: 'JWT' });
      expect((await open(access_token, main.privateKey, alg, api.identifier)).payload.sub).toMatch(/@clients$/);
    });

    it('a certificate PEM encrypts to the certificate key; PS256 rfc9068_profile tokens keep typ at+jwt inside', async () => {
      const api = await newApi({ signing_alg: 'PS256', token_dialect: 'rfc9068_profile', token_encryption: encryption('RSA-OAEP-384', certPem) });
      const { access_token } = await cc(api.identifier);
      const { inner, payload } = await open(access_token, certKey, 'RSA-OAEP-384', api.identifier);
      expect(decodeProtectedHeader(inner)).toMatchObject({ alg: 'PS256', typ: 'at+jwt' });
      expect(payload.client_id).toBeDefined();
    });

    it('an HS256 API: the inner token verifies with the API signing_secret', async () => {
      const api = await newApi({ signing_alg: 'HS256', token_encryption: encryption('RSA-OAEP-256', main.publicPem) });
      const { access_token } = await cc(api.identifier);
      const { plaintext } = await compactDecrypt(access_token, main.privateKey, { keyManagementAlgorithms: ['RSA-OAEP-256'] });
      const { payload } = await jwtVerify(new TextDecoder().decode(plaintext), new TextEncoder().encode(api.body.signing_secret), { algorithms: ['HS256'], audience: api.identifier });
      expect(payload.scope).toBe('read:data');
    });

    it('APIs without token_encryption still get a plain signed JWT', async () => {
      const api = await newApi({});
      const { access_token } = await cc(api.identifier);
      expect(access_token.split('.')).toHaveLength(3);
      expect(decodeProtectedHeader(access_token).alg).toBe('RS256');
    });
  });

  describe('refusals at the resource server (the judge)', () => {
    it('another private key cannot decrypt; a verifier pinned to another alg refuses; a tampered ciphertext fails', async () => {
      const api = await newApi({ token_encryption: encryption('RSA-OAEP-256', main.publicPem) });
      const { access_token } = await cc(api.identifier);
      await expect(compactDecrypt(access_token, other.privateKey, { keyManagementAlgorithms: ['RSA-OAEP-256'] })).rejects.toThrow();
      await expect(compactDecrypt(access_token, main.privateKey, { keyManagementAlgorithms: ['RSA-OAEP-512'] })).rejects.toThrow(/not allowed/);
      const parts = access_token.split('.');
      const ct = Buffer.from(parts[3], 'base64url');
      ct[0] ^= 1;
      parts[3] = ct.toString('base64url');
      await expect(compactDecrypt(parts.join('.'), main.privateKey, { keyManagementAlgorithms: ['RSA-OAEP-256'] })).rejects.toThrow();
    });

    it('the JWE is not a JWS: jwtVerify on the token as received fails', async () => {
      const api = await newApi({ token_encryption: encryption('RSA-OAEP-256', main.publicPem) });
      await expect(jwtVerify((await cc(api.identifier)).access_token, jwks)).rejects.toThrow();
    });
  });

  describe('user grants', () => {
    let api: { identifier: string; id: string };
    let web: { clientId: string; secret: string };
    let email: string;
    beforeAll(async () => {
      api = await newApi({ token_lifetime: 7200, token_lifetime_for_web: 900, token_encryption: encryption('RSA-OAEP-512', main.publicPem, { kid: 'k1' }) });
      web = await createWebApp(s, { name: `jwe-web-${uniq()}` });
      email = `jwe-${uniq()}@example.com`;
      await createUser(s, email);
    });
    const password = (scope = 'openid offline_access read:data') =>
      s.token({ grant_type: 'password', username: email, password: PASSWORD, client_id: web.clientId, client_secret: web.secret, audience: api.identifier, scope });

    it('password and refresh_token grants return JWEs; the refresh token and ID token stay as they were', async () => {
      const r = await password();
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      expect(r.body.access_token.split('.')).toHaveLength(5);
      expect(r.body.id_token.split('.')).toHaveLength(3);
      expect(r.body.refresh_token).toMatch(/^v1\./);
      expect(r.body).toMatchObject({ token_type: 'Bearer', expires_in: 7200 });
      const first = await open(r.body.access_token, main.privateKey, 'RSA-OAEP-512', api.identifier);
      expect(first.payload).toMatchObject({ gty: 'password', scope: 'openid offline_access read:data' });
      const refreshed = await s.token({ grant_type: 'refresh_token', refresh_token: r.body.refresh_token, client_id: web.clientId, client_secret: web.secret });
      expect(refreshed.status, JSON.stringify(refreshed.body)).toBe(200);
      expect(decodeProtectedHeader(refreshed.body.access_token)).toEqual({ alg: 'RSA-OAEP-512', enc: 'A256GCM', cty: 'JWT', kid: 'k1' });
      expect((await open(refreshed.body.access_token, main.privateKey, 'RSA-OAEP-512', api.identifier)).payload.gty).toBe('refresh_token');
    });

    it('with openid the inner token names only the API as audience (the /userinfo audience is left out)', async () => {
      const r = await password('openid read:data');
      const { payload } = await open(r.body.access_token, main.privateKey, 'RSA-OAEP-512', api.identifier);
      expect(payload.aud).toBe(api.identifier);
    });

    it('authorization code with PKCE returns a JWE', async () => {
      const { verifier, challenge } = pkce();
      const r = await authorize(s, new Browser(s), {
        response_type: 'code', client_id: web.clientId, redirect_uri: CALLBACK, audience: api.identifier, scope: 'openid read:data', code_challenge: challenge, code_challenge_method: 'S256',
      }, { email });
      const { code } = callbackParams(r.res.location);
      const t = await exchange(s, { client_id: web.clientId, client_secret: web.secret, code, code_verifier: verifier });
      expect(t.status, JSON.stringify(t.body)).toBe(200);
      expect((await open(t.body.access_token, main.privateKey, 'RSA-OAEP-512', api.identifier)).payload.sub).toMatch(/^auth0\|/);
    });

    it('implicit (token id_token): a JWE with token_lifetime_for_web, at_hash over the JWE as delivered', async () => {
      const r = await authorize(s, new Browser(s), {
        response_type: 'token id_token', client_id: web.clientId, redirect_uri: CALLBACK, audience: api.identifier, scope: 'openid read:data', nonce: 'n1', state: 'st',
      }, { email });
      const p = callbackParams(r.res.location);
      expect(p).toMatchObject({ token_type: 'Bearer', expires_in: '900' });
      const { payload } = await open(p.access_token, main.privateKey, 'RSA-OAEP-512', api.identifier);
      expect(payload.exp! - payload.iat!).toBe(900);
      expect(claimsOf(p.id_token).at_hash).toBe(halfHash(p.access_token));
    });

    it('/userinfo refuses an encrypted token (401 invalid_token); the /userinfo token of the same login still works', async () => {
      const r = await password('openid read:data');
      const res = await s.t.app.inject({ method: 'GET', url: '/userinfo', headers: { authorization: `Bearer ${r.body.access_token}` } });
      expect(res.statusCode).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
      const plain = await s.token({ grant_type: 'password', username: email, password: PASSWORD, client_id: web.clientId, client_secret: web.secret, scope: 'openid email' });
      const ok = await s.t.app.inject({ method: 'GET', url: '/userinfo', headers: { authorization: `Bearer ${plain.body.access_token}` } });
      expect(ok.statusCode).toBe(200);
      expect(ok.json().email).toBe(email);
    });
  });

  describe('sender-constrained and encrypted', () => {
    it('DPoP: token_type DPoP, the inner JWT carries cnf.jkt of the proof key', async () => {
      const api = await newApi({ proof_of_possession: { mechanism: 'dpop', required: true }, token_encryption: encryption('RSA-OAEP-256', main.publicPem) });
      const key = await proofKey();
      const dpop = await proof(key, { now: s.clock.now(), htu: TOKEN_URL });
      const r = await s.token({ grant_type: 'client_credentials', audience: api.identifier, ...await m2m(api.identifier) }, { headers: { dpop } });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      expect(r.body.token_type).toBe('DPoP');
      const { payload } = await open(r.body.access_token, main.privateKey, 'RSA-OAEP-256', api.identifier);
      expect(payload.cnf).toEqual({ jkt: await calculateJwkThumbprint(key.jwk, 'sha256') });
    });

    it('DPoP required and no proof: refused before anything is encrypted', async () => {
      const api = await newApi({ proof_of_possession: { mechanism: 'dpop', required: true }, token_encryption: encryption('RSA-OAEP-256', main.publicPem) });
      const r = await s.token({ grant_type: 'client_credentials', audience: api.identifier, ...await m2m(api.identifier) });
      expect(r.status).toBe(400);
      expect(r.body.error).toBe('invalid_request');
    });

    it('mTLS: the inner JWT carries cnf["x5t#S256"] of the client certificate', async () => {
      const api = await newApi({ proof_of_possession: { mechanism: 'mtls', required: true }, token_encryption: encryption('RSA-OAEP-256', main.publicPem) });
      const body = await cc(api.identifier, { [HEADER]: encodeURIComponent(alice.pem) });
      expect(body.token_type).toBe('Bearer');
      expect((await open(body.access_token, main.privateKey, 'RSA-OAEP-256', api.identifier)).payload.cnf).toEqual({ 'x5t#S256': alice.x5t });
    });
  });

  describe('configuration changes and the key cache', () => {
    it('the PEM is parsed once per key configuration, not per token; a new key is used at once, null turns encryption off', async () => {
      const api = await newApi({ token_encryption: encryption('RSA-OAEP-256', main.publicPem, { kid: `a-${uniq()}` }) });
      const client = await m2m(api.identifier);
      const token = async () => (await s.token({ grant_type: 'client_credentials', audience: api.identifier, ...client })).body.access_token as string;
      const prepare = vi.spyOn(s.t.services.minter.encrypter, 'prepare');
      for (let i = 0; i < 5; i++) await token();
      expect(prepare).toHaveBeenCalledTimes(1);

      expect((await s.api('PATCH', `/resource-servers/${api.id}`, { token_encryption: encryption('RSA-OAEP-384', other.publicPem) })).status).toBe(200);
      const rotated = await token();
      for (let i = 0; i < 3; i++) await token();
      expect(prepare).toHaveBeenCalledTimes(2);
      expect(decodeProtectedHeader(rotated)).toEqual({ alg: 'RSA-OAEP-384', enc: 'A256GCM', cty: 'JWT' });
      await expect(compactDecrypt(rotated, main.privateKey)).rejects.toThrow();
      await open(rotated, other.privateKey, 'RSA-OAEP-384', api.identifier);

      expect((await s.api('PATCH', `/resource-servers/${api.id}`, { token_encryption: null })).status).toBe(200);
      expect((await token()).split('.')).toHaveLength(3);
    });
  });

  describe('other token consumers', () => {
    it('the Management API refuses an encrypted token (401 Invalid token)', async () => {
      const api = await newApi({ token_encryption: encryption('RSA-OAEP-256', main.publicPem) });
      const { access_token } = await cc(api.identifier);
      const r = await s.api('GET', '/resource-servers', undefined, { token: access_token });
      expect(r.status).toBe(401);
      expect(r.body).toMatchObject({ statusCode: 401, error: 'Unauthorized' });
    });

    it('the Management API itself cannot be given token_encryption', async () => {
      const list = await s.api('GET', '/resource-servers');
      const mgmt = list.body.find((r: { identifier: string }) => r.identifier === MGMT_AUDIENCE);
      const r = await s.api('PATCH', `/resource-servers/${mgmt.id}`, { token_encryption: encryption('RSA-OAEP-256', main.publicPem) });
      expect(r.status).toBe(400);
      expect(r.body).toEqual(badRequest("Payload validation error: 'Additional properties not allowed: token_encryption'."));
    });

    it('/oauth/revoke with an encrypted access token answers 200 and changes nothing (only refresh tokens are revocable)', async () => {
      const api = await newApi({ token_encryption: encryption('RSA-OAEP-256', main.publicPem) });
      const client = await m2m(api.identifier);
      const { access_token } = await cc(api.identifier);
      const res = await s.t.app.inject({ method: 'POST', url: '/oauth/revoke', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ token: access_token, ...client }) });
      expect(res.statusCode).toBe(200);
    });
  });

  describe('key validation on create and PATCH (Management API)', () => {
    const refused = (reason: string) => badRequest(`Payload validation error: '${reason}' on property token_encryption.encryption_key.pem.`);
    const PRIVATE = 'Invalid PEM: private key material is not accepted; send only the public key or certificate';

    it('a private key (PKCS#8 or PKCS#1) is refused and nothing is stored', async () => {
      const before = await snapshot(s);
      const pkcs1 = main.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
      for (const pem of [main.privatePem, pkcs1, `${main.publicPem}\n${main.privatePem}`]) {
        const r = await s.api('POST', '/resource-servers', { identifier: `https://priv-${uniq()}.example/`, token_encryption: encryption('RSA-OAEP-256', pem) });
        expect(r.status).toBe(400);
        expect(r.body).toEqual(refused(PRIVATE));
      }
      expect(await snapshot(s)).toEqual(before);
    });

    it('an EC key, RSA keys under 2048 or over 8192 bits, a public exponent over 32 bits and text that is not a PEM are refused', async () => {
      const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
      const short = rsaPair(1024).publicPem;
      const cases: Array<[string, string]> = [
        [ec, 'Invalid PEM: expected an RSA public key or certificate'],
        ['-----BEGIN PUBLIC KEY-----\nnot base64\n-----END PUBLIC KEY-----', 'Invalid PEM: expected an RSA public key or certificate'],
        [short, 'Invalid PEM: the RSA key has 1024 bits, at least 2048 are required'],
        [rsaFromParts(8448, 'AQAB'), 'Invalid PEM: the RSA key has 8448 bits, at most 8192 are accepted'],
        [rsaFromParts(2048, Buffer.from('010000000001', 'hex').toString('base64url')), 'Invalid PEM: the RSA public exponent is larger than 32 bits'],
      ];
      for (const [pem, reason] of cases) {
        const r = await s.api('POST', '/resource-servers', { identifier: `https://bad-${uniq()}.example/`, token_encryption: encryption('RSA-OAEP-256', pem) });
        expect(r.status).toBe(400);
        expect(r.body).toEqual(refused(reason));
      }
    });

    it('a refused PATCH keeps the configured key, and tokens stay encrypted to it', async () => {
      const api = await newApi({ token_encryption: encryption('RSA-OAEP-256', main.publicPem) });
      const r = await s.api('PATCH', `/resource-servers/${api.id}`, { token_encryption: encryption('RSA-OAEP-256', other.privatePem) });
      expect(r.status).toBe(400);
      expect((await s.api('GET', `/resource-servers/${api.id}`)).body.token_encryption).toEqual(api.body.token_encryption);
      await open((await cc(api.identifier)).access_token, main.privateKey, 'RSA-OAEP-256', api.identifier);
    });

    it('the Terraform spelling `algorithm` is accepted for `alg` and returned as `alg`; both differing, or neither, → 400', async () => {
      const api = await newApi({ token_encryption: { format: 'compact-nested-jwe', encryption_key: { name: 'tf', algorithm: 'RSA-OAEP-384', pem: main.publicPem } } });
      expect(api.body.token_encryption.encryption_key).toEqual({ name: 'tf', alg: 'RSA-OAEP-384', thumbprint_sha256: expect.any(String) });
      expect(decodeProtectedHeader((await cc(api.identifier)).access_token).alg).toBe('RSA-OAEP-384');
      const same = await s.api('PATCH', `/resource-servers/${api.id}`, { token_encryption: { format: 'compact-nested-jwe', encryption_key: { alg: 'RSA-OAEP-512', algorithm: 'RSA-OAEP-512', pem: main.publicPem } } });
      expect(same.status).toBe(200);
      expect(same.body.token_encryption.encryption_key.alg).toBe('RSA-OAEP-512');
      const differ = await s.api('PATCH', `/resource-servers/${api.id}`, { token_encryption: { format: 'compact-nested-jwe', encryption_key: { alg: 'RSA-OAEP-256', algorithm: 'RSA-OAEP-512', pem: main.publicPem } } });
      expect(differ.body).toEqual(badRequest("Payload validation error: 'alg (RSA-OAEP-256) and algorithm (RSA-OAEP-512) differ' on property token_encryption.encryption_key."));
      const neither = await s.api('PATCH', `/resource-servers/${api.id}`, { token_encryption: { format: 'compact-nested-jwe', encryption_key: { pem: main.publicPem } } });
      expect(neither.body).toEqual(badRequest("Payload validation error: 'Missing required property: alg' on property token_encryption.encryption_key."));
      const badAlg = await s.api('PATCH', `/resource-servers/${api.id}`, { token_encryption: { format: 'compact-nested-jwe', encryption_key: { algorithm: 'RSA1_5', pem: main.publicPem } } });
      expect(badAlg.status).toBe(400);
      expect((await s.api('GET', `/resource-servers/${api.id}`)).body.token_encryption.encryption_key.alg).toBe('RSA-OAEP-512');
    });

    it('the PEM never leaves through the API (create, PATCH, GET, list)', async () => {
      const api = await newApi({ token_encryption: encryption('RSA-OAEP-256', main.publicPem, { kid: 'x' }) });
      const patched = await s.api('PATCH', `/resource-servers/${api.id}`, { name: 'renamed' });
      const list = await s.api('GET', '/resource-servers');
      for (const text of [JSON.stringify(api.body), JSON.stringify(patched.body), JSON.stringify(list.body)]) expect(text).not.toContain('BEGIN PUBLIC KEY');
    });
  });
});
