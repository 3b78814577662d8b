import { createPrivateKey, type KeyObject } from 'node:crypto';
import { importJWK, importPKCS8 } from 'jose';
import { certThumbprints } from '../crypto/keygen';
import type { SigningKey } from '../model';
import type { Store } from '../ports';
import type { ChangeFeed } from './changes';

export type AsymmetricAlg = 'RS256' | 'RS512' | 'PS256';
export interface Signer { kid: string; key: CryptoKey }
/** The current private key as a node:crypto KeyObject (for signing on the libuv pool without WebCrypto's per-call overhead). */
export interface SigningKeyObject { kid: string; key: KeyObject }

interface Loaded {
  keys: SigningKey[];
  current?: SigningKey;
  /** Pre-serialised JWKS body: served as is. */
  jwksJson: string;
  publicByKid: Map<string, SigningKey>;
}

/**
 * Holds the tenant's signing keys in memory, imported once per (key, algorithm). Reloads when the store
 * changes (rotation in this or another process). The private keys never leave this object except as
 * CryptoKeys handed to the token minter.
 */
export class KeyManager {
  private state: Loaded = { keys: [], jwksJson: '{"keys":[]}', publicByKid: new Map() };
  private imported = new Map<string, Promise<CryptoKey>>();
  private keyObject?: SigningKeyObject;
  private reloading?: Promise<void>;
  /** Reload sequence numbers: a slow reload never overwrites what a later one already applied. */
  private started = 0;
  private applied = 0;

  constructor(private readonly store: Store, changes?: ChangeFeed) {
    changes?.subscribe(() => this.reloadInBackground());
  }

  /** A change-feed reload must never become an unhandled rejection; a failed one is retried a few times. */
  private reloadInBackground(attempt = 0): void {
    this.reload().catch(() => {
      if (attempt < 5) setTimeout(() => this.reloadInBackground(attempt + 1), 200 * 2 ** attempt).unref();
    });
  }

  async reload(): Promise<void> {
    const seq = ++this.started;
    const run = (async () => {
      const keys = await this.store.signingKeys.list();
      if (seq < this.applied) return; // a reload that started later already applied newer keys
      this.applied = seq;
      const published = keys.filter((k) => k.state === 'current' || k.state === 'next' || k.state === 'previous');
      const jwks = {
        keys: published.map((k) => {
          const t = certThumbprints(k.cert);
          return { kty: 'RSA', use: 'sig', n: k.publicJwk.n, e: k.publicJwk.e, kid: k.kid, x5t: t.x5t, x5c: [t.x5c] };
        }),
      };
      this.state = {
        keys,
        current: keys.find((k) => k.state === 'current'),
        jwksJson: JSON.stringify(jwks),
        publicByKid: new Map(published.map((k) => [k.kid, k])),
      };
      for (const cacheKey of [...this.imported.keys()]) {
        if (!this.state.publicByKid.has(cacheKey.split(':')[1])) this.imported.delete(cacheKey);
      }
    })();
    this.reloading = run;
    await run;
  }

  jwksJson(): string { return this.state.jwksJson; }

  currentKid(): string | undefined { return this.state.current?.kid; }

  /** The current key as a CryptoKey bound to `alg` (RSA-PKCS1 or RSA-PSS), imported once. */
  async signer(alg: AsymmetricAlg): Promise<Signer> {
    const k = this.state.current;
    if (!k) throw new Error('no current signing key');
    return { kid: k.kid, key: await this.importOnce(`priv:${k.kid}:${alg}`, () => importPKCS8(k.privateKeyPkcs8, alg, { extractable: false })) };
  }

  /**
   * The current key as a KeyObject, parsed once per key (synchronous: no promise on the token path).
   * A rotation swaps it on the next call after the reload.
   */
  signingKey(): SigningKeyObject {
    const k = this.state.current;
    if (!k) throw new Error('no current signing key');
    if (this.keyObject?.kid !== k.kid) this.keyObject = { kid: k.kid, key: createPrivateKey(k.privateKeyPkcs8) };
    return this.keyObject;
  }

  /** Public verification key for a published `kid` (current, next or previous), or undefined. */
  async verifier(kid: string, alg: AsymmetricAlg): Promise<CryptoKey | undefined> {
    const k = this.state.publicByKid.get(kid);
    if (!k) return undefined;
    return this.importOnce(`pub:${kid}:${alg}`, async () => (await importJWK({ ...k.publicJwk, alg }, alg)) as CryptoKey);
  }

  private importOnce(cacheKey: string, load: () => Promise<CryptoKey>): Promise<CryptoKey> {
    let p = this.imported.get(cacheKey);
    if (!p) {
      p = load();
      this.imported.set(cacheKey, p);
      p.catch(() => this.imported.delete(cacheKey));
    }
    return p;
  }
}
