import type { ConsentQuery, ConsentRecord, ConsentRepo } from '@tessera/core';
import type { Selectable } from 'kysely';
import type { Db } from '../db';
import { nowIso } from './errors';
import { flowDb, type ConsentRow, type FlowDb } from './flow-db';

export class SqlConsentRepo implements ConsentRepo {
  private readonly db: FlowDb;
  constructor(db: Db) { this.db = flowDb(db); }

  private fromRow(r: Selectable<ConsentRow>): ConsentRecord {
    return { id: r.id, userId: r.user_id, clientId: r.client_id, audience: r.audience, scopes: JSON.parse(r.scopes) as string[] };
  }

  async upsert(c: ConsentRecord): Promise<ConsentRecord> {
    const now = nowIso();
    await this.db.insertInto('user_consents')
      .values({ id: c.id, user_id: c.userId, client_id: c.clientId, audience: c.audience, scopes: JSON.stringify(c.scopes), created_at: now, updated_at: now })
      .onConflict((oc) => oc.columns(['user_id', 'client_id', 'audience']).doUpdateSet({ scopes: JSON.stringify(c.scopes), updated_at: now }))
      .execute();
    return (await this.find(c.userId, c.clientId, c.audience)) as ConsentRecord;
  }

  async find(userId: string, clientId: string, audience: string): Promise<ConsentRecord | undefined> {
    const row = await this.db.selectFrom('user_consents').selectAll()
      .where('user_id', '=', userId).where('client_id', '=', clientId).where('audience', '=', audience).executeTakeFirst();
    return row && this.fromRow(row);
  }

  async findById(id: string): Promise<ConsentRecord | undefined> {
    const row = await this.db.selectFrom('user_consents').selectAll().where('id', '=', id).executeTakeFirst();
    return row && this.fromRow(row);
  }

  async list(q: ConsentQuery): Promise<{ items: ConsentRecord[]; total: number }> {
    let base = this.db.selectFrom('user_consents');
    if (q.userId !== undefined) base = base.where('user_id', '=', q.userId);
    if (q.clientId !== undefined) base = base.where('client_id', '=', q.clientId);
    if (q.audience !== undefined) base = base.where('audience', '=', q.audience);
    const [rows, count] = await Promise.all([
      base.selectAll().orderBy('seq').limit(q.limit ?? Number.MAX_SAFE_INTEGER).offset(q.offset).execute(),
      base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { items: rows.map((r) => this.fromRow(r)), total: Number(count.n) };
  }

  async delete(id: string): Promise<boolean> {
    const r = await this.db.deleteFrom('user_consents').where('id', '=', id).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  async deleteForUser(userId: string): Promise<number> {
    const r = await this.db.deleteFrom('user_consents').where('user_id', '=', userId).executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}
