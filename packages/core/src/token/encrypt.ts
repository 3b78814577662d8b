import type { KeyObject } from 'node:crypto';
import { CompactEncrypt, type CompactJWEHeaderParameters } from 'jose';
import { parsePublicPem } from '../crypto/pem';
import type { StoredEncryptionKey, TokenEncryption } from '../model';

/** The content encryption Tessera uses for every encrypted access token (contract §7.10). */
export const TOKEN_ENCRYPTION_ENC = 'A256GCM';

interface SealingKey { key: KeyObject; header: CompactJWEHeaderParameters }

/** At most this many prepared keys are kept; past it the cache starts over (a tenant has far fewer APIs). */
const MAX_KEYS = 1000;

const encoder = new TextEncoder();

/**
 * Nested JWT access tokens (RFC 7519 §5.2, RFC 7516 compact serialisation): the signed token is encrypted to the
 * API's RSA public key with `alg` from `token_encryption.encryption_key` (RSA-OAEP-256/384/512), `enc` A256GCM,
 * `cty` JWT and `kid` only when one is configured. The PEM is parsed once per key configuration (thumbprint,
 * alg and kid), never per token; a PATCH that changes the key changes the cache key.
 */
export class AccessTokenEncrypter {
  private keys = new Map<string, SealingKey>();

  async seal(te: TokenEncryption, signedToken: string): Promise<string> {
    const k = this.sealingKey(te.encryption_key);
    return new CompactEncrypt(encoder.encode(signedToken)).setProtectedHeader(k.header).encrypt(k.key);
  }

  private sealingKey(ek: StoredEncryptionKey): SealingKey {
    const id = `${ek.thumbprint_sha256}|${ek.alg}|${ek.kid ?? ''}`;
    let k = this.keys.get(id);
    if (!k) {
      if (this.keys.size >= MAX_KEYS) this.keys.clear();
      k = this.prepare(ek);
      this.keys.set(id, k);
    }
    return k;
  }

  /** Parses the stored PEM (validated when it was set) and serialises nothing yet: jose encodes the header. */
  prepare(ek: StoredEncryptionKey): SealingKey {
    const key = parsePublicPem(ek.pem);
    if (!key) throw new Error(`stored token encryption key ${ek.thumbprint_sha256} does not parse`);
    const header: CompactJWEHeaderParameters = { alg: ek.alg, enc: TOKEN_ENCRYPTION_ENC, cty: 'JWT', ...(ek.kid !== undefined && { kid: ek.kid }) };
    return { key, header };
  }
}
