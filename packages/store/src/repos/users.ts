import { sql, type Expression, type Selectable, type SqlBool } from 'kysely';
import type { Page, SearchTarget, User, UserListQuery, UserQuery, UserRepo } from '@tessera/core';
import type { Db, Dialect, UserRow } from '../db';
import { mapConstraint } from './errors';

/** Users: the searchable columns plus the rest of the profile as a JSON document. */
export function userFromRow(row: Selectable<UserRow>): User {
  const doc = JSON.parse(row.doc) as Omit<User, 'user_id' | 'connection' | 'email' | 'created_at' | 'updated_at'>;
  const u: User = { user_id: row.user_id, connection: row.connection, email: row.email, ...doc, created_at: row.created_at, updated_at: row.updated_at };
  if (row.username !== null && row.username !== undefined) u.username = row.username;
  if (row.password_hash !== null) u.password_hash = row.password_hash;
  if (Number(row.logins_count) > 0) u.logins_count = Number(row.logins_count);
  if (row.last_login !== null && row.last_login !== undefined) u.last_login = row.last_login;
  if (row.last_ip !== null && row.last_ip !== undefined) u.last_ip = row.last_ip;
  return u;
}

type Sql = Expression<unknown>;

export class SqlUserRepo implements UserRepo {
  constructor(private readonly db: Db, private readonly dialect: Dialect) {}

  /** The login columns are left out: only recordLogin() writes them. */
  private toRow(u: User) {
    const { user_id, connection, email, username, password_hash, created_at, updated_at, logins_count: _n, last_login: _l, last_ip: _i, ...doc } = u;
    return { user_id, connection, email, username: username ?? null, password_hash: password_hash ?? null, doc: JSON.stringify(doc), created_at, updated_at };
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

  async findByUsername(connection: string, username: string): Promise<User | undefined> {
    const row = await this.db.selectFrom('users').selectAll().where('connection', '=', connection).where('username', '=', username).executeTakeFirst();
    return row && userFromRow(row);
  }

  async listByEmail(email: string): Promise<User[]> {
    const rows = await this.db.selectFrom('users').selectAll().where('email', '=', email).orderBy('seq').execute();
    return rows.map(userFromRow);
  }

  async recordLogin(userId: string, at: string, ip: string | undefined): Promise<void> {
    await this.db.updateTable('users')
      .set((eb) => ({ logins_count: eb('logins_count', '+', 1), last_login: at, last_ip: ip ?? null }))
      .where('user_id', '=', userId).execute();
  }

  async existing(userIds: string[]): Promise<string[]> {
    if (userIds.length === 0) return [];
    const rows = await this.db.selectFrom('users').select('user_id').where('user_id', 'in', userIds).execute();
    return rows.map((r) => r.user_id);
  }

  /** Offset paging over the filtered set; `sort` orders by one field (absent values last), then by insertion. */
  async list(q: UserListQuery): Promise<Page<User>> {
    let base = this.db.selectFrom('users');
    if (q.connection !== undefined) base = base.where('connection', '=', q.connection);
    if (q.query) base = base.where(this.condition(q.query) as Expression<SqlBool>);
    let rows = base.selectAll();
    if (q.sort) {
      const e = this.field(q.sort.target);
      rows = rows.orderBy(sql`CASE WHEN ${e} IS NULL THEN 1 ELSE 0 END`).orderBy(sql`${e}`, q.sort.descending ? 'desc' : 'asc');
    }
    rows = rows.orderBy('seq').limit(q.limit ?? Number.MAX_SAFE_INTEGER).offset(q.offset);
    const [items, count] = await Promise.all([
      rows.execute(),
      base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { items: items.map(userFromRow), total: Number((count as { n: number | string }).n) };
  }

  /** The SQL value of a searchable field: a column, or a scalar of the JSON profile as text. */
  private field(t: SearchTarget): Sql {
    const pg = this.dialect === 'postgres';
    switch (t.kind) {
      case 'column': return sql.ref(t.name);
      case 'number': return sql.ref(t.name);
      case 'email_domain': return sql.ref('email');
      case 'text': return pg ? sql`(doc::jsonb ->> ${sql.lit(t.name)})` : sql`json_extract(doc, ${`$."${t.name}"`})`;
      case 'bool': return pg ? sql`COALESCE((doc::jsonb ->> ${sql.lit(t.name)})::boolean, false)` : sql`COALESCE(json_extract(doc, ${`$."${t.name}"`}), 0)`;
      case 'metadata': {
        const path = [t.root, ...t.path];
        if (pg) return sql`(CASE jsonb_typeof(doc::jsonb #> ${path}::text[]) WHEN 'object' THEN NULL WHEN 'array' THEN NULL ELSE doc::jsonb #>> ${path}::text[] END)`;
        const p = '$' + path.map((k) => `."${k}"`).join('');
        return sql`(CASE json_type(doc, ${p}) WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' WHEN 'object' THEN NULL WHEN 'array' THEN NULL ELSE CAST(json_extract(doc, ${p}) AS TEXT) END)`;
      }
    }
  }

  private condition(q: UserQuery): Sql {
    const pg = this.dialect === 'postgres';
    switch (q.op) {
      case 'and':
      case 'or': {
        if (q.items.length === 0) return sql`1 = 1`;
        return sql`(${sql.join(q.items.map((i) => this.condition(i)), sql.raw(q.op === 'and' ? ' AND ' : ' OR '))})`;
      }
      case 'not': return sql`NOT COALESCE((${this.condition(q.item)}), ${pg ? sql`false` : sql`0`})`;
      case 'range': {
        // ISO 8601 instants of one format compare as text; PostgreSQL compares bytes (COLLATE "C"), not the locale's order
        const f = q.target.kind === 'number' || !pg ? this.field(q.target) : sql`${this.field(q.target)} COLLATE "C"`;
        const parts: Sql[] = [sql`${this.field(q.target)} IS NOT NULL`];
        if (q.lower) parts.push(q.lower.inclusive ? sql`${f} >= ${q.lower.value}` : sql`${f} > ${q.lower.value}`);
        if (q.upper) parts.push(q.upper.inclusive ? sql`${f} <= ${q.upper.value}` : sql`${f} < ${q.upper.value}`);
        return sql`(${sql.join(parts, sql.raw(' AND '))})`;
      }
      case 'term': {
        const f = this.field(q.target);
        if (q.target.kind === 'bool') {
          if (q.match === 'exists') return sql`1 = 1`;
          return pg ? sql`${f} = ${q.value as boolean}` : sql`${f} = ${q.value ? 1 : 0}`;
        }
        const v = String(q.value);
        if (q.target.kind === 'email_domain') return sql`email LIKE ${'%@' + escapeLike(v)} ESCAPE '\\'`;
        if (q.match === 'exists') return sql`${f} IS NOT NULL`;
        const e = q.folded ? sql`lower(${f})` : f;
        if (q.match === 'exact') return sql`${e} = ${v}`;
        if (q.folded) {
          const pattern = q.match === 'prefix' ? `${escapeLike(v)}%` : q.match === 'suffix' ? `%${escapeLike(v)}` : `%${escapeLike(v)}%`;
          return sql`${e} LIKE ${pattern} ESCAPE '\\'`;
        }
        // case-sensitive: no LIKE (SQLite's is case-insensitive)
        if (q.match === 'prefix') return sql`substr(${e}, 1, ${v.length}) = ${v}`;
        if (q.match === 'suffix') return pg ? sql`right(${e}, ${v.length}) = ${v}` : sql`substr(${e}, ${-v.length}) = ${v}`;
        return pg ? sql`strpos(${e}, ${v}) > 0` : sql`instr(${e}, ${v}) > 0`;
      }
    }
  }
}

const escapeLike = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);
