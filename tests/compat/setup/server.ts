import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, readFileSync } from 'node:fs';
import { freePort } from '../../helpers/process';
import { join, resolve } from 'node:path';
import type { CertFiles } from './certs';

export { freePort };

export const ROOT = resolve(import.meta.dirname, '../../..');
export const ADMIN_CLIENT_ID = 'compat-admin';
export const ADMIN_CLIENT_SECRET = `compat-admin-secret-${randomBytes(12).toString('hex')}`;

export interface RunningServer { port: number; baseUrl: string; logFile: string; stop(): Promise<void> }

/**
 * Starts Tessera exactly as a user does: `node packages/cli/bin/tessera.mjs serve`, configured only through
 * TESSERA_* variables, serving HTTPS with the suite's certificate. Resolves once it prints its banner.
 */
export async function startServer(opts: {
  certs: CertFiles; databaseUrl: string; logDir: string; label: string; admin?: { clientId: string; clientSecret: string };
}): Promise<RunningServer> {
  const port = await freePort();
  const baseUrl = `https://127.0.0.1:${port}`;
  const logFile = join(opts.logDir, `server-${opts.label}.log`);
  const log = createWriteStream(logFile);
  const env = {
    PATH: process.env.PATH, HOME: process.env.HOME,
    TESSERA_HOST: '127.0.0.1',
    TESSERA_PORT: String(port),
    TESSERA_PUBLIC_URL: baseUrl,
    TESSERA_DATABASE_URL: opts.databaseUrl,
    TESSERA_TLS_CERT: opts.certs.serverCert,
    TESSERA_TLS_KEY: opts.certs.serverKey,
    ...(opts.certs.clientCaCert ? { TESSERA_MTLS_CA: opts.certs.clientCaCert } : {}),
    TESSERA_ADMIN_CLIENT_ID: opts.admin?.clientId ?? ADMIN_CLIENT_ID,
    TESSERA_ADMIN_CLIENT_SECRET: opts.admin?.clientSecret ?? ADMIN_CLIENT_SECRET,
    TESSERA_MASTER_KEY: randomBytes(32).toString('base64'),
    TESSERA_LOG_LEVEL: 'warn',
    TESSERA_DASHBOARD: 'off', // the tenant holds only what each scenario creates
    TESSERA_PASSWORD_NICE: '0', // niced hashing threads starve under the test run's own parallel load
    // the clients here run bursts of calls from one client on purpose; limits are tested in tests/rate-limits.test.ts
    TESSERA_RATE_LIMIT_AUTH: '100000/1',
    TESSERA_RATE_LIMIT_MANAGEMENT: '100000/1',
  };
  const child = spawn(process.execPath, [join(ROOT, 'packages/cli/bin/tessera.mjs'), 'serve'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  await new Promise<void>((ok, fail) => {
    let out = '';
    const timer = setTimeout(() => fail(new Error(`${opts.label}: server did not start within 60 s\n${tail(logFile)}`)), 60_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      if (out.includes('Tessera listening on')) { clearTimeout(timer); ok(); }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData); // the banner goes to stderr
    child.once('exit', (code) => { clearTimeout(timer); fail(new Error(`${opts.label}: server exited with ${code} before listening\n${tail(logFile)}`)); });
  });
  return { port, baseUrl, logFile, stop: () => stop(child) };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((ok) => child.once('exit', () => ok()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

export function tail(file: string, lines = 40): string {
  try { return readFileSync(file, 'utf8').trim().split('\n').slice(-lines).join('\n'); } catch { return ''; }
}
