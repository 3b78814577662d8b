import { sql, type Kysely, type Migration } from 'kysely';
import type { Dialect } from '../db';

/** Column types that differ between the dialects; everything else is shared SQL. */
interface Types { serial: ReturnType<typeof sql.raw>; bigint: ReturnType<typeof sql.raw> }
const TYPES: Record<Dialect, Types> = {
  sqlite: { serial: sql.raw('INTEGER PRIMARY KEY AUTOINCREMENT'), bigint: sql.raw('INTEGER') },
  postgres: { serial: sql.raw('BIGSERIAL PRIMARY KEY'), bigint: sql.raw('BIGINT') },
};

/**
 * Migrations per dialect, in lockstep: the same names and tables on SQLite and PostgreSQL. A step whose
 * SQL differs beyond column types gets its own per-dialect body here.
 */
export function migrationsFor(dialect: Dialect): Record<string, Migration> {
  const t = TYPES[dialect];
  return {
  '0001_m2m_slice': {
    async up(db: Kysely<any>) {
      await sql`CREATE TABLE resource_servers (
        seq ${t.serial},
        id TEXT NOT NULL UNIQUE,
        identifier TEXT NOT NULL UNIQUE,
        is_system INTEGER NOT NULL DEFAULT 0,
        doc TEXT NOT NULL,
        signing_secret TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL)`.execute(db);
      await sql`CREATE TABLE clients (
        seq ${t.serial},
        client_id TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        is_global INTEGER NOT NULL DEFAULT 0,
        is_first_party INTEGER NOT NULL DEFAULT 1,
        app_type TEXT,
        doc TEXT NOT NULL,
        client_secret TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL)`.execute(db);
      await sql`CREATE TABLE client_grants (
        seq ${t.serial},
        id TEXT NOT NULL UNIQUE,
        client_id TEXT REFERENCES clients(client_id) ON DELETE CASCADE,
        audience TEXT NOT NULL REFERENCES resource_servers(identifier) ON DELETE CASCADE,
        subject_type TEXT NOT NULL,
        default_for TEXT,
        allow_any_organization INTEGER NOT NULL DEFAULT 0,
        doc TEXT NOT NULL,
        created_at TEXT NOT NULL)`.execute(db);
      await sql`CREATE UNIQUE INDEX client_grants_client_audience ON client_grants (client_id, audience, subject_type) WHERE client_id IS NOT NULL`.execute(db);
      await sql`CREATE UNIQUE INDEX client_grants_default_audience ON client_grants (default_for, audience, subject_type) WHERE default_for IS NOT NULL`.execute(db);
      await sql`CREATE INDEX client_grants_audience ON client_grants (audience)`.execute(db);
      await sql`CREATE TABLE signing_keys (
        seq ${t.serial},
        kid TEXT NOT NULL UNIQUE,
        state TEXT NOT NULL,
        private_key TEXT NOT NULL,
        public_jwk TEXT NOT NULL,
        cert TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        thumbprint TEXT NOT NULL,
        created_at TEXT NOT NULL,
        current_since TEXT,
        current_until TEXT,
        revoked_at TEXT)`.execute(db);
      await sql`CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)`.execute(db);
      await sql`CREATE TABLE store_generation (id INTEGER PRIMARY KEY, value ${t.bigint} NOT NULL)`.execute(db);
      await sql`INSERT INTO store_generation (id, value) VALUES (1, 0)`.execute(db);
    },
  },
};
}
