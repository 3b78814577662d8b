import type { SessionRecord, SessionRepo } from '@tessera/core';
import type { Selectable } from 'kysely';
import type { Db } from '../db';
import { flowDb, type FlowDb, type SessionRow } from './flow-db';

const fromRow = (row: Selectable<SessionRow>): SessionRecord => ({
  idHash: row.id_hash, userId: row.user_id, authTime: Number(row.auth_time), createdAt: Number(row.created_at), expiresAt: Number(row.expires_at),
  ...(row.mfa_at !== null && { mfaAt: Number(row.mfa_at) }),
});

export class SqlSessionRepo implements SessionRepo {
  private readonly db: FlowDb;
  constructor(db: Db) { this.db = flowDb(db); }

  async insert(s: SessionRecord): Promise<void> {
    await this.db.insertInto('sessions').values({ id_hash: s.idHash, user_id: s.userId, auth_time: s.authTime, created_at: s.createdAt, expires_at: s.expiresAt, mfa_at: s.mfaAt ?? null }).execute();
  }

  async find(idHash: string): Promise<SessionRecord | undefined> {
    const row = await this.db.selectFrom('sessions').selectAll().where('id_hash', '=', idHash).executeTakeFirst();
    return row && fromRow(row);
  }

  async ofUser(userId: string): Promise<SessionRecord[]> {
    const rows = await this.db.selectFrom('sessions').selectAll().where('user_id', '=', userId).orderBy('created_at').orderBy('id_hash').execute();
    return rows.map(fromRow);
  }

  async markMfa(idHash: string, at: number): Promise<void> {
    await this.db.updateTable('sessions').set({ mfa_at: at }).where('id_hash', '=', idHash).execute();
  }

  async delete(idHash: string): Promise<void> {
    await this.db.deleteFrom('sessions').where('id_hash', '=', idHash).execute();
  }

  async deleteForUser(userId: string): Promise<void> {
    await this.db.deleteFrom('sessions').where('user_id', '=', userId).execute();
  }
}
