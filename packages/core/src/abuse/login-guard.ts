import { createHash } from 'node:crypto';
import { TooManyAttempts } from '../errors';
import type { User } from '../model';
import type { Clock, Store } from '../ports';
import type { PasswordVerifier } from '../authorize/sessions';
import type { EventRecorder } from '../logs/event-log';

/** Who asked, for the tenant log (the login page or a password grant). */
export interface LoginMeta { clientId?: string; clientName?: string; userAgent?: string }

export const USER_BLOCKED = 'Your account has been blocked after multiple consecutive login attempts.';
export const SUSPICIOUS_IP = 'We have detected suspicious login behavior and further attempts will be blocked. Please contact the administrator.';
/** Auth0 lifts a brute-force block after 30 days at the latest. */
export const BLOCK_LIFETIME_MS = 30 * 24 * 3600 * 1000;

export interface LoginProtection {
  /** Consecutive failed logins for one identifier from one address before it is blocked from there; 0 = off. */
  bruteForceThreshold: number;
  /** Failed logins from one address (any identifier) it may make per `suspiciousIpWindowMs`; 0 = off. */
  suspiciousIpMax: number;
  suspiciousIpWindowMs: number;
}

export const DEFAULT_LOGIN_PROTECTION: LoginProtection = { bruteForceThreshold: 10, suspiciousIpMax: 100, suspiciousIpWindowMs: 24 * 3600 * 1000 };

const keyOf = (...parts: string[]) => createHash('sha256').update(parts.join('\u0000')).digest('base64url');

/**
 * Brute-force protection as Auth0 does it, around every password check (password grants and the hosted login page):
 * - per identifier and address: `bruteForceThreshold` consecutive failures block that identifier from that address
 *   (a user block, listed by /api/v2/user-blocks) until an admin removes it, the password changes, or 30 days pass;
 *   a successful login resets the count. Identifiers are counted whether or not the account exists, so a block
 *   says nothing about which accounts exist.
 * - per address (suspicious-IP throttling): a bucket of `suspiciousIpMax` failures that refills at that many per
 *   window; an empty bucket refuses every login from the address (correct passwords too) until one failure has
 *   drained, so a sustained attack is first slowed to the refill rate, then blocked.
 * State lives in the database, so it holds across restarts, workers and instances.
 */
export class LoginGuard {
  private failures = 0;
  constructor(private readonly deps: { store: Store; clock: Clock; passwords: PasswordVerifier; settings: LoginProtection; events?: EventRecorder }) {}

  /** The user whose password matches, undefined for a wrong one; throws TooManyAttempts while blocked. */
  async verify(connection: string, rawIdentifier: string, password: string, ip: string, meta: LoginMeta = {}): Promise<User | undefined> {
    try {
      return await this.check(connection, rawIdentifier, password, ip, meta);
    } catch (e) {
      if (e instanceof TooManyAttempts) {
        // limit_mu: the address is throttled (suspicious IP); limit_wc: this identifier is blocked from this address
        this.event(e.message === SUSPICIOUS_IP ? 'limit_mu' : 'limit_wc', e.message, rawIdentifier, connection, ip, meta);
      }
      throw e;
    }
  }

  private event(type: string, description: string, identifier: string, connection: string, ip: string, meta: LoginMeta, userId?: string): void {
    this.deps.events?.record({
      type, description, connection, strategy: 'auth0', strategy_type: 'database', ip, user_agent: meta.userAgent,
      client_id: meta.clientId, client_name: meta.clientName, user_name: identifier.trim().toLowerCase().slice(0, 256), user_id: userId,
    });
  }

  private async check(connection: string, rawIdentifier: string, password: string, ip: string, meta: LoginMeta): Promise<User | undefined> {
    const { store, clock, settings } = this.deps;
    const identifier = rawIdentifier.trim().toLowerCase();
    const now = clock.now();
    const ipKey = keyOf('ip', ip);
    const userKey = keyOf('user-ip', connection, identifier, ip);
    const ipDrain = settings.suspiciousIpMax / settings.suspiciousIpWindowMs;
    if (settings.suspiciousIpMax > 0) {
      const level = await store.abuse.bucket(ipKey, 0, ipDrain, now, 0);
      const excess = level - (settings.suspiciousIpMax - 1);
      if (excess > 1e-9) throw new TooManyAttempts(retryAfter(excess, ipDrain), SUSPICIOUS_IP);
    }
    if (settings.bruteForceThreshold > 0 && await store.abuse.isBlocked(connection, identifier, ip, now)) throw new TooManyAttempts(undefined, USER_BLOCKED);
    const user = await this.deps.passwords.verifyPassword(connection, identifier, password);
    if (user) {
      if (settings.bruteForceThreshold > 0) await store.abuse.clearBucket(userKey);
      // Auth0's logins_count / last_login / last_ip; a blocked user's correct password is not a login. Not a
      // store.write(): a login changes nothing any cache holds, so it must not clear caches everywhere
      if (!user.blocked) await store.users.recordLogin(user.user_id, new Date(now).toISOString(), ip);
      return user;
    }
    await this.failed(connection, identifier, ip, now, ipKey, userKey, ipDrain, meta);
    if (this.deps.events) {
      // fp (the account exists) or fu (no such user): one lookup, on the failure path only
      const known = await this.deps.passwords.findLogin(connection, identifier).catch(() => undefined);
      if (known) this.event('fp', 'Wrong email or password.', identifier, connection, ip, meta, known.user_id);
      else this.event('fu', 'Wrong email or password.', identifier, connection, ip, meta);
    }
    return undefined;
  }

  /**
   * Second-factor codes count against the address too: refused while the address's failure bucket is full
   * (suspicious-IP throttling), and each wrong code fills it like a wrong password.
   */
  async checkAddress(ip: string): Promise<void> {
    const { store, clock, settings } = this.deps;
    if (settings.suspiciousIpMax <= 0) return;
    const ipDrain = settings.suspiciousIpMax / settings.suspiciousIpWindowMs;
    const level = await store.abuse.bucket(keyOf('ip', ip), 0, ipDrain, clock.now(), 0);
    const excess = level - (settings.suspiciousIpMax - 1);
    if (excess > 1e-9) throw new TooManyAttempts(retryAfter(excess, ipDrain), SUSPICIOUS_IP);
  }

  async codeFailed(ip: string): Promise<void> {
    const { store, clock, settings } = this.deps;
    if (settings.suspiciousIpMax <= 0) return;
    const now = clock.now();
    await store.abuse.bucket(keyOf('ip', ip), 1, settings.suspiciousIpMax / settings.suspiciousIpWindowMs, now, now + settings.suspiciousIpWindowMs);
  }

  private async failed(connection: string, identifier: string, ip: string, now: number, ipKey: string, userKey: string, ipDrain: number, meta: LoginMeta): Promise<void> {
    const { store, settings } = this.deps;
    if (++this.failures % 500 === 0) store.abuse.purge(now).catch(() => undefined); // expired counters and blocks
    if (settings.suspiciousIpMax > 0) await store.abuse.bucket(ipKey, 1, ipDrain, now, now + settings.suspiciousIpWindowMs);
    if (settings.bruteForceThreshold > 0) {
      const count = await store.abuse.bucket(userKey, 1, 0, now, now + BLOCK_LIFETIME_MS);
      if (count >= settings.bruteForceThreshold) {
        await store.write(async (tx) => {
          await tx.abuse.block({ connection, identifier, ip, createdAt: now, expiresAt: now + BLOCK_LIFETIME_MS });
          await tx.abuse.clearBucket(userKey);
        });
        this.event('limit_wc', USER_BLOCKED, identifier, connection, ip, meta);
      }
    }
  }
}

/** Seconds until `excess` has drained at `drainPerMs` (at least 1). */
export function retryAfter(excess: number, drainPerMs: number): number {
  return Math.max(1, Math.ceil(excess / drainPerMs / 1000));
}
