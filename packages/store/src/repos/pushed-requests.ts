import type { PushedRequestRecord, PushedRequestRepo } from '@tessera/core';
import type { Db } from '../db';
import { flowDb, type FlowDb } from './flow-db';

export class SqlPushedRequestRepo implements PushedRequestRepo {
  private readonly db: FlowDb;
  constructor(db: Db) { this.db = flowDb(db); }

  async insert(r: PushedRequestRecord): Promise<void> {
    await this.db.insertInto('pushed_authorization_requests').values({ id_hash: r.idHash, client_id: r.clientId, data: r.data, expires_at: r.expiresAt }).execute();
  }

  /** DELETE … RETURNING (SQLite ≥ 3.35 and PostgreSQL): of two instances racing on one request_uri, one gets it. */
  async take(idHash: string, clientId: string): Promise<PushedRequestRecord | undefined> {
    const row = await this.db.deleteFrom('pushed_authorization_requests')
      .where('id_hash', '=', idHash).where('client_id', '=', clientId).returningAll().executeTakeFirst();
    return row && { idHash: row.id_hash, clientId: row.client_id, data: row.data, expiresAt: Number(row.expires_at) };
  }

  async deleteExpired(before: number): Promise<void> {
    await this.db.deleteFrom('pushed_authorization_requests').where('expires_at', '<', before).execute();
  }
}
