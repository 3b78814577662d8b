import { createHmac, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { expect } from 'vitest';
import type { TestServer } from '../helpers/tessera';

/** What an attacker (or a test) needs to hand-craft a compact JWS: any header, any claims, any signature. */
export const b64 = (v: unknown): string => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

/** Signs `header.payload` with RS256 (an RSA private key) or HS256 (any bytes as the secret), or not at all. */
export function jws(header: Record<string, unknown>, claims: Record<string, unknown>, key?: KeyObject | Buffer): string {
  const input = `${b64(header)}.${b64(claims)}`;
  if (key === undefined) return `${input}.`;
  if (Buffer.isBuffer(key)) return `${input}.${createHmac('sha256', key).update(input).digest('base64url')}`;
  return `${input}.${sign('sha256', Buffer.from(input), key).toString('base64url')}`;
}

/** The tenant's current private signing key: claims-level attacks need a signature that is otherwise genuine. */
export const tenantKey = (s: TestServer): { kid: string; key: KeyObject } => s.t.services.keys.signingKey();

/** An RSA key pair the server has never seen. */
export function attackerKey(): { privateKey: KeyObject; publicKey: KeyObject } {
  return generateKeyPairSync('rsa', { modulusLength: 2048 });
}

/** The tenant's public key as published in the JWKS, in every encoding an HS256 confusion attack might try. */
export async function publicKeyEncodings(s: TestServer, kid: string): Promise<Array<[string, Buffer]>> {
  const res = await s.t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' });
  const jwk = (JSON.parse(res.body) as { keys: Array<Record<string, string>> }).keys.find((k) => k.kid === kid);
  expect(jwk, 'tenant key in the JWKS').toBeDefined();
  const pub = createPublicKey({ key: { kty: 'RSA', n: jwk!.n, e: jwk!.e }, format: 'jwk' });
  return [
    ['PEM SPKI', Buffer.from(pub.export({ type: 'spki', format: 'pem' }) as string)],
    ['PEM PKCS#1', Buffer.from(pub.export({ type: 'pkcs1', format: 'pem' }) as string)],
    ['DER SPKI', pub.export({ type: 'spki', format: 'der' })],
    ['DER PKCS#1', pub.export({ type: 'pkcs1', format: 'der' })],
    ['JWK JSON (as published)', Buffer.from(JSON.stringify(jwk))],
    ['JWK JSON (n and e only)', Buffer.from(JSON.stringify({ kty: 'RSA', n: jwk!.n, e: jwk!.e }))],
    ['modulus n bytes', Buffer.from(jwk!.n, 'base64url')],
    ['modulus n as base64url text', Buffer.from(jwk!.n)],
  ];
}

/** A genuine token with one bit of its signature flipped. */
export function flipSignatureBit(token: string): string {
  const [h, p, sig] = token.split('.');
  const bytes = Buffer.from(sig, 'base64url');
  bytes[bytes.length >> 1] ^= 0x01;
  return `${h}.${p}.${bytes.toString('base64url')}`;
}
