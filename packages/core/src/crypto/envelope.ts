import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/**
 * AES-256-GCM envelope for secrets at rest. Format (text, safe for any column):
 *   v1.<key id>.<iv b64url>.<ciphertext b64url>.<tag b64url>
 * The key id is derived from the key itself, so a rotated key list can decrypt old envelopes and
 * re-encrypt with the newest. Additional authenticated data binds an envelope to its purpose
 * (e.g. "client_secret:<client_id>") so a ciphertext cannot be moved between rows.
 */
export interface SecretBox {
  seal(plaintext: string | Uint8Array, aad: string): string;
  open(envelope: string, aad: string): Buffer;
  openString(envelope: string, aad: string): string;
}

interface MasterKey { id: string; key: Buffer }

export function keyIdOf(key: Buffer): string {
  return createHash('sha256').update('tessera-master-key-id').update(key).digest('base64url').slice(0, 8);
}

/** Builds a SecretBox from one or more 32-byte keys; the first key encrypts, all keys decrypt. */
export function createSecretBox(keys: Buffer[]): SecretBox {
  if (keys.length === 0) throw new Error('at least one master key is required');
  const ring: MasterKey[] = keys.map((key) => {
    if (key.length !== 32) throw new Error('master keys must be 32 bytes');
    return { id: keyIdOf(key), key };
  });
  const primary = ring[0];
  const byId = new Map(ring.map((k) => [k.id, k]));
  return {
    seal(plaintext, aad) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', primary.key, iv);
      cipher.setAAD(Buffer.from(aad, 'utf8'));
      const data = typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : Buffer.from(plaintext);
      const ct = Buffer.concat([cipher.update(data), cipher.final()]);
      const tag = cipher.getAuthTag();
      return ['v1', primary.id, iv.toString('base64url'), ct.toString('base64url'), tag.toString('base64url')].join('.');
    },
    open(envelope, aad) {
      const parts = envelope.split('.');
      if (parts.length !== 5 || parts[0] !== 'v1') throw new Error('malformed secret envelope');
      const mk = byId.get(parts[1]);
      if (!mk) throw new Error(`secret sealed with unknown master key ${parts[1]}`);
      const decipher = createDecipheriv('aes-256-gcm', mk.key, Buffer.from(parts[2], 'base64url'));
      decipher.setAAD(Buffer.from(aad, 'utf8'));
      decipher.setAuthTag(Buffer.from(parts[4], 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(parts[3], 'base64url')), decipher.final()]);
    },
    openString(envelope, aad) {
      return this.open(envelope, aad).toString('utf8');
    },
  };
}
