import { BadRequest, type CheckpointPage, type OffsetWindow, type Page } from '@tessera/core';
import type { Selectable, SelectQueryBuilder } from 'kysely';
import type { Database } from '../db';

type Table = 'resource_servers' | 'clients' | 'client_grants' | 'users' | 'roles' | 'organizations' | 'role_permissions' | 'user_permissions';

/** Offset paging written once: rows ordered by insertion, plus the exact total of the filtered set. */
export async function offsetPage<T extends Table, R, O>(
  base: SelectQueryBuilder<Database, T, O>, w: OffsetWindow, map: (row: Selectable<Database[T]>) => R,
): Promise<Page<R>> {
  const rows = base.selectAll().orderBy('seq' as never).limit(w.limit ?? Number.MAX_SAFE_INTEGER).offset(w.offset);
  const [items, count] = await Promise.all([
    rows.execute(),
    base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { items: (items as unknown as Selectable<Database[T]>[]).map(map), total: Number((count as { n: number | string }).n) };
}

/** Checkpoint paging: an opaque cursor (the last row's sequence number) and `next` only while more rows follow. */
export async function checkpointPage<T extends Table, R, O>(
  base: SelectQueryBuilder<Database, T, O>, from: string | undefined, take: number, map: (row: Selectable<Database[T]>) => R,
): Promise<CheckpointPage<R>> {
  let q = base.selectAll();
  if (from !== undefined) q = q.where('seq' as never, '>', decodeCursor(from) as never);
  const rows = (await q.orderBy('seq' as never).limit(take + 1).execute()) as unknown as Array<Selectable<Database[T]> & { seq: number }>;
  const page = rows.slice(0, take);
  const res: CheckpointPage<R> = { items: page.map(map) };
  if (rows.length > take) res.next = Buffer.from(String(page[page.length - 1].seq)).toString('base64url');
  return res;
}

function decodeCursor(from: string): number {
  const n = Number(Buffer.from(from, 'base64url').toString('utf8'));
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new BadRequest("Query validation error: 'Invalid checkpoint' on property from (Optional Id from which to start selection.).", 'invalid_query_string');
  }
  return n;
}
