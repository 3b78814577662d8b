import { sql, type Kysely, type Transaction } from 'kysely';
import type { Dialect } from './db';

/** Every row of every table (the schema's bookkeeping aside), in an order that satisfies the foreign keys. */
export interface StoreSnapshot { readonly tables: ReadonlyArray<{ readonly name: string; readonly rows: ReadonlyArray<Record<string, unknown>> }> }

/** Not data: the migration bookkeeping, and the change generation, which only ever grows (other processes compare it). */
const SKIPPED = new Set(['kysely_migration', 'kysely_migration_lock', 'store_generation']);

/** The tables, each after the tables its foreign keys reference (found in the database: no list to keep in step). */
async function tablesInOrder(db: Kysely<any>, dialect: Dialect): Promise<string[]> {
  const tables = (await db.introspection.getTables())
    .filter((t) => (t.schema === undefined || t.schema === 'public') && !t.isView && !SKIPPED.has(t.name)).map((t) => t.name);
  const parents = new Map<string, Set<string>>(tables.map((t) => [t, new Set<string>()]));
  if (dialect === 'sqlite') {
    for (const t of tables) {
      const { rows } = await sql<{ table: string }>`SELECT "table" FROM pragma_foreign_key_list(${t})`.execute(db);
      for (const r of rows) if (r.table !== t) parents.get(t)?.add(r.table);
    }
  } else {
    const { rows } = await sql<{ child: string; parent: string }>`
      SELECT c.relname AS child, p.relname AS parent FROM pg_constraint k
      JOIN pg_class c ON c.oid = k.conrelid JOIN pg_class p ON p.oid = k.confrelid
      WHERE k.contype = 'f' AND c.relnamespace = 'public'::regnamespace`.execute(db);
    for (const r of rows) if (r.child !== r.parent) parents.get(r.child)?.add(r.parent);
  }
  const ordered: string[] = [];
  const visit = (t: string, path: Set<string>) => {
    if (ordered.includes(t) || path.has(t)) return;
    path.add(t);
    for (const p of parents.get(t) ?? []) if (parents.has(p)) visit(p, path);
    ordered.push(t);
  };
  for (const t of tables.sort()) visit(t, new Set());
  return ordered;
}

/** Reads every table in one transaction (a consistent picture). */
export async function takeSnapshot(db: Kysely<any>, dialect: Dialect): Promise<StoreSnapshot> {
  const order = await tablesInOrder(db, dialect);
  return db.transaction().execute(async (trx) => {
    const tables = [];
    for (const name of order) tables.push({ name, rows: await trx.selectFrom(name).selectAll().execute() });
    return { tables };
  });
}

/**
 * Replaces the content of every table with the snapshot's, inside the caller's transaction: children emptied before
 * their parents, parents filled before their children, in batches that stay under either dialect's parameter limit.
 */
export async function restoreSnapshot(trx: Transaction<any>, snapshot: StoreSnapshot): Promise<void> {
  for (const { name } of [...snapshot.tables].reverse()) await trx.deleteFrom(name).execute();
  for (const { name, rows } of snapshot.tables) {
    if (rows.length === 0) continue;
    const perBatch = Math.max(1, Math.floor(900 / Object.keys(rows[0]).length));
    for (let i = 0; i < rows.length; i += perBatch) await trx.insertInto(name).values(rows.slice(i, i + perBatch) as Record<string, unknown>[]).execute();
  }
}
