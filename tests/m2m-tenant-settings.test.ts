import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createLogger } from '@tessera/server';
import { createApi, createM2mClient, managementToken } from './helpers/management';
import { eachDialect, startTessera, type TestServer } from './helpers/tessera';
import { createTestDatabase, type TestDatabase } from './helpers/databases';

type Creds = { client_id: string; client_secret: string };

/** Polls until `check` holds (another instance hears of a write through the change feed), at most 3 s. */
async function eventually(check: () => Promise<boolean>): Promise<void> {
  const since = Date.now();
  while (!(await check())) {
    if (Date.now() - since > 3000) throw new Error('not within 3 s');
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * Auth0's tenant default token quotas (`default_token_quota` of /api/v2/tenants/settings): returned, replaced and
 * cleared through the Management API, applied to clients and organizations without a quota of their own, on every
 * instance, and taking over from TESSERA_TOKEN_QUOTA_* once written.
 */
eachDialect('tenant settings: default token quotas', (dialect) => {
  let db: TestDatabase;
  let s: TestServer;
  const masterKey = randomBytes(32).toString('base64');
  let api: Record<string, any>;
  const granted = async (extra: Record<string, unknown> = {}) => {
    const c = await createM2mClient(s);
    const g = await s.api('POST', '/client-grants', { client_id: c.client_id, audience: api.identifier, scope: [], ...extra });
    expect(g.status).toBe(201);
    return { ...c, grantId: g.body.id as string };
  };
  const ask = (on: TestServer, c: Creds, extra: Record<string, string> = {}) =>
    on.token({ grant_type: 'client_credentials', client_id: c.client_id, client_secret: c.client_secret, audience: api.identifier, ...extra });

  beforeAll(async () => {
    db = await createTestDatabase(dialect);
    s = await startTessera(dialect, { database: db, masterKey, env: { TESSERA_TOKEN_QUOTA_ORGANIZATIONS: 'per_day=7,enforce=false' } });
    api = await createApi(s, {});
  });
  afterAll(async () => { await s?.close(); await db?.drop(); });

  it('GET shows the environment defaults until written; PATCH replaces default_token_quota whole; fields projects', async () => {
    expect(await s.api('GET', '/tenants/settings')).toMatchObject({ status: 200, body: { default_token_quota: { organizations: { client_credentials: { per_day: 7, enforce: false } } } } });
    const quota = { clients: { client_credentials: { enforce: true, per_hour: 1 } }, organizations: { client_credentials: { per_day: 2 } } };
    const set = await s.api('PATCH', '/tenants/settings', { default_token_quota: quota });
    expect(set).toMatchObject({ status: 200, body: { default_token_quota: quota } });
    expect((await s.api('GET', '/tenants/settings')).body).toEqual({ default_token_quota: quota });
    expect((await s.api('GET', '/tenants/settings?fields=default_token_quota&include_fields=false')).body).toEqual({});
    expect((await s.api('GET', '/tenants/settings?fields=default_token_quota')).body).toEqual({ default_token_quota: quota });
    const only = await s.api('PATCH', '/tenants/settings', { default_token_quota: { clients: { client_credentials: { per_day: 3 } } } });
    expect(only.body).toEqual({ default_token_quota: { clients: { client_credentials: { per_day: 3 } } } });
    expect((await s.api('PATCH', '/tenants/settings', {})).body).toEqual(only.body);
    expect((await s.api('PATCH', '/tenants/settings', { default_token_quota: null })).body).toEqual({});
    // written once: the environment's default no longer applies, also after a restart
    await s.close();
    s = await startTessera(dialect, { database: db, masterKey, clock: s.clock, env: { TESSERA_TOKEN_QUOTA_ORGANIZATIONS: 'per_day=7,enforce=false' } });
    expect((await s.api('GET', '/tenants/settings')).body).toEqual({});
  });

  it('refuses bad shapes, unknown settings, missing scopes and a missing token; a refused PATCH changes nothing', async () => {
    const before = { default_token_quota: { clients: { client_credentials: { per_hour: 5 } } } };
    expect((await s.api('PATCH', '/tenants/settings', before)).status).toBe(200);
    const bad: unknown[] = [
      { default_token_quota: {} },
      { default_token_quota: { clients: {} } },
      { default_token_quota: { clients: { client_credentials: {} } } },
      { default_token_quota: { clients: { client_credentials: { per_hour: 0 } } } },
      { default_token_quota: { clients: { client_credentials: { per_day: 2147483648 } } } },
      { default_token_quota: { clients: { client_credentials: { per_hour: 1.5 } } } },
      { default_token_quota: { clients: { client_credentials: { enforce: 'yes' } } } },
      { default_token_quota: { users: { client_credentials: { per_hour: 1 } } } },
      { default_token_quota: 'none' },
      { friendly_name: 'Acme' },
      { default_token_quota: { clients: { client_credentials: { per_hour: 1 } } }, extra: 1 },
    ];
    for (const body of bad) {
      const r = await s.api('PATCH', '/tenants/settings', body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body).toMatchObject({ statusCode: 400, error: 'Bad Request', errorCode: expect.any(String) });
    }
    const raw = await s.t.app.inject({ method: 'PATCH', url: '/api/v2/tenants/settings', headers: { authorization: `Bearer ${await s.adminToken()}`, 'content-type': 'application/json' }, payload: '{"default_token_quota":' });
    expect(raw.statusCode).toBe(400);
    const reader = await managementToken(s, ['read:tenant_settings']);
    expect((await s.api('GET', '/tenants/settings', undefined, { token: reader })).body).toEqual(before);
    const denied = await s.api('PATCH', '/tenants/settings', { default_token_quota: null }, { token: reader });
    expect(denied.status).toBe(403);
    expect(denied.body).toEqual({ statusCode: 403, error: 'Forbidden', message: 'Insufficient scope, expected any of: update:tenant_settings', errorCode: 'insufficient_scope' });
    const other = await managementToken(s, ['read:clients']);
    expect((await s.api('GET', '/tenants/settings', undefined, { token: other })).status).toBe(403);
    expect((await s.api('GET', '/tenants/settings', undefined, { token: null })).status).toBe(401);
    expect((await s.api('PATCH', '/tenants/settings', { default_token_quota: null }, { token: null })).status).toBe(401);
    expect((await s.api('GET', '/tenants/settings')).body).toEqual(before);
  });

  it('applies the defaults to clients and organizations without their own quota, here and on a second instance', async () => {
    const other = await startTessera(dialect, { database: db, masterKey, clock: s.clock });
    try {
      const plain = await granted({ organization_usage: 'allow' });
      const own = await granted();
      expect((await s.api('PATCH', `/clients/${own.client_id}`, { token_quota: { client_credentials: { per_hour: 3 } } })).status).toBe(200);
      const org = await s.api('POST', '/organizations', { name: `tq-${Date.now()}` });
      expect((await s.api('POST', `/organizations/${org.body.id}/client-grants`, { grant_id: plain.grantId })).status).toBe(201);
      expect((await s.api('PATCH', '/tenants/settings', { default_token_quota: {
        clients: { client_credentials: { per_hour: 1 } }, organizations: { client_credentials: { enforce: true, per_day: 1 } },
      } })).status).toBe(200);
      // the other instance hears of the write through the change feed (NOTIFY, or the 250 ms poll on SQLite)
      await eventually(async () => /^b=per_hour;q=1;/.test(String((await ask(other, plain)).headers['auth0-client-quota-limit'])));
      const refused = await ask(s, plain);
      expect(refused.status).toBe(429);
      expect(refused.body.error_description).toBe('Too Many Requests: the client token quota (per_hour) has been exceeded.');
      expect(refused.headers['auth0-client-quota-limit']).toMatch(/^b=per_hour;q=1;r=0;t=\d+$/);
      // a client's own quota replaces the default
      const mine = await ask(other, own);
      expect(mine.status).toBe(200);
      expect(mine.headers['auth0-client-quota-limit']).toMatch(/^b=per_hour;q=3;r=2;/);
      // the organization default: its own header, its own window (and no client default any more)
      expect((await s.api('PATCH', '/tenants/settings', { default_token_quota: { organizations: { client_credentials: { per_day: 1 } } } })).status).toBe(200);
      const first = await ask(s, plain, { organization: org.body.id });
      expect(first.status).toBe(200);
      expect(first.headers['auth0-organization-quota-limit']).toMatch(/^b=per_day;q=1;r=0;t=\d+$/);
      expect(first.headers['auth0-client-quota-limit']).toBeUndefined();
      await eventually(async () => (await ask(other, plain, { organization: org.body.id })).body.error_description === 'Too Many Requests: the organization token quota (per_day) has been exceeded.');
      // cleared: issued without quota headers on both instances
      expect((await other.api('PATCH', '/tenants/settings', { default_token_quota: null })).status).toBe(200);
      await eventually(async () => (await ask(s, plain, { organization: org.body.id })).status === 200);
      const free = await ask(other, plain, { organization: org.body.id });
      expect(free.status).toBe(200);
      expect(free.headers['auth0-organization-quota-limit']).toBeUndefined();
    } finally {
      await other.close();
    }
  });

  it('warn-only (enforce: false) logs one warn line per token over the quota and issues it, with the headers', async () => {
    const lines: Array<Record<string, any>> = [];
    const sink = new Writable({ write(chunk, _enc, done) { for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l)); done(); } });
    const logged = await startTessera(dialect, { database: db, masterKey, clock: s.clock, logger: createLogger('warn', sink) });
    try {
      const c = await granted();
      expect((await s.api('PATCH', `/clients/${c.client_id}`, { token_quota: { client_credentials: { enforce: false, per_hour: 1 } } })).status).toBe(200);
      await eventually(async () => (await ask(logged, c)).headers['auth0-client-quota-limit'] !== undefined);
      const warned = lines.filter((l) => l.msg === 'token quota exceeded (not enforced): token issued');
      const before = warned.length;
      const over = await ask(logged, c);
      expect(over.status).toBe(200);
      expect(over.body.access_token).toEqual(expect.any(String));
      expect(over.headers['auth0-client-quota-limit']).toMatch(/^b=per_hour;q=1;r=0;t=\d+$/);
      const now = lines.filter((l) => l.msg === 'token quota exceeded (not enforced): token issued');
      expect(now).toHaveLength(before + 1);
      expect(now.at(-1)).toMatchObject({ level: 40, quota: { subject: 'client', id: c.client_id, period: 'per_hour', limit: 1, count: expect.any(Number) } });
      expect(now.at(-1)!.quota.count).toBeGreaterThan(1);
      expect(JSON.stringify(lines)).not.toContain(c.client_secret);
      expect(JSON.stringify(lines)).not.toContain(over.body.access_token);
    } finally {
      await logged.close();
    }
  });
});
