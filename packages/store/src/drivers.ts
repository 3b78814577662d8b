import { createRequire } from 'node:module';
import type SqliteDatabase from 'better-sqlite3';
import type pg from 'pg';

// The database drivers are loaded when a store of their dialect is opened, not with the package: a SQLite
// deployment never loads pg (nor a PostgreSQL one better-sqlite3). Both are CommonJS, so loading stays synchronous.
const load = createRequire(import.meta.url);

/** better-sqlite3, loaded on first use. */
export const sqliteDriver = (): typeof SqliteDatabase => load('better-sqlite3') as typeof SqliteDatabase;

/** pg, loaded on first use. */
export const pgDriver = (): typeof pg => load('pg') as typeof pg;
