import type { QuotaBucket, QuotaCounterStore, TokenUsageRepo, UsageQuery, UsageRow } from '@tessera/core';
import { sql, type Kysely } from 'kysely';
import type { Db } from '../db';

interface QuotaWindowRow { key: string; count: number; expires_at: number }
interface UsageDbRow { hour_start: number; client_id: string; organization_id: string; audience: string; issued: number; reused: number; refused: number }
interface EconomyDatabase { token_quota_windows: QuotaWindowRow; token_usage: UsageDbRow }

class Refused extends Error { constructor(readonly counts: number[]) { super('token quota exhausted'); } }

/**
 * Token quota windows (migration 0015). Every bucket of one request is counted in one transaction with
 * INSERT … ON CONFLICT DO UPDATE … RETURNING (row locks on PostgreSQL, the single writer on SQLite), always in the
 * same order (client before organization, hour before day), so two instances cannot both take the last token and
 * cannot deadlock; a request that finds an enforced bucket full is rolled back and counts nothing.
 */
export class SqlTokenQuotaRepo implements QuotaCounterStore {
  private readonly db: Kysely<EconomyDatabase>;
  private consumed = 0;
  constructor(db: Db) { this.db = db as unknown as Kysely<EconomyDatabase>; }

  async consume(buckets: readonly QuotaBucket[]): Promise<{ admitted: boolean; counts: number[] }> {
    if (++this.consumed % 10_000 === 0) {
      const now = Date.now();
      await this.db.deleteFrom('token_quota_windows').where('expires_at', '<', now).execute().catch(() => undefined);
    }
    try {
      return await this.db.transaction().execute(async (tx) => {
        const counts: number[] = [];
        for (const b of buckets) {
          const r = await sql<{ count: number }>`INSERT INTO token_quota_windows (key, count, expires_at) VALUES (${b.key}, 1, ${b.expiresAt})
            ON CONFLICT (key) DO UPDATE SET count = token_quota_windows.count + 1
            RETURNING count`.execute(tx);
          counts.push(Number(r.rows[0].count));
        }
        if (buckets.some((b, i) => b.enforce && counts[i] > b.limit)) throw new Refused(counts.map((c) => c - 1));
        return { admitted: true, counts };
      });
    } catch (e) {
      if (e instanceof Refused) return { admitted: false, counts: e.counts };
      throw e;
    }
  }
}

/** Hourly usage rows: each flush adds its counts in one transaction of upserts. */
export class SqlTokenUsageRepo implements TokenUsageRepo {
  private readonly db: Kysely<EconomyDatabase>;
  constructor(db: Db) { this.db = db as unknown as Kysely<EconomyDatabase>; }

  async add(rows: readonly UsageRow[]): Promise<void> {
    if (rows.length === 0) return;
    await this.db.transaction().execute(async (tx) => {
      for (const r of rows) {
        await tx.insertInto('token_usage').values({
          hour_start: r.hourStart, client_id: r.clientId, organization_id: r.organizationId, audience: r.audience,
          issued: r.issued, reused: r.reused, refused: r.refused,
        }).onConflict((oc) => oc.columns(['hour_start', 'client_id', 'organization_id', 'audience']).doUpdateSet({
          issued: sql`token_usage.issued + excluded.issued`,
          reused: sql`token_usage.reused + excluded.reused`,
          refused: sql`token_usage.refused + excluded.refused`,
        })).execute();
      }
    });
  }

  async query(q: UsageQuery): Promise<UsageRow[]> {
    let query = this.db.selectFrom('token_usage').selectAll().where('hour_start', '>=', q.from).where('hour_start', '<', q.to);
    if (q.clientId !== undefined) query = query.where('client_id', '=', q.clientId);
    if (q.organizationId !== undefined) query = query.where('organization_id', '=', q.organizationId);
    if (q.audience !== undefined) query = query.where('audience', '=', q.audience);
    const rows = await query.orderBy('hour_start').orderBy('client_id').orderBy('organization_id').orderBy('audience').limit(10_000).execute();
    return rows.map((r) => ({
      hourStart: Number(r.hour_start), clientId: r.client_id, organizationId: r.organization_id, audience: r.audience,
      issued: Number(r.issued), reused: Number(r.reused), refused: Number(r.refused),
    }));
  }
}
