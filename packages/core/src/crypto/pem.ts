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
