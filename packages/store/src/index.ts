import { closeSync, existsSync, fchmodSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import type SqliteDatabase from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, sql, type MigrationProvider } from 'kysely';
import type pg from 'pg';
import type { ChangeEvents, Repos, SecretBox, Store } from '@tessera/core';
import type { Database, Db, Dialect } from './db';
import { migrationsFor } from './migrations';
import { pgDriver, sqliteDriver } from './drivers';
import { CHANGES_CHANNEL, listenForChanges } from './listen';
import { restoreSnapshot, takeSnapshot, type StoreSnapshot } from './snapshots';
import { SqlAuthorizationCodeRepo } from './repos/authorization-codes';
import { SqlUsedAssertionRepo } from './repos/used-assertions';
import { SqlPushedRequestRepo } from './repos/pushed-requests';
import { SqlConsentRepo } from './repos/consents';
import { SqlRefreshTokenRepo } from './repos/refresh-tokens';
import { SqlDpopProofRepo } from './repos/dpop-proofs';
import { SqlSessionRepo } from './repos/sessions';
import { SqlAuthenticatorRepo, SqlMfaFailureRepo, SqlMfaTokenRepo } from './repos/mfa';
import { SqlClientGrantRepo } from './repos/client-grants';
import { SqlClientRepo } from './repos/clients';
import { SqlMetaRepo } from './repos/meta';
import { SqlOrganizationRepo } from './repos/organizations';
import { SqlResourceServerRepo } from './repos/resource-servers';
import { SqlSigningKeyRepo } from './repos/signing-keys';
import { SqlPermissionRepo, SqlRoleRepo } from './repos/roles';
import { SqlUserRepo } from './repos/users';
import { SqlAbuseRepo } from './repos/abuse';
import { SqlTokenQuotaRepo, SqlTokenUsageRepo } from './repos/token-economy';
import { SqlLogRepo } from './repos/logs';
import { SqlLogStreamRepo } from './repos/log-streams';

export type { Dialect } from './db';
export type { StoreSnapshot } from './snapshots';

export interface DatabaseTarget { dialect: Dialect; location: string }

/** `sqlite:<path>` (or `sqlite::memory:`) or `postgres://…` / `postgresql://…`. */
export function parseDatabaseUrl(url: string): DatabaseTarget {
  if (url.startsWith('sqlite:')) {
    const location = url.slice('sqlite:'.length);
    if (!location) throw new Error('sqlite URL needs a path, e.g. sqlite:./data/tessera.db');
    return { dialect: 'sqlite', location };
  }
  if (/^postgres(ql)?:\/\//.test(url)) return { dialect: 'postgres', location: url };
  throw new Error('expected sqlite:<path> or postgres://…');
}

/**
 * A new SQLite database file is created empty with mode 0600 before SQLite opens it, in folders created 0700;
 * SQLite gives its -wal and -shm files the database file's mode. Existing folders and files keep their modes.
 */
function createPrivately(path: string): void {
  if (existsSync(path)) return;
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  try {
    const fd = openSync(path, 'wx', 0o600);
    fchmodSync(fd, 0o600); // whatever the umask
    closeSync(fd);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
}

function connect(target: DatabaseTarget): { db: Db; sqlite?: SqliteDatabase.Database; leasePath?: string } {
  if (target.dialect === 'sqlite') {
    if (target.location !== ':memory:') createPrivately(target.location);
    const Sqlite = sqliteDriver();
    const database = new Sqlite(target.location);
    database.pragma('journal_mode = WAL');
    database.pragma('busy_timeout = 5000');
    database.pragma('synchronous = NORMAL');
    database.pragma('foreign_keys = ON');
    // the DPoP replay lease (repos/dpop-lease.ts): created private like the database, on first use
    const leasePath = target.location === ':memory:' ? ':memory:' : `${target.location}-dpop-lease`;
    if (leasePath !== ':memory:') createPrivately(leasePath);
    return { db: new Kysely<Database>({ dialect: new SqliteDialect({ database }) }), sqlite: database, leasePath };
  }
  const { Pool, types } = pgDriver();
  const pool = new Pool({
    connectionString: target.location,
    max: 10,
    types: { getTypeParser: (oid: number, format?: 'text' | 'binary') => (oid === 20 ? (v: string) => Number(v) : types.getTypeParser(oid, format as 'text')) } as pg.CustomTypesConfig,
  });
  // an idle connection the server drops (restart, failover, a forced DROP DATABASE) is discarded by the pool and
  // replaced on the next query; without a listener its 'error' event would crash the process
  pool.on('error', () => {});
  // a connection checked out by a query when the server drops it reports the failure to that query; a socket error
  // that arrives after (ECONNRESET once the backend is gone) must not reach the process as an uncaught 'error' event
  pool.on('connect', (client) => { client.on('error', () => {}); });
  return { db: new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }) };
}

/** The database records a migration this code does not know: a newer Tessera wrote it. */
export class DatabaseNewerThanCode extends Error {
  constructor(readonly migration: string) { super(`the database was migrated by a newer Tessera (unknown migration ${migration})`); }
}

/** Applies the migrations not applied yet (up to `target` when given: a test that needs an older schema). */
export async function migrate(db: Db, dialect: Dialect, target?: string): Promise<string[]> {
  const provider: MigrationProvider = { getMigrations: async () => migrationsFor(dialect) };
  const migrator = new Migrator({ db, provider });
  const { error, results } = await (target === undefined ? migrator.migrateToLatest() : migrator.migrateTo(target));
  // Kysely refuses to run when an executed migration is missing from the list: the schema is ahead of this code
  const unknown = error instanceof Error && /previously executed migration (\S+) is missing/.exec(error.message);
  if (unknown) throw new DatabaseNewerThanCode(unknown[1]);
  if (error) throw error;
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/**
 * `sqlite`: the in-process database handle, for the DPoP replay claim that needs no await, and `leasePath` the
 * file that decides whether this process uses the database alone (see SqlDpopProofRepo).
 */
function repos(db: Db, box: SecretBox, dialect: Dialect, sqlite?: SqliteDatabase.Database, leasePath?: string): Repos {
  return {
    resourceServers: new SqlResourceServerRepo(db, box),
    clients: new SqlClientRepo(db, box),
    clientGrants: new SqlClientGrantRepo(db),
    signingKeys: new SqlSigningKeyRepo(db, box),
    meta: new SqlMetaRepo(db),
    users: new SqlUserRepo(db, dialect),
    roles: new SqlRoleRepo(db),
    permissions: new SqlPermissionRepo(db),
    organizations: new SqlOrganizationRepo(db),
    authorizationCodes: new SqlAuthorizationCodeRepo(db),
    pushedRequests: new SqlPushedRequestRepo(db),
    usedAssertions: new SqlUsedAssertionRepo(db),
    refreshTokens: new SqlRefreshTokenRepo(db),
    sessions: new SqlSessionRepo(db),
    consents: new SqlConsentRepo(db),
    dpopProofs: new SqlDpopProofRepo(db, sqlite, leasePath),
    authenticators: new SqlAuthenticatorRepo(db, box),
    mfaTokens: new SqlMfaTokenRepo(db),
    mfaFailures: new SqlMfaFailureRepo(db),
    abuse: new SqlAbuseRepo(db, dialect),
    tokenQuotas: new SqlTokenQuotaRepo(db),
    tokenUsage: new SqlTokenUsageRepo(db),
    logs: new SqlLogRepo(db),
    logStreams: new SqlLogStreamRepo(db, box),
  };
}

export interface OpenedStore extends Store {
  readonly db: Db;
  migrate(): Promise<string[]>;
  /** Every table's rows (development mode's snapshots; the whole database is held in memory). */
  snapshot(): Promise<StoreSnapshot>;
  /** Puts a snapshot's rows back in one transaction that advances the change generation like any write. */
  restore(snapshot: StoreSnapshot): Promise<void>;
}

/** Advances the change generation inside a write's transaction (PostgreSQL also notifies, delivered at commit). */
async function advanceGeneration(trx: Db, dialect: Dialect): Promise<void> {
  if (dialect === 'postgres') {
    // one round trip: advance the generation and queue the notification, which PostgreSQL delivers at commit
    await sql`WITH g AS (UPDATE store_generation SET value = value + 1 WHERE id = 1 RETURNING value)
      SELECT pg_notify(${CHANGES_CHANNEL}, value::text) FROM g`.execute(trx);
  } else {
    await trx.updateTable('store_generation').set((eb) => ({ value: eb('value', '+', 1) })).where('id', '=', 1).execute();
  }
}

/** Opens the store (does not migrate; call `migrate()`). */
export function openStore(url: string, box: SecretBox): OpenedStore {
  const target = parseDatabaseUrl(url);
  const { db, sqlite, leasePath } = connect(target);
  const own = repos(db, box, target.dialect, sqlite, leasePath);
  return {
    db,
    dialect: target.dialect,
    ...own,
    migrate: () => migrate(db, target.dialect),
    async write(fn) {
      return db.transaction().execute(async (trx) => {
        const result = await fn(repos(trx, box, target.dialect));
        await advanceGeneration(trx, target.dialect);
        return result;
      });
    },
    snapshot: () => takeSnapshot(db, target.dialect),
    async restore(snapshot) {
      await db.transaction().execute(async (trx) => {
        await restoreSnapshot(trx, snapshot);
        await advanceGeneration(trx, target.dialect);
      });
    },
    async generation() {
      const row = await db.selectFrom('store_generation').select('value').where('id', '=', 1).executeTakeFirstOrThrow();
      return Number(row.value);
    },
    ...(target.dialect === 'postgres' ? { listen: (events: ChangeEvents) => listenForChanges(target.location, events) } : {}),
    async ping() { await sql`SELECT 1`.execute(db); },
    async close() {
      (own.dpopProofs as SqlDpopProofRepo).close();
      await db.destroy();
    },
  };
}
