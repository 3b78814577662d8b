import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, fetch as undiciFetch } from 'undici';
import { freePort, spawnTessera, type RunningServer } from './process';

/** A per-suite CA folder (TESSERA_DEV_CA_DIR): the suites never touch the user's ~/.cache. */
export function caDir(): string {
  return join(mkdtempSync(join(tmpdir(), 'tessera-dev-ca-')), 'dev-ca');
}

export interface DevServer {
  server: RunningServer;
  port: number;
  origin: string;
  domain: string;
  admin: { id: string; secret: string };
  /** The CA file the banner names (HTTPS only). */
  caFile?: string;
  /** fetch trusting only the development CA (HTTPS) or plain (--http). */
  fetch: (path: string, init?: Parameters<typeof undiciFetch>[1]) => ReturnType<typeof undiciFetch>;
  /** A client_credentials token. */
  token(clientId: string, secret: string, audience: string, scope?: string): Promise<{ status: number; body: any }>;
  /** A Management API call as the admin client. */
  mgmt(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
  stop(): Promise<number | null>;
}

/** `tessera dev` as a developer runs it: a child process; the banner gives the credentials. */
export async function startDev(args: string[], opts: { caDir: string; env?: Record<string, string>; port?: number }): Promise<DevServer> {
  const port = opts.port ?? await freePort();
  const server = await spawnTessera({ TESSERA_DEV_CA_DIR: opts.caDir, ...opts.env }, ['dev', '--port', String(port), ...args], 120_000);
  const lastLine = args.includes('--http') ? /AUTH0_ISSUER_BASE_URL=\S+\n/ : /NODE_EXTRA_CA_CERTS=\S+\n/;
  for (let i = 0; i < 100 && !lastLine.test(server.output()); i++) await new Promise((r) => setTimeout(r, 20)); // the rest of the banner
  const out = server.output();
  const origin = /Tessera listening on (\S+)/.exec(out)![1];
  const admin = { id: /admin client_id:\s+(\S+)/.exec(out)![1], secret: /admin client_secret:\s+(\S+)/.exec(out)![1] };
  const caFile = /NODE_EXTRA_CA_CERTS=(\S+)/.exec(out)?.[1];
  const dispatcher = caFile ? new Agent({ connect: { ca: readFileSync(caFile) } }) : undefined;
  const f: DevServer['fetch'] = (path, init) => undiciFetch(`${origin}${path}`, { ...init, ...(dispatcher && { dispatcher }) });
  const token: DevServer['token'] = async (clientId, secret, audience, scope) => {
    const r = await f('/oauth/token', {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: secret, audience, ...(scope && { scope }) }).toString(),
    });
    return { status: r.status, body: await r.json() };
  };
  let adminToken: string | undefined;
  return {
    server, port, origin, domain: new URL(origin).host, admin, caFile, fetch: f, token,
    async mgmt(method, path, body) {
      adminToken ??= (await token(admin.id, admin.secret, `${origin}/api/v2/`)).body.access_token;
      const r = await f(`/api/v2${path}`, {
        method, headers: { authorization: `Bearer ${adminToken}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await r.text();
      return { status: r.status, body: text ? JSON.parse(text) : undefined };
    },
    async stop() {
      const code = await server.stop();
      await dispatcher?.close();
      return code;
    },
  };
}
