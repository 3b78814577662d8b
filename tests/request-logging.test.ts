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

  it('writes nothing for token requests (route level warn), successful or refused', async () => {
    expect((await token({ grant_type: 'client_credentials', client_id: ADMIN_ID, client_secret: ADMIN_SECRET, audience: MGMT_AUDIENCE })).statusCode).toBe(200);
    expect((await token({ grant_type: 'client_credentials', client_id: ADMIN_ID, client_secret: 'wrong-secret', audience: MGMT_AUDIENCE })).statusCode).toBe(401);
    expect(lines).toEqual([]);
  });

  it('logs Management requests at info with one request id per request and the secret headers redacted', async () => {
    const access = JSON.parse((await token({ grant_type: 'client_credentials', client_id: ADMIN_ID, client_secret: ADMIN_SECRET, audience: MGMT_AUDIENCE })).body).access_token;
    const res = await t.app.inject({ method: 'GET', url: '/api/v2/resource-servers', headers: { authorization: `Bearer ${access}` } });
    expect(res.statusCode).toBe(200);
    const incoming = lines.find((l) => l.msg === 'incoming request');
    const completed = lines.find((l) => l.msg === 'request completed');
    expect(incoming).toMatchObject({ level: 30, pid: process.pid, req: { method: 'GET', url: '/api/v2/resource-servers' } });
    expect(completed).toMatchObject({ level: 30, res: { statusCode: 200 } });
    expect(typeof incoming?.reqId).toBe('string');
    expect(completed?.reqId).toBe(incoming?.reqId);
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
