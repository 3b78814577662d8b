import type { Selectable } from 'kysely';
import type { OffsetWindow, Page, User, UserRepo } from '@tessera/core';
import type { Db, UserRow } from '../db';
import { mapConstraint } from './errors';
import { offsetPage } from './paging';

/** Users: the searchable columns plus the rest of the profile as a JSON document. */
export function userFromRow(row: Selectable<UserRow>): User {
  const doc = JSON.parse(row.doc) as Omit<User, 'user_id' | 'connection' | 'email' | 'created_at' | 'updated_at'>;
  const u: User = { user_id: row.user_id, connection: row.connection, email: row.email, ...doc, created_at: row.created_at, updated_at: row.updated_at };
  if (row.password_hash !== null) u.password_hash = row.password_hash;
  return u;
}

export class SqlUserRepo implements UserRepo {
  constructor(private readonly db: Db) {}

  private toRow(u: User) {
    const { user_id, connection, email, password_hash, created_at, updated_at, ...doc } = u;
    return { user_id, connection, email, password_hash: password_hash ?? null, doc: JSON.stringify(doc), created_at, updated_at };
  }

  async insert(u: User): Promise<void> {
    await mapConstraint(() => this.db.insertInto('users').values(this.toRow(u)).execute());
  }

  async replace(u: User): Promise<void> {
    const { user_id, created_at: _c, ...row } = this.toRow(u);
    await mapConstraint(() => this.db.updateTable('users').set(row).where('user_id', '=', user_id).execute());
  }

  async delete(userId: string): Promise<boolean> {
    const r = await this.db.deleteFrom('users').where('user_id', '=', userId).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  async findById(userId: string): Promise<User | undefined> {
    const row = await this.db.selectFrom('users').selectAll().where('user_id', '=', userId).executeTakeFirst();
    return row && userFromRow(row);
  }

  async findByEmail(connection: string, email: string): Promise<User | undefined> {
    const row = await this.db.selectFrom('users').selectAll().where('connection', '=', connection).where('email', '=', email).executeTakeFirst();
    return row && userFromRow(row);
  }

  async existing(userIds: string[]): Promise<string[]> {
    if (userIds.length === 0) return [];
    const rows = await this.db.selectFrom('users').select('user_id').where('user_id', 'in', userIds).execute();
    return rows.map((r) => r.user_id);
  }

  list(q: OffsetWindow & { connection?: string }): Promise<Page<User>> {
    let base = this.db.selectFrom('users');
    if (q.connection !== undefined) base = base.where('connection', '=', q.connection);
    return offsetPage(base, q, userFromRow);
  }
}
