// Fresh databases for a run: a SQLite file in a temp folder, or a new PostgreSQL database on the local
// server (dropped afterwards).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import pg from 'pg';

export const PG_ADMIN_URL = process.env.TESSERA_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export async function postgresAnswers() {
  const c = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 2000 });
  try { await c.connect(); await c.end(); return true; } catch { return false; }
}

export async function createDatabase(dialect) {
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-'));
    return { url: `sqlite:${join(dir, 'tessera.db')}`, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const name = `tessera_bench_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: PG_ADMIN_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

/** Whether Redis answers on 127.0.0.1:6379 (the optional shared rate-limit store). */
export function redisAnswers() {
  return new Promise((resolve) => {
    const s = net.connect(6379, '127.0.0.1');
    s.setTimeout(2000, () => { s.destroy(); resolve(false); });
    s.once('connect', () => { s.end(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}
