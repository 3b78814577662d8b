import type { KeyObject } from 'node:crypto';

/**
 * Compact tokens whose cryptography already succeeded, by their exact text: for a JWS the key that verified its
 * signature, for a JWE the JWS it decrypted to. Only successes are remembered (a forged token never enters),
 * and a hit skips nothing but the cryptography: the caller still parses the token and checks its header, its
 * time claims and every validator, and a JWS hit counts only while the verifying key is still in the current key
 * set (a key removed from the JWKS stops its tokens at once, exactly as without the cache). DPoP proofs are never
 * cached. Entries leave when their `exp` passes or, oldest first, when `maxEntries` is reached.
 */
export class VerifiedCache<V extends KeyObject | string> {
  private readonly map = new Map<string, { value: V; until: number }>();

  constructor(private readonly maxEntries: number) {}

  get enabled(): boolean { return this.maxEntries > 0; }

  get(token: string, nowS: number): V | undefined {
    const e = this.map.get(token);
    if (!e) return undefined;
    if (e.until < nowS) { this.map.delete(token); return undefined; }
    return e.value;
  }

  /** Remembers `token` until `exp` (seconds); tokens without a numeric `exp` are not remembered. */
  set(token: string, value: V, exp: unknown): void {
    if (this.maxEntries <= 0 || typeof exp !== 'number') return;
    if (this.map.size >= this.maxEntries) this.map.delete(this.map.keys().next().value as string);
    this.map.set(token, { value, until: exp });
  }

  get size(): number { return this.map.size; }
}
