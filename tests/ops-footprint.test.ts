import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileDeferredSchemas, deferredSchemaCount } from '@tessera/server';
import { createTestDatabase, postgresAvailable } from './helpers/databases';
import { freePort, spawnTessera, type RunningServer } from './helpers/process';
import { startTessera, type TestServer } from './helpers/tessera';

// What `tessera serve` carries at start (issue 18: memory and start-up time). Optional parts load on first use:
// ioredis only with TESSERA_REDIS_URL, pg only for a PostgreSQL URL (better-sqlite3 only for SQLite), qrcode with the
// first MFA enrollment page, the password worker pool (piscina) with the first password, @peculiar/x509 when a
// signing key is made; request and response schemas are compiled on each route's first use.

const PROBE = resolve(import.meta.dirname, 'fixtures/module-probe.cjs');
const ADMIN = { TESSERA_ADMIN_CLIENT_ID: 'footprint-admin', TESSERA_ADMIN_CLIENT_SECRET: 'footprint-admin-secret-0123456789' };
const PUBLIC_URL = 'https://footprint.tessera.test';
const MASTER_KEY = Buffer.alloc(32, 9).toString('base64');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The real binary with the probe preloaded. */
async function serve(databaseUrl: string, out: string): Promise<{ server: RunningServer; base: string }> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const server = await spawnTessera({
    // one public URL for every start on the same database (the Management API's audience is made from it)
    ...ADMIN, TESSERA_PORT: String(port), TESSERA_PUBLIC_URL: PUBLIC_URL, TESSERA_DATABASE_URL: databaseUrl, TESSERA_MASTER_KEY: MASTER_KEY,
    TESSERA_LOG_LEVEL: 'warn', MODULE_PROBE_OUT: out, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --require "${PROBE}"`,
  }, ['serve'], 120_000);
  return { server, base };
}

/** The packages (node_modules/<name>) the running server has loaded, asked through the probe. */
async function loadedPackages(server: RunningServer, out: string): Promise<Set<string>> {
  rmSync(out, { force: true });
  server.proc.kill('SIGUSR2');
  for (let i = 0; i < 200 && !existsSync(out); i++) await sleep(50);
  const files = JSON.parse(readFileSync(out, 'utf8')) as string[];
  const names = files.map((f) => /.*\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(f)?.[1]).filter((n): n is string => n !== undefined);
  return new Set(names);
}

async function adminToken(base: string): Promise<number> {
  const res = await fetch(`${base}/oauth/token`, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: ADMIN.TESSERA_ADMIN_CLIENT_ID, client_secret: ADMIN.TESSERA_ADMIN_CLIENT_SECRET, audience: `${PUBLIC_URL}/api/v2/` }),
  });
  await res.arrayBuffer();
  return res.status;
}

const NEVER_ON_SQLITE_WITHOUT_REDIS = ['ioredis', 'pg', 'pg-pool', 'qrcode', 'piscina'];

describe('tessera serve on SQLite without Redis loads only what it uses', { timeout: 240_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-footprint-'));
  const databaseUrl = `sqlite:${join(dir, 'db', 'tessera.db')}`;
  const out = join(dir, 'modules.json');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('first start (empty database): no ioredis, pg, qrcode or password pool; the probe sees what is loaded', async () => {
    const { server } = await serve(databaseUrl, out);
    try {
      const loaded = await loadedPackages(server, out);
      expect([...loaded]).toEqual(expect.arrayContaining(['better-sqlite3', 'fastify', 'ajv'])); // the probe sees CommonJS packages
      for (const name of NEVER_ON_SQLITE_WITHOUT_REDIS) expect(loaded.has(name), name).toBe(false);
    } finally {
      await server.stop();
    }
  });

  it('warm start, then a token: no ioredis, pg, qrcode, password pool or @peculiar/x509 (no key is made)', async () => {
    const { server, base } = await serve(databaseUrl, out);
    try {
      expect(await adminToken(base)).toBe(200);
      const loaded = await loadedPackages(server, out);
      expect(loaded.has('better-sqlite3')).toBe(true);
      for (const name of [...NEVER_ON_SQLITE_WITHOUT_REDIS, '@peculiar/x509', 'reflect-metadata']) expect(loaded.has(name), name).toBe(false);
    } finally {
      await server.stop();
    }
  });
});

describe.skipIf(!(await postgresAvailable()))('tessera serve on PostgreSQL loads pg, not better-sqlite3', { timeout: 240_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-footprint-pg-'));
  const out = join(dir, 'modules.json');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('answers a token with pg loaded and neither better-sqlite3 nor ioredis', async () => {
    const db = await createTestDatabase('postgres');
    const { server, base } = await serve(db.url, out);
    try {
      expect(await adminToken(base)).toBe(200);
      const loaded = await loadedPackages(server, out);
      expect(loaded.has('pg')).toBe(true);
      for (const name of ['better-sqlite3', 'ioredis', 'qrcode', 'piscina']) expect(loaded.has(name), name).toBe(false);
    } finally {
      await server.stop();
      await db.drop();
    }
  });
});

describe('request and response schemas are compiled on first use', () => {
  let s: TestServer;
  beforeAll(async () => { s = await startTessera('sqlite'); await s.t.app.ready(); });
  afterAll(async () => { await s?.close(); });

  it('nothing is compiled at start; a route compiles its own on first use and validates as before', async () => {
    const atStart = deferredSchemaCount(s.t.app);
    expect(atStart).toBeGreaterThan(100); // ~140 routes' bodies, queries, params and responses
    const bad = await s.api('POST', '/resource-servers', { identifier: 5 });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ statusCode: 400, errorCode: 'invalid_body' });
    expect(deferredSchemaCount(s.t.app)).toBeLessThan(atStart);
  });

  it('every schema of every route compiles (a broken schema fails here, not on a first request)', () => {
    expect(compileDeferredSchemas(s.t.app)).toBeGreaterThan(100);
    expect(deferredSchemaCount(s.t.app)).toBe(0);
  });
});
