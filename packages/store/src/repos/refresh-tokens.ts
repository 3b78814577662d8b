import type { RefreshGrant, RefreshTokenRecord, RefreshTokenRepo } from '@tessera/core';
import type { Selectable } from 'kysely';
import type { Db } from '../db';
import { flowDb, type FlowDb, type RefreshTokenRow } from './flow-db';

const num = (v: number | null): number | undefined => (v === null ? undefined : Number(v));

export class SqlRefreshTokenRepo implements RefreshTokenRepo {
  private readonly db: FlowDb;
  constructor(db: Db) { this.db = flowDb(db); }

  private fromRow(row: Selectable<RefreshTokenRow>): RefreshTokenRecord {
    return {
      id: row.id, tokenHash: row.token_hash, familyId: row.family_id, grant: JSON.parse(row.data) as RefreshGrant,
      createdAt: Number(row.created_at), expiresAt: num(row.expires_at), idleExpiresAt: num(row.idle_expires_at),
      usedAt: num(row.used_at), revokedAt: num(row.revoked_at), jkt: row.dpop_jkt ?? undefined, x5t: row.mtls_x5t ?? undefined,
    };
  }

  async insert(r: RefreshTokenRecord): Promise<void> {
    await this.db.insertInto('refresh_tokens').values({
      id: r.id, token_hash: r.tokenHash, family_id: r.familyId, client_id: r.grant.clientId, user_id: r.grant.userId,
      audience: r.grant.audience ?? null, data: JSON.stringify(r.grant), created_at: r.createdAt,
      expires_at: r.expiresAt ?? null, idle_expires_at: r.idleExpiresAt ?? null, used_at: r.usedAt ?? null, revoked_at: r.revokedAt ?? null,
      dpop_jkt: r.jkt ?? null, mtls_x5t: r.x5t ?? null,
    }).execute();
  }

  async findByHash(tokenHash: string): Promise<RefreshTokenRecord | undefined> {
    const row = await this.db.selectFrom('refresh_tokens').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
    return row && this.fromRow(row);
  }

  async markUsed(id: string, at: number): Promise<boolean> {
    const r = await this.db.updateTable('refresh_tokens').set({ used_at: at }).where('id', '=', id).where('used_at', 'is', null).executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async touch(id: string, idleExpiresAt: number | undefined): Promise<void> {
    if (idleExpiresAt === undefined) return;
    await this.db.updateTable('refresh_tokens').set({ idle_expires_at: idleExpiresAt }).where('id', '=', id).execute();
  }

  async revokeFamily(familyId: string, at: number): Promise<void> {
    await this.db.updateTable('refresh_tokens').set({ revoked_at: at }).where('family_id', '=', familyId).where('revoked_at', 'is', null).execute();
  }

  async revokeFor(userId: string, clientId: string, audience: string | undefined, at: number): Promise<void> {
    let q = this.db.updateTable('refresh_tokens').set({ revoked_at: at })
      .where('user_id', '=', userId).where('client_id', '=', clientId).where('revoked_at', 'is', null);
    q = audience === undefined ? q.where('audience', 'is', null) : q.where('audience', '=', audience);
    await q.execute();
  }

  async unrevokedOfUser(userId: string): Promise<RefreshTokenRecord[]> {
    const rows = await this.db.selectFrom('refresh_tokens').selectAll().where('user_id', '=', userId).where('revoked_at', 'is', null)
      .orderBy('created_at').orderBy('id').execute();
    return rows.map((r) => this.fromRow(r));
  }

  async family(familyId: string): Promise<RefreshTokenRecord[]> {
    const rows = await this.db.selectFrom('refresh_tokens').selectAll().where('family_id', '=', familyId).orderBy('created_at').orderBy('id').execute();
    return rows.map((r) => this.fromRow(r));
  }

  async revokeForUser(userId: string, at: number): Promise<void> {
    await this.db.updateTable('refresh_tokens').set({ revoked_at: at }).where('user_id', '=', userId).where('revoked_at', 'is', null).execute();
  }
}
