import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { SETTINGS } from '@tessera/server';
import { makeCerts, type TestCerts } from './helpers/certs';
import { createTestDatabase, postgresAvailable, type DialectName } from './helpers/databases';
import { CLI, freePort, runCli } from './helpers/process';

// Every start-up failure an operator fixes in the environment: the real binary stops with one line naming the cause
// and the variable to change, and exit code 78 (EX_CONFIG), never a stack trace.
const MASTER_KEY = Buffer.alloc(32, 7).toString('base64');
const dir = mkdtempSync(join(tmpdir(), 'tessera-startup-'));
const sqlite = (name: string) => `sqlite:${join(dir, name, 'tessera.db')}`;

async function serveFails(env: Record<string, string>): Promise<string> {
  const r = await runCli(['serve'], { TESSERA_PORT: String(await freePort()), TESSERA_LOG_LEVEL: 'silent', ...env });
  expect(r.code, r.stderr).toBe(78);
  const lines = r.stderr.trim().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(r.stderr).not.toMatch(/^\s+at /m);
  return lines[0];
}

describe('start-up errors of tessera serve', { timeout: 120_000 }, () => {
  let certs: TestCerts;
  beforeAll(() => { certs = makeCerts(); });

  it('port in use: names the port and TESSERA_PORT', async () => {
    const port = await freePort();
    const blocker: Server = createServer();
    await new Promise<void>((r) => blocker.listen(port, '127.0.0.1', r));
    try {
      const line = await serveFails({ TESSERA_PORT: String(port), TESSERA_DATABASE_URL: sqlite('port') });
      expect(line).toBe(`tessera: cannot start: port 127.0.0.1:${port} is already in use by another process: stop it or change TESSERA_PORT`);
    } finally {
      blocker.close();
    }
  });

  it('PostgreSQL unreachable: names the server and TESSERA_DATABASE_URL', async () => {
    const line = await serveFails({ TESSERA_DATABASE_URL: 'postgres://postgres:hunter2-secret@127.0.0.1:1/tessera', TESSERA_MASTER_KEY: MASTER_KEY });
    expect(line).toBe('tessera: cannot start: PostgreSQL at 127.0.0.1:1/tessera refused the connection (is it running?): check TESSERA_DATABASE_URL');
  });

  it('PostgreSQL refusing the login or the database: says which, never the password', async (ctx) => {
    if (!(await postgresAvailable())) return ctx.skip();
    const role = await serveFails({ TESSERA_DATABASE_URL: 'postgres://no_such_role:pw-secret@127.0.0.1:5432/postgres', TESSERA_MASTER_KEY: MASTER_KEY });
    expect(role).toMatch(/^tessera: cannot start: PostgreSQL at 127\.0\.0\.1:5432\/postgres refused the login .*no_such_role.*: check TESSERA_DATABASE_URL$/);
    expect(role).not.toContain('pw-secret');
    const db = await serveFails({ TESSERA_DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/tessera_no_such_db', TESSERA_MASTER_KEY: MASTER_KEY });
    expect(db).toMatch(/^tessera: cannot start: PostgreSQL at 127\.0\.0\.1:5432\/tessera_no_such_db has no such database .*: check TESSERA_DATABASE_URL$/);
  });

  it('unparsable TLS certificate or key: names the file and the variable', async () => {
    const junk = join(dir, 'junk.pem');
    writeFileSync(junk, '-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n');
    const cert = await serveFails({ TESSERA_DATABASE_URL: sqlite('tls1'), TESSERA_TLS_CERT: junk, TESSERA_TLS_KEY: certs.keyFile });
    expect(cert).toBe(`tessera: invalid configuration: TESSERA_TLS_CERT: ${junk} is not a PEM certificate`);
    const key = await serveFails({ TESSERA_DATABASE_URL: sqlite('tls2'), TESSERA_TLS_CERT: certs.certFile, TESSERA_TLS_KEY: certs.certFile });
    expect(key).toBe(`tessera: invalid configuration: TESSERA_TLS_KEY: ${certs.certFile} is not an unencrypted PEM private key`);
  });

  it('TLS key that is not the certificate\'s: names both files', async () => {
    const line = await serveFails({ TESSERA_DATABASE_URL: sqlite('tls3'), TESSERA_TLS_CERT: certs.certFile, TESSERA_TLS_KEY: join(certs.dir, 'ca.key') });
    expect(line).toBe(`tessera: invalid configuration: TESSERA_TLS_KEY: ${join(certs.dir, 'ca.key')} is not the private key of the certificate in ${certs.certFile} (TESSERA_TLS_CERT)`);
  });

  it('unwritable data folder: names the folder and TESSERA_DATABASE_URL (with and without a master key)', async () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, 'not a folder');
    // a regular file where a folder should be: refused even to root, unlike a chmod
    const generated = await serveFails({ TESSERA_DATABASE_URL: `sqlite:${file}/data/tessera.db` });
    expect(generated).toBe(`tessera: invalid configuration: TESSERA_DATABASE_URL: cannot write the data folder ${file}/data (ENOTDIR): point it at a writable folder, or set TESSERA_MASTER_KEY`);
    const given = await serveFails({ TESSERA_DATABASE_URL: `sqlite:${file}/data/tessera.db`, TESSERA_MASTER_KEY: MASTER_KEY });
    expect(given).toBe(`tessera: cannot start: cannot write the database ${file}/data/tessera.db (ENOTDIR): point TESSERA_DATABASE_URL at a writable folder`);
  });

  for (const dialect of ['sqlite', 'postgres'] as DialectName[]) {
    it(`database written by a newer Tessera (${dialect}): refuses to start, names TESSERA_DATABASE_URL`, async (ctx) => {
      if (dialect === 'postgres' && !(await postgresAvailable())) return ctx.skip();
      const db = await createTestDatabase(dialect);
      try {
        const env = { TESSERA_DATABASE_URL: db.url, TESSERA_MASTER_KEY: MASTER_KEY };
        expect((await runCli(['migrate'], env)).code).toBe(0);
        const insert = `INSERT INTO kysely_migration (name, timestamp) VALUES ('9999_from_the_future', '2030-01-01T00:00:00.000Z')`;
        if (dialect === 'sqlite') {
          const s = new Database(db.url.slice('sqlite:'.length));
          s.exec(insert);
          s.close();
        } else {
          const c = new pg.Client({ connectionString: db.url });
          await c.connect();
          await c.query(insert);
          await c.end();
        }
        const line = await serveFails(env);
        expect(line).toBe('tessera: cannot start: the database was written by a newer Tessera (migration 9999_from_the_future is unknown to this version): run that version or newer, or point TESSERA_DATABASE_URL at another database');
      } finally {
        await db.drop();
      }
    });
  }

  it('misspelled TESSERA_* variables: a warning suggesting the right name', async () => {
    const r = await runCli(['serve'], { TESSERA_PROT: '8080', TESSERA_DATABSE_URL: 'sqlite:x', TESSERA_SOMETHING_ELSE: '1', TESSERA_LOG_LEVEL: 'loud' });
    expect(r.code).toBe(78);
    expect(r.stderr).toContain('tessera: warning: TESSERA_PROT is not a Tessera setting and is ignored: did you mean TESSERA_PORT?\n');
    expect(r.stderr).toContain('tessera: warning: TESSERA_DATABSE_URL is not a Tessera setting and is ignored: did you mean TESSERA_DATABASE_URL?\n');
    expect(r.stderr).toContain('tessera: warning: TESSERA_SOMETHING_ELSE is not a Tessera setting and is ignored (see tessera serve --help)\n');
    expect(r.stderr).toContain('tessera: invalid configuration: TESSERA_LOG_LEVEL: expected one of');
  });
});

describe('tessera serve output', { timeout: 120_000 }, () => {
  it('stdout carries only JSON log lines; the banner is on stderr with a ready-to-run deploy command', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const proc = spawn(process.execPath, [CLI, 'serve'], {
      env: { ...process.env, TESSERA_PORT: String(port), TESSERA_PUBLIC_URL: url, TESSERA_DATABASE_URL: sqlite('banner'), TESSERA_LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '', err = '';
    proc.stdout.on('data', (d) => { out += d; });
    const exited = new Promise((r) => proc.once('exit', r));
    await new Promise<void>((res, rej) => {
      const timer = setTimeout(() => rej(new Error(`no banner:\n${out}\n${err}`)), 30_000);
      proc.stderr.on('data', (d) => { err += d; if (err.includes('--client-secret')) { clearTimeout(timer); res(); } });
      proc.once('exit', (code) => { clearTimeout(timer); rej(new Error(`exited ${code}:\n${out}\n${err}`)); });
    });
    await fetch(`${url}/health/live`);
    proc.kill('SIGTERM');
    await exited;
    expect(err).toContain(`Tessera listening on ${url}`);
    expect(err).toContain(`Management API:       ${url}/api/v2/`);
    expect(err).toMatch(/admin client_secret: +\S+/);
    expect(err).toMatch(new RegExp(`tessera plan -f \\./manifests --domain 127\\.0\\.0\\.1:${port} --insecure-http --client-id \\S+ --client-secret`));
    const lines = out.split('\n').filter(Boolean);
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(() => JSON.parse(line), line).not.toThrow();
  });
});

describe('tessera --version, serve --help, keys list', { timeout: 120_000 }, () => {
  it('--version prints the version', async () => {
    const r = await runCli(['--version'], {});
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('serve --help lists every environment variable with its default', async () => {
    const r = await runCli(['serve', '--help'], {});
    expect(r.code).toBe(0);
    for (const s of SETTINGS) expect(r.stdout).toContain(`(default: ${s.default})`);
    for (const s of SETTINGS) expect(r.stdout).toMatch(new RegExp(`^  ${s.env} `, 'm'));
  });

  it('keys list prints a table, or JSON with --output json (public parts only)', async () => {
    const env = { TESSERA_DATABASE_URL: sqlite('keys'), TESSERA_LOG_LEVEL: 'silent' };
    const json = await runCli(['keys', 'list', '--output', 'json'], env);
    expect(json.code, json.stderr).toBe(0);
    const keys = JSON.parse(json.stdout) as Array<{ kid: string; current?: boolean; next?: boolean }>;
    expect(keys.filter((k) => k.current)).toHaveLength(1);
    expect(json.stdout).not.toMatch(/PRIVATE KEY/);
    const table = await runCli(['keys', 'list'], env);
    expect(table.code, table.stderr).toBe(0);
    const lines = table.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^KID +STATE +CURRENT SINCE +CURRENT UNTIL +REVOKED AT +THUMBPRINT$/);
    for (const k of keys) expect(table.stdout).toMatch(new RegExp(`^${k.kid} +${k.current ? 'current' : k.next ? 'next' : 'previous'} `, 'm'));
    const bad = await runCli(['keys', 'list', '--output', 'yaml'], env);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("argument 'yaml' is invalid");
  });
});
