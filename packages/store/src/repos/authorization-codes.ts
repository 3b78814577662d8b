import type { AuthorizationCodeRecord, AuthorizationCodeRepo, CodeGrant } from '@tessera/core';
import type { Db } from '../db';
import { flowDb, opt, type FlowDb } from './flow-db';

export class SqlAuthorizationCodeRepo implements AuthorizationCodeRepo {
  private readonly db: FlowDb;
  constructor(db: Db) { this.db = flowDb(db); }

  async insert(r: AuthorizationCodeRecord): Promise<void> {
    await this.db.insertInto('authorization_codes').values({
      code_hash: r.codeHash, client_id: r.grant.clientId, user_id: r.grant.userId, data: JSON.stringify(r.grant),
      expires_at: r.expiresAt, consumed_at: r.consumedAt ?? null, family_id: r.familyId ?? null,
    }).execute();
  }

  async find(codeHash: string): Promise<AuthorizationCodeRecord | undefined> {
    const row = await this.db.selectFrom('authorization_codes').selectAll().where('code_hash', '=', codeHash).executeTakeFirst();
    if (!row) return undefined;
    return {
      codeHash: row.code_hash, grant: JSON.parse(row.data) as CodeGrant, expiresAt: Number(row.expires_at),
      consumedAt: opt(row.consumed_at) === undefined ? undefined : Number(row.consumed_at), familyId: opt(row.family_id),
    };
  }

  async consume(codeHash: string, at: number): Promise<boolean> {
    const r = await this.db.updateTable('authorization_codes').set({ consumed_at: at })
      .where('code_hash', '=', codeHash).where('consumed_at', 'is', null).executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async setFamily(codeHash: string, familyId: string): Promise<void> {
    await this.db.updateTable('authorization_codes').set({ family_id: familyId }).where('code_hash', '=', codeHash).execute();
  }

  async deleteUnusedForUser(userId: string): Promise<void> {
    await this.db.deleteFrom('authorization_codes').where('user_id', '=', userId).where('consumed_at', 'is', null).execute();
  }

  async deleteExpired(before: number): Promise<void> {
    await this.db.deleteFrom('authorization_codes').where('expires_at', '<', before).execute();
  }
}
