import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { MANAGEMENT_SCOPES } from '@tessera/core';
import { createTessera, loadConfig } from '@tessera/server';
import pino from 'pino';
import { createTestDatabase, type TestDatabase } from '../helpers/databases';
import { runCli } from '../helpers/process';
import { ADMIN_ID, ADMIN_SECRET, eachDialect, MGMT_AUDIENCE, PUBLIC_URL, startTessera, type TestServer } from '../helpers/tessera';

/**
 * The bootstrap admin client is created from TESSERA_ADMIN_CLIENT_ID/SECRET on the first start only. What the
 * operator does to it afterwards (rotate the secret, narrow or delete its grant, delete it) survives restarts
 * with the same environment; `tessera admin reset-credentials` is the explicit, logged way back.
 * The steps run in order on one database, restarting the server between them.
 */
const UNAUTHORIZED = { status: 401, body: { error: 'access_denied', error_description: 'Unauthorized' } };
const NO_GRANT = {
  status: 403,
  body: { error: 'access_denied', error_description: `Client "${ADMIN_ID}" is not authorized to access resource server "${MGMT_AUDIENCE}". You need to create a "client-grant" associated to this API.` },
};

eachDialect('the bootstrap admin stays what the operator made it', (dialect) => {
  const masterKey = randomBytes(32).toString('base64');
  let database: TestDatabase;
  let s: TestServer;
  let secret = ADMIN_SECRET;

  const restart = async () => {
    await s.close();
    s = await startTessera(dialect, { masterKey, database });
  };
  const adminToken = async (clientSecret: string, on = s) => {
    const r = await on.token({ grant_type: 'client_credentials', client_id: ADMIN_ID, client_secret: clientSecret, audience: MGMT_AUDIENCE });
    return { status: r.status, body: r.body };
  };
  const bearer = async (clientSecret: string) => {
    const r = await adminToken(clientSecret);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    return r.body.access_token as string;
  };
  const cliEnv = (extra: Record<string, string> = {}) => ({
    TESSERA_DATABASE_URL: database.url, TESSERA_PUBLIC_URL: PUBLIC_URL, TESSERA_MASTER_KEY: masterKey, TESSERA_LOG_LEVEL: 'warn',
    TESSERA_ADMIN_CLIENT_ID: ADMIN_ID, TESSERA_ADMIN_CLIENT_SECRET: ADMIN_SECRET, ...extra,
  });
  /** Polls the running server for up to 1.5 s (its change poll is 250 ms) until `done`. */
  const eventually = async (clientSecret: string, done: (r: { status: number }) => boolean) => {
    const started = Date.now();
    let r = await adminToken(clientSecret);
    while (!done(r) && Date.now() - started < 1500) {
      await new Promise((res) => setTimeout(res, 50));
      r = await adminToken(clientSecret);
    }
    return r;
  };

  beforeAll(async () => {
    database = await createTestDatabase(dialect);
    s = await startTessera(dialect, { masterKey, database });
  });
  afterAll(async () => {
    await s?.close();
    await database?.drop();
  });

  it('first start: the environment\'s credentials get a token with every Management scope', async () => {
    const r = await adminToken(ADMIN_SECRET);
    expect(r.status).toBe(200);
    expect(r.body.scope.split(' ').sort()).toEqual([...MANAGEMENT_SCOPES].map((x) => x.value).sort());
  });

  it('a secret rotated through the API survives a restart with the old secret still in the environment', async () => {
    const rotated = await s.api('POST', `/clients/${ADMIN_ID}/rotate-secret`);
    expect(rotated.status).toBe(200);
    secret = rotated.body.client_secret;
    await restart();
    expect(await adminToken(ADMIN_SECRET)).toEqual(UNAUTHORIZED);
    expect((await adminToken(secret)).status).toBe(200);
  });

  it('a narrowed grant stays narrow after a restart', async () => {
    const token = await bearer(secret);
    const grants = await s.api('GET', `/client-grants?client_id=${ADMIN_ID}`, undefined, { token });
    expect(grants.body).toHaveLength(1);
    const narrowed = await s.api('PATCH', `/client-grants/${grants.body[0].id}`, { allow_all_scopes: false, scope: ['read:client_grants', 'delete:client_grants'] }, { token });
    expect(narrowed.status, JSON.stringify(narrowed.body)).toBe(200);
    await restart();
    const r = await adminToken(secret);
    expect(r.status).toBe(200);
    expect(r.body.scope).toBe('read:client_grants delete:client_grants');
  });

  it('a deleted grant stays deleted after a restart', async () => {
    const token = await bearer(secret);
    const grants = await s.api('GET', `/client-grants?client_id=${ADMIN_ID}`, undefined, { token });
    expect((await s.api('DELETE', `/client-grants/${grants.body[0].id}`, undefined, { token })).status).toBe(204);
    await restart();
    expect(await adminToken(secret)).toEqual(NO_GRANT);
    expect(await adminToken(ADMIN_SECRET)).toEqual(UNAUTHORIZED);
  });

  it('`tessera admin reset-credentials` (another process) gives a new secret and every scope back; the running server sees it', async () => {
    expect(await adminToken(secret)).toEqual(NO_GRANT); // warm: the running server has the client cached
    const run = await runCli(['admin', 'reset-credentials'], cliEnv());
    expect(run.code, run.stderr).toBe(0);
    const out = JSON.parse(run.stdout);
    expect(Object.keys(out)).toEqual(['client_id', 'client_secret']);
    expect(out.client_id).toBe(ADMIN_ID);
    expect(out.client_secret).toMatch(/^[A-Za-z0-9_-]{64}$/);
    const warning = run.stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l)).find((l) => l.msg.startsWith('admin credentials reset'));
    expect(warning).toMatchObject({ level: 40, admin_client_id: ADMIN_ID, client: 'reset', grant: 'created', secret: 'generated' });
    expect(run.stderr).not.toContain(out.client_secret);
    expect(await eventually(secret, (r) => r.status === 401)).toEqual(UNAUTHORIZED);
    const fresh = await eventually(out.client_secret, (r) => r.status === 200);
    expect(fresh.status).toBe(200);
    expect(fresh.body.scope.split(' ')).toHaveLength(MANAGEMENT_SCOPES.length);
    expect(await adminToken(ADMIN_SECRET)).toEqual(UNAUTHORIZED);
    secret = out.client_secret;
  });

  it('a deleted admin client is not recreated by a restart, and the start logs why', async () => {
    const token = await bearer(secret);
    expect((await s.api('DELETE', `/clients/${ADMIN_ID}`, undefined, { token })).status).toBe(204);
    await s.close();
    const lines: string[] = [];
    const sink = new Writable({ write(chunk, _enc, cb) { lines.push(String(chunk)); cb(); } });
    const t = await createTessera(loadConfig({
      TESSERA_DATABASE_URL: database.url, TESSERA_PUBLIC_URL: PUBLIC_URL, TESSERA_PORT: '0', TESSERA_MASTER_KEY: masterKey,
      TESSERA_ADMIN_CLIENT_ID: ADMIN_ID, TESSERA_ADMIN_CLIENT_SECRET: ADMIN_SECRET,
    }), { logger: pino({ level: 'warn' }, sink) });
    try {
      expect(await t.services.store.clients.findById(ADMIN_ID)).toBeUndefined();
      expect(await t.services.store.clientGrants.findFor(ADMIN_ID, MGMT_AUDIENCE, 'client')).toBeUndefined();
      expect(lines.map((l) => JSON.parse(l))).toContainEqual(expect.objectContaining({
        level: 40, admin_client_id: ADMIN_ID,
        msg: 'the bootstrap admin client was deleted and is not recreated; run `tessera admin reset-credentials` to restore the admin client',
      }));
    } finally {
      await t.close();
    }
    s = await startTessera(dialect, { masterKey, database });
    expect(await adminToken(ADMIN_SECRET)).toEqual(UNAUTHORIZED);
  });

  it('reset-credentials --use-env-secret recreates the deleted admin client with the environment\'s secret', async () => {
    const envSecret = `env-${randomBytes(24).toString('hex')}`;
    const run = await runCli(['admin', 'reset-credentials', '--use-env-secret'], cliEnv({ TESSERA_ADMIN_CLIENT_SECRET: envSecret }));
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ client_id: ADMIN_ID });
    expect(run.stderr).toContain('"client":"created"');
    expect(run.stderr).toContain('"secret":"from TESSERA_ADMIN_CLIENT_SECRET"');
    const r = await eventually(envSecret, (x) => x.status === 200);
    expect(r.status).toBe(200);
    expect(r.body.scope.split(' ')).toHaveLength(MANAGEMENT_SCOPES.length);
    expect(await adminToken(secret)).toEqual(UNAUTHORIZED);
  });

  it('reset-credentials refuses when TESSERA_ADMIN_CLIENT_ID names another client, and changes nothing', async () => {
    const before = await s.t.services.store.generation();
    const run = await runCli(['admin', 'reset-credentials'], cliEnv({ TESSERA_ADMIN_CLIENT_ID: 'someone-else', TESSERA_ADMIN_CLIENT_SECRET: 'x'.repeat(40) }));
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(`tessera: TESSERA_ADMIN_CLIENT_ID (someone-else) is not the bootstrap admin client (${ADMIN_ID}); pass --client-id to choose which client becomes the admin\n`);
    expect(await s.t.services.store.generation()).toBe(before);
    expect(await s.t.services.store.clients.findById('someone-else')).toBeUndefined();
  });
});
