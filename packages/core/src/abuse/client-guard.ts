import { createHash } from 'node:crypto';
import { TooManyRequestsOAuth } from '../errors';
import type { Clock, Store } from '../ports';
import { retryAfter } from './login-guard';

export interface ClientAuthProtection {
  /** Failed client authentications one address may make for one client per `windowMs`; 0 = off. */
  max: number;
  windowMs: number;
}

export const DEFAULT_CLIENT_AUTH_PROTECTION: ClientAuthProtection = { max: 20, windowMs: 300_000 };
export const CLIENT_AUTH_THROTTLED = 'Too many failed client authentication attempts from this address. Try again later.';

/** How long this process trusts a "not throttled" answer before it asks the database again. */
const CLEAN_FOR_MS = 1000;
const MEMO_LIMIT = 10_000;

/**
 * Failed client authentication (wrong secrets, bad assertions) throttled per client and address: a leaky bucket of
 * `max` failures refilling at `max` per window, kept in the database so every instance sees it. While the bucket
 * is full that address is refused for that client (the right secret too), with Retry-After. Other addresses are
 * not affected: an attacker who knows a client_id cannot lock the real service out.
 *
 * The token endpoint's hot path asks the database at most once a second per client and address and process; a
 * throttle set by another instance is therefore seen within a second.
 */
export class ClientAuthGuard {
  private clean = new Map<string, number>();
  private failures = 0;

  constructor(private readonly deps: { store: Store; clock: Clock; settings: ClientAuthProtection }) {}

  get enabled(): boolean { return this.deps.settings.max > 0; }

  private key(clientId: string, ip: string): string {
    return createHash('sha256').update(`client-auth\u0000${clientId}\u0000${ip}`).digest('base64url');
  }

  private get drain(): number { return this.deps.settings.max / this.deps.settings.windowMs; }

  /** Throws 429 while the client is throttled from this address. */
  async check(clientId: string, ip: string): Promise<void> {
    if (!this.enabled) return;
    const memo = `${clientId}\u0000${ip}`;
    const now = this.deps.clock.now();
    const until = this.clean.get(memo);
    if (until !== undefined && until > now) return;
    const level = await this.deps.store.abuse.bucket(this.key(clientId, ip), 0, this.drain, now, 0);
    this.refuseIfFull(level);
    if (this.clean.size >= MEMO_LIMIT) this.clean.clear();
    this.clean.set(memo, now + CLEAN_FOR_MS);
  }

  /** Counts one failure (the next attempt is refused once `max` failures have not drained). */
  async failed(clientId: string, ip: string): Promise<void> {
    if (!this.enabled) return;
    const now = this.deps.clock.now();
    this.clean.delete(`${clientId}\u0000${ip}`);
    if (++this.failures % 500 === 0) this.deps.store.abuse.purge(now).catch(() => undefined);
    await this.deps.store.abuse.bucket(this.key(clientId, ip), 1, this.drain, now, now + this.deps.settings.windowMs);
  }

  /** Full: more than `max - 1` failures have not drained yet, so one more is not allowed until a whole one has. */
  private refuseIfFull(level: number): void {
    const excess = level - (this.deps.settings.max - 1);
    if (excess > 1e-9) throw new TooManyRequestsOAuth(CLIENT_AUTH_THROTTLED, retryAfter(excess, this.drain));
  }
}
