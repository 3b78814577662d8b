import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import { createSecretBox } from '@tessera/core';
import { openStore } from '@tessera/store';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ADMIN_SECRET, eachDialect, startTessera, type TestServer } from './helpers/tessera';

/** Every text value in every table of the raw database. */
async function rawDump(s: TestServer): Promise<string> {
  if (s.dialect === 'sqlite') {
    const db = new Database(s.db.url.slice('sqlite:'.length), { readonly: true });
    try {
      const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{ name: string }>;
      return tables.map((t) => JSON.stringify(db.prepare(`SELECT * FROM "${t.name}"`).all())).join('\n');
    } finally {
      db.close();
    }
  }
  const c = new pg.Client({ connectionString: s.db.url });
  await c.connect();
  try {
    const { rows } = await c.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public'");
    const parts: string[] = [];
    for (const r of rows) parts.push(JSON.stringify((await c.query(`SELECT * FROM "${r.tablename}"`)).rows));
    return parts.join('\n');
  } finally {
    await c.end();
  }
}

eachDialect('secrets at rest', (dialect) => {
  let s: TestServer;
  beforeAll(async () => { s = await startTessera(dialect); });
  afterAll(async () => { await s.close(); });

  it('stores no client secret, HS256 signing secret or private key in plaintext', async () => {
    const hs = await s.api('POST', '/resource-servers', { identifier: 'urn:secret:hs', signing_alg: 'HS256', signing_secret: 'plaintext-hs256-signing-secret-value' });
    expect(hs.status).toBe(201);
    const generated = await s.api('POST', '/resource-servers', { identifier: 'urn:secret:hs2', signing_alg: 'HS256' });
    const client = await s.api('POST', '/clients', { name: 'secretive', app_type: 'non_interactive' });
    expect(client.status).toBe(201);
    const keys = await s.t.services.store.signingKeys.list();
    expect(keys.length).toBeGreaterThanOrEqual(2);

    const dump = await rawDump(s);
    const secrets = [
      'plaintext-hs256-signing-secret-value', generated.body.signing_secret, client.body.client_secret, ADMIN_SECRET,
      ...keys.map((k) => k.privateKeyPkcs8.split('\n')[1]), // the first base64 line of each private key
    ];
    for (const secret of secrets) {
      expect(secret.length).toBeGreaterThan(16);
      expect(dump).not.toContain(secret);
    }
    expect(dump).not.toContain('PRIVATE KEY');
    expect(dump).toMatch(/v1\.[A-Za-z0-9_-]{8}\./); // the AES-256-GCM envelopes are there instead
  });

  it('stores TOTP secrets sealed and recovery codes and mfa_tokens only as hashes', async () => {
    const user = await s.api('POST', '/users', { connection: 'Username-Password-Authentication', email: 'totp-at-rest@example.com', password: 'Correct-Horse-9' });
    const web = await s.api('POST', '/clients', { name: 'totp app', app_type: 'regular_web', grant_types: ['password'] });
    expect(user.status + web.status).toBe(402);
    const login = { grant_type: 'password', username: 'totp-at-rest@example.com', password: 'Correct-Horse-9', client_id: web.body.client_id, client_secret: web.body.client_secret };
    const t = await s.token({ ...login, audience: 'https://tessera.test/mfa/', scope: 'enroll' });
    const assoc = await s.t.app.inject({ method: 'POST', url: '/mfa/associate', headers: { authorization: `Bearer ${t.body.access_token}` }, payload: { authenticator_types: ['otp'] } });
    const { secret, recovery_codes: [recovery] } = JSON.parse(assoc.body) as { secret: string; recovery_codes: string[] };
    const mfaToken = (await s.token(login)).body.mfa_token as string;
    expect(mfaToken).toBeDefined();
    const dump = await rawDump(s);
    for (const value of [secret, recovery, mfaToken]) expect(dump).not.toContain(value);
  });

  it('cannot read secrets back with another master key', async () => {
    // the same rows opened under a different master key must fail loudly, not return garbage
    const store = openStore(s.db.url, createSecretBox([randomBytes(32)]));
    try {
      await expect(store.clients.findById('test-admin-client')).rejects.toThrow(/unknown master key/);
    } finally {
      await store.close();
    }
  });
});
