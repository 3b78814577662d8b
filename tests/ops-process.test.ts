import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCerts } from './helpers/certs';
import { freePort, runCli, spawnTessera, type RunningServer } from './helpers/process';

const ADMIN = { TESSERA_ADMIN_CLIENT_ID: 'ops-admin', TESSERA_ADMIN_CLIENT_SECRET: 'ops-admin-secret-0123456789' };

async function token(base: string, secret = ADMIN.TESSERA_ADMIN_CLIENT_SECRET): Promise<Response> {
  return fetch(`${base}/oauth/token`, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: ADMIN.TESSERA_ADMIN_CLIENT_ID, client_secret: secret, audience: `${base}/api/v2/` }),
  });
}

describe('tessera serve as a process (SQLite)', () => {
  let server: RunningServer;
  let base: string;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-ops-'));
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    server = await spawnTessera({ TESSERA_PORT: String(port), TESSERA_PUBLIC_URL: base, TESSERA_DATABASE_URL: `sqlite:${join(dir, 'db', 't.db')}`, TESSERA_LOG_LEVEL: 'debug' });
  });
  afterAll(async () => { await server?.stop('SIGKILL'); });

  it('prints where it listens and the issuer', () => {
    expect(server.output()).toContain(`Tessera listening on ${base}`);
    expect(server.output()).toContain(`issuer:               ${base}/`);
  });

  it('prints a generated admin secret on first start that works at /oauth/token', async () => {
    const m = /admin client_id:\s+(\S+)[\s\S]*admin client_secret:\s+(\S+)/.exec(server.output());
    expect(m).not.toBeNull();
    // this first server was started without TESSERA_ADMIN_*: its generated client works
    const res = await fetch(`${base}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ grant_type: 'client_credentials', client_id: m![1], client_secret: m![2], audience: `${base}/api/v2/` }) });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it('answers health and metrics', async () => {
    expect(await (await fetch(`${base}/health/live`)).json()).toEqual({ status: 'ok' });
    expect(await (await fetch(`${base}/health/ready`)).json()).toEqual({ status: 'ok' });
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toContain('tessera_http_requests_total{route="/oauth/token",status="200"} 1');
  });

  it('never writes secrets to its logs', async () => {
    await fetch(`${base}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: 'Basic ' + Buffer.from('x:leaky-basic-secret').toString('base64') }, body: 'grant_type=client_credentials&audience=x' });
    await fetch(`${base}/api/v2/clients`, { headers: { authorization: 'Bearer leaky-bearer-token' } });
    await new Promise((r) => setTimeout(r, 300));
    expect(server.output()).not.toContain('leaky-basic-secret');
    expect(server.output()).not.toContain('leaky-bearer-token');
  });

  it('does not print the admin secret again on a second start', async () => {
    await server.stop();
    const port = await freePort();
    const again = await spawnTessera({ TESSERA_PORT: String(port), TESSERA_DATABASE_URL: `sqlite:${join(dir, 'db', 't.db')}` });
    try {
      expect(again.output()).toContain('admin client_id:');
      expect(again.output()).not.toContain('admin client_secret:');
    } finally {
      await again.stop();
    }
  });
});

describe('graceful shutdown', () => {
  it('finishes an in-flight request after SIGTERM, then exits 0', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-ops-'));
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const server = await spawnTessera({ ...ADMIN, TESSERA_PORT: String(port), TESSERA_PUBLIC_URL: base, TESSERA_DATABASE_URL: `sqlite:${join(dir, 't.db')}` });
    const body = new URLSearchParams({ grant_type: 'client_credentials', client_id: ADMIN.TESSERA_ADMIN_CLIENT_ID, client_secret: ADMIN.TESSERA_ADMIN_CLIENT_SECRET, audience: `${base}/api/v2/` }).toString();
    const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, path: '/oauth/token', method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) } }, (res) => {
        let data = '';
        res.on('data', (d) => { data += d; });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data }));
      });
      req.on('error', reject);
      req.write(body.slice(0, 10)); // the request is now in flight, its body incomplete
      setTimeout(() => {
        server.proc.kill('SIGTERM');
        setTimeout(() => req.end(body.slice(10)), 300);
      }, 200);
    });
    const res = await response;
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body).access_token).toMatch(/^ey/);
    expect(await server.exited).toBe(0);
  });
});

describe('HTTPS via TESSERA_TLS_CERT / TESSERA_TLS_KEY', () => {
  it('serves the discovery document over TLS with the configured public URL', async () => {
    const certs = makeCerts();
    const dir = mkdtempSync(join(tmpdir(), 'tessera-ops-'));
    const port = await freePort();
    const server = await spawnTessera({ ...ADMIN, TESSERA_PORT: String(port), TESSERA_PUBLIC_URL: `https://127.0.0.1:${port}`, TESSERA_DATABASE_URL: `sqlite:${join(dir, 't.db')}`, TESSERA_TLS_CERT: certs.certFile, TESSERA_TLS_KEY: certs.keyFile });
    try {
      expect(server.output()).toContain(`Tessera listening on https://127.0.0.1:${port}`);
      const doc = await new Promise<any>((resolve, reject) => {
        httpsRequest({ host: '127.0.0.1', port, path: '/.well-known/openid-configuration', ca: certs.ca }, (res) => {
          let data = '';
          res.on('data', (d) => { data += d; });
          res.on('end', () => resolve(JSON.parse(data)));
        }).on('error', reject).end();
      });
      expect(doc.issuer).toBe(`https://127.0.0.1:${port}/`);
      expect(doc.token_endpoint).toBe(`https://127.0.0.1:${port}/oauth/token`);
    } finally {
      await server.stop();
    }
  });
});

describe('tessera migrate', () => {
  it('applies migrations once and then reports the database up to date', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-ops-'));
    const env = { TESSERA_DATABASE_URL: `sqlite:${join(dir, 't.db')}` };
    const first = await runCli(['migrate'], env);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^applied: 0001_m2m_slice/);
    const second = await runCli(['migrate'], env);
    expect(second.stdout).toBe('database is up to date\n');
  });
});

export { token };
