import { ManagementClient } from 'auth0';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { loadConfig } from '@tessera/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createM2mClient } from './helpers/management';
import { createTestDatabase, type TestDatabase } from './helpers/databases';
import { startListening, type ListeningServer } from './helpers/listening';
import { ADMIN_ID, ADMIN_SECRET, MGMT_AUDIENCE, PUBLIC_URL, eachDialect, startTessera, type TestServer } from './helpers/tessera';

/**
 * Auth0-style rate limits: per client on the Authentication API (per address when no known client is named), per
 * client token on the Management API, Auth0's 429 bodies and X-RateLimit-* headers (reset in Unix seconds), counters
 * in memory, in the database (shared by instances) or in Redis, and the auth0 SDK retrying through a 429.
 */
const OAUTH_429 = { error: 'too_many_requests', error_description: 'Too many requests. Check the X-RateLimit-Limit, X-RateLimit-Remaining and X-RateLimit-Reset headers.' };
const MGMT_429 = { statusCode: 429, error: 'Too Many Requests', message: 'Too many requests. Check the X-RateLimit-Limit, X-RateLimit-Remaining and X-RateLimit-Reset headers.', errorCode: 'too_many_requests' };
const nowSeconds = () => Math.floor(Date.now() / 1000);

type Reply = { statusCode: number; body: string; headers: Record<string, unknown> };
const cc = (s: TestServer, params: Record<string, string>, o: { ip?: string; headers?: Record<string, string> } = {}): Promise<Reply> => s.t.app.inject({
  method: 'POST', url: '/oauth/token', remoteAddress: o.ip ?? '127.0.0.1',
  headers: { 'content-type': 'application/x-www-form-urlencoded', ...o.headers }, payload: new URLSearchParams(params).toString(),
});
const adminCc = { grant_type: 'client_credentials', client_id: ADMIN_ID, client_secret: ADMIN_SECRET, audience: MGMT_AUDIENCE };

function expectHeaders(r: Reply, limit: number, remaining: number, windowS: number): void {
  expect(r.headers['x-ratelimit-limit']).toBe(String(limit));
  expect(r.headers['x-ratelimit-remaining']).toBe(String(remaining));
  const reset = Number(r.headers['x-ratelimit-reset']);
  expect(reset).toBeGreaterThanOrEqual(nowSeconds());
  expect(reset).toBeLessThanOrEqual(nowSeconds() + windowS + 1);
}

/** Fixed windows are aligned to the epoch: start a shared-counter check well inside one. */
async function awayFromWindowEdge(windowS: number): Promise<void> {
  const into = (Date.now() / 1000) % windowS;
  if (into > windowS - 5) await new Promise((r) => setTimeout(r, (windowS - into + 0.1) * 1000));
}

describe('Authentication API limits (in memory, 3 per 60 s)', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTessera('sqlite', { env: { TESSERA_RATE_LIMIT_AUTH: '3/60', TESSERA_TRUSTED_PROXIES: '127.0.0.2' } });
  });
  afterAll(async () => { await s.close(); });

  it('counts per client: headers on every answer, then 429 with Retry-After; another client has its own budget', async () => {
    for (let i = 0; i < 3; i++) {
      const r = await cc(s, adminCc);
      expect(r.statusCode, r.body).toBe(200);
      expectHeaders(r, 3, 2 - i, 60);
    }
    const over = await cc(s, adminCc, { ip: '10.9.9.9' }); // the client's budget, whatever the address
    expect(over.statusCode).toBe(429);
    expect(JSON.parse(over.body)).toEqual(OAUTH_429);
    expectHeaders(over, 3, 0, 60);
    expect(Number(over.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(Number(over.headers['retry-after'])).toBeLessThanOrEqual(60);
    expect(over.headers['cache-control']).toBe('no-store');
    // a refused request is refused before client authentication: a wrong secret gets the 429 too
    expect((await cc(s, { ...adminCc, client_secret: 'wrong-secret-wrong-secret' })).statusCode).toBe(429);
  });

  it('keys unknown client_ids by address, so invented ids buy no fresh budget', async () => {
    for (let i = 0; i < 3; i++) expect((await cc(s, { ...adminCc, client_id: `made-up-${i}` }, { ip: '10.0.0.7' })).statusCode).toBe(401);
    const over = await cc(s, { ...adminCc, client_id: 'made-up-4' }, { ip: '10.0.0.7' });
    expect(over.statusCode).toBe(429);
    expect(JSON.parse(over.body)).toEqual(OAUTH_429);
    expect((await cc(s, { ...adminCc, client_id: 'made-up-5' }, { ip: '10.0.0.8' })).statusCode).toBe(401);
  });

  it('believes X-Forwarded-For from TESSERA_TRUSTED_PROXIES only', async () => {
    const viaProxy = (client: string) => cc(s, { ...adminCc, client_id: 'nobody' }, { ip: '127.0.0.2', headers: { 'x-forwarded-for': client } });
    for (let i = 0; i < 3; i++) expect((await viaProxy('198.51.100.1')).statusCode).toBe(401);
    expect((await viaProxy('198.51.100.1')).statusCode).toBe(429);
    expect((await viaProxy('198.51.100.2')).statusCode).toBe(401); // another client address behind the same proxy
    // from an untrusted peer the header is ignored: the peer's own address is the key
    const spoof = (client: string) => cc(s, { ...adminCc, client_id: 'nobody' }, { ip: '10.0.0.20', headers: { 'x-forwarded-for': client } });
    for (let i = 0; i < 3; i++) expect((await spoof(`203.0.113.${i}`)).statusCode).toBe(401);
    expect((await spoof('203.0.113.99')).statusCode).toBe(429);
  });

  it('limits /authorize and /userinfo too, with the same headers', async () => {
    const get = (url: string) => s.t.app.inject({ method: 'GET', url, remoteAddress: '10.0.0.30' });
    for (let i = 0; i < 3; i++) expectHeaders(await get('/userinfo'), 3, 2 - i, 60);
    const over = await get('/userinfo');
    expect(over.statusCode).toBe(429);
    expect(JSON.parse(over.body)).toEqual(OAUTH_429);
    const authorize = (n: number) => s.t.app.inject({ method: 'GET', url: `/authorize?client_id=nobody-${n}&response_type=code`, remoteAddress: '10.0.0.31' });
    for (let i = 0; i < 3; i++) expect((await authorize(i)).statusCode).toBe(400);
    const page = await authorize(9);
    expect(page.statusCode).toBe(429);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.headers['retry-after']).toBeDefined();
  });

  it('discovery and JWKS are not limited', async () => {
    for (let i = 0; i < 5; i++) {
      const r = await s.t.app.inject({ method: 'GET', url: '/.well-known/jwks.json', remoteAddress: '10.0.0.40' });
      expect(r.statusCode).toBe(200);
      expect(r.headers['x-ratelimit-limit']).toBeUndefined();
    }
  });
});

describe('Management API limits (in memory, 4 per 60 s per client token)', () => {
  let s: TestServer;
  beforeAll(async () => { s = await startTessera('sqlite', { env: { TESSERA_RATE_LIMIT_MANAGEMENT: '4/60' } }); });
  afterAll(async () => { await s.close(); });

  it('answers Auth0\'s 429 envelope once a token\'s client spent its budget; another client is unaffected', async () => {
    const other = await createM2mClient(s, 'second-admin');
    expect((await s.api('POST', '/client-grants', { client_id: other.client_id, audience: MGMT_AUDIENCE, scope: ['read:clients'] })).status).toBe(201);
    for (const remaining of [1, 0]) {
      const r = await s.api('GET', '/clients?fields=client_id');
      expect(r.status).toBe(200);
      expectHeaders({ statusCode: r.status, body: '', headers: r.headers }, 4, remaining, 60);
    }
    const over = await s.api('GET', '/clients?fields=client_id');
    expect(over.status).toBe(429);
    expect(over.body).toEqual(MGMT_429);
    expect(Number(over.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(over.headers['x-ratelimit-remaining']).toBe('0');
    // a 429 also for calls the token could not make anyway (counted before the scope check)
    expect((await s.api('DELETE', '/clients/none')).status).toBe(429);
    const t = await s.token({ grant_type: 'client_credentials', client_id: other.client_id, client_secret: other.client_secret, audience: MGMT_AUDIENCE });
    const mine = await s.api('GET', '/clients?fields=client_id', undefined, { token: t.body.access_token });
    expect(mine.status).toBe(200);
    expect(mine.headers['x-ratelimit-remaining']).toBe('3');
  });
});

eachDialect('rate-limit counters in the database, shared by two instances', (dialect) => {
  let db: TestDatabase;
  let a: TestServer;
  let b: TestServer;
  beforeAll(async () => {
    db = await createTestDatabase(dialect);
    const masterKey = randomBytes(32).toString('base64');
    const env = { TESSERA_RATE_LIMIT_AUTH: '3/3600', TESSERA_RATE_LIMIT_STORE: 'database' };
    a = await startTessera(dialect, { env, database: db, masterKey });
    b = await startTessera(dialect, { env, database: db, masterKey });
  });
  afterAll(async () => { await a.t.close(); await b.t.close(); await db.drop(); });

  it('two requests on one instance and one on the other spend one budget', async () => {
    await awayFromWindowEdge(3600);
    expectHeaders(await cc(a, adminCc), 3, 2, 3600);
    expectHeaders(await cc(a, adminCc), 3, 1, 3600);
    expectHeaders(await cc(b, adminCc), 3, 0, 3600);
    const over = await cc(b, adminCc);
    expect(over.statusCode).toBe(429);
    expect(JSON.parse(over.body)).toEqual(OAUTH_429);
    expect((await cc(a, adminCc)).statusCode).toBe(429);
  });
});

const redisUp = await new Promise<boolean>((resolve) => {
  const sock = net.connect(6379, '127.0.0.1');
  sock.once('connect', () => { sock.end(); resolve(true); });
  sock.once('error', () => {
    if (process.env.CI) resolve(true); // CI runs Redis: let the suite fail loudly if it is missing
    else { console.warn('\n[redis] SKIPPING the Redis rate-limit suite: 127.0.0.1:6379 did not answer\n'); resolve(false); }
  });
});

describe.skipIf(!redisUp)('rate-limit counters in Redis (TESSERA_REDIS_URL), shared by two instances', () => {
  let a: TestServer;
  let b: TestServer;
  beforeAll(async () => {
    const env = { TESSERA_RATE_LIMIT_AUTH: '3/60', TESSERA_REDIS_URL: 'redis://127.0.0.1:6379' };
    a = await startTessera('sqlite', { env });
    b = await startTessera('sqlite', { env });
  });
  afterAll(async () => { await a.close(); await b.close(); });

  it('counts one budget across instances', async () => {
    // each instance has its own database here: the admin client exists in both, with one shared budget in Redis
    const client = `${ADMIN_ID}`;
    expect((await cc(a, adminCc)).headers['x-ratelimit-remaining']).toBe('2');
    expect((await cc(b, adminCc)).headers['x-ratelimit-remaining']).toBe('1');
    expect((await cc(a, adminCc)).headers['x-ratelimit-remaining']).toBe('0');
    const over = await cc(b, { ...adminCc, client_id: client });
    expect(over.statusCode).toBe(429);
    expect(JSON.parse(over.body)).toEqual(OAUTH_429);
  });
});

describe('the auth0 SDK v7 retries a 429 and then succeeds', () => {
  let l: ListeningServer;
  beforeAll(async () => { l = await startListening('sqlite', { publicUrl: PUBLIC_URL, env: { TESSERA_RATE_LIMIT_MANAGEMENT: '2/1' } }); });
  afterAll(async () => { await l.close(); });

  it('ManagementClient: 429 with Retry-After, one retry, the call resolves', async () => {
    const statuses: number[] = [];
    const fetcher: typeof fetch = async (input, init) => {
      const url = input instanceof Request ? input.url : String(input);
      const target = l.origin + url.slice(PUBLIC_URL.length);
      const res = input instanceof Request ? await fetch(new Request(target, input), init) : await fetch(target, init);
      if (url.includes('/api/v2/')) statuses.push(res.status);
      return res;
    };
    const mgmt = new ManagementClient({ domain: new URL(PUBLIC_URL).host, clientId: ADMIN_ID, clientSecret: ADMIN_SECRET, fetch: fetcher });
    const results = [];
    for (let i = 0; i < 4; i++) results.push(await mgmt.resourceServers.list({ per_page: 5 }));
    expect(results).toHaveLength(4);
    expect(statuses).toContain(429);
    expect(statuses.filter((x) => x === 200)).toHaveLength(4);
    expect(statuses.every((x) => x === 200 || x === 429)).toBe(true);
  });
});

describe('configuration', () => {
  const base = { TESSERA_DATABASE_URL: 'sqlite::memory:' };
  it.each([
    ['TESSERA_RATE_LIMIT_AUTH', { TESSERA_RATE_LIMIT_AUTH: '100' }],
    ['TESSERA_RATE_LIMIT_MANAGEMENT', { TESSERA_RATE_LIMIT_MANAGEMENT: '0/1' }],
    ['TESSERA_RATE_LIMIT_STORE', { TESSERA_RATE_LIMIT_STORE: 'redis' }],
    ['TESSERA_RATE_LIMIT_STORE', { TESSERA_RATE_LIMIT_STORE: 'disk' }],
    ['TESSERA_REDIS_URL', { TESSERA_REDIS_URL: 'http://127.0.0.1:6379' }],
    ['TESSERA_TRUSTED_PROXIES', { TESSERA_TRUSTED_PROXIES: '10.0.0.0/33' }],
    ['TESSERA_BRUTE_FORCE_THRESHOLD', { TESSERA_BRUTE_FORCE_THRESHOLD: '-1' }],
    ['TESSERA_SUSPICIOUS_IP_THROTTLING', { TESSERA_SUSPICIOUS_IP_THROTTLING: 'many' }],
    ['TESSERA_CLIENT_AUTH_THROTTLING', { TESSERA_CLIENT_AUTH_THROTTLING: '5/0' }],
  ])('a bad %s stops start-up naming it', (name, env) => {
    expect(() => loadConfig({ ...base, ...env })).toThrow(new RegExp(`^${name}: `));
  });

  it('defaults: Auth0-like limits, memory counters for one process, shared ones for several workers or with Redis', () => {
    const c = loadConfig(base);
    expect(c.rateLimits).toEqual({ auth: { max: 100, windowMs: 1000 }, management: { max: 50, windowMs: 1000 }, store: 'memory', redisUrl: undefined });
    expect(c.loginProtection).toEqual({ bruteForceThreshold: 10, suspiciousIpMax: 100, suspiciousIpWindowMs: 86_400_000 });
    expect(c.clientAuthProtection).toEqual({ max: 20, windowMs: 300_000 });
    expect(loadConfig({ ...base, TESSERA_WORKERS: '2' }).rateLimits.store).toBe('database');
    expect(loadConfig({ ...base, TESSERA_REDIS_URL: 'redis://127.0.0.1:6379' }).rateLimits.store).toBe('redis');
    expect(loadConfig({ ...base, TESSERA_RATE_LIMIT_AUTH: 'off' }).rateLimits.auth.max).toBe(0);
  });
});
