import { chmodSync, existsSync, mkdirSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort, spawnTessera, type RunningServer } from '../helpers/process';

const ADMIN = { TESSERA_ADMIN_CLIENT_ID: 'files-admin', TESSERA_ADMIN_CLIENT_SECRET: 'files-admin-secret-0123456789' };
const mode = (path: string) => (statSync(path).mode & 0o777).toString(8);

/** Starts `tessera serve` on a SQLite file in `dataDir` (no TESSERA_MASTER_KEY: the key is generated there). */
async function serve(dataDir: string, port?: number): Promise<{ server: RunningServer; origin: string; port: number }> {
  port ??= await freePort();
  const server = await spawnTessera({ ...ADMIN, TESSERA_PORT: String(port), TESSERA_DATABASE_URL: `sqlite:${join(dataDir, 'tessera.db')}`, TESSERA_LOG_LEVEL: 'warn' });
  return { server, origin: `http://127.0.0.1:${port}`, port };
}

/** A Management API write (creates a client), so the WAL has something in it. */
async function write(origin: string): Promise<void> {
  const t = await fetch(`${origin}/oauth/token`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ grant_type: 'client_credentials', client_id: ADMIN.TESSERA_ADMIN_CLIENT_ID, client_secret: ADMIN.TESSERA_ADMIN_CLIENT_SECRET, audience: `${origin.replace('127.0.0.1', 'localhost')}/api/v2/` }),
  });
  expect(t.status).toBe(200);
  const { access_token } = await t.json() as { access_token: string };
  const c = await fetch(`${origin}/api/v2/clients`, { method: 'POST', headers: { authorization: `Bearer ${access_token}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'written' }) });
  expect(c.status).toBe(201);
}

describe('security: data files are private (SQLite; PostgreSQL keeps no local files)', { timeout: 60_000 }, () => {
  it('a data folder Tessera creates is 0700; the database, its WAL and SHM files and the generated master key are 0600', async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'tessera-files-')), 'data', 'nested');
    const { server, origin } = await serve(dataDir);
    try {
      await write(origin);
      const files = ['tessera.db', 'tessera.db-wal', 'tessera.db-shm', 'master.key'];
      for (const f of files) expect(existsSync(join(dataDir, f)), f).toBe(true);
      expect(Object.fromEntries([['folder', mode(dataDir)], ['parent', mode(join(dataDir, '..'))], ...files.map((f) => [f, mode(join(dataDir, f))])])).toEqual({
        folder: '700', parent: '700', 'tessera.db': '600', 'tessera.db-wal': '600', 'tessera.db-shm': '600', 'master.key': '600',
      });
    } finally {
      await server.stop();
    }
  });

  it('an existing folder keeps the mode its owner gave it; the files Tessera creates in it are still 0600', async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'tessera-files-')), 'shared');
    mkdirSync(dataDir);
    chmodSync(dataDir, 0o755);
    const { server, origin } = await serve(dataDir);
    try {
      await write(origin);
      expect([mode(dataDir), mode(join(dataDir, 'tessera.db')), mode(join(dataDir, 'tessera.db-wal')), mode(join(dataDir, 'master.key'))]).toEqual(['755', '600', '600', '600']);
    } finally {
      await server.stop();
    }
  });

  it('files stay 0600 across a restart on the same folder', async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'tessera-files-')), 'data');
    const first = await serve(dataDir);
    await write(first.origin);
    await first.server.stop();
    const second = await serve(dataDir, first.port); // same public URL, so the same Management audience
    try {
      await write(second.origin);
      expect(['tessera.db', 'tessera.db-wal', 'tessera.db-shm', 'master.key'].map((f) => mode(join(dataDir, f)))).toEqual(['600', '600', '600', '600']);
    } finally {
      await second.server.stop();
    }
  });
});
