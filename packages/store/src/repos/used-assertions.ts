import type { UsedAssertionRepo } from '@tessera/core';
import type { Db } from '../db';
import { flowDb, type FlowDb } from './flow-db';

export class SqlUsedAssertionRepo implements UsedAssertionRepo {
  private readonly db: FlowDb;
  constructor(db: Db) { this.db = flowDb(db); }

  /** One statement, so two instances racing on the same key cannot both win: insert, or take over an expired row. */
  async claim(key: string, expiresAt: number, now: number): Promise<boolean> {
    const r = await this.db.insertInto('used_client_assertions').values({ key_hash: key, expires_at: expiresAt })
      .onConflict((oc) => oc.column('key_hash').doUpdateSet({ expires_at: expiresAt }).where('used_client_assertions.expires_at', '<', now))
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0) === 1;
  }

  async deleteExpired(before: number): Promise<void> {
    await this.db.deleteFrom('used_client_assertions').where('expires_at', '<', before).execute();
  }
}
