import * as nodeCrypto from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CompactEncrypt, SignJWT, calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';

// Counts the signature checks and decryptions @tessera/verify makes, so the tests can tell a cache hit from a
// fresh check without timing anything. The functions keep their behaviour.
const counts = vi.hoisted(() => ({ verify: 0, decrypt: 0 }));
vi.mock('node:crypto', async (original) => {
  const real = await original<typeof import('node:crypto')>();
  return { ...real, verify: (...a: Parameters<typeof real.verify>) => { counts.verify++; return (real.verify as (...x: unknown[]) => unknown)(...a); } };
});

const tv = await import('@tessera/verify');
const { Decrypter } = await import('../packages/verify/src/jwe');
const open = Decrypter.prototype.open;
Decrypter.prototype.open = function (this: InstanceType<typeof Decrypter>, ...a: Parameters<typeof open>) { counts.decrypt++; return open.apply(this, a); };

/**
 * The verified-token cache of @tessera/verify: a token seen again skips its signature check (and a JWE its
 * decryption) but nothing else. Each refusal a fresh check would make is still made on a cache hit: expiry, a key
 * removed from the JWKS, a tampered copy, a validator, a bound token sent as Bearer, a replayed DPoP proof.
 */
const AUD = 'https://cache-api.example/';
let server: Server;
let base: string;
let jwks: { keys: JWK[] };
let signing: Awaited<ReturnType<typeof generateKeyPair>>;

async function token(claims: Record<string, unknown> = {}, key = signing.privateKey, kid = 'k1'): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ iss: `${base}/`, aud: AUD, sub: 'user-1', iat: now, exp: now + 600, scope: 'read:orders', ...claims })
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid }).sign(key);
}

const verifier = (o: Record<string, unknown> = {}) => tv.createVerifier({ issuerBaseURL: base, audience: AUD, ...o });
const req = (t: string, extra: Record<string, string> = {}) => ({ method: 'GET', url: 'https://api.example/orders', headers: { authorization: `Bearer ${t}`, ...extra } });

beforeAll(async () => {
  signing = await generateKeyPair('RS256', { extractable: true });
  jwks = { keys: [{ ...(await exportJWK(signing.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' }] };
  server = createServer((r, res) => {
    const docs: Record<string, unknown> = {
      '/.well-known/openid-configuration': { issuer: `${base}/`, jwks_uri: `${base}/jwks`, id_token_signing_alg_values_supported: ['RS256'] },
      '/jwks': jwks,
    };
    const doc = docs[r.url ?? ''];
    res.writeHead(doc ? 200 : 404, { 'content-type': 'application/json' }).end(JSON.stringify(doc ?? {}));
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((ok) => server.close(() => ok())));
afterEach(() => { vi.useRealTimers(); });

describe('verified-token cache', () => {
  it('a token seen again skips only its signature check; the answer is the same and a fresh copy each time', async () => {
    const v = verifier();
    const t = await token();
    counts.verify = 0;
    const first = await v.verify(req(t));
    expect(counts.verify).toBe(1);
    (first.payload as Record<string, unknown>).scope = 'admin'; // the application mutates what it got
    const second = await v.verify(req(t));
    expect(counts.verify).toBe(1); // served from the cache
    expect(second.payload.scope).toBe('read:orders');
    expect(second.payload.sub).toBe('user-1');
    expect(second.token).toBe(t);
  });

  it('cache.tokens.maxEntries: 0 turns it off; bad values are refused at construction', async () => {
    const v = verifier({ cache: { tokens: { maxEntries: 0 } } });
    const t = await token();
    counts.verify = 0;
    await v.verify(req(t));
    await v.verify(req(t));
    expect(counts.verify).toBe(2);
    expect(() => verifier({ cache: { tokens: { maxEntries: -1 } } })).toThrow(/maxEntries/);
    expect(() => verifier({ cache: { tokens: { maxEntries: 1.5 } } })).toThrow(/maxEntries/);
  });

  it('a cached token is refused once it expires', async () => {
    const v = verifier({ clockTolerance: 0 });
    const now = Math.floor(Date.now() / 1000);
    const t = await token({ exp: now + 30 });
    await expect(v.verify(req(t))).resolves.toBeTruthy();
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime((now + 31) * 1000);
    await expect(v.verify(req(t))).rejects.toMatchObject({ status: 401, code: 'invalid_token' });
  });

  it('a tampered copy of a cached token is refused (the cache is keyed by the exact text)', async () => {
    const v = verifier();
    const t = await token();
    await v.verify(req(t));
    const [h, , s] = t.split('.');
    const forged = `${h}.${Buffer.from(JSON.stringify({ iss: `${base}/`, aud: AUD, sub: 'admin', exp: 9999999999, scope: 'admin' })).toString('base64url')}.${s}`;
    await expect(v.verify(req(forged))).rejects.toMatchObject({ status: 401, code: 'invalid_token' });
    const sigFlipped = `${t.slice(0, -2)}${t.endsWith('AA') ? 'AB' : 'AA'}`;
    await expect(v.verify(req(sigFlipped))).rejects.toMatchObject({ status: 401 });
  });

  it('a key removed from the JWKS stops its cached tokens at the next key-set refresh, as without the cache', async () => {
    const v = verifier({ cacheMaxAge: 50, cooldownDuration: 0 });
    const t = await token();
    await expect(v.verify(req(t))).resolves.toBeTruthy();
    const saved = jwks;
    const other = await generateKeyPair('RS256', { extractable: true });
    jwks = { keys: [{ ...(await exportJWK(other.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' }] }; // same kid, new key
    try {
      await new Promise((r) => setTimeout(r, 80));
      await expect(v.verify(req(t))).rejects.toMatchObject({ status: 401, code: 'invalid_token' });
    } finally {
      jwks = saved;
    }
  });

  it('validators still run on a cache hit', async () => {
    let allow = true;
    const v = verifier({ validators: { sub: () => allow } });
    const t = await token();
    await expect(v.verify(req(t))).resolves.toBeTruthy();
    allow = false;
    await expect(v.verify(req(t))).rejects.toMatchObject({ status: 401, message: "Unexpected 'sub' value" });
  });

  it('a DPoP-bound token in the cache still needs a fresh proof each time: Bearer and a replayed proof are refused', async () => {
    const proofKey = await generateKeyPair('ES256', { extractable: true });
    const jwk = await exportJWK(proofKey.publicKey);
    const t = await token({ cnf: { jkt: await calculateJwkThumbprint(jwk) } });
    const ath = nodeCrypto.createHash('sha256').update(t).digest('base64url');
    const proof = () => new SignJWT({ htm: 'GET', htu: 'https://api.example/orders', ath, jti: nodeCrypto.randomUUID(), iat: Math.floor(Date.now() / 1000) })
      .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk }).sign(proofKey.privateKey);
    const v = verifier();
    const dpopReq = (p: string) => ({ method: 'GET', url: 'https://api.example/orders', headers: { authorization: `DPoP ${t}`, dpop: p } });
    const p1 = await proof();
    await expect(v.verify(dpopReq(p1))).resolves.toBeTruthy();
    await expect(v.verify(dpopReq(p1))).rejects.toMatchObject({ status: 400, code: 'invalid_dpop_proof' });
    await expect(v.verify(req(t))).rejects.toMatchObject({ status: 401, code: 'invalid_token' });
    await expect(v.verify(dpopReq(await proof()))).resolves.toBeTruthy();
  });

  it('an encrypted token seen again skips its decryption; an altered ciphertext is refused', async () => {
    const enc = nodeCrypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    const v = verifier({ decryptionKeys: [enc.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()] });
    const inner = await token();
    const jwe = await new CompactEncrypt(new TextEncoder().encode(inner)).setProtectedHeader({ alg: 'RSA-OAEP-256', enc: 'A256GCM', cty: 'JWT' }).encrypt(enc.publicKey);
    counts.decrypt = 0;
    counts.verify = 0;
    expect((await v.verify(req(jwe))).payload.sub).toBe('user-1');
    expect(counts.decrypt).toBe(1);
    expect((await v.verify(req(jwe))).payload.sub).toBe('user-1');
    expect(counts.decrypt).toBe(1);
    expect(counts.verify).toBe(1);
    const parts = jwe.split('.');
    parts[3] = `${parts[3].slice(0, -2)}${parts[3].endsWith('AA') ? 'AB' : 'AA'}`;
    await expect(v.verify(req(parts.join('.')))).rejects.toMatchObject({ status: 401 });
  });

  it('the cache is bounded: the oldest entry leaves first', async () => {
    const v = verifier({ cache: { tokens: { maxEntries: 2 } } });
    const [a, b, c] = [await token({ sub: 'a' }), await token({ sub: 'b' }), await token({ sub: 'c' })];
    for (const t of [a, b, c]) await v.verify(req(t));
    counts.verify = 0;
    await v.verify(req(c));
    await v.verify(req(b));
    expect(counts.verify).toBe(0);
    await v.verify(req(a)); // evicted by c
    expect(counts.verify).toBe(1);
  });
});
