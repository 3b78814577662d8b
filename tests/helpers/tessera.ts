import { randomBytes } from 'node:crypto';
import { describe } from 'vitest';
import type { Clock, ScryptParams } from '@tessera/core';
import { createLogger, createTessera, loadConfig, type Tessera } from '@tessera/server';
import { createTestDatabase, postgresAvailable, type DialectName, type TestDatabase } from './databases';

export const ADMIN_ID = 'test-admin-client';
export const ADMIN_SECRET = 'test-admin-secret-0123456789abcdef';
export const PUBLIC_URL = 'https://tessera.test';
export const MGMT_AUDIENCE = `${PUBLIC_URL}/api/v2/`;

/** A clock tests can move. */
export class TestClock implements Clock {
  constructor(public ms = Date.now()) {}
  now() { return this.ms; }
  advance(seconds: number) { this.ms += seconds * 1000; }
}

export interface TestServer {
  t: Tessera;
  db: TestDatabase;
  dialect: DialectName;
  clock: TestClock;
  /** Management API token for the bootstrap admin (cached). */
  adminToken(): Promise<string>;
  /** app.inject with JSON handling and an admin token unless `token: null`. */
  api(method: string, path: string, body?: unknown, opts?: { token?: string | null; headers?: Record<string, string> }): Promise<{ status: number; body: any; headers: Record<string, unknown> }>;
  token(params: Record<string, string>, opts?: { json?: boolean; headers?: Record<string, string> }): Promise<{ status: number; body: any; headers: Record<string, unknown> }>;
  close(): Promise<void>;
}

export interface StartOptions {
  env?: Record<string, string>; clock?: TestClock; masterKey?: string;
  /** Start on this database (a second instance, or a restart) instead of a fresh one; close() leaves it in place. */
  database?: TestDatabase;
  /** Where the process log goes (default: silent); TESSERA_LOG_LEVEL does not apply to a logger given here. */
  logger?: ReturnType<typeof createLogger>;
  /** Development mode (the /tessera/dev controls). */
  devMode?: boolean | { allowRemote?: boolean };
  /** scrypt cost of new password hashes; CHEAP_PASSWORDS for suites that count logins rather than measure them. */
  passwordParams?: ScryptParams;
}

/** scrypt at N=2^10 (1 MiB, about 1/32 of the real cost): the same code path, for suites that log in many times. */
export const CHEAP_PASSWORDS: ScryptParams = { N: 2 ** 10, r: 8, p: 1 };

/** Starts the real app (migrations, bootstrap, every route) on a fresh database of the given dialect. */
export async function startTessera(dialect: DialectName, opts: StartOptions = {}): Promise<TestServer> {
  const db = opts.database ?? await createTestDatabase(dialect);
  const clock = opts.clock ?? new TestClock();
  const config = loadConfig({
    TESSERA_DATABASE_URL: db.url,
    TESSERA_PUBLIC_URL: PUBLIC_URL,
    TESSERA_PORT: '0',
    TESSERA_ADMIN_CLIENT_ID: ADMIN_ID,
    TESSERA_ADMIN_CLIENT_SECRET: ADMIN_SECRET,
    TESSERA_MASTER_KEY: opts.masterKey ?? randomBytes(32).toString('base64'),
    TESSERA_LOG_LEVEL: 'silent',
    // limits and throttles stay active (headers, counting) but far above what the other suites send from one address
    TESSERA_RATE_LIMIT_AUTH: '1000000/1',
    TESSERA_RATE_LIMIT_MANAGEMENT: '1000000/1',
    TESSERA_SUSPICIOUS_IP_THROTTLING: '1000000/1',
    TESSERA_BRUTE_FORCE_THRESHOLD: '1000000',
    TESSERA_CLIENT_AUTH_THROTTLING: '1000000/1',
    // the dashboard's client would join every client and grant listing; the dashboard suites turn it on
    TESSERA_DASHBOARD: 'off',
    // hashing threads at normal priority: under the test run's own parallel load, niced threads (the default, 19)
    // starve and every login takes seconds; tests/password-pool.test.ts covers the nice value
    TESSERA_PASSWORD_NICE: '0',
    ...opts.env,
  });
  const t = await createTessera(config, { clock, logger: opts.logger ?? createLogger('silent'), devMode: opts.devMode, passwordParams: opts.passwordParams });
  let admin: string | undefined;
  const server: TestServer = {
    t, db, dialect, clock,
    async adminToken() {
      if (!admin) {
        const r = await server.token({ grant_type: 'client_credentials', client_id: ADMIN_ID, client_secret: ADMIN_SECRET, audience: MGMT_AUDIENCE });
        if (r.status !== 200) throw new Error(`admin token: ${r.status} ${JSON.stringify(r.body)}`);
        admin = r.body.access_token as string;
      }
      return admin;
    },
    async api(method, path, body, o = {}) {
      const token = o.token === undefined ? await server.adminToken() : o.token;
      const headers: Record<string, string> = { ...(token ? { authorization: `Bearer ${token}` } : {}), ...o.headers };
      const payload = body === undefined ? undefined : JSON.stringify(body);
      if (payload !== undefined) headers['content-type'] ??= 'application/json';
      const res = await t.app.inject({ method: method as 'GET', url: `/api/v2${path}`, headers, payload });
      return { status: res.statusCode, body: res.body ? safeJson(res.body) : undefined, headers: res.headers };
    },
    async token(params, o = {}) {
      const res = await t.app.inject({
        method: 'POST', url: '/oauth/token',
        headers: { 'content-type': o.json ? 'application/json' : 'application/x-www-form-urlencoded', ...o.headers },
        payload: o.json ? JSON.stringify(params) : new URLSearchParams(params).toString(),
      });
      return { status: res.statusCode, body: safeJson(res.body), headers: res.headers };
    },
    async close() {
      await t.close();
      if (!opts.database) await db.drop();
    },
  };
  return server;
}

function safeJson(s: string): unknown {
  try { return JSON.parse(s); } catch { return s; }
}

/**
 * Runs a suite once per storage dialect: SQLite always, PostgreSQL when it answers (always in CI).
 * `fn` receives the dialect name; use startTessera(dialect) in its hooks.
 */
export function eachDialect(title: string, fn: (dialect: DialectName) => void): void {
  for (const dialect of ['sqlite', 'postgres'] as const) {
    describe.skipIf(dialect === 'postgres' && !pgReady)(`${title} [${dialect}]`, () => fn(dialect));
  }
}

const pgReady = await postgresAvailable();
