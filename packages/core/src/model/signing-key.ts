export type KeyState = 'next' | 'current' | 'previous' | 'revoked';

/** A tenant signing key. `privateKeyPkcs8` only ever lives in memory and (encrypted) in storage. */
export interface SigningKey {
  kid: string;
  state: KeyState;
  privateKeyPkcs8: string; // PEM
  publicJwk: { kty: 'RSA'; n: string; e: string };
  cert: string; // PEM
  fingerprint: string; // SHA-1, colon hex upper case
  thumbprint: string; // SHA-1, plain hex
  createdAt: string;
  currentSince?: string;
  currentUntil?: string;
  revokedAt?: string;
}
