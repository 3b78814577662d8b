import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApi, createM2mClient } from './helpers/management';
import { eachDialect, startTessera, type TestServer } from './helpers/tessera';
import { createTestDatabase, type TestDatabase } from './helpers/databases';

const HOUR = 3600;
/** Seconds left in the current UTC hour / day at `ms`. */
const leftIn = (ms: number, size: number) => Math.ceil(((Math.floor(ms / 1000 / size) + 1) * size * 1000 - ms) / 1000);

/**
 * Auth0's fine-grained M2M token quotas: token_quota.client_credentials on clients and organizations (and the tenant
 * defaults), the Auth0-Client-Quota-Limit / Auth0-Organization-Quota-Limit headers, 429 too_many_requests when an
 * enforced quota is used up, warn-only mode, counters that survive a restart and are shared by instances.
 */
eachDialect('token quotas', (dialect) => {
  let db: TestDatabase;
  let s: TestServer;
  const masterKey = randomBytes(32).toString('base64');
  let api: Record<string, any>;
  const grantFor = async (c: { client_id: string }, extra: Record<string, unknown> = {}) => {
    const g = await s.api('POST', '/client-grants', { client_id: c.client_id, audience: api.identifier, scope: [], ...extra });
    expect(g.status).toBe(201);
    return g.body.id as string;
  };
  const ask = (c: { client_id: string; client_secret: string }, extra: Record<string, string> = {}) =>
    s.token({ grant_type: 'client_credentials', ...c, audience: api.identifier, ...extra });

  beforeAll(async () => {
    db = await createTestDatabase(dialect);
    s = await startTessera(dialect, { database: db, masterKey });
    api = await createApi(s, {});
  });
  afterAll(async () => { await s?.close(); await db?.drop(); });

  it('accepts, returns, replaces and clears token_quota on clients; refuses bad shapes with 400', async () => {
    const c = await createM2mClient(s);
    const set = await s.api('PATCH', `/clients/${c.client_id}`, { token_quota: { client_credentials: { enforce: true, per_hour: 10, per_day: 100 } } });
    expect(set.status).toBe(200);
    expect(set.body.token_quota).toEqual({ client_credentials: { enforce: true, per_hour: 10, per_day: 100 } });
    expect((await s.api('GET', `/clients/${c.client_id}`)).body.token_quota).toEqual({ client_credentials: { enforce: true, per_hour: 10, per_day: 100 } });
    for (const bad of [{ client_credentials: {} }, { client_credentials: { per_hour: 0 } }, { client_credentials: { per_day: 1.5 } },
      { client_credentials: { per_hour: 5, extra: 1 } }, { other: {} }, { client_credentials: { enforce: 'yes' } }]) {
      const r = await s.api('PATCH', `/clients/${c.client_id}`, { token_quota: bad });
      expect(r.status, JSON.stringify(bad)).toBe(400);
      expect(r.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
    }
    const created = await s.api('POST', '/clients', { name: 'q', token_quota: { client_credentials: { per_day: 3 } } });
    expect(created.body.token_quota).toEqual({ client_credentials: { per_day: 3 } });
    const cleared = await s.api('PATCH', `/clients/${c.client_id}`, { token_quota: null });
    expect(cleared.body.token_quota).toBeUndefined();
  });

  it('enforces a client quota per hour: headers on every answer, 429 with Retry-After when used up, nothing counted when refused', async () => {
    const c = await createM2mClient(s);
    await grantFor(c);
    expect((await s.api('PATCH', `/clients/${c.client_id}`, { token_quota: { client_credentials: { enforce: true, per_hour: 2 } } })).status).toBe(200);
    const t = leftIn(s.clock.now(), HOUR);
    const first = await ask(c);
    expect(first.status).toBe(200);
    expect(first.headers['auth0-client-quota-limit']).toBe(`b=per_hour;q=2;r=1;t=${t}`);
    const second = await ask(c);
    expect(second.headers['auth0-client-quota-limit']).toBe(`b=per_hour;q=2;r=0;t=${t}`);
    for (let i = 0; i < 2; i++) {
      const refused = await ask(c);
      expect(refused.status).toBe(429);
      expect(refused.body).toEqual({ error: 'too_many_requests', error_description: 'Too Many Requests: the client token quota (per_hour) has been exceeded.' });
      expect(refused.headers['auth0-client-quota-limit']).toBe(`b=per_hour;q=2;r=0;t=${t}`);
      expect(refused.headers['retry-after']).toBe(String(t));
    }
    // the next UTC hour starts a new window
    s.clock.advance(t);
    const next = await ask(c);
    expect(next.status).toBe(200);
    expect(next.headers['auth0-client-quota-limit']).toBe(`b=per_hour;q=2;r=1;t=${HOUR}`);
    const usage = await s.api('GET', `/tessera/usage?client_id=${c.client_id}&period=day&from=${new Date(s.clock.now() - 2 * 86400_000).toISOString()}&to=${new Date(s.clock.now() + 1000).toISOString()}`);
    const sum = usage.body.usage.reduce((a: any, r: any) => ({ issued: a.issued + r.issued, refused: a.refused + r.refused }), { issued: 0, refused: 0 });
    expect(sum).toEqual({ issued: 3, refused: 2 });
  });

  it('warn-only (enforce: false) issues over the quota, with the headers', async () => {
    const c = await createM2mClient(s);
    await grantFor(c);
    expect((await s.api('PATCH', `/clients/${c.client_id}`, { token_quota: { client_credentials: { enforce: false, per_hour: 1, per_day: 5 } } })).status).toBe(200);
    const a = await ask(c);
    const b = await ask(c);
    expect(a.status).toBe(200);
    expect(b.status).toBe(200);
    expect(b.headers['auth0-client-quota-limit']).toMatch(/^b=per_hour;q=1;r=0;t=\d+,b=per_day;q=5;r=3;t=\d+$/);
  });

  it('organization quotas apply to tokens issued for the organization, with their own header', async () => {
    const c = await createM2mClient(s);
    const grantId = await grantFor(c, { organization_usage: 'allow' });
    const org = await s.api('POST', '/organizations', { name: `quota-${Date.now()}`, token_quota: { client_credentials: { enforce: true, per_day: 1 } } });
    expect(org.status).toBe(201);
    expect(org.body.token_quota).toEqual({ client_credentials: { enforce: true, per_day: 1 } });
    expect((await s.api('POST', `/organizations/${org.body.id}/client-grants`, { grant_id: grantId })).status).toBe(201);
    const ok = await ask(c, { organization: org.body.id });
    expect(ok.status).toBe(200);
    expect(ok.headers['auth0-organization-quota-limit']).toMatch(/^b=per_day;q=1;r=0;t=\d+$/);
    expect(ok.headers['auth0-client-quota-limit']).toBeUndefined();
    const refused = await ask(c, { organization: org.body.id });
    expect(refused.status).toBe(429);
    expect(refused.body.error_description).toContain('organization token quota (per_day)');
    // without the organization the client has no quota
    const plain = await ask(c);
    expect(plain.status).toBe(200);
    expect(plain.headers['auth0-organization-quota-limit']).toBeUndefined();
    // PATCH replaces, null clears
    const patched = await s.api('PATCH', `/organizations/${org.body.id}`, { token_quota: null });
    expect(patched.status).toBe(200);
    expect(patched.body.token_quota).toBeUndefined();
    expect((await ask(c, { organization: org.body.id })).status).toBe(200);
    expect((await s.api('PATCH', `/organizations/${org.body.id}`, { token_quota: { client_credentials: { per_hour: -1 } } })).status).toBe(400);
  });

  it('reused tokens are not counted: the quota counts issued tokens only', async () => {
    const c = await createM2mClient(s);
    await grantFor(c);
    expect((await s.api('PATCH', `/clients/${c.client_id}`, { tessera_token_reuse: true, token_quota: { client_credentials: { per_hour: 1 } } })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 350)); // the change feed's echo of that write
    const a = await ask(c);
    const b = await ask(c);
    expect(a.status).toBe(200);
    expect(b.status).toBe(200);
    expect(b.body.access_token).toBe(a.body.access_token);
    expect(b.headers['auth0-client-quota-limit']).toMatch(/^b=per_hour;q=1;r=0;t=\d+$/);
  });

  it('counters survive a restart and are shared with a second instance on the same database', async () => {
    const c = await createM2mClient(s);
    await grantFor(c);
    expect((await s.api('PATCH', `/clients/${c.client_id}`, { token_quota: { client_credentials: { per_day: 2 } } })).status).toBe(200);
    expect((await ask(c)).status).toBe(200);
    await s.close();
    s = await startTessera(dialect, { database: db, clock: s.clock, masterKey });
    const other = await startTessera(dialect, { database: db, clock: s.clock, masterKey });
    try {
      const r = await other.token({ grant_type: 'client_credentials', ...c, audience: api.identifier });
      expect(r.status).toBe(200);
      expect(r.headers['auth0-client-quota-limit']).toMatch(/^b=per_day;q=2;r=0;/);
      expect((await ask(c)).status).toBe(429);
    } finally {
      await other.close();
    }
  });
});

eachDialect('tenant default token quotas (TESSERA_TOKEN_QUOTA_*)', (dialect) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTessera(dialect, { env: { TESSERA_TOKEN_QUOTA_CLIENTS: 'per_hour=1,enforce=true' } });
  });
  afterAll(async () => { await s?.close(); });

  it('apply to clients without their own quota; a client quota replaces the default', async () => {
    const api = await createApi(s, {});
    const c = await createM2mClient(s);
    expect((await s.api('POST', '/client-grants', { client_id: c.client_id, audience: api.identifier, scope: [] })).status).toBe(201);
    const ask = () => s.token({ grant_type: 'client_credentials', ...c, audience: api.identifier });
    expect((await ask()).headers['auth0-client-quota-limit']).toMatch(/^b=per_hour;q=1;r=0;/);
    expect((await ask()).status).toBe(429);
    expect((await s.api('PATCH', `/clients/${c.client_id}`, { token_quota: { client_credentials: { per_hour: 5 } } })).status).toBe(200);
    const r = await ask();
    expect(r.status).toBe(200);
    expect(r.headers['auth0-client-quota-limit']).toMatch(/^b=per_hour;q=5;r=3;/);
  });
});

const redisUp = await new Promise<boolean>((resolve) => {
  import('node:net').then(({ connect }) => {
    const sock = connect(6379, '127.0.0.1');
    sock.once('connect', () => { sock.destroy(); resolve(true); });
    sock.once('error', () => resolve(false));
  });
});

describe.skipIf(!redisUp)('token quota counters in Redis (TESSERA_REDIS_URL), shared by two instances', () => {
  it('two instances on separate databases share one client quota through Redis', async () => {
    const env = { TESSERA_REDIS_URL: 'redis://127.0.0.1:6379' };
    const a = await startTessera('sqlite', { env });
    try {
      const api = await createApi(a, {});
      const c = await createM2mClient(a);
      expect((await a.api('POST', '/client-grants', { client_id: c.client_id, audience: api.identifier, scope: [] })).status).toBe(201);
      expect((await a.api('PATCH', `/clients/${c.client_id}`, { token_quota: { client_credentials: { per_hour: 2 } } })).status).toBe(200);
      const ask = () => a.token({ grant_type: 'client_credentials', ...c, audience: api.identifier });
      expect((await ask()).headers['auth0-client-quota-limit']).toMatch(/^b=per_hour;q=2;r=1;/);
      expect((await ask()).status).toBe(200);
      const refused = await ask();
      expect(refused.status).toBe(429);
      expect(refused.headers['auth0-client-quota-limit']).toMatch(/^b=per_hour;q=2;r=0;/);
    } finally {
      await a.close();
    }
  });
});
