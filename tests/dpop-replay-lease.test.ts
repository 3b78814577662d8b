import { createHash, randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import SqliteDatabase from 'better-sqlite3';
import { calculateJwkThumbprint, decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './helpers/databases';
import { freePort, spawnTessera, type RunningServer } from './helpers/process';
import { ADMIN_ID, ADMIN_SECRET, PUBLIC_URL, startTessera, TestClock, type TestServer } from './helpers/tessera';
import { dpopApi, m2m, proof, proofKey, type ProofKey } from './security/dpop';

/**
 * The DPoP replay cache on one SQLite file (ARCHITECTURE.md, "The DPoP replay cache on the hot path"): a process
 * alone on the file decides claims in memory, holding the lease file `<db>-dpop-lease` exclusively, and writes the
 * keys behind; a second process (or instance) on the file makes it step down, after which both claim through the
 * table. Either way a proof is accepted once, also between processes (the lease is an operating-system file lock).
 */
const fileOf = (db: TestDatabase) => db.url.slice('sqlite:'.length);
const replayKey = async (key: ProofKey, p: string) => createHash('sha256').update(`${await calculateJwkThumbprint(key.jwk, 'sha256')}.${decodeJwt(p).jti}`).digest('base64url');
const refused = { error: 'invalid_dpop_proof', error_description: 'Invalid DPoP proof: jti was already used' };

/** What the lease file says from outside: 'sole' while a process holds it exclusively. */
function leaseState(db: TestDatabase): 'sole' | 'shared or free' {
  const conn = new SqliteDatabase(`${fileOf(db)}-dpop-lease`, { timeout: 0 });
  try {
    conn.exec('BEGIN');
    conn.prepare('SELECT count(*) FROM sqlite_master').get();
    conn.exec('ROLLBACK');
    return 'shared or free';
  } catch { return 'sole'; } finally { conn.close(); }
}

function rowsFor(db: TestDatabase, key: string): number {
  const conn = new SqliteDatabase(fileOf(db), { readonly: true });
  try { return (conn.prepare('SELECT count(*) AS n FROM dpop_proofs WHERE key = ?').get(key) as { n: number }).n; } finally { conn.close(); }
}

async function eventually(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('DPoP replay cache, in-process instances on one SQLite file [sqlite]', () => {
  let db: TestDatabase;
  let s: TestServer;
  let audience: string;
  let client: { client_id: string; client_secret: string };
  let key: ProofKey;
  const masterKey = randomBytes(32).toString('base64');
  const clock = new TestClock();
  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
    s = await startTessera('sqlite', { database: db, masterKey, clock });
    audience = await dpopApi(s, { mechanism: 'dpop', required: true });
    client = await m2m(s, audience);
    key = await proofKey();
  });
  afterAll(async () => { await s?.close(); await db?.drop(); });

  const send = (server: TestServer, p: string) => server.t.app.inject({
    method: 'POST', url: '/oauth/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded', dpop: p },
    payload: new URLSearchParams({ grant_type: 'client_credentials', ...client, audience }).toString(),
  }).then((r) => ({ status: r.statusCode, body: JSON.parse(r.body) }));

  it('a process alone holds the lease file exclusively (private, mode 0600), writes accepted keys behind the answer, and refuses a replay', async () => {
    const p = await proof(key, { now: clock.now() });
    expect((await send(s, p)).status).toBe(200);
    expect(leaseState(db)).toBe('sole');
    expect(statSync(`${fileOf(db)}-dpop-lease`).mode & 0o777).toBe(0o600);
    const k = await replayKey(key, p);
    await eventually(() => rowsFor(db, k) === 1);
    expect((await send(s, p)).body).toEqual(refused);
  });

  it('the keys a process accepted alone are refused after it restarts', async () => {
    const p = await proof(key, { now: clock.now() });
    expect((await send(s, p)).status).toBe(200);
    await s.close(); // writes what is still in memory
    s = await startTessera('sqlite', { database: db, masterKey, clock });
    expect((await send(s, p)).body).toEqual(refused);
    expect(leaseState(db)).toBe('sole');
  });

  it('a second instance makes the sole one step down: a proof is accepted once whichever instance sees it, in either order and at once', async () => {
    const earlier = await proof(key, { now: clock.now() });
    expect((await send(s, earlier)).status).toBe(200); // accepted alone, in memory
    const second = await startTessera('sqlite', { database: db, masterKey, clock });
    try {
      expect((await send(second, earlier)).body).toEqual(refused); // waits for the step-down, then finds the key
      expect(leaseState(db)).toBe('shared or free');
      for (const [a, b] of [[s, second], [second, s]] as const) {
        const p = await proof(key, { now: clock.now() });
        expect((await send(a, p)).status).toBe(200);
        expect((await send(b, p)).body).toEqual(refused);
      }
      for (let i = 0; i < 5; i++) {
        const p = await proof(key, { now: clock.now() });
        const answers = await Promise.all([send(s, p), send(second, p), send(s, p), send(second, p)]);
        expect(answers.map((r) => r.status).sort()).toEqual([200, 400, 400, 400]);
      }
    } finally { await second.close(); }
  });
});

/** Real time: the child process signs nothing with the test clock, and its proofs are checked against its own clock. */
class WallClock extends TestClock { override now() { return Date.now(); } }

describe('DPoP replay cache, a tessera serve process and this process on one SQLite file [sqlite]', () => {
  let db: TestDatabase;
  let s: TestServer;
  let child: RunningServer | undefined;
  afterAll(async () => {
    await child?.stop('SIGKILL');
    await s?.close();
    await db?.drop();
  });

  it('a proof accepted by one process is refused by the other, and one proof sent to both at once is accepted once', async () => {
    db = await createTestDatabase('sqlite');
    const masterKey = randomBytes(32).toString('base64');
    s = await startTessera('sqlite', { database: db, masterKey, clock: new WallClock() });
    const audience = await dpopApi(s, { mechanism: 'dpop', required: true }); // Management writes take no lease
    const c = await m2m(s, audience);
    const port = await freePort();
    child = await spawnTessera({
      TESSERA_PORT: String(port), TESSERA_PUBLIC_URL: PUBLIC_URL, TESSERA_DATABASE_URL: db.url, TESSERA_MASTER_KEY: masterKey,
      TESSERA_ADMIN_CLIENT_ID: ADMIN_ID, TESSERA_ADMIN_CLIENT_SECRET: ADMIN_SECRET,
      TESSERA_LOG_LEVEL: 'silent', TESSERA_RATE_LIMIT_AUTH: 'off', TESSERA_RATE_LIMIT_MANAGEMENT: 'off',
    });
    const key = await proofKey();
    const form = new URLSearchParams({ grant_type: 'client_credentials', ...c, audience }).toString();
    const headers = (p: string) => ({ 'content-type': 'application/x-www-form-urlencoded', dpop: p });
    const here = (p: string) => s.t.app.inject({ method: 'POST', url: '/oauth/token', headers: headers(p), payload: form }).then((r) => ({ status: r.statusCode, body: JSON.parse(r.body) }));
    const there = (p: string) => fetch(`http://127.0.0.1:${port}/oauth/token`, { method: 'POST', headers: headers(p), body: form }).then(async (r) => ({ status: r.status, body: await r.json() }));

    const first = await proof(key, { now: Date.now() });
    expect((await there(first)).status).toBe(200); // the child alone so far: it takes the lease exclusively
    expect(leaseState(db)).toBe('sole');
    expect((await here(first)).body).toEqual(refused); // this process asks the child to step down, then finds the key
    expect(leaseState(db)).toBe('shared or free');
    for (const [x, y] of [[here, there], [there, here]]) {
      const p = await proof(key, { now: Date.now() });
      expect((await x(p)).status).toBe(200);
      expect((await y(p)).body).toEqual(refused);
    }
    for (let i = 0; i < 5; i++) {
      const p = await proof(key, { now: Date.now() });
      const answers = await Promise.all([here, there, here, there, here, there].map((send) => send(p)));
      expect(answers.map((r) => r.status).sort()).toEqual([200, 400, 400, 400, 400, 400]);
    }
  }, 90_000);
});
