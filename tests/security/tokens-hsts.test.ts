import { request as httpsRequest } from 'node:https';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '@tessera/server';
import { makeCerts, type TestCerts } from '../helpers/certs';
import { startTessera, type TestServer } from '../helpers/tessera';
import { runCli } from '../helpers/process';

interface Answer { status: number; hsts: string | string[] | undefined }

function overTls(port: number, ca: Buffer, method: string, path: string, body?: string, type = 'application/x-www-form-urlencoded'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host: '127.0.0.1', port, path, method, ca, headers: body === undefined ? {} : { 'content-type': type } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode!, hsts: res.headers['strict-transport-security'] }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('Strict-Transport-Security over real HTTPS (TESSERA_TLS_CERT/KEY)', () => {
  let certs: TestCerts;
  let s: TestServer;
  let port: number;
  beforeAll(async () => {
    certs = makeCerts();
    s = await startTessera('sqlite', { env: { TESSERA_TLS_CERT: certs.certFile, TESSERA_TLS_KEY: certs.keyFile } });
    await s.t.app.listen({ host: '127.0.0.1', port: 0 });
    port = (s.t.app.server.address() as { port: number }).port;
  }, 30_000);
  afterAll(async () => { await s?.close(); });

  it.each([
    ['a successful GET', 'GET', '/.well-known/openid-configuration', undefined, 200],
    ['a 404', 'GET', '/no/such/route', undefined, 404],
    ['an OAuth error', 'POST', '/oauth/token', 'grant_type=password', 400],
    ['a Management 401', 'GET', '/api/v2/clients', undefined, 401],
    ['a malformed JSON body', 'POST', '/oauth/token', '{"grant_type":', 400],
    ['a bad percent-encoding in the path', 'GET', '/api/v2/clients/%E0%A4%A', undefined, 400],
  ])('is sent on %s', async (_name, method, path, body, status) => {
    const r = await overTls(port, certs.ca, method, path, body, body?.startsWith('{') ? 'application/json' : undefined);
    expect(r.status).toBe(status);
    expect(r.hsts).toBe('max-age=31536000');
  });
});

describe('Strict-Transport-Security configuration', () => {
  const sqlite = () => `sqlite:${join(mkdtempSync(join(tmpdir(), 'tessera-hsts-')), 't.db')}`;

  it('is sent behind a TLS-terminating proxy when TESSERA_PUBLIC_URL is https, with the configured max-age', async () => {
    const s = await startTessera('sqlite', { env: { TESSERA_HSTS_MAX_AGE: '600' } }); // the helper's public URL is https://tessera.test
    try {
      const ok = await s.t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' });
      const missing = await s.t.app.inject({ method: 'GET', url: '/nothing-here' });
      expect([ok.statusCode, ok.headers['strict-transport-security']]).toEqual([200, 'max-age=600']);
      expect([missing.statusCode, missing.headers['strict-transport-security']]).toEqual([404, 'max-age=600']);
    } finally { await s.close(); }
  });

  it('sends max-age=0 when TESSERA_HSTS_MAX_AGE is 0, so browsers drop a previous policy', async () => {
    const s = await startTessera('sqlite', { env: { TESSERA_HSTS_MAX_AGE: '0' } });
    try {
      const r = await s.t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' });
      expect(r.headers['strict-transport-security']).toBe('max-age=0');
    } finally { await s.close(); }
  });

  it('is not sent by a plain-HTTP deployment (http public URL, no TLS)', async () => {
    const s = await startTessera('sqlite', { env: { TESSERA_PUBLIC_URL: 'http://localhost:3000' } });
    try {
      const r = await s.t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' });
      expect(r.statusCode).toBe(200);
      expect(r.headers['strict-transport-security']).toBeUndefined();
    } finally { await s.close(); }
  });

  it.each(['-1', 'a year', '1.5', '99999999999'])('refuses TESSERA_HSTS_MAX_AGE=%s naming the variable', (value) => {
    let err: unknown;
    try { loadConfig({ TESSERA_DATABASE_URL: sqlite(), TESSERA_HSTS_MAX_AGE: value }); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).variable).toBe('TESSERA_HSTS_MAX_AGE');
  });

  it('stops start-up with exit 78 on a bad TESSERA_HSTS_MAX_AGE', async () => {
    const r = await runCli(['serve'], { TESSERA_DATABASE_URL: sqlite(), TESSERA_HSTS_MAX_AGE: 'forever' });
    expect(r.code).toBe(78);
    expect(r.stderr).toContain('TESSERA_HSTS_MAX_AGE');
  });
});
