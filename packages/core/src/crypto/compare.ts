import { createHash, timingSafeEqual } from 'node:crypto';

/** SHA-256 digest used to compare secrets in constant time without keeping the plaintext around. */
export function secretDigest(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest();
}

/** Constant-time comparison of a presented secret against a cached digest. */
export function secretMatches(presented: string, digest: Buffer): boolean {
  const d = secretDigest(presented);
  return d.length === digest.length && timingSafeEqual(d, digest);
}
