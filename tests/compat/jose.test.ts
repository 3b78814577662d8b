// jose: createRemoteJWKSet on the discovered jwks_uri + jwtVerify with RFC 9068 options, across a key rotation
// and a revocation; nested JWE access tokens opened with compactDecrypt.
import { generateKeyPairSync } from 'node:crypto';
import { compactDecrypt, createRemoteJWKSet, decodeProtectedHeader, jwtVerify, type JWTVerifyOptions } from 'jose';
import { beforeAll, expect, it } from 'vitest';
import { forEachTarget } from './setup/targets';
import { apiFixture, m2mClientFor, mgmt, tokenRequest, unique } from './setup/http';

forEachTarget('jose', (target) => {
  const tag = unique('jose');
  const rs256 = `https://${tag}.example.test/rs256`;
  const ps256 = `https://${tag}.example.test/ps256`;
  let creds: { client_id: string; client_secret: string };
  let jwksUri: URL;

  const token = async (audience: string) => {
    const r = await tokenRequest(target, { grant_type: 'client_credentials', client_id: creds.client_id, client_secret: creds.client_secret, audience });
    expect(r.status).toBe(200);
    return r.body.access_token as string;
  };
  const rfc9068 = (audience: string): JWTVerifyOptions => ({
    issuer: target.issuer, audience, typ: 'at+jwt', algorithms: ['RS256', 'PS256'],
    requiredClaims: ['iss', 'exp', 'aud', 'sub', 'client_id', 'iat', 'jti'],
  });

  beforeAll(async () => {
    const meta = await (await fetch(`${target.baseUrl}/.well-known/openid-configuration`)).json();
    jwksUri = new URL(meta.jwks_uri);
    await apiFixture(target, { identifier: rs256, signing_alg: 'RS256', token_dialect: 'rfc9068_profile' });
    await apiFixture(target, { identifier: ps256, signing_alg: 'PS256', token_dialect: 'rfc9068_profile_authz', enforce_policies: true, scopes: [{ value: 'read:orders' }] });
    creds = await m2mClientFor(target, rs256, []);
    await mgmt(target, 'POST', '/client-grants', { client_id: creds.client_id, audience: ps256, scope: ['read:orders'] });
  });

  it('RS256 and PS256 at+jwt tokens verify against the remote JWKS (one key, no "alg" pinning)', async () => {
    const JWKS = createRemoteJWKSet(jwksUri);
    const a = await jwtVerify(await token(rs256), JWKS, rfc9068(rs256));
    expect(a.protectedHeader).toMatchObject({ alg: 'RS256', typ: 'at+jwt' });
    const b = await jwtVerify(await token(ps256), JWKS, rfc9068(ps256));
    expect(b.protectedHeader).toMatchObject({ alg: 'PS256', typ: 'at+jwt' });
    expect(b.payload.permissions).toEqual(['read:orders']);
  });

  it('across a rotation: old and new tokens verify with the same cached JWKS and with a fresh one', async () => {
    const cached = createRemoteJWKSet(jwksUri);
    const before = await token(rs256);
    await jwtVerify(before, cached, rfc9068(rs256));
    const rotated = await mgmt(target, 'POST', '/keys/signing/rotate');
    expect(rotated.status).toBe(201);
    const after = await token(rs256);
    expect(decodeProtectedHeader(after).kid).not.toBe(decodeProtectedHeader(before).kid);
    // The key now signing was published as "next" before the rotation, so the cached set already has it.
    await expect(jwtVerify(after, cached, rfc9068(rs256))).resolves.toMatchObject({ protectedHeader: { kid: decodeProtectedHeader(after).kid } });
    await expect(jwtVerify(before, cached, rfc9068(rs256))).resolves.toBeTruthy();
    const fresh = createRemoteJWKSet(jwksUri);
    await expect(jwtVerify(before, fresh, rfc9068(rs256))).resolves.toBeTruthy();
    await expect(jwtVerify(after, fresh, rfc9068(rs256))).resolves.toBeTruthy();
  });

  it('after the old key is revoked, a fresh JWKS no longer verifies its tokens', async () => {
    const old = await token(rs256);
    const oldKid = decodeProtectedHeader(old).kid as string;
    expect((await mgmt(target, 'POST', '/keys/signing/rotate')).status).toBe(201);
    const revoked = await mgmt(target, 'PUT', `/keys/signing/${oldKid}/revoke`);
    expect(revoked.status).toBe(200);
    expect(revoked.body.kid).toBe(oldKid);
    const jwks = await (await fetch(jwksUri)).json();
    expect(jwks.keys.map((k: { kid: string }) => k.kid)).not.toContain(oldKid);
    await expect(jwtVerify(old, createRemoteJWKSet(jwksUri), rfc9068(rs256))).rejects.toMatchObject({ code: 'ERR_JWKS_NO_MATCHING_KEY' });
    await expect(jwtVerify(await token(rs256), createRemoteJWKSet(jwksUri), rfc9068(rs256))).resolves.toBeTruthy();
  });

  it('wrong issuer or audience is refused', async () => {
    const JWKS = createRemoteJWKSet(jwksUri);
    const t = await token(rs256);
    await expect(jwtVerify(t, JWKS, { ...rfc9068(rs256), issuer: target.baseUrl })).rejects.toMatchObject({ code: 'ERR_JWT_CLAIM_VALIDATION_FAILED', claim: 'iss' });
    await expect(jwtVerify(t, JWKS, rfc9068(ps256))).rejects.toMatchObject({ code: 'ERR_JWT_CLAIM_VALIDATION_FAILED', claim: 'aud' });
  });

  it('nested JWE (token_encryption): compactDecrypt with the API private key, then jwtVerify against the remote JWKS', async () => {
    const mine = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const someoneElse = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const jwe = `https://${tag}.example.test/jwe`;
    await apiFixture(target, {
      identifier: jwe, signing_alg: 'RS256', token_dialect: 'rfc9068_profile',
      token_encryption: { format: 'compact-nested-jwe', encryption_key: { name: 'orders', alg: 'RSA-OAEP-256', kid: 'orders-enc-1', pem: mine.publicKey.export({ type: 'spki', format: 'pem' }) } },
    });
    expect((await mgmt(target, 'POST', '/client-grants', { client_id: creds.client_id, audience: jwe, scope: [] })).status).toBe(201);
    const t = await token(jwe);
    expect(t.split('.')).toHaveLength(5);
    const opts = { keyManagementAlgorithms: ['RSA-OAEP-256'], contentEncryptionAlgorithms: ['A256GCM'] };
    const { plaintext, protectedHeader } = await compactDecrypt(t, mine.privateKey, opts);
    expect(protectedHeader).toEqual({ alg: 'RSA-OAEP-256', enc: 'A256GCM', cty: 'JWT', kid: 'orders-enc-1' });
    const inner = await jwtVerify(new TextDecoder().decode(plaintext), createRemoteJWKSet(jwksUri), rfc9068(jwe));
    expect(inner.protectedHeader).toMatchObject({ alg: 'RS256', typ: 'at+jwt' });
    await expect(compactDecrypt(t, someoneElse.privateKey, opts)).rejects.toThrow();
    await expect(jwtVerify(t, createRemoteJWKSet(jwksUri), rfc9068(jwe))).rejects.toThrow();
  });
});
