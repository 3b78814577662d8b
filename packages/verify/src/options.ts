import type { JsonWebKey, KeyObject } from 'node:crypto';
import type { Agent as HttpAgent } from 'node:http';
import type { Agent as HttpsAgent } from 'node:https';

export interface JWTHeader { alg?: string; kid?: string; typ?: string; cty?: string; jwk?: JsonWebKey; crit?: string[]; [name: string]: unknown }
export interface JWTPayload {
  iss?: string; sub?: string; aud?: string | string[]; jti?: string; nbf?: number; exp?: number; iat?: number;
  [name: string]: unknown;
}
/** `req.auth`: the same shape as express-oauth2-jwt-bearer's. */
export interface AuthResult { header: JWTHeader; payload: JWTPayload; token: string }

export type FunctionValidator = (value: unknown, claims: JWTPayload, header: JWTHeader) => Promise<boolean> | boolean;
export type Validator = FunctionValidator | string | false | undefined;
export interface Validators { alg: Validator; typ: Validator; iss: Validator; aud: Validator; exp: Validator; iat: Validator; sub: Validator; client_id: Validator; jti: Validator; [key: string]: Validator }

/** A PEM (SPKI or certificate; needs `tokenSigningAlg`), a public JWK, a JWK Set or a KeyObject. */
export type PublicKeyInput = string | JsonWebKey | { kty?: string; [member: string]: unknown } | { keys: JsonWebKey[] } | KeyObject;
/** A JWE decryption key: a private key (PEM, JWK or KeyObject), optionally with the `kid` tokens name it by. */
export type DecryptionKeyInput = string | JsonWebKey | KeyObject | { key: string | JsonWebKey | KeyObject; kid?: string };

/** A DPoP `jti` store shared by processes: `claim` answers true the first time a key is seen before `expiresAt` (ms), false for a replay. */
export interface ReplayStore { claim(key: string, expiresAt: number): boolean | Promise<boolean> }
/** Server-chosen DPoP nonces (RFC 9449 §9): `current()` is sent in `DPoP-Nonce`, `check()` accepts the nonces still valid. */
export interface NonceSource { current(): string; check(nonce: string): boolean }

export interface DPoPOptions {
  enabled?: boolean; required?: boolean; iatOffset?: number; iatLeeway?: number;
  /** Proof signature algorithms accepted and advertised in `DPoP algs="…"` (default: every asymmetric JWS algorithm). */
  algorithms?: string[];
  /** Where proof `jti`s are remembered (default: this process, bounded by the iat window); `false` turns replay checks off. */
  replay?: ReplayStore | false;
  /** Require a server nonce in every proof. */
  nonce?: NonceSource;
}
export interface MtlsOptions {
  enabled?: boolean; required?: boolean;
  /** Header in which a TLS-terminating proxy forwards the client certificate (URL-encoded PEM, PEM or base64 DER). */
  proxyHeader?: string;
  /** Addresses whose `proxyHeader` is believed; required with `proxyHeader`. */
  trustedProxies?: string[];
}

export interface JwtVerifierOptions {
  issuerBaseURL?: string;
  audience?: string | string[];
  issuer?: string;
  jwksUri?: string;
  agent?: HttpAgent | HttpsAgent;
  cooldownDuration?: number;
  timeoutDuration?: number;
  cacheMaxAge?: number;
  /**
   * `tokens.maxEntries`: how many verified tokens are remembered so that a token seen again skips its signature
   * check (and, for JWE, its decryption) until its `exp` — every other check still runs (default 1000; 0 = off).
   */
  cache?: { discovery?: { maxEntries?: number; ttl?: number }; jwks?: { maxEntries?: number; ttl?: number }; tokens?: { maxEntries?: number } };
  validators?: Partial<Validators>;
  clockTolerance?: number;
  maxTokenAge?: number;
  strict?: boolean;
  secret?: string;
  publicKey?: PublicKeyInput;
  tokenSigningAlg?: string;
  /** Multiple issuers are not supported: construction fails with a message saying so. */
  mcd?: unknown;
  /** Private keys that decrypt encrypted (JWE) access tokens; several for rotation (tried by `kid`, then in order). */
  decryptionKeys?: DecryptionKeyInput[];
  /** Refuse access tokens that are not encrypted (needs `decryptionKeys`). */
  requireEncryption?: boolean;
  keyManagementAlgorithms?: string[];
  contentEncryptionAlgorithms?: string[];
}

export type ClientCertificate = string | Buffer | Uint8Array;

export interface AuthOptions extends JwtVerifierOptions {
  authRequired?: boolean;
  dpop?: DPoPOptions;
  mtls?: MtlsOptions;
}
