import { mkdtempSync, statSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, ConfigError } from '@tessera/server';
import { runCli } from './helpers/process';

const tmp = () => mkdtempSync(join(tmpdir(), 'tessera-cfg-'));
const base = () => ({ TESSERA_DATABASE_URL: `sqlite:${join(tmp(), 'db.sqlite')}` });

describe('configuration', () => {
  it('has the documented defaults', () => {
    const dir = tmp();
    const c = loadConfig({ TESSERA_DATABASE_URL: `sqlite:${join(dir, 't.db')}` });
    expect(c).toMatchObject({ host: '127.0.0.1', port: 3000, publicUrl: 'http://localhost:3000', issuer: 'http://localhost:3000/', managementAudience: 'http://localhost:3000/api/v2/', logLevel: 'info', workers: 1 });
    expect(loadConfig({ ...base(), TESSERA_PORT: '8080' }).publicUrl).toBe('http://localhost:8080');
  });

  it('keeps TESSERA_PUBLIC_URL separate from the listen address and drops a trailing slash', () => {
    const c = loadConfig({ ...base(), TESSERA_HOST: '0.0.0.0', TESSERA_PORT: '8443', TESSERA_PUBLIC_URL: 'https://auth.example.com/' });
    expect(c).toMatchObject({ host: '0.0.0.0', port: 8443, issuer: 'https://auth.example.com/', managementAudience: 'https://auth.example.com/api/v2/' });
  });

  it.each([
    ['TESSERA_PORT', { TESSERA_PORT: 'eighty' }],
    ['TESSERA_PORT', { TESSERA_PORT: '70000' }],
    ['TESSERA_PUBLIC_URL', { TESSERA_PUBLIC_URL: 'ftp://x' }],
    ['TESSERA_PUBLIC_URL', { TESSERA_PUBLIC_URL: 'https://x/?a=b' }],
    ['TESSERA_DATABASE_URL', { TESSERA_DATABASE_URL: 'mysql://x' }],
    ['TESSERA_MASTER_KEY', { TESSERA_MASTER_KEY: 'too-short' }],
    ['TESSERA_LOG_LEVEL', { TESSERA_LOG_LEVEL: 'loud' }],
    ['TESSERA_WORKERS', { TESSERA_WORKERS: '0' }],
    ['TESSERA_ADMIN_CLIENT_SECRET', { TESSERA_ADMIN_CLIENT_ID: 'admin' }],
    ['TESSERA_ADMIN_CLIENT_SECRET', { TESSERA_ADMIN_CLIENT_ID: 'admin', TESSERA_ADMIN_CLIENT_SECRET: 'short' }],
    ['TESSERA_TLS_KEY', { TESSERA_TLS_CERT: '/nonexistent.pem' }],
    ['TESSERA_TLS_CERT', { TESSERA_TLS_CERT: '/nonexistent.pem', TESSERA_TLS_KEY: '/nonexistent.key' }],
  ])('rejects a bad %s naming the variable', (variable, env) => {
    let err: unknown;
    try { loadConfig({ ...base(), ...env }); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).variable).toBe(variable);
  });

  it('requires TESSERA_MASTER_KEY with PostgreSQL', () => {
    expect(() => loadConfig({ TESSERA_DATABASE_URL: 'postgres://postgres@127.0.0.1/x' })).toThrow(/TESSERA_MASTER_KEY/);
  });

  it('generates a development master key into the data folder with mode 0600, once', () => {
    const dir = tmp();
    const env = { TESSERA_DATABASE_URL: `sqlite:${join(dir, 'data', 't.db')}` };
    const a = loadConfig(env);
    const file = join(dir, 'data', 'master.key');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(loadConfig(env).masterKeys[0].equals(a.masterKeys[0])).toBe(true);
    expect(Buffer.from(readFileSync(file, 'utf8').trim(), 'base64')).toHaveLength(32);
  });

  it('stops start-up naming the variable (exit 78)', async () => {
    const r = await runCli(['serve'], { ...base(), TESSERA_PORT: 'nope' });
    expect(r.code).toBe(78);
    expect(r.stderr).toContain('TESSERA_PORT');
  });
});
