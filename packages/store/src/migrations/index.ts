import { sql, type Kysely, type Migration } from 'kysely';
import type { Dialect } from '../db';

/** Column types that differ between the dialects; everything else is shared SQL. */
interface Types { serial: ReturnType<typeof sql.raw>; bigint: ReturnType<typeof sql.raw>; real: ReturnType<typeof sql.raw> }
const TYPES: Record<Dialect, Types> = {
  sqlite: { serial: sql.raw('INTEGER PRIMARY KEY AUTOINCREMENT'), bigint: sql.raw('INTEGER'), real: sql.raw('REAL') },
  postgres: { serial: sql.raw('BIGSERIAL PRIMARY KEY'), bigint: sql.raw('BIGINT'), real: sql.raw('DOUBLE PRECISION') },
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
  '0002_rbac': {
    async up(db: Kysely<any>) {
      await rbacTables(db, t);
      await organizationTables(db, t);
    },
  },
  '0003_user_flows': {
    async up(db: Kysely<any>) {
      // codes, refresh tokens and sessions are kept as SHA-256 hashes; times are ms since the epoch
      await sql`CREATE TABLE authorization_codes (
        code_hash TEXT PRIMARY KEY,
        client_id TEXT NOT NULL REFERENCES clients(client_id) ON DELETE CASCADE,
        user_id TEXT NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
        data TEXT NOT NULL,
        expires_at ${t.bigint} NOT NULL,
        consumed_at ${t.bigint},
        family_id TEXT)`.execute(db);
      await sql`CREATE INDEX authorization_codes_expires ON authorization_codes (expires_at)`.execute(db);
      await sql`CREATE TABLE refresh_tokens (
        id TEXT PRIMARY KEY,
        token_hash TEXT NOT NULL UNIQUE,
        family_id TEXT NOT NULL,
        client_id TEXT NOT NULL REFERENCES clients(client_id) ON DELETE CASCADE,
        user_id TEXT NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
        audience TEXT,
        data TEXT NOT NULL,
        created_at ${t.bigint} NOT NULL,
        expires_at ${t.bigint},
        idle_expires_at ${t.bigint},
        used_at ${t.bigint},
        revoked_at ${t.bigint})`.execute(db);
      await sql`CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id)`.execute(db);
      await sql`CREATE INDEX refresh_tokens_user_client ON refresh_tokens (user_id, client_id)`.execute(db);
      await sql`CREATE TABLE sessions (
        id_hash TEXT PRIMARY KEY,
        user_id TEXT NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
        auth_time ${t.bigint} NOT NULL,
        created_at ${t.bigint} NOT NULL,
        expires_at ${t.bigint} NOT NULL)`.execute(db);
      await sql`CREATE TABLE user_consents (
        seq ${t.serial},
        id TEXT NOT NULL UNIQUE,
        user_id TEXT NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
        client_id TEXT NOT NULL REFERENCES clients(client_id) ON DELETE CASCADE,
        audience TEXT NOT NULL,
        scopes TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        UNIQUE (user_id, client_id, audience))`.execute(db);
    },
  },
  '0004_user_session_indexes': {
    async up(db: Kysely<any>) {
      // a password change or block ends every session and pending code of one user; deleting a user cascades
      await sql`CREATE INDEX sessions_user ON sessions (user_id)`.execute(db);
      await sql`CREATE INDEX authorization_codes_user ON authorization_codes (user_id)`.execute(db);
    },
  },
  '0005_used_client_assertions': {
    async up(db: Kysely<any>) {
      // private_key_jwt replay protection shared by every instance: hash of (client_id, jti) until the assertion expires
      await sql`CREATE TABLE used_client_assertions (
        key_hash TEXT PRIMARY KEY,
        expires_at ${t.bigint} NOT NULL)`.execute(db);
      await sql`CREATE INDEX used_client_assertions_expires ON used_client_assertions (expires_at)`.execute(db);
    },
  },
  '0006_dpop': {
    async up(db: Kysely<any>) {
      // RFC 9449: proof jtis (SHA-256 of key thumbprint and jti) seen by any instance, until they could no longer pass
      await sql`CREATE TABLE dpop_proofs (
        key TEXT PRIMARY KEY,
        expires_at ${t.bigint} NOT NULL)`.execute(db);
      await sql`CREATE INDEX dpop_proofs_expires ON dpop_proofs (expires_at)`.execute(db);
      // the DPoP key a public client's refresh token is bound to (RFC 7638 thumbprint)
      await sql`ALTER TABLE refresh_tokens ADD COLUMN dpop_jkt TEXT`.execute(db);
    },
  },
  '0007_dpop_proofs_unlogged': {
    async up(db: Kysely<any>) {
      // PostgreSQL: a replay-cache claim commits without waiting for a WAL flush (after a crash the table starts
      // empty; its rows live 90 s). SQLite in WAL mode with synchronous=NORMAL does not sync per commit anyway.
      if (dialect === 'postgres') await sql`ALTER TABLE dpop_proofs SET UNLOGGED`.execute(db);
    },
  },
  '0008_mtls_refresh_tokens': {
    async up(db: Kysely<any>) {
      // RFC 8705 §4: the client certificate (x5t#S256) a public client's refresh token is bound to
      await sql`ALTER TABLE refresh_tokens ADD COLUMN mtls_x5t TEXT`.execute(db);
    },
  },
  '0009_mfa': {
    async up(db: Kysely<any>) {
      // TOTP authenticators (secret sealed with the master key) and recovery codes (SHA-256); last_step is the
      // newest RFC 6238 time step accepted, claimed atomically so that a code is never accepted twice
      await sql`CREATE TABLE mfa_authenticators (
        id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
        type TEXT NOT NULL,
        secret TEXT NOT NULL,
        confirmed INTEGER NOT NULL DEFAULT 0,
        created_at ${t.bigint} NOT NULL,
        last_auth_at ${t.bigint},
        last_step ${t.bigint})`.execute(db);
      await sql`CREATE INDEX mfa_authenticators_user ON mfa_authenticators (user_id)`.execute(db);
      // Auth0's mfa_token (SHA-256), bound to client and user, with the interrupted token request
      await sql`CREATE TABLE mfa_tokens (
        token_hash TEXT PRIMARY KEY,
        client_id TEXT NOT NULL REFERENCES clients(client_id) ON DELETE CASCADE,
        user_id TEXT NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
        data TEXT NOT NULL,
        expires_at ${t.bigint} NOT NULL,
        consumed_at ${t.bigint})`.execute(db);
      await sql`CREATE INDEX mfa_tokens_expires ON mfa_tokens (expires_at)`.execute(db);
      await sql`CREATE INDEX mfa_tokens_user ON mfa_tokens (user_id)`.execute(db);
      // wrong second-factor codes in a row, and the lock they lead to
      await sql`CREATE TABLE mfa_failures (
        user_id TEXT PRIMARY KEY REFERENCES users(user_id) ON DELETE CASCADE,
        failures INTEGER NOT NULL,
        locked_until ${t.bigint})`.execute(db);
      // when the session last passed a second factor
      await sql`ALTER TABLE sessions ADD COLUMN mfa_at ${t.bigint}`.execute(db);
    },
  },
  '0010_client_credentials': {
    async up(db: Kysely<any>) {
      // Auth0's client credentials as their own resource: one row per credential, whether or not a method uses it
      await sql`CREATE TABLE client_credentials (
        seq ${t.serial},
        id TEXT NOT NULL UNIQUE,
        client_id TEXT NOT NULL REFERENCES clients(client_id) ON DELETE CASCADE,
        doc TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL)`.execute(db);
      await sql`CREATE INDEX client_credentials_client ON client_credentials (client_id)`.execute(db);
      await moveInlineCredentials(db);
    },
  },
  '0011_pushed_authorization_requests': {
    async up(db: Kysely<any>) {
      // RFC 9126: pushed requests shared by every instance; the request_uri is kept as a SHA-256 hash, the
      // parameters sealed (AES-256-GCM), each row lives 30 s and is deleted when used
      await sql`CREATE TABLE pushed_authorization_requests (
        id_hash TEXT PRIMARY KEY,
        client_id TEXT NOT NULL REFERENCES clients(client_id) ON DELETE CASCADE,
        data TEXT NOT NULL,
        expires_at ${t.bigint} NOT NULL)`.execute(db);
      await sql`CREATE INDEX pushed_authorization_requests_expires ON pushed_authorization_requests (expires_at)`.execute(db);
    },
  },
  '0012_abuse_protection': {
    async up(db: Kysely<any>) {
      // leaky-bucket failure counters (brute force per user and address, suspicious addresses, client authentication)
      await sql`CREATE TABLE abuse_buckets (
        key TEXT PRIMARY KEY,
        level ${t.real} NOT NULL,
        updated_at ${t.bigint} NOT NULL,
        expires_at ${t.bigint} NOT NULL)`.execute(db);
      await sql`CREATE INDEX abuse_buckets_expires ON abuse_buckets (expires_at)`.execute(db);
      // brute-force blocks: an identifier blocked from one address (Auth0's user-blocks)
      await sql`CREATE TABLE user_blocks (
        connection TEXT NOT NULL,
        identifier TEXT NOT NULL,
        ip TEXT NOT NULL,
        created_at ${t.bigint} NOT NULL,
        expires_at ${t.bigint} NOT NULL,
        PRIMARY KEY (identifier, connection, ip))`.execute(db);
      await sql`CREATE INDEX user_blocks_expires ON user_blocks (expires_at)`.execute(db);
      // rate-limit windows shared by every process when no Redis is configured
      await sql`CREATE TABLE rate_limit_windows (
        key TEXT PRIMARY KEY,
        window_start ${t.bigint} NOT NULL,
        count ${t.bigint} NOT NULL,
        expires_at ${t.bigint} NOT NULL)`.execute(db);
      await sql`CREATE INDEX rate_limit_windows_expires ON rate_limit_windows (expires_at)`.execute(db);
      if (dialect === 'postgres') await sql`ALTER TABLE rate_limit_windows SET UNLOGGED`.execute(db);
    },
  },
  '0013_usernames': {
    async up(db: Kysely<any>) {
      // usernames are unique per connection (several NULLs are allowed in both dialects); stored lower case
      await sql`ALTER TABLE users ADD COLUMN username TEXT`.execute(db);
      await sql`CREATE UNIQUE INDEX users_connection_username ON users (connection, username)`.execute(db);
    },
  },
  '0014_organization_roles': {
    async up(db: Kysely<any>) {
      // a role owned by an organization (Auth0's type "organization"); it goes with its organization
      await sql`ALTER TABLE roles ADD COLUMN owner_id TEXT REFERENCES organizations(id) ON DELETE CASCADE`.execute(db);
      await sql`CREATE INDEX roles_owner ON roles (owner_id)`.execute(db);
    },
  },
  '0015_token_quotas_usage': {
    async up(db: Kysely<any>) {
      // token quota windows: one row per subject, period and window (the key names all three); counted in one transaction
      await sql`CREATE TABLE token_quota_windows (
        key TEXT PRIMARY KEY,
        count ${t.bigint} NOT NULL,
        expires_at ${t.bigint} NOT NULL)`.execute(db);
      await sql`CREATE INDEX token_quota_windows_expires ON token_quota_windows (expires_at)`.execute(db);
      // client_credentials usage per hour, client, organization ('' for none) and audience
      await sql`CREATE TABLE token_usage (
        hour_start ${t.bigint} NOT NULL,
        client_id TEXT NOT NULL,
        organization_id TEXT NOT NULL,
        audience TEXT NOT NULL,
        issued ${t.bigint} NOT NULL,
        reused ${t.bigint} NOT NULL,
        refused ${t.bigint} NOT NULL,
        PRIMARY KEY (hour_start, client_id, organization_id, audience))`.execute(db);
      await sql`CREATE INDEX token_usage_client ON token_usage (client_id, hour_start)`.execute(db);
    },
  },
  '0016_tenant_logs': {
    async up(db: Kysely<any>) {
      // tenant log events (Auth0's GET /api/v2/logs): append-only, written in batches; seq is the log order
      await sql`CREATE TABLE tenant_logs (
        seq ${t.serial},
        log_id TEXT NOT NULL UNIQUE,
        date TEXT NOT NULL,
        type TEXT NOT NULL,
        client_id TEXT,
        user_id TEXT,
        doc TEXT NOT NULL)`.execute(db);
      await sql`CREATE INDEX tenant_logs_date ON tenant_logs (date)`.execute(db);
      await sql`CREATE INDEX tenant_logs_type ON tenant_logs (type, date)`.execute(db);
      await sql`CREATE INDEX tenant_logs_client ON tenant_logs (client_id, date)`.execute(db);
      await sql`CREATE INDEX tenant_logs_user ON tenant_logs (user_id, date)`.execute(db);
      // log streams: the tenant log is their outbox; `cursor` is the last log seq a stream's sink acknowledged
      await sql`CREATE TABLE log_streams (
        seq ${t.serial},
        id TEXT NOT NULL UNIQUE,
        doc TEXT NOT NULL,
        http_authorization TEXT,
        cursor ${t.bigint} NOT NULL DEFAULT 0,
        failures INTEGER NOT NULL DEFAULT 0,
        next_attempt_at ${t.bigint} NOT NULL DEFAULT 0,
        last_error TEXT,
        last_attempt_at ${t.bigint},
        last_delivered_at ${t.bigint},
        delivered ${t.bigint} NOT NULL DEFAULT 0,
        lease_owner TEXT,
        lease_until ${t.bigint} NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL)`.execute(db);
    },
  },
  '0017_user_logins': {
    async up(db: Kysely<any>) {
      // Auth0's logins_count, last_login and last_ip: columns (not the profile document) so a login is one
      // atomic increment and user search can compare them as numbers and dates
      await sql`ALTER TABLE users ADD COLUMN logins_count INTEGER NOT NULL DEFAULT 0`.execute(db);
      await sql`ALTER TABLE users ADD COLUMN last_login TEXT`.execute(db);
      await sql`ALTER TABLE users ADD COLUMN last_ip TEXT`.execute(db);
    },
  },
};
}

/** 0002: users, roles, role and user permissions, user roles. Foreign keys cascade so nothing dangles. */
async function rbacTables(db: Kysely<any>, t: Types): Promise<void> {
  await sql`CREATE TABLE users (
    seq ${t.serial},
    user_id TEXT NOT NULL UNIQUE,
    connection TEXT NOT NULL,
    email TEXT NOT NULL,
    password_hash TEXT,
    doc TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL)`.execute(db);
  await sql`CREATE UNIQUE INDEX users_connection_email ON users (connection, email)`.execute(db);
  await sql`CREATE TABLE roles (
    seq ${t.serial},
    id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL UNIQUE,
    doc TEXT NOT NULL,
    created_at TEXT NOT NULL)`.execute(db);
  // Permissions name the API by identifier (immutable), so deleting the API removes them.
  for (const [table, holder, target] of [['role_permissions', 'role_id', 'roles(id)'], ['user_permissions', 'user_id', 'users(user_id)']] as const) {
    await sql`CREATE TABLE ${sql.raw(table)} (
      seq ${t.serial},
      ${sql.raw(holder)} TEXT NOT NULL REFERENCES ${sql.raw(target)} ON DELETE CASCADE,
      resource_server_identifier TEXT NOT NULL REFERENCES resource_servers(identifier) ON DELETE CASCADE,
      permission_name TEXT NOT NULL,
      UNIQUE (${sql.raw(holder)}, resource_server_identifier, permission_name))`.execute(db);
    await sql`CREATE INDEX ${sql.raw(`${table}_api`)} ON ${sql.raw(table)} (resource_server_identifier)`.execute(db);
  }
  await sql`CREATE TABLE user_roles (
    seq ${t.serial},
    user_id TEXT NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
    role_id TEXT NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
    UNIQUE (user_id, role_id))`.execute(db);
  await sql`CREATE INDEX user_roles_role ON user_roles (role_id)`.execute(db);
}

/** 0002: organizations, members, member roles and the client grants an organization may use. */
async function organizationTables(db: Kysely<any>, t: Types): Promise<void> {
  await sql`CREATE TABLE organizations (
    seq ${t.serial},
    id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL UNIQUE,
    doc TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL)`.execute(db);
  await sql`CREATE TABLE organization_members (
    seq ${t.serial},
    organization_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
    UNIQUE (organization_id, user_id))`.execute(db);
  await sql`CREATE INDEX organization_members_user ON organization_members (user_id)`.execute(db);
  await sql`CREATE TABLE organization_member_roles (
    seq ${t.serial},
    organization_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    role_id TEXT NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
    UNIQUE (organization_id, user_id, role_id),
    FOREIGN KEY (organization_id, user_id) REFERENCES organization_members (organization_id, user_id) ON DELETE CASCADE)`.execute(db);
  await sql`CREATE INDEX organization_member_roles_role ON organization_member_roles (role_id)`.execute(db);
  await sql`CREATE TABLE organization_client_grants (
    seq ${t.serial},
    organization_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    grant_id TEXT NOT NULL REFERENCES client_grants(id) ON DELETE CASCADE,
    UNIQUE (organization_id, grant_id))`.execute(db);
  await sql`CREATE INDEX organization_client_grants_grant ON organization_client_grants (grant_id)`.execute(db);
}

/**
 * 0010: credentials that clients kept inline in their document (`doc.credentials`, written before 0010) become rows;
 * the document keeps `client_authentication_methods`, whose ids are unchanged, so every client authenticates as before.
 */
async function moveInlineCredentials(db: Kysely<any>): Promise<void> {
  const rows = await db.selectFrom('clients').select(['client_id', 'doc']).execute() as Array<{ client_id: string; doc: string }>;
  for (const row of rows) {
    const doc = JSON.parse(row.doc) as { credentials?: Array<{ id: string; created_at?: string; updated_at?: string }> };
    if (!('credentials' in doc)) continue;
    for (const cred of doc.credentials ?? []) {
      const created = cred.created_at ?? new Date().toISOString();
      await db.insertInto('client_credentials').values({
        id: cred.id, client_id: row.client_id, doc: JSON.stringify(cred), created_at: created, updated_at: cred.updated_at ?? created,
      }).execute();
    }
    delete doc.credentials;
    await db.updateTable('clients').set({ doc: JSON.stringify(doc) }).where('client_id', '=', row.client_id).execute();
  }
}
