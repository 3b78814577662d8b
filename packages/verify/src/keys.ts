import type { JsonWebKey, KeyObject } from 'node:crypto';
import { fetchJson, type FetchOptions } from './http-fetch';
import { importJwk, keyFits, ktyFor } from './jws';

interface Entry { kid?: string; kty?: string; alg?: string; use?: string; ops?: string[]; crv?: string; key: KeyObject }

const OKP_CURVES = new Set(['Ed25519', 'Ed448']);
const EC_CURVES: Record<string, string> = { ES256: 'P-256', ES256K: 'secp256k1', ES384: 'P-384', ES512: 'P-521' };

/** Imports a JWK Set once; keys that are not public signature keys are skipped. */
export function importJwks(jwks: unknown): Entry[] {
  const keys = (jwks as { keys?: unknown })?.keys;
  if (!Array.isArray(keys)) throw new Error('JSON Web Key Set malformed');
  const out: Entry[] = [];
  for (const jwk of keys as Array<JsonWebKey & { kid?: string; alg?: string; use?: string; key_ops?: string[] }>) {
    if (!jwk || typeof jwk !== 'object') continue;
    const key = importJwk(jwk);
    if (key) out.push({ kid: jwk.kid, kty: jwk.kty, alg: jwk.alg, use: jwk.use, ops: jwk.key_ops, crv: jwk.crv, key });
  }
  return out;
}

/** The keys of `entries` that may verify a token with this `alg` and `kid` (jose's JWKS selection rules). */
function select(entries: Entry[], alg: string, kid: string | undefined): KeyObject[] {
  const kty = ktyFor(alg);
  return entries.filter((e) => (kid === undefined || e.kid === kid) && e.kty === kty && (e.alg === undefined || e.alg === alg)
    && (e.use === undefined || e.use === 'sig') && (!Array.isArray(e.ops) || e.ops.includes('verify'))
    && (kty !== 'EC' || e.crv === EC_CURVES[alg]) && (kty !== 'OKP' || OKP_CURVES.has(e.crv as string))
    && keyFits(e.key, alg)).map((e) => e.key);
}

export interface KeySource {
  /** Candidate keys for a token header: an array when known without I/O, else a promise. Throws (or rejects) when none fits. */
  keysFor(alg: string, kid: string | undefined): KeyObject[] | Promise<KeyObject[]>;
}

export const NO_KEY = 'no applicable key found in the JSON Web Key Set';

/** A fixed key list (publicKey, secret). */
export class StaticKeys implements KeySource {
  private readonly memo = new Map<string, KeyObject[]>();
  constructor(private readonly entries: Entry[]) {}
  static of(key: KeyObject): StaticKeys { return new StaticKeys([{ kty: key.type === 'secret' ? 'oct' : kindOf(key), key, crv: curveOf(key) }]); }
  keysFor(alg: string, kid: string | undefined): KeyObject[] {
    const id = `${alg}\0${kid ?? ''}`;
    let keys = this.memo.get(id);
    if (!keys) {
      keys = this.entries.length === 1 && !this.entries[0].kid ? select([{ ...this.entries[0] }], alg, undefined) : select(this.entries, alg, kid);
      this.memo.set(id, keys);
    }
    if (keys.length === 0) throw new Error(NO_KEY);
    return keys;
  }
}

const kindOf = (k: KeyObject): string => (k.asymmetricKeyType === 'ec' ? 'EC' : k.asymmetricKeyType?.startsWith('rsa') ? 'RSA' : 'OKP');
function curveOf(k: KeyObject): string | undefined {
  const c = k.asymmetricKeyDetails?.namedCurve;
  if (c) return ({ prime256v1: 'P-256', secp256k1: 'secp256k1', secp384r1: 'P-384', secp521r1: 'P-521' } as Record<string, string>)[c];
  if (k.asymmetricKeyType === 'ed25519') return 'Ed25519';
  if (k.asymmetricKeyType === 'ed448') return 'Ed448';
  return undefined;
}

export interface RemoteKeysOptions extends FetchOptions { cooldownDuration: number; cacheMaxAge: number; now?: () => number }

/**
 * A remote JWKS: fetched once, kept `cacheMaxAge` ms, refetched early when a token names an unknown `kid`
 * (key rotation) but not more often than every `cooldownDuration` ms. All requests waiting for a fetch share
 * the one in flight, so a burst of tokens with an unknown `kid` makes one request, not one each. When a
 * refresh fails, the keys already held keep serving until the next attempt.
 */
export class RemoteKeys implements KeySource {
  private entries: Entry[] | undefined;
  private fetchedAt = 0;
  private attemptedAt = -Infinity;
  private inflight: Promise<void> | undefined;
  private memo = new Map<string, KeyObject[]>();
  private readonly now: () => number;
  /** Fetches made (for tests and metrics). */
  fetches = 0;

  constructor(readonly uri: URL, private readonly o: RemoteKeysOptions) { this.now = o.now ?? Date.now; }

  keysFor(alg: string, kid: string | undefined): KeyObject[] | Promise<KeyObject[]> {
    if (this.entries && this.now() - this.fetchedAt < this.o.cacheMaxAge) {
      const id = `${alg}\0${kid ?? ''}`;
      let keys = this.memo.get(id);
      if (!keys) { keys = select(this.entries, alg, kid); this.memo.set(id, keys); }
      if (keys.length > 0) return keys;
    }
    return this.slow(alg, kid);
  }

  private async slow(alg: string, kid: string | undefined): Promise<KeyObject[]> {
    // stale keys, or an unknown kid: fetch unless the last attempt was within the cooldown
    if (this.inflight || !this.entries || this.now() - this.attemptedAt >= this.o.cooldownDuration) await this.refresh(!this.entries);
    const keys = this.entries ? select(this.entries, alg, kid) : [];
    if (keys.length === 0) throw new Error(NO_KEY);
    return keys;
  }

  private refresh(mustSucceed: boolean): Promise<void> {
    if (!this.inflight) {
      this.attemptedAt = this.now();
      this.fetches++;
      this.inflight = fetchJson(this.uri, this.o).then((doc) => {
        this.entries = importJwks(doc);
        this.fetchedAt = this.now();
        this.memo = new Map();
      }).finally(() => { this.inflight = undefined; });
    }
    return mustSucceed ? this.inflight : this.inflight.catch(() => undefined);
  }
}
