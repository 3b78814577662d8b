import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLogger, createTessera, loadConfig, type Tessera } from '@tessera/server';
import { createTestDatabase, type TestDatabase } from './helpers/databases';
import { ADMIN_ID, ADMIN_SECRET, MGMT_AUDIENCE, PUBLIC_URL } from './helpers/tessera';
import { lazyChildLogger } from '../packages/server/src/logger';

/**
 * Per-request loggers are created lazily (only when a line is written); what reaches the log must be
 * exactly what pino's per-request child would write: request id bindings, levels, redaction.
 */
describe('request logging', () => {
  let db: TestDatabase;
  let t: Tessera;
  let lines: Array<Record<string, any>> = [];

  const token = (params: Record<string, string>) => t.app.inject({
    method: 'POST', url: '/oauth/token', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams(params).toString(),
  });

  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
    const sink = new Writable({ write(chunk, _enc, done) { for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l)); done(); } });
    t = await createTessera(loadConfig({
      TESSERA_DATABASE_URL: db.url, TESSERA_PUBLIC_URL: PUBLIC_URL, TESSERA_ADMIN_CLIENT_ID: ADMIN_ID, TESSERA_ADMIN_CLIENT_SECRET: ADMIN_SECRET,
      TESSERA_MASTER_KEY: randomBytes(32).toString('base64'),
    }), { logger: createLogger('info', sink) });
  });
  afterAll(async () => { await t.close(); await db.drop(); });
  beforeEach(() => { lines = []; });

  it('token requests: nothing at info on success; failures at info with the OAuth error and the refusing check, nothing secret', async () => {
    expect((await token({ grant_type: 'client_credentials', client_id: ADMIN_ID, client_secret: ADMIN_SECRET, audience: MGMT_AUDIENCE })).statusCode).toBe(200);
    expect(lines).toEqual([]);
    expect((await token({ grant_type: 'client_credentials', client_id: ADMIN_ID, client_secret: 'wrong-secret', audience: MGMT_AUDIENCE })).statusCode).toBe(401);
    expect((await token({ grant_type: 'client_credentials', client_id: ADMIN_ID, client_secret: ADMIN_SECRET, audience: 'https://nowhere.example' })).statusCode).toBe(403);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ level: 30, msg: 'request completed', req: { method: 'POST', route: '/oauth/token' }, res: { statusCode: 401 }, client_id: ADMIN_ID, error: 'access_denied' });
    expect(lines[1]).toMatchObject({ res: { statusCode: 403 }, error: 'access_denied', error_description: 'Service not enabled within domain: https://nowhere.example' });
    expect(typeof lines[0].responseTime).toBe('number');
    const text = JSON.stringify(lines);
    for (const secret of [ADMIN_SECRET, 'wrong-secret']) expect(text).not.toContain(secret);
  });

  it('logs one line per Management request at info: route, status, latency, client, resource id; secret headers never', async () => {
    const access = JSON.parse((await token({ grant_type: 'client_credentials', client_id: ADMIN_ID, client_secret: ADMIN_SECRET, audience: MGMT_AUDIENCE })).body).access_token;
    const res = await t.app.inject({ method: 'GET', url: '/api/v2/resource-servers', headers: { authorization: `Bearer ${access}` } });
    expect(res.statusCode).toBe(200);
    const missing = await t.app.inject({ method: 'GET', url: '/api/v2/clients/cl-none', headers: { authorization: `Bearer ${access}` } });
    expect(missing.statusCode).toBe(404);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ level: 30, pid: process.pid, msg: 'request completed', req: { method: 'GET', route: '/api/v2/resource-servers' }, res: { statusCode: 200 }, client_id: ADMIN_ID });
    expect(typeof lines[0].reqId).toBe('string');
    expect(lines[1]).toMatchObject({ req: { route: '/api/v2/clients/:id' }, res: { statusCode: 404 }, client_id: ADMIN_ID, resource_id: 'cl-none', error: 'inexistent_client' });
    expect(lines[1].reqId).not.toBe(lines[0].reqId);
    expect(JSON.stringify(lines)).not.toContain(access);
  });

  it('the lazy per-request logger writes at enabled levels only, with its bindings and redaction', async () => {
    const log = lazyChildLogger(createLogger('info', new Writable({ write(chunk, _e, done) { lines.push(JSON.parse(String(chunk))); done(); } })), { reqId: 'req-7' }, { level: 'warn' });
    expect(log.level).toBe('warn');
    expect(log.isLevelEnabled('info')).toBe(false);
    log.info('hidden');
    log.warn({ client_secret: 'shh' }, 'shown');
    log.child({ step: 'sign' }).error('child line');
    expect(lines.map((l) => [l.level, l.msg, l.reqId])).toEqual([[40, 'shown', 'req-7'], [50, 'child line', 'req-7']]);
    expect(lines[0].client_secret).toBe('[redacted]');
    expect(lines[1].step).toBe('sign');
  });
});
