import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PG_ADMIN_URL, postgresAvailable } from './helpers/databases';
import { startTessera, type TestServer } from './helpers/tessera';

/** Closes every server-side connection to the test database, as a PostgreSQL restart or failover would. */
async function terminateConnections(url: string): Promise<number> {
  const name = new URL(url).pathname.slice(1);
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  try {
    const r = await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [name]);
    return r.rowCount ?? 0;
  } finally {
    await admin.end();
  }
}

describe.skipIf(!(await postgresAvailable()))('management: PostgreSQL drops idle connections [postgres]', () => {
  let s: TestServer;
  beforeAll(async () => { s = await startTessera('postgres'); });
  afterAll(async () => { await s.close(); });

  it('the server keeps answering (no crash, no 5xx) after its pooled connections are killed', async () => {
    const before = await s.api('GET', '/resource-servers?include_totals=true');
    expect(before.status).toBe(200);
    expect(await terminateConnections(s.db.url)).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 200)); // let the pool notice
    const after = await s.api('GET', '/resource-servers?include_totals=true');
    expect(after.status).toBe(200);
    expect(after.body).toEqual(before.body);
    const created = await s.api('POST', '/resource-servers', { identifier: 'urn:after:restart' });
    expect(created.status).toBe(201);
  });
});
