import { ReferenceMissing, UniqueViolation } from '@tessera/core';

/** Maps driver constraint errors (SQLite and PostgreSQL) onto the domain's two storage errors. */
export async function mapConstraint<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    const err = e as { code?: string; constraint?: string; message?: string };
    if (err.code === '23505' || err.code === 'SQLITE_CONSTRAINT_UNIQUE' || err.code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
      throw new UniqueViolation(err.constraint ?? err.message ?? 'unique', e);
    }
    if (err.code === '23503' || err.code === 'SQLITE_CONSTRAINT_FOREIGNKEY') throw new ReferenceMissing(err.constraint ?? 'foreign key', e);
    throw e;
  }
}

export const bool = (v: boolean | undefined) => (v ? 1 : 0);
export const nowIso = () => new Date().toISOString();
