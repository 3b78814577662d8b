import type { AbuseRepo, UserBlock } from '@tessera/core';
import { sql, type Kysely } from 'kysely';
import type { Db, Dialect } from '../db';

interface AbuseBucketRow { key: string; level: number; updated_at: number; expires_at: number }
interface UserBlockRow { connection: string; identifier: string; ip: string; created_at: number; expires_at: number }
interface RateLimitWindowRow { key: string; window_start: number; count: number; expires_at: number }
interface AbuseDatabase { abuse_buckets: AbuseBucketRow; user_blocks: UserBlockRow; rate_limit_windows: RateLimitWindowRow }

/**
 * Counters and blocks of migration 0009. Every counter changes in one INSERT … ON CONFLICT DO UPDATE … RETURNING,
 * so two instances counting the same key at once both count (no read-then-write race).
 */
export class SqlAbuseRepo implements AbuseRepo {
  private readonly db: Kysely<AbuseDatabase>;
  private readonly greatest: string;
  private readonly real: string;
  constructor(db: Db, dialect: Dialect) {
    this.db = db as unknown as Kysely<AbuseDatabase>;
    this.greatest = dialect === 'postgres' ? 'GREATEST' : 'MAX';
    this.real = dialect === 'postgres' ? 'DOUBLE PRECISION' : 'REAL';
  }

  async bucket(key: string, amount: number, drainPerMs: number, now: number, expiresAt: number): Promise<number> {
    if (amount === 0) {
      const row = await this.db.selectFrom('abuse_buckets').select(['level', 'updated_at']).where('key', '=', key).executeTakeFirst();
      return row ? Math.max(0, Number(row.level) - (now - Number(row.updated_at)) * drainPerMs) : 0;
    }
    const greatest = sql.raw(this.greatest);
    const drain = sql`CAST(${drainPerMs} AS ${sql.raw(this.real)})`;
    const r = await sql<{ level: number }>`INSERT INTO abuse_buckets (key, level, updated_at, expires_at) VALUES (${key}, CAST(${amount} AS ${sql.raw(this.real)}), ${now}, ${expiresAt})
      ON CONFLICT (key) DO UPDATE SET
        level = ${greatest}(0, abuse_buckets.level - ${greatest}(0, excluded.updated_at - abuse_buckets.updated_at) * ${drain}) + excluded.level,
        updated_at = ${greatest}(abuse_buckets.updated_at, excluded.updated_at),
        expires_at = excluded.expires_at
      RETURNING level`.execute(this.db);
    return Number(r.rows[0].level);
  }

  async clearBucket(key: string): Promise<void> {
    await this.db.deleteFrom('abuse_buckets').where('key', '=', key).execute();
  }

  async block(b: UserBlock): Promise<void> {
    await this.db.insertInto('user_blocks')
      .values({ connection: b.connection, identifier: b.identifier, ip: b.ip, created_at: b.createdAt, expires_at: b.expiresAt })
      .onConflict((oc) => oc.columns(['identifier', 'connection', 'ip']).doUpdateSet({ created_at: b.createdAt, expires_at: b.expiresAt }))
      .execute();
  }

  async blocksOf(identifiers: string[], now: number): Promise<UserBlock[]> {
    if (identifiers.length === 0) return [];
    const rows = await this.db.selectFrom('user_blocks').selectAll().where('identifier', 'in', identifiers).where('expires_at', '>', now)
      .orderBy('created_at').orderBy('ip').execute();
    return rows.map((r) => ({ connection: r.connection, identifier: r.identifier, ip: r.ip, createdAt: Number(r.created_at), expiresAt: Number(r.expires_at) }));
  }

  async isBlocked(connection: string, identifier: string, ip: string, now: number): Promise<boolean> {
    const row = await this.db.selectFrom('user_blocks').select('ip')
      .where('identifier', '=', identifier).where('connection', '=', connection).where('ip', '=', ip).where('expires_at', '>', now)
      .executeTakeFirst();
    return row !== undefined;
  }

  async unblock(identifiers: string[]): Promise<number> {
    if (identifiers.length === 0) return 0;
    const r = await this.db.deleteFrom('user_blocks').where('identifier', 'in', identifiers).executeTakeFirst();
    return Number(r.numDeletedRows ?? 0);
  }

  async hit(key: string, windowStart: number, expiresAt: number): Promise<number> {
    const r = await sql<{ count: number }>`INSERT INTO rate_limit_windows (key, window_start, count, expires_at) VALUES (${key}, ${windowStart}, 1, ${expiresAt})
      ON CONFLICT (key) DO UPDATE SET
        count = CASE WHEN rate_limit_windows.window_start = excluded.window_start THEN rate_limit_windows.count + 1 ELSE 1 END,
        window_start = excluded.window_start,
        expires_at = excluded.expires_at
      RETURNING count`.execute(this.db);
    return Number(r.rows[0].count);
  }

  async purge(now: number): Promise<void> {
    await this.db.deleteFrom('abuse_buckets').where('expires_at', '<', now).execute();
    await this.db.deleteFrom('user_blocks').where('expires_at', '<', now).execute();
    await this.db.deleteFrom('rate_limit_windows').where('expires_at', '<', now).execute();
  }
}
