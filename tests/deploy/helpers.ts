import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, freePort } from '../helpers/process';

export { CLI };
export const DEPLOY_ID = 'deploy-admin';
export const DEPLOY_SECRET = 'deploy-admin-secret-0123456789';

export function tempDir(prefix = 'tessera-deploy-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export interface Server {
  port: number;
  /** `127.0.0.1:PORT`, what --domain takes. */
  domain: string;
  origin: string;
  /** The environment that points the CLI at this server (plain HTTP on loopback unless TLS). */
  env: Record<string, string>;
  /** A Management API call with the admin's token. */
  mgmt(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
  stop(): Promise<void>;
}

/** `tessera serve` as a user runs it: a child process on a fresh SQLite file, optionally HTTPS. */
export async function startServer(opts: { tls?: { cert: string; key: string; ca: string } } = {}): Promise<Server> {
  const dir = tempDir('tessera-deploy-db-');
  const port = await freePort();
  const scheme = opts.tls ? 'https' : 'http';
  const origin = `${scheme}://127.0.0.1:${port}`;
  const proc = spawn(process.execPath, [CLI, 'serve'], {
    env: {
      ...process.env,
      TESSERA_DATABASE_URL: `sqlite:${join(dir, 'tessera.db')}`, TESSERA_PORT: String(port), TESSERA_PUBLIC_URL: origin,
      TESSERA_ADMIN_CLIENT_ID: DEPLOY_ID, TESSERA_ADMIN_CLIENT_SECRET: DEPLOY_SECRET,
      TESSERA_MASTER_KEY: randomBytes(32).toString('base64'), TESSERA_LOG_LEVEL: 'warn',
      TESSERA_DASHBOARD: 'off', // the suites compare whole tenants; the dashboard's client is tested in tests/dashboard*.test.ts
      ...(opts.tls && { TESSERA_TLS_CERT: opts.tls.cert, TESSERA_TLS_KEY: opts.tls.key }),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await waitForListening(proc);
  const env: Record<string, string> = {
    TESSERA_DEPLOY_DOMAIN: `127.0.0.1:${port}`, TESSERA_DEPLOY_CLIENT_ID: DEPLOY_ID, TESSERA_DEPLOY_CLIENT_SECRET: DEPLOY_SECRET,
    ...(opts.tls ? { NODE_EXTRA_CA_CERTS: opts.tls.ca } : { TESSERA_DEPLOY_INSECURE_HTTP: '1' }),
  };
  let token: string | undefined;
  const server: Server = {
    port, domain: `127.0.0.1:${port}`, origin, env,
    async mgmt(method, path, body) {
      if (!token) {
        const r = await fetch(`${origin}/oauth/token`, { method: 'POST', body: new URLSearchParams({ grant_type: 'client_credentials', client_id: DEPLOY_ID, client_secret: DEPLOY_SECRET, audience: `${origin}/api/v2/` }) });
        token = ((await r.json()) as { access_token: string }).access_token;
      }
      const r = await fetch(`${origin}/api/v2${path}`, {
        method, headers: { authorization: `Bearer ${token}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await r.text();
      return { status: r.status, body: text ? JSON.parse(text) : undefined };
    },
    async stop() {
      if (proc.exitCode === null) {
        const exited = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return server;
}

function waitForListening(proc: ChildProcess): Promise<void> {
  let out = '';
  return new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`server did not start:\n${out}`)), 55_000); // two at once on a loaded machine take over 30 s
    const onData = (d: Buffer) => {
      out += d;
      if (out.includes('Tessera listening on')) { clearTimeout(timer); res(); }
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData); // the banner goes to stderr
    proc.once('exit', (code) => { clearTimeout(timer); rej(new Error(`server exited with ${code}:\n${out}`)); });
  });
}

export interface CliResult { code: number | null; stdout: string; stderr: string }

/** Runs `tessera <args>` to completion in a child process (as a user or a CI job would). */
export function cli(args: string[], env: Record<string, string> = {}, cwd?: string): Promise<CliResult> {
  return new Promise((res) => {
    const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TESSERA_DEPLOY_')));
    const proc = spawn(process.execPath, [CLI, ...args], { env: { ...clean, ...env }, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d) => { stdout += d; });
    proc.stderr.on('data', (d) => { stderr += d; });
    proc.once('exit', (code) => res({ code, stdout, stderr }));
  });
}

/** Writes manifest files into a fresh folder and returns the folder. */
export function manifests(files: Record<string, string>): string {
  const dir = tempDir();
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

/** Whether the target has /api/v2/roles (built in parallel with this component). */
export async function hasRoles(s: Server): Promise<boolean> {
  return (await s.mgmt('GET', '/roles?per_page=1&page=0')).status === 200;
}

/**
 * The "Orders Worker" M2M client and its client grant on https://orders.example.com, as manifest documents
 * (the same two documents several suites deploy).
 */
export function workerManifests(scope: string[], opts: { authMethod?: boolean } = {}): string {
  return `apiVersion: tessera/v1
kind: Client
metadata:
  name: orders-worker
spec:
  name: Orders Worker
  app_type: non_interactive
  grant_types: [client_credentials]
${opts.authMethod === false ? '' : '  token_endpoint_auth_method: client_secret_post\n'}---
apiVersion: tessera/v1
kind: ClientGrant
metadata:
  name: worker-orders
spec:
  client: Orders Worker
  audience: https://orders.example.com
  scope: [${scope.join(', ')}]
`;
}
