/**
 * Abuse-protection state shared by every process and instance on one database: leaky-bucket failure counters
 * (brute force per user and address, suspicious addresses, failed client authentication), brute-force blocks,
 * and fixed-window request counters for the rate limits. Times are milliseconds since the epoch.
 */

/** Auth0's `blocked_for` entry: the identifier (email) blocked from one address on one connection. */
export interface UserBlock { connection: string; identifier: string; ip: string; createdAt: number; expiresAt: number }

export interface AbuseRepo {
  /**
   * Leaky bucket in one statement: the stored level drains by `drainPerMs` since its last update (never below
   * zero), then `amount` is added. Returns the new level. `amount` 0 with no row stored returns 0 and stores nothing.
   */
  bucket(key: string, amount: number, drainPerMs: number, now: number, expiresAt: number): Promise<number>;
  /** Forgets a bucket (a successful login clears its consecutive failures). */
  clearBucket(key: string): Promise<void>;
  /** Records a block (idempotent per connection, identifier and address). */
  block(b: UserBlock): Promise<void>;
  /** Live blocks of these identifiers (any connection), oldest first. */
  blocksOf(identifiers: string[], now: number): Promise<UserBlock[]>;
  isBlocked(connection: string, identifier: string, ip: string, now: number): Promise<boolean>;
  /** Removes every block of these identifiers; returns how many were removed. */
  unblock(identifiers: string[]): Promise<number>;
  /** Fixed-window request counter: increments the window starting at `windowStart` and returns its count. */
  hit(key: string, windowStart: number, expiresAt: number): Promise<number>;
  /** Deletes counters and blocks that have expired. */
  purge(now: number): Promise<void>;
}
