import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { createTestDatabase, type TestDatabase } from '../../helpers/databases';
import { ROOT, startServer, type RunningServer } from './server';
import type { Target } from './targets';

const A0DEPLOY = join(ROOT, 'node_modules/auth0-deploy-cli/lib/index.js');
export const FIXTURES = join(import.meta.dirname, '../fixtures');

/** A fresh server (own database) so a0deploy's view of the tenant holds only what its YAML declares. */
export interface DedicatedTenant { target: Target; server: RunningServer; close(): Promise<void> }

export async function startDedicatedTenant(shared: Target, compatDir: string): Promise<DedicatedTenant> {
  const dir = join(compatDir, `a0deploy-${shared.dialect}`);
  mkdirSync(dir, { recursive: true });
  const db: TestDatabase = shared.dialect === 'sqlite'
    ? { url: `sqlite:${join(dir, 'tessera.db')}`, drop: async () => undefined }
    : await createTestDatabase('postgres');
  const certsDir = join(compatDir, 'certs');
  const server = await startServer({
    certs: { dir: certsDir, caCert: join(certsDir, 'ca.crt'), serverCert: join(certsDir, 'server.crt'), serverKey: join(certsDir, 'server.key') },
    databaseUrl: db.url, logDir: dir, label: `a0deploy-${shared.dialect}`,
    admin: { clientId: shared.adminClientId, clientSecret: shared.adminClientSecret },
  });
  const base = server.baseUrl;
  const target: Target = { ...shared, baseUrl: base, domain: new URL(base).host, issuer: `${base}/`, managementAudience: `${base}/api/v2/` };
  return { target, server, close: async () => { await server.stop(); await db.drop(); } };
}

export interface TenantYaml {
  resourceServers: Array<Record<string, any>>;
  clients: Array<Record<string, any>>;
  clientGrants: Array<Record<string, any>>;
  roles?: Array<Record<string, any>>;
}

export const readTenantYaml = (file: string): TenantYaml => parse(readFileSync(file, 'utf8')) as TenantYaml;

/** The fixture as a0deploy should see it: without `roles` when the server does not serve roles yet. */
export function fixtureFor(name: string, withRoles: boolean, outDir: string): { file: string; doc: TenantYaml } {
  const doc = readTenantYaml(join(FIXTURES, name));
  if (withRoles) return { file: join(FIXTURES, name), doc };
  delete doc.roles;
  const file = join(outDir, name);
  writeFileSync(file, stringify(doc));
  return { file, doc };
}

/**
 * Runs the real `a0deploy` binary as a user would: environment configuration only, `AUTH0_DOMAIN=127.0.0.1:<port>`,
 * the CA trusted through NODE_EXTRA_CA_CERTS.
 */
export function a0deploy(target: Target, args: string[], env: Record<string, string>, caCert: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [A0DEPLOY, ...args], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH, HOME: process.env.HOME, NODE_EXTRA_CA_CERTS: caCert,
        AUTH0_DOMAIN: target.domain, AUTH0_CLIENT_ID: target.adminClientId, AUTH0_CLIENT_SECRET: target.adminClientSecret,
        AUTH0_API_MAX_RETRIES: '0', ...env,
      },
    });
    let out = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { out += d; });
    p.on('exit', (code) => resolve({ code, out }));
  });
}
