import type {
  AuthenticatorRecord, AuthenticatorRepo, AuthenticatorType, MfaFailureRepo, MfaPending, MfaTokenRecord, MfaTokenRepo, SecretBox,
} from '@tessera/core';
import type { Db } from '../db';
import { flowDb, opt, type FlowDb, type MfaAuthenticatorRow } from './flow-db';

/** TOTP secrets are sealed with the master key, bound to the authenticator id; recovery codes are stored hashed. */
const aad = (id: string) => `totp_secret:${id}`;

export class SqlAuthenticatorRepo implements AuthenticatorRepo {
  private readonly db: FlowDb;
  constructor(db: Db, private readonly box: SecretBox) { this.db = flowDb(db); }

  private toRecord(r: MfaAuthenticatorRow): AuthenticatorRecord {
    const type = r.type as AuthenticatorType;
    return {
      id: r.id, userId: r.user_id, type, secret: type === 'totp' ? this.box.openString(r.secret, aad(r.id)) : r.secret,
      confirmed: Boolean(Number(r.confirmed)), createdAt: Number(r.created_at), lastAuthAt: opt(r.last_auth_at) === undefined ? undefined : Number(r.last_auth_at),
    };
  }

  async listForUser(userId: string): Promise<AuthenticatorRecord[]> {
    const rows = await this.db.selectFrom('mfa_authenticators').selectAll().where('user_id', '=', userId).orderBy('created_at').orderBy('type', 'desc').orderBy('id').execute();
    return rows.map((r) => this.toRecord(r));
  }

  async findById(id: string): Promise<AuthenticatorRecord | undefined> {
    const row = await this.db.selectFrom('mfa_authenticators').selectAll().where('id', '=', id).executeTakeFirst();
    return row && this.toRecord(row);
  }

  async insert(r: AuthenticatorRecord): Promise<void> {
    await this.db.insertInto('mfa_authenticators').values({
      id: r.id, user_id: r.userId, type: r.type, secret: r.type === 'totp' ? this.box.seal(r.secret, aad(r.id)) : r.secret,
      confirmed: r.confirmed ? 1 : 0, created_at: r.createdAt, last_auth_at: r.lastAuthAt ?? null, last_step: null,
    }).execute();
  }

  async confirmAll(userId: string): Promise<void> {
    await this.db.updateTable('mfa_authenticators').set({ confirmed: 1 }).where('user_id', '=', userId).execute();
  }

  async claimStep(id: string, step: number, at: number): Promise<boolean> {
    const r = await this.db.updateTable('mfa_authenticators').set({ last_step: step, last_auth_at: at })
      .where('id', '=', id).where((eb) => eb.or([eb('last_step', 'is', null), eb('last_step', '<', step)])).executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async consume(id: string): Promise<boolean> {
    const r = await this.db.deleteFrom('mfa_authenticators').where('id', '=', id).executeTakeFirst();
    return Number(r.numDeletedRows) === 1;
  }

  async delete(userId: string, id: string): Promise<boolean> {
    const r = await this.db.deleteFrom('mfa_authenticators').where('user_id', '=', userId).where('id', '=', id).executeTakeFirst();
    return Number(r.numDeletedRows) === 1;
  }

  async deleteForUser(userId: string, type?: AuthenticatorType): Promise<number> {
    let q = this.db.deleteFrom('mfa_authenticators').where('user_id', '=', userId);
    if (type) q = q.where('type', '=', type);
    const r = await q.executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}

export class SqlMfaTokenRepo implements MfaTokenRepo {
  private readonly db: FlowDb;
  constructor(db: Db) { this.db = flowDb(db); }

  async insert(r: MfaTokenRecord): Promise<void> {
    await this.db.insertInto('mfa_tokens').values({
      token_hash: r.tokenHash, client_id: r.clientId, user_id: r.userId, data: JSON.stringify(r.pending), expires_at: r.expiresAt, consumed_at: null,
    }).execute();
  }

  async find(tokenHash: string): Promise<MfaTokenRecord | undefined> {
    const row = await this.db.selectFrom('mfa_tokens').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
    if (!row) return undefined;
    return {
      tokenHash: row.token_hash, clientId: row.client_id, userId: row.user_id, pending: JSON.parse(row.data) as MfaPending,
      expiresAt: Number(row.expires_at), consumedAt: opt(row.consumed_at) === undefined ? undefined : Number(row.consumed_at),
    };
  }

  async consume(tokenHash: string, at: number): Promise<boolean> {
    const r = await this.db.updateTable('mfa_tokens').set({ consumed_at: at }).where('token_hash', '=', tokenHash).where('consumed_at', 'is', null).executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async deleteExpired(before: number): Promise<void> {
    await this.db.deleteFrom('mfa_tokens').where('expires_at', '<', before).execute();
  }
}

export class SqlMfaFailureRepo implements MfaFailureRepo {
  private readonly db: FlowDb;
  constructor(db: Db) { this.db = flowDb(db); }

  /** One upsert: the count goes up by one (or starts again after an expired lock); the lock is set when it reaches the limit. */
  async recordFailure(userId: string, now: number, lockAfter: number, lockMs: number): Promise<{ failures: number; lockedUntil?: number }> {
    const row = await this.db.insertInto('mfa_failures').values({ user_id: userId, failures: 1, locked_until: lockAfter <= 1 ? now + lockMs : null })
      .onConflict((oc) => oc.column('user_id').doUpdateSet((eb) => ({
        failures: eb.case().when('mfa_failures.locked_until', '<=', now).then(1).else(eb('mfa_failures.failures', '+', 1)).end(),
        locked_until: eb.case()
          .when('mfa_failures.locked_until', '<=', now).then(null)
          .when(eb('mfa_failures.failures', '+', 1), '>=', lockAfter).then(now + lockMs)
          .else(eb.ref('mfa_failures.locked_until')).end(),
      })))
      .returning(['failures', 'locked_until']).executeTakeFirstOrThrow();
    return { failures: Number(row.failures), lockedUntil: row.locked_until === null ? undefined : Number(row.locked_until) };
  }

  async lockedUntil(userId: string): Promise<number | undefined> {
    const row = await this.db.selectFrom('mfa_failures').select('locked_until').where('user_id', '=', userId).executeTakeFirst();
    return row?.locked_until == null ? undefined : Number(row.locked_until);
  }

  async reset(userId: string): Promise<void> {
    await this.db.deleteFrom('mfa_failures').where('user_id', '=', userId).execute();
  }
}
