import { BadRequest, NotFound } from '../errors';
import { generateSigningKey, samePublicKey, signingKeyFromPrivateKey } from '../crypto/keygen';
import type { SigningKey } from '../model';
import type { Clock, Store } from '../ports';
import type { ChangeFeed } from './changes';
import type { KeyManager } from './key-manager';

/** Wire shape of GET /api/v2/keys/signing items: never any private material. */
export interface SigningKeyView {
  kid: string; cert: string; fingerprint: string; thumbprint: string;
  current?: boolean; next?: boolean; previous?: boolean; revoked?: boolean;
  current_since?: string; current_until?: string; revoked_at?: string;
}

export function toView(k: SigningKey): SigningKeyView {
  const v: SigningKeyView = { kid: k.kid, cert: k.cert, fingerprint: k.fingerprint, thumbprint: k.thumbprint };
  if (k.state === 'current') v.current = true;
  if (k.state === 'next') v.next = true;
  if (k.state === 'previous') v.previous = true;
  if (k.state === 'revoked') { v.revoked = true; v.previous = true; }
  if (k.currentSince) v.current_since = k.currentSince;
  if (k.currentUntil) v.current_until = k.currentUntil;
  if (k.revokedAt) v.revoked_at = k.revokedAt;
  return v;
}

/** A key made earlier (its material and certificate), as a key made now: no state history. */
const asNew = (k: SigningKey, now: Date): SigningKey => ({
  kid: k.kid, state: 'next', privateKeyPkcs8: k.privateKeyPkcs8, publicJwk: k.publicJwk, cert: k.cert, fingerprint: k.fingerprint, thumbprint: k.thumbprint, createdAt: now.toISOString(),
});

const ORDER: Record<SigningKey['state'], number> = { current: 0, next: 1, previous: 2, revoked: 3 };

/** Tenant signing keys: a current key, a published next key, previous and revoked keys after rotation. */
export class SigningKeyService {
  constructor(private readonly deps: { store: Store; keys: KeyManager; changes: ChangeFeed; clock: Clock; subject: string }) {}

  /**
   * First start: a current and a next key. Safe to call on every start. `madeAhead` (development mode): fresh keys
   * generated earlier and never used anywhere, taken instead of generating new ones (a faster first start).
   */
  async ensureKeys(madeAhead: readonly SigningKey[] = []): Promise<void> {
    const existing = await this.deps.store.signingKeys.list();
    if (!existing.some((k) => k.state === 'current')) {
      const now = new Date(this.deps.clock.now());
      const ahead = [...madeAhead];
      const take = () => {
        const k = ahead.shift();
        return k ? Promise.resolve(asNew(k, now)) : generateSigningKey(this.deps.subject, now);
      };
      // both keys at once: the generation runs on the libuv pool (a first start waits for one key, not two)
      const [made, next] = await Promise.all([
        take(),
        existing.some((k) => k.state === 'next') ? undefined : take(),
      ]);
      const current = { ...made, state: 'current' as const, currentSince: now.toISOString() };
      await this.write(async (tx) => {
        await tx.signingKeys.insert(current);
        if (next) await tx.signingKeys.insert(next);
      });
    }
    await this.deps.keys.reload();
  }

  /**
   * Development mode's fixed key: the given RSA private key becomes the current key (the previous current key, if
   * any, becomes previous). Its kid and certificate derive from the key, so tokens signed in one run verify with the
   * JWKS of the next. Nothing changes when it is current already. Returns its kid. `madeBefore`: the record an
   * earlier start made from the same key (its certificate), used when its public key is the given key's.
   */
  async useFixed(privateKeyPem: string, madeBefore?: SigningKey): Promise<string> {
    const now = new Date(this.deps.clock.now());
    const fixed = madeBefore && samePublicKey(madeBefore, privateKeyPem)
      ? asNew(madeBefore, now)
      : await signingKeyFromPrivateKey(privateKeyPem, now);
    const keys = await this.deps.store.signingKeys.list();
    const current = keys.find((k) => k.state === 'current');
    if (current?.kid === fixed.kid) { await this.deps.keys.reload(); return fixed.kid; }
    const known = keys.find((k) => k.kid === fixed.kid);
    await this.write(async (tx) => {
      if (current) await tx.signingKeys.replace({ ...current, state: 'previous', currentUntil: now.toISOString() });
      const made = { ...(known ?? fixed), state: 'current' as const, currentSince: now.toISOString(), currentUntil: undefined, revokedAt: undefined };
      await (known ? tx.signingKeys.replace(made) : tx.signingKeys.insert(made));
    });
    return fixed.kid;
  }

  async list(): Promise<SigningKeyView[]> {
    const keys = await this.deps.store.signingKeys.list();
    return keys.sort((a, b) => ORDER[a.state] - ORDER[b.state] || b.createdAt.localeCompare(a.createdAt)).map(toView);
  }

  async get(kid: string): Promise<SigningKeyView> {
    return toView(await this.find(kid));
  }

  /** next → current, current → previous, and a fresh next key. Returns the new next key. */
  async rotate(): Promise<{ cert: string; kid: string }> {
    const now = new Date(this.deps.clock.now());
    const fresh = await generateSigningKey(this.deps.subject, now);
    await this.write(async (tx) => {
      const keys = await tx.signingKeys.list();
      const current = keys.find((k) => k.state === 'current');
      let next = keys.find((k) => k.state === 'next');
      if (!next) { next = await generateSigningKey(this.deps.subject, now); await tx.signingKeys.insert(next); }
      if (current) await tx.signingKeys.replace({ ...current, state: 'previous', currentUntil: now.toISOString() });
      await tx.signingKeys.replace({ ...next, state: 'current', currentSince: now.toISOString() });
      await tx.signingKeys.insert(fresh);
    });
    return { cert: fresh.cert, kid: fresh.kid };
  }

  async revoke(kid: string): Promise<{ cert: string; kid: string }> {
    const key = await this.find(kid);
    if (key.state === 'current' || key.state === 'next') throw new BadRequest('Only previously used signing keys can be revoked; rotate first.', 'invalid_operation');
    if (key.state !== 'revoked') {
      const now = new Date(this.deps.clock.now()).toISOString();
      await this.write((tx) => tx.signingKeys.replace({ ...key, state: 'revoked', revokedAt: now }));
    }
    return { cert: key.cert, kid: key.kid };
  }

  private async find(kid: string): Promise<SigningKey> {
    const key = (await this.deps.store.signingKeys.list()).find((k) => k.kid === kid);
    if (!key) throw new NotFound('Signing key not found.', 'inexistent_signing_key');
    return key;
  }

  private async write(fn: Parameters<Store['write']>[0]): Promise<void> {
    await this.deps.store.write(fn);
    this.deps.changes.notify();
    await this.deps.keys.reload();
  }
}
