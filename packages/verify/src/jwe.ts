import { createPrivateKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { compactDecrypt, decodeProtectedHeader } from 'jose';
import type { DecryptionKeyInput } from './options';

const KEY_MANAGEMENT = ['RSA-OAEP-256', 'RSA-OAEP-384', 'RSA-OAEP-512', 'ECDH-ES', 'ECDH-ES+A128KW', 'ECDH-ES+A256KW'];
const CONTENT = ['A256GCM', 'A192GCM', 'A128GCM'];

interface Held { key: KeyObject; kid?: string }

function toPrivateKey(input: string | JsonWebKey | KeyObject): KeyObject {
  if (typeof input === 'string') return createPrivateKey(input);
  if (typeof (input as KeyObject).export === 'function' && (input as KeyObject).type !== undefined) {
    if ((input as KeyObject).type !== 'private') throw new TypeError('decryptionKeys must be private keys');
    return input as KeyObject;
  }
  return createPrivateKey({ key: input as JsonWebKey, format: 'jwk' });
}

/**
 * Opens a compact nested JWE (RFC 7516, `cty: JWT`) with one of the API's private keys: the keys whose `kid`
 * matches the header first, then the others, so a key being rotated in or out keeps working. Only the listed
 * algorithms are accepted (no RSA1_5, RFC 8725 §3.2). Keys are parsed once, at construction.
 */
export class Decrypter {
  private readonly keys: Held[];
  constructor(inputs: DecryptionKeyInput[], private readonly keyAlgs = KEY_MANAGEMENT, private readonly encAlgs = CONTENT) {
    this.keys = inputs.map((i) => (typeof i === 'object' && i !== null && 'key' in i && !('kty' in i)
      ? { key: toPrivateKey((i as { key: string | JsonWebKey | KeyObject }).key), kid: (i as { kid?: string }).kid }
      : { key: toPrivateKey(i as string | JsonWebKey | KeyObject), kid: typeof i === 'object' && i !== null && 'kid' in i ? String((i as JsonWebKey & { kid?: string }).kid) : undefined }));
  }

  async open(jwe: string): Promise<string> {
    let kid: unknown;
    try { kid = decodeProtectedHeader(jwe).kid; } catch { throw new Error('Invalid JWE Protected Header'); }
    const ordered = kid === undefined ? this.keys : [...this.keys.filter((k) => k.kid === kid), ...this.keys.filter((k) => k.kid !== kid)];
    for (const { key } of ordered) {
      try {
        const { plaintext, protectedHeader } = await compactDecrypt(jwe, key, { keyManagementAlgorithms: this.keyAlgs, contentEncryptionAlgorithms: this.encAlgs });
        if (typeof protectedHeader.cty !== 'string' || protectedHeader.cty.toUpperCase() !== 'JWT') throw new Error('Encrypted token is not a nested JWT (cty must be JWT)');
        return new TextDecoder().decode(plaintext);
      } catch (e) {
        if ((e as Error).message.startsWith('Encrypted token')) throw e;
      }
    }
    throw new Error('decryption operation failed');
  }
}
