import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Browser, CONNECTION, PASSWORD, createUser, createWebApp, hiddenFields, CALLBACK } from '../helpers/flows';
import { createTestDatabase, type TestDatabase } from '../helpers/databases';
import { CHEAP_PASSWORDS, eachDialect, startTessera, TestClock, type TestServer } from '../helpers/tessera';

/**
 * Brute-force protection as Auth0 does it: 10 consecutive failures for one identifier from one address block it
 * there (429 too_many_attempts), the Management API's /user-blocks lists and lifts blocks, a password change lifts
 * them, a success resets the count; suspicious addresses are throttled across users; wrong client secrets are
 * throttled per client and address. Blocks live in the database: a restart and a second instance see them.
 */
// each failure is a real scrypt derivation, at a cheaper cost (CHEAP_PASSWORDS) except where the cost itself is
// measured: what is counted and blocked does not depend on it, and the suite runs in seconds instead of minutes
vi.setConfig({ testTimeout: 120_000 });

const BLOCKED = { error: 'too_many_attempts', error_description: 'Your account has been blocked after multiple consecutive login attempts.' };
const SUSPICIOUS = { error: 'too_many_attempts', error_description: 'We have detected suspicious login behavior and further attempts will be blocked. Please contact the administrator.' };
const WRONG = { error: 'invalid_grant', error_description: 'Wrong email or password.' };
const ENV = { TESSERA_BRUTE_FORCE_THRESHOLD: '10', TESSERA_SUSPICIOUS_IP_THROTTLING: '1000/3600', TESSERA_CLIENT_AUTH_THROTTLING: '3/60' };

interface Web { clientId: string; secret: string }

async function passwordGrant(s: TestServer, web: Web, username: string, password: string, ip: string) {
  const r = await s.t.app.inject({
    method: 'POST', url: '/oauth/token', remoteAddress: ip, headers: { 'content-type': 'application/json' },
    payload: JSON.stringify({ grant_type: 'password', username, password, client_id: web.clientId, client_secret: web.secret }),
  });
  return { status: r.statusCode, body: JSON.parse(r.body), headers: r.headers };
}

async function failTimes(s: TestServer, web: Web, username: string, ip: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const r = await passwordGrant(s, web, username, `Wrong-Password-${i}`, ip);
    expect(r.status, `failure ${i + 1}`).toBe(403);
    expect(r.body).toEqual(WRONG);
  }
}

eachDialect('brute-force protection', (dialect) => {
  let s: TestServer;
  let web: Web;
  let db: TestDatabase;
  const clock = new TestClock();
  const masterKey = randomBytes(32).toString('base64');
  beforeAll(async () => {
    db = await createTestDatabase(dialect);
    s = await startTessera(dialect, { env: ENV, clock, database: db, masterKey, passwordParams: CHEAP_PASSWORDS });
    web = await createWebApp(s);
  });
  afterAll(async () => { await s.close(); await db.drop(); });

  it('10 consecutive failures block the user from that address only, even with the right password', async () => {
    const id = await createUser(s, 'ada@example.com');
    await failTimes(s, web, 'ada@example.com', '10.0.0.1', 10);
    const blocked = await passwordGrant(s, web, 'ada@example.com', PASSWORD, '10.0.0.1');
    expect(blocked.status).toBe(429);
    expect(blocked.body).toEqual(BLOCKED);
    expect((await passwordGrant(s, web, 'ADA@example.com', PASSWORD, '10.0.0.2')).status).toBe(200);
    const list = await s.api('GET', '/user-blocks?identifier=ada%40example.com');
    expect(list).toMatchObject({ status: 200, body: { blocked_for: [{ identifier: 'ada@example.com', ip: '10.0.0.1', connection: CONNECTION }] } });
    const byId = await s.api('GET', `/user-blocks/${encodeURIComponent(id)}`);
    expect(byId.body).toEqual(list.body);
  });

  it('a block survives a restart and holds on a second instance of the same database', async () => {
    const again = await startTessera(dialect, { env: ENV, clock, database: db, masterKey, passwordParams: CHEAP_PASSWORDS });
    try {
      expect((await passwordGrant(again, web, 'ada@example.com', PASSWORD, '10.0.0.1')).body).toEqual(BLOCKED);
      // blocked on the second instance, lifted there: the first sees it lifted
      const other = await createUser(again, 'ben@example.com');
      await failTimes(again, web, 'ben@example.com', '10.0.0.9', 10);
      expect((await passwordGrant(s, web, 'ben@example.com', PASSWORD, '10.0.0.9')).body).toEqual(BLOCKED);
      expect((await again.api('DELETE', `/user-blocks/${encodeURIComponent(other)}`)).status).toBe(204);
      expect((await passwordGrant(s, web, 'ben@example.com', PASSWORD, '10.0.0.9')).status).toBe(200);
    } finally {
      await again.t.close();
    }
  });

  it('DELETE /user-blocks?identifier= lifts the block; the count starts again from zero', async () => {
    expect((await s.api('DELETE', '/user-blocks?identifier=ada%40example.com')).status).toBe(204);
    expect((await s.api('GET', '/user-blocks?identifier=ada%40example.com')).body).toEqual({ blocked_for: [] });
    expect((await passwordGrant(s, web, 'ada@example.com', PASSWORD, '10.0.0.1')).status).toBe(200);
    await failTimes(s, web, 'ada@example.com', '10.0.0.1', 9);
    expect((await passwordGrant(s, web, 'ada@example.com', PASSWORD, '10.0.0.1')).status).toBe(200);
  });

  it('a successful login resets the consecutive count', async () => {
    await createUser(s, 'cy@example.com');
    await failTimes(s, web, 'cy@example.com', '10.0.1.1', 9);
    expect((await passwordGrant(s, web, 'cy@example.com', PASSWORD, '10.0.1.1')).status).toBe(200);
    await failTimes(s, web, 'cy@example.com', '10.0.1.1', 9);
    expect((await passwordGrant(s, web, 'cy@example.com', PASSWORD, '10.0.1.1')).status).toBe(200);
    expect((await s.api('GET', '/user-blocks?identifier=cy%40example.com')).body).toEqual({ blocked_for: [] });
  });

  it('a password change through the Management API lifts the user\'s blocks', async () => {
    const id = await createUser(s, 'dee@example.com');
    await failTimes(s, web, 'dee@example.com', '10.0.2.1', 10);
    expect((await passwordGrant(s, web, 'dee@example.com', PASSWORD, '10.0.2.1')).body).toEqual(BLOCKED);
    expect((await s.api('PATCH', `/users/${encodeURIComponent(id)}`, { password: 'New-Horse-Battery-7' })).status).toBe(200);
    expect((await passwordGrant(s, web, 'dee@example.com', 'New-Horse-Battery-7', '10.0.2.1')).status).toBe(200);
  });

  it('an unknown identifier is counted and blocked exactly like a real one (nothing tells them apart)', async () => {
    await failTimes(s, web, 'nobody@example.com', '10.0.3.1', 10);
    expect((await passwordGrant(s, web, 'nobody@example.com', 'whatever', '10.0.3.1')).body).toEqual(BLOCKED);
    expect((await s.api('GET', '/user-blocks?identifier=nobody%40example.com')).body.blocked_for).toHaveLength(1);
  });

  it('the password-realm grant and the hosted login page are blocked too', async () => {
    await createUser(s, 'eve@example.com');
    await failTimes(s, web, 'eve@example.com', '10.0.4.1', 10);
    const realm = await s.t.app.inject({
      method: 'POST', url: '/oauth/token', remoteAddress: '10.0.4.1', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ grant_type: 'http://auth0.com/oauth/grant-type/password-realm', realm: CONNECTION, username: 'eve@example.com', password: PASSWORD, client_id: web.clientId, client_secret: web.secret }).toString(),
    });
    expect(realm.statusCode).toBe(429);
    expect(JSON.parse(realm.body)).toEqual(BLOCKED);
    // the hosted page, from the blocked address (socket address as seen by the app)
    const b = new Browser(s);
    const start = await b.get(`/authorize?${new URLSearchParams({ client_id: web.clientId, response_type: 'code', redirect_uri: CALLBACK, state: 'st' })}`);
    const page = await b.get(start.location as string);
    const login = await s.t.app.inject({
      method: 'POST', url: '/u/login', remoteAddress: '10.0.4.1',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: [...b.jar].map(([k, v]) => `${k}=${v}`).join('; ') },
      payload: new URLSearchParams({ ...hiddenFields(page.body), username: 'eve@example.com', password: PASSWORD }).toString(),
    });
    expect(login.statusCode).toBe(429);
    expect(login.body).toContain(BLOCKED.error_description);
  });

  it('/user-blocks refuses what Auth0 refuses', async () => {
    expect(await s.api('GET', '/user-blocks/auth0%7Cnone')).toMatchObject({ status: 404, body: { statusCode: 404, errorCode: 'inexistent_user' } });
    expect(await s.api('DELETE', '/user-blocks/auth0%7Cnone')).toMatchObject({ status: 404, body: { statusCode: 404, errorCode: 'inexistent_user' } });
    const missing = await s.api('GET', '/user-blocks');
    expect(missing.status).toBe(400);
    expect(missing.body.message).toContain('identifier');
    expect((await s.api('GET', '/user-blocks?identifier=x', undefined, { token: null })).status).toBe(401);
  });

  describe('wrong client secrets (3 per 60 s per client and address)', () => {
    const cc = (ip: string, secret: string) => s.t.app.inject({
      method: 'POST', url: '/oauth/token', remoteAddress: ip, headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ grant_type: 'password', username: 'ada@example.com', password: PASSWORD, client_id: web.clientId, client_secret: secret }).toString(),
    });

    it('throttles the address for that client after 3 failures, right secret included; other addresses are unaffected; it drains', async () => {
      for (let i = 0; i < 3; i++) expect((await cc('10.1.0.1', `wrong-${i}`)).statusCode).toBe(401);
      const throttled = await cc('10.1.0.1', web.secret);
      expect(throttled.statusCode).toBe(429);
      expect(JSON.parse(throttled.body)).toEqual({ error: 'too_many_requests', error_description: 'Too many failed client authentication attempts from this address. Try again later.' });
      expect(Number(throttled.headers['retry-after'])).toBeGreaterThanOrEqual(19);
      expect(Number(throttled.headers['retry-after'])).toBeLessThanOrEqual(21);
      expect((await cc('10.1.0.2', web.secret)).statusCode).toBe(200);
      clock.advance(21); // one failure drained (3 per 60 s)
      expect((await cc('10.1.0.1', web.secret)).statusCode).toBe(200);
    });
  });
});

eachDialect('suspicious-IP throttling', (dialect) => {
  let s: TestServer;
  let web: Web;
  const clock = new TestClock();
  beforeAll(async () => {
    s = await startTessera(dialect, { clock, env: { TESSERA_BRUTE_FORCE_THRESHOLD: '10', TESSERA_SUSPICIOUS_IP_THROTTLING: '5/3600' }, passwordParams: CHEAP_PASSWORDS });
    web = await createWebApp(s);
    await createUser(s, 'fay@example.com');
  });
  afterAll(async () => { await s.close(); });

  it('5 failures across users block the address for every user, then one attempt per refill (720 s)', async () => {
    for (let i = 0; i < 5; i++) expect((await passwordGrant(s, web, `user${i}@example.com`, 'nope', '10.2.0.1')).status).toBe(403);
    const refused = await passwordGrant(s, web, 'fay@example.com', PASSWORD, '10.2.0.1');
    expect(refused.status).toBe(429);
    expect(refused.body).toEqual(SUSPICIOUS);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(700);
    expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(720);
    expect((await passwordGrant(s, web, 'fay@example.com', PASSWORD, '10.2.0.2')).status).toBe(200);
    clock.advance(721);
    expect((await passwordGrant(s, web, 'user9@example.com', 'nope', '10.2.0.1')).status).toBe(403); // the one allowed attempt
    expect((await passwordGrant(s, web, 'fay@example.com', PASSWORD, '10.2.0.1')).body).toEqual(SUSPICIOUS);
    clock.advance(721);
    expect((await passwordGrant(s, web, 'fay@example.com', PASSWORD, '10.2.0.1')).status).toBe(200);
  });
});

describe('unknown user and wrong password cost the same', () => {
  let s: TestServer;
  let web: Web;
  beforeAll(async () => {
    s = await startTessera('sqlite');
    web = await createWebApp(s);
    await createUser(s, 'gus@example.com');
  });
  afterAll(async () => { await s.close(); });

  it('the median time of an unknown identifier is within 3× of a wrong password (a skipped scrypt would be ~50× faster)', async () => {
    const time = async (username: string) => {
      const t0 = process.hrtime.bigint();
      const r = await passwordGrant(s, web, username, 'Wrong-Password-1', '10.3.0.1');
      expect(r.body).toEqual(WRONG);
      return Number(process.hrtime.bigint() - t0) / 1e6;
    };
    await time('gus@example.com'); // warm up both paths (the decoy hash is made once)
    await time('nobody@example.com');
    const known: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 7; i++) { known.push(await time('gus@example.com')); unknown.push(await time(`nobody${i}@example.com`)); }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const ratio = median(unknown) / median(known);
    expect(ratio, `known ${median(known).toFixed(1)} ms, unknown ${median(unknown).toFixed(1)} ms`).toBeGreaterThan(1 / 3);
    expect(ratio).toBeLessThan(3);
  });
});
