import { createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK } from 'jose';

/** Parses a PEM public key or certificate; returns undefined when it is neither. */
export function parsePublicPem(pem: string): KeyObject | undefined {
  try {
    if (pem.includes('CERTIFICATE')) return new X509Certificate(pem).publicKey;
    const key = createPublicKey(pem);
    return key.type === 'public' ? key : undefined;
  } catch {
    return undefined;
  }
}

/** RFC 7638 SHA-256 thumbprint (base64url) of a public key. */
export async function jwkThumbprint(key: KeyObject): Promise<string> {
  return calculateJwkThumbprint(await exportJWK(key), 'sha256');
}

/** Smallest RSA modulus accepted for token encryption keys (NIST SP 800-57: 2048 bits until 2030). */
export const MIN_ENCRYPTION_KEY_BITS = 2048;
/** Largest: every token is encrypted to the key, so a giant modulus (or exponent) would slow the token endpoint. */
export const MAX_ENCRYPTION_KEY_BITS = 8192;

/**
 * Why a PEM cannot be a token encryption key, or undefined when it can: it must be an RSA public key or a
 * certificate for one, of 2048 to 8192 bits with a public exponent of at most 32 bits (as Go and Windows CNG require).
 * Private key material is refused, never reduced to its public half.
 */
export function encryptionKeyProblem(pem: string): string | undefined {
  if (/PRIVATE KEY/.test(pem)) return 'Invalid PEM: private key material is not accepted; send only the public key or certificate';
  const key = parsePublicPem(pem);
  if (!key || key.asymmetricKeyType !== 'rsa') return 'Invalid PEM: expected an RSA public key or certificate';
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < MIN_ENCRYPTION_KEY_BITS) return `Invalid PEM: the RSA key has ${bits} bits, at least ${MIN_ENCRYPTION_KEY_BITS} are required`;
  if (bits > MAX_ENCRYPTION_KEY_BITS) return `Invalid PEM: the RSA key has ${bits} bits, at most ${MAX_ENCRYPTION_KEY_BITS} are accepted`;
  const e = key.asymmetricKeyDetails?.publicExponent ?? 0n;
  if (e > 0xffffffffn) return 'Invalid PEM: the RSA public exponent is larger than 32 bits';
  return undefined;
}
