import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, createTessera, loadConfig, type Tessera } from '@tessera/server';
import { PG_ADMIN_URL, postgresAvailable } from './helpers/databases';
import { ADMIN_ID, ADMIN_SECRET, MGMT_AUDIENCE, PUBLIC_URL, startTessera, type TestServer } from './helpers/tessera';

/**
 * Two instances on one PostgreSQL database: what one writes reaches the other's caches through LISTEN/NOTIFY
 * within 50 ms (grants, secrets, signing keys), and after the listening connection is lost the 250 ms poll
 * takes over until it is back.
 */
const pgReady = await postgresAvailable();
const BOUND_MS = 50;

describe.skipIf(!pgReady)('cross-instance push invalidation [postgres]', () => {
  const AUDIENCE = 'https://orders.push.test';
  const masterKey = randomBytes(32).toString('base64');
  let a: TestServer;
  let b: Tessera;
  let client: { client_id: string; client_secret: string };
  /** A's Management token once the first admin token's key is revoked. */
  let freshAdmin: string | undefined;
  const mgmt = (method: string, path: string, body?: unknown) => a.api(method, path, body, { token: freshAdmin });

  const inject = async (t: Tessera, params: Record<string, string>) => {
    const res = await t.app.inject({
      method: 'POST', url: '/oauth/token', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams(params).toString(),
    });
    return { status: res.statusCode, body: JSON.parse(res.body) as Record<string, any> };
  };
  const tokenFromB = () => inject(b, { grant_type: 'client_credentials', client_id: client.client_id, client_secret: client.client_secret, audience: AUDIENCE });
  const kidOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[0], 'base64url').toString()).kid as string;

  /**
   * Asks B as fast as it answers until `done`; returns the milliseconds from `since` to the moment the first request
   * whose answer was done was sent: a request sent that long after the write already saw it.
   */
  async function firstDone(since: number, done: (r: { status: number; body: Record<string, any> }) => boolean | Promise<boolean>, limitMs = 5000) {
    for (;;) {
      const sent = Date.now();
      const r = await tokenFromB();
      if (await done(r)) return sent - since;
      if (Date.now() - since > limitMs) return Infinity;
    }
  }

  /**
   * Runs `write` on A and returns how long after its response B's change feed fired (negative: before A answered,
   * as NOTIFY is delivered at commit). The request that follows on B already sees the write.
   */
  async function heardAfter(write: () => Promise<unknown>): Promise<number> {
    let heard = 0;
    const off = b.services.changes.subscribe(() => { heard ||= Date.now(); });
    try {
      await write();
      const answered = Date.now();
      while (!heard && Date.now() - answered < 5000) await new Promise((r) => setImmediate(r));
      return heard ? heard - answered : Infinity;
    } finally {
      off();
    }
  }

  async function newGrant(): Promise<string> {
    const existing = (await mgmt('GET', `/client-grants?client_id=${client.client_id}`)).body as Array<{ id: string }>;
    for (const e of existing ?? []) await mgmt('DELETE', `/client-grants/${e.id}`);
    const g = await mgmt('POST', '/client-grants', { client_id: client.client_id, audience: AUDIENCE, scope: ['read:orders'] });
    expect(g.status).toBe(201);
    expect(await firstDone(Date.now(), (r) => r.status === 200)).toBeLessThan(5000);
    return g.body.id as string;
  }

  beforeAll(async () => {
    a = await startTessera('postgres', { masterKey });
    b = await createTessera(loadConfig({
      TESSERA_DATABASE_URL: a.db.url, TESSERA_PUBLIC_URL: PUBLIC_URL, TESSERA_PORT: '0',
      TESSERA_ADMIN_CLIENT_ID: ADMIN_ID, TESSERA_ADMIN_CLIENT_SECRET: ADMIN_SECRET, TESSERA_MASTER_KEY: masterKey, TESSERA_LOG_LEVEL: 'silent',
    }), { logger: createLogger('silent') });
    expect((await a.api('POST', '/resource-servers', { identifier: AUDIENCE, name: 'Orders', scopes: [{ value: 'read:orders' }] })).status).toBe(201);
    const c = await a.api('POST', '/clients', { name: 'Push worker', app_type: 'non_interactive', grant_types: ['client_credentials'] });
    client = { client_id: c.body.client_id, client_secret: c.body.client_secret };
  });

  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  it('listens: both feeds are pushed, and /metrics says so', async () => {
    expect(a.t.services.changes.pushed).toBe(true);
    expect(b.services.changes.pushed).toBe(true);
    const m = await b.app.inject({ method: 'GET', url: '/metrics' });
    expect(m.body).toMatch(/^tessera_change_feed_pushed 1$/m);
  });

  it(`B refuses a token within ${BOUND_MS} ms of the grant's deletion through A`, async () => {
    const id = await newGrant();
    expect((await tokenFromB()).status).toBe(200); // B's caches are warm
    const ms = await heardAfter(async () => expect((await a.api('DELETE', `/client-grants/${id}`)).status).toBe(204));
    expect(ms).toBeLessThanOrEqual(BOUND_MS);
    expect(await tokenFromB()).toMatchObject({ status: 403, body: { error: 'access_denied' } });
  });

  it(`B refuses an old client secret within ${BOUND_MS} ms of its rotation through A`, async () => {
    const id = await newGrant();
    let rotated: Awaited<ReturnType<typeof a.api>> | undefined;
    expect(await heardAfter(async () => { rotated = await a.api('POST', `/clients/${client.client_id}/rotate-secret`); })).toBeLessThanOrEqual(BOUND_MS);
    expect(rotated!.status).toBe(200);
    expect((await tokenFromB()).status).toBe(401);
    client = { ...client, client_secret: rotated!.body.client_secret };
    expect((await tokenFromB()).status).toBe(200);
    expect((await a.api('DELETE', `/client-grants/${id}`)).status).toBe(204);
  });

  it(`B signs with the new key within ${BOUND_MS} ms of a rotation through A, and refuses the revoked key within ${BOUND_MS} ms`, async () => {
    const oldToken = (await inject(b, { grant_type: 'client_credentials', client_id: ADMIN_ID, client_secret: ADMIN_SECRET, audience: MGMT_AUDIENCE })).body.access_token as string;
    const oldKid = kidOf(oldToken);
    const next = ((await a.api('GET', '/keys/signing')).body as Array<{ kid: string; next?: boolean }>).find((k) => k.next)!.kid;
    let rotated: Awaited<ReturnType<typeof a.api>> | undefined;
    // next becomes current, a new next is made
    expect(await heardAfter(async () => { rotated = await a.api('POST', '/keys/signing/rotate'); })).toBeLessThanOrEqual(BOUND_MS);
    expect(rotated!.status).toBe(201);
    const admin = { grant_type: 'client_credentials', client_id: ADMIN_ID, client_secret: ADMIN_SECRET, audience: MGMT_AUDIENCE };
    await b.services.keys.reload(); // the reload the feed started: settled before the next request
    const r = await inject(b, admin);
    expect(kidOf(r.body.access_token)).toBe(next);
    const jwks = JSON.parse((await b.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).body) as { keys: Array<{ kid: string }> };
    expect(jwks.keys.map((k) => k.kid).sort()).toEqual([oldKid, next, rotated!.body.kid].sort());

    // the old key's token still works on B until the key is revoked through A
    const list = (token: string) => b.app.inject({ method: 'GET', url: '/api/v2/keys/signing', headers: { authorization: `Bearer ${token}` } });
    expect((await list(oldToken)).statusCode).toBe(200);
    freshAdmin = (await inject(a.t, { grant_type: 'client_credentials', client_id: ADMIN_ID, client_secret: ADMIN_SECRET, audience: MGMT_AUDIENCE })).body.access_token as string;
    expect(await heardAfter(async () => expect((await a.api('PUT', `/keys/signing/${oldKid}/revoke`, undefined, { token: freshAdmin })).status).toBe(200)))
      .toBeLessThanOrEqual(BOUND_MS);
    await b.services.keys.reload();
    expect((await list(oldToken)).statusCode).toBe(401);
    const after = JSON.parse((await b.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).body) as { keys: Array<{ kid: string }> };
    expect(after.keys.map((k) => k.kid)).not.toContain(oldKid);
  });

  it('after the listening connection is lost, the poll takes over; once it is back, pushes are milliseconds again', async () => {
    const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
    await admin.connect();
    try {
      const db = new URL(a.db.url).pathname.slice(1);
      const killed = await admin.query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND application_name = 'tessera-changes'", [db]);
      expect(killed.rowCount).toBe(2); // A's and B's listeners
    } finally {
      await admin.end();
    }
    const lostAt = Date.now();
    while (b.services.changes.pushed && Date.now() - lostAt < 2000) await new Promise((r) => setTimeout(r, 5));
    const id = await newGrant(); // written while (at least) B was not listening, or just reconnected
    expect((await mgmt('DELETE', `/client-grants/${id}`)).status).toBe(204);
    const ms = await firstDone(Date.now(), (r) => r.status === 403);
    expect(ms).toBeLessThanOrEqual(1000); // the 250 ms poll, or the push after reconnecting

    const backAt = Date.now();
    while (!b.services.changes.pushed && Date.now() - backAt < 10_000) await new Promise((r) => setTimeout(r, 20));
    expect(b.services.changes.pushed).toBe(true);
    const again = await newGrant();
    expect(await heardAfter(async () => expect((await mgmt('DELETE', `/client-grants/${again}`)).status).toBe(204))).toBeLessThanOrEqual(BOUND_MS);
    expect((await tokenFromB()).status).toBe(403);
  });
});
