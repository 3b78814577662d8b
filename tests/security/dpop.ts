import { createHash, randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';

type CryptoKey = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
import { expect } from 'vitest';
import { createUser, PASSWORD } from '../helpers/flows';
import { uniq } from '../helpers/management';
import { PUBLIC_URL, type TestServer } from '../helpers/tessera';

export const TOKEN_URL = `${PUBLIC_URL}/oauth/token`;
export const USERINFO_URL = `${PUBLIC_URL}/userinfo`;

export interface ProofKey { privateKey: CryptoKey; jwk: JWK; alg: string }

export async function proofKey(alg = 'ES256'): Promise<ProofKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { privateKey, jwk: await exportJWK(publicKey), alg };
}

export interface ProofOptions {
  htm?: string; htu?: string; iat?: number; jti?: string; nonce?: string; ath?: string;
  /** Header fields to add or replace (typ, alg, jwk). */
  header?: Record<string, unknown>;
  /** The clock the proof's iat is taken from (ms); defaults to the server clock passed in. */
  now: number;
}

/** A DPoP proof JWT (RFC 9449 §4.2) signed by `key`. */
export function proof(key: ProofKey, o: ProofOptions): Promise<string> {
  const claims: Record<string, unknown> = { htm: o.htm ?? 'POST', htu: o.htu ?? TOKEN_URL, jti: o.jti ?? randomUUID() };
  if (o.nonce !== undefined) claims.nonce = o.nonce;
  if (o.ath !== undefined) claims.ath = o.ath;
  return new SignJWT(claims)
    .setProtectedHeader({ typ: 'dpop+jwt', alg: key.alg, jwk: key.jwk, ...o.header } as never)
    .setIssuedAt(o.iat ?? Math.floor(o.now / 1000))
    .sign(key.privateKey);
}

export const ath = (token: string): string => createHash('sha256').update(token).digest('base64url');

/** The payload of a JWT, unverified (the judges verify; this only reads). */
export const claimsOf = (jwt: string): Record<string, any> => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString());

/** An API with an optional proof_of_possession policy; returns its identifier. */
export async function dpopApi(s: TestServer, pop?: Record<string, unknown>, extra: Record<string, unknown> = {}): Promise<string> {
  const identifier = `https://dpop-${uniq()}.example/`;
  const r = await s.api('POST', '/resource-servers', {
    identifier, scopes: [{ value: 'read:data' }], allow_offline_access: true, ...(pop ? { proof_of_possession: pop } : {}), ...extra,
  });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return identifier;
}

/** An M2M client granted `read:data` on `audience`. */
export async function m2m(s: TestServer, audience: string, extra: Record<string, unknown> = {}): Promise<{ client_id: string; client_secret: string }> {
  const c = await s.api('POST', '/clients', { name: `dpop-m2m-${uniq()}`, app_type: 'non_interactive', grant_types: ['client_credentials'], ...extra });
  expect(c.status, JSON.stringify(c.body)).toBe(201);
  const g = await s.api('POST', '/client-grants', { client_id: c.body.client_id, audience, scope: ['read:data'] });
  expect(g.status).toBe(201);
  return { client_id: c.body.client_id, client_secret: c.body.client_secret };
}

/** A public (native, no secret) client allowed the password and refresh_token grants, with a user. */
export async function publicClient(s: TestServer, extra: Record<string, unknown> = {}): Promise<{ client_id: string; email: string }> {
  const c = await s.api('POST', '/clients', {
    name: `dpop-native-${uniq()}`, app_type: 'native', token_endpoint_auth_method: 'none',
    grant_types: ['password', 'refresh_token'], ...extra,
  });
  expect(c.status, JSON.stringify(c.body)).toBe(201);
  const email = `dpop-${uniq()}@example.com`;
  await createUser(s, email);
  return { client_id: c.body.client_id, email };
}

export const passwordParams = (c: { client_id: string; email: string }, audience?: string, scope = 'openid offline_access read:data') => ({
  grant_type: 'password', client_id: c.client_id, username: c.email, password: PASSWORD, scope, ...(audience ? { audience } : {}),
});
