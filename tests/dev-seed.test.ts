// `tessera dev --seed`: auth0-deploy-cli folders and tenant.yaml (keywords from --keywords and the environment),
// Tessera manifests, users with plain passwords, re-seeding on change, fixed client credentials across restarts,
// and the refusals (unresolved keywords, bodies the Management API refuses, weak passwords).
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { caDir, startDev, type DevServer } from './helpers/dev';
import { runCli } from './helpers/process';

// every test starts the real binary, one to three times: minutes on a shared, loaded machine
vi.setConfig({ testTimeout: 180_000, hookTimeout: 180_000 });
const CA_DIR = caDir();
const ROOT = resolve(import.meta.dirname, '..');
const PASSWORD = 'Correct-Horse-9';
const API = 'https://orders.example.com';

function files(tree: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-dev-seed-'));
  for (const [name, text] of Object.entries(tree)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  const until = Date.now() + 15_000;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function passwordLogin(dev: DevServer, username: string, password: string) {
  const r = await dev.fetch('/oauth/token', {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'password', client_id: 'shop-web', client_secret: 'shop-web-secret-0123456789', username, password, audience: API }).toString(),
  });
  return { status: r.status, body: await r.json() as any };
}

const A0_DIR = {
  'tenant/resource-servers/Orders API.json': JSON.stringify({
    name: 'Orders API', identifier: 'https://orders.##DOMAIN##', enforce_policies: true, token_dialect: 'access_token_authz',
    scopes: [{ value: 'read:orders', description: 'Read orders' }, { value: 'write:orders', description: 'Write orders' }],
  }),
  'tenant/clients/Orders Worker.json': '{"name": "Orders Worker", "app_type": "non_interactive", "grant_types": ["client_credentials"], "client_id": "orders-worker", "client_secret": "##WORKER_SECRET##", "allowed_origins": @@ORIGINS@@}',
  'tenant/clients/Shop.json': JSON.stringify({ name: 'Shop', app_type: 'regular_web', grant_types: ['password', 'authorization_code', 'refresh_token'], client_id: 'shop-web', client_secret: 'shop-web-secret-0123456789', callbacks: ['https://localhost:5173/callback'] }),
  'tenant/grants/Orders Worker.json': JSON.stringify({ client_id: 'Orders Worker', audience: 'https://orders.##DOMAIN##', scope: ['read:orders'] }),
  'tenant/roles/Clerk.json': JSON.stringify({ name: 'Clerk', description: 'Reads orders', permissions: [{ permission_name: 'read:orders', resource_server_identifier: 'https://orders.##DOMAIN##' }] }),
  'tenant/organizations/acme.json': JSON.stringify({ name: 'acme', display_name: 'Acme Inc', connections: [{ name: 'Username-Password-Authentication', assign_membership_on_login: false }] }),
  'users.json': JSON.stringify([{ email: 'ann@example.com', password: PASSWORD, name: 'Ann', roles: ['Clerk'], organizations: [{ name: 'acme', roles: ['Clerk'] }], app_metadata: { plan: 'pro' } }]),
};

describe('seeding from an auth0-deploy-cli folder and a users file, then watching them', () => {
  let dev: DevServer;
  let dir: string;
  beforeAll(async () => {
    dir = files(A0_DIR);
    dev = await startDev(['--seed', join(dir, 'tenant'), '--seed', join(dir, 'users.json'), '--watch', '--keywords', JSON.stringify({ DOMAIN: 'example.com', ORIGINS: ['https://localhost:3000'] })], {
      caDir: CA_DIR, env: { AUTH0_KEYWORD_REPLACE_MAPPINGS: JSON.stringify({ WORKER_SECRET: 'worker-secret-0123456789', DOMAIN: 'overridden-by-the-flag' }) },
    });
  });
  afterAll(async () => { await dev?.stop(); });

  it('creates the APIs, clients (with their fixed credentials), grants, roles and organizations', async () => {
    expect(dev.server.output()).toMatch(/seeded:\s+\d+ created/);
    const worker = await dev.token('orders-worker', 'worker-secret-0123456789', API);
    expect(worker.status).toBe(200);
    expect(worker.body.scope).toBe('read:orders');
    expect((await dev.mgmt('GET', '/clients/orders-worker')).body.allowed_origins).toEqual(['https://localhost:3000']);
    const roles = (await dev.mgmt('GET', '/roles')).body;
    const clerk = roles.find((r: any) => r.name === 'Clerk');
    expect((await dev.mgmt('GET', `/roles/${clerk.id}/permissions`)).body.map((p: any) => p.permission_name)).toEqual(['read:orders']);
    const org = (await dev.mgmt('GET', '/organizations/name/acme')).body;
    expect(org.display_name).toBe('Acme Inc');
    expect((await dev.mgmt('GET', `/organizations/${org.id}/enabled_connections`)).body.map((c: any) => c.connection.name)).toEqual(['Username-Password-Authentication']);
  });

  it('creates the users with their passwords, roles and memberships: a password login gets RBAC permissions', async () => {
    const login = await passwordLogin(dev, 'ann@example.com', PASSWORD);
    expect(login.status).toBe(200);
    expect(decodeJwt(login.body.access_token).permissions).toEqual(['read:orders']);
    expect((await passwordLogin(dev, 'ann@example.com', 'Wrong-Horse-9')).status).toBe(403);
    const [ann] = (await dev.mgmt('GET', '/users-by-email?email=ann@example.com')).body;
    expect(ann.app_metadata).toEqual({ plan: 'pro' });
    const org = (await dev.mgmt('GET', '/organizations/name/acme')).body;
    expect((await dev.mgmt('GET', `/organizations/${org.id}/members`)).body.map((m: any) => m.email)).toEqual(['ann@example.com']);
  });

  it('serves an unchanged auth0 SDK and an express-oauth2-jwt-bearer API given only the printed variables', async () => {
    const script = `
      import { ManagementClient } from 'auth0';
      import express from 'express';
      import { auth, requiredScopes } from 'express-oauth2-jwt-bearer';
      const { AUTH0_DOMAIN: domain, AUTH0_CLIENT_ID: clientId, AUTH0_CLIENT_SECRET: clientSecret } = process.env;
      const apis = [];
      for await (const rs of await new ManagementClient({ domain, clientId, clientSecret }).resourceServers.list()) apis.push(rs.identifier);
      const app = express();
      app.get('/orders', auth({ issuerBaseURL: 'https://' + domain + '/', audience: '${API}' }), requiredScopes('read:orders'), (_q, s) => s.json({ ok: true }));
      const server = app.listen(0, '127.0.0.1', async () => {
        const body = JSON.stringify({ grant_type: 'client_credentials', client_id: 'orders-worker', client_secret: 'worker-secret-0123456789', audience: '${API}' });
        const { access_token } = await (await fetch('https://' + domain + '/oauth/token', { method: 'POST', headers: { 'content-type': 'application/json' }, body })).json();
        const call = (token) => fetch('http://127.0.0.1:' + server.address().port + '/orders', { headers: { authorization: 'Bearer ' + token } }).then((r) => r.status);
        console.log(JSON.stringify({ apis, good: await call(access_token), forged: await call(access_token.slice(0, -4) + 'AAAA') }));
        server.close();
      });`;
    const env = Object.fromEntries([...dev.server.output().matchAll(/export (\w+)=(\S+)/g)].map((m) => [m[1], m[2]]));
    const out = await new Promise<string>((res, rej) => execFile(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, env: { ...process.env, ...env } }, (e, stdout, stderr) => (e ? rej(new Error(stderr)) : res(stdout))));
    const result = JSON.parse(out);
    expect(result.apis).toContain(API);
    expect(result.good).toBe(200);
    expect(result.forged).toBe(401);
  });

  it('seeds again when a file changes (a new user, a widened grant), and survives a broken edit', async () => {
    writeFileSync(join(dir, 'users.json'), JSON.stringify([
      { email: 'ann@example.com', password: PASSWORD, name: 'Ann', roles: ['Clerk'], organizations: [{ name: 'acme', roles: ['Clerk'] }], app_metadata: { plan: 'pro' } },
      { email: 'bob@example.com', password: 'Battery-Staple-7', name: 'Bob' },
    ]));
    await eventually(async () => (await passwordLogin(dev, 'bob@example.com', 'Battery-Staple-7')).status === 200, 'bob to log in');
    writeFileSync(join(dir, 'tenant/grants/Orders Worker.json'), JSON.stringify({ client_id: 'Orders Worker', audience: 'https://orders.##DOMAIN##', scope: ['read:orders', 'write:orders'] }));
    await eventually(async () => (await dev.token('orders-worker', 'worker-secret-0123456789', API)).body.scope === 'read:orders write:orders', 'the widened grant');
    expect(dev.server.output()).toContain('seeded again');
    // the development controls are on, and a reset returns to the new seed (bob stays)
    expect((await dev.fetch('/tessera/dev/reset', { method: 'POST' })).status).toBe(204);
    expect((await passwordLogin(dev, 'bob@example.com', 'Battery-Staple-7')).status).toBe(200);
    writeFileSync(join(dir, 'tenant/roles/Clerk.json'), '{ "name": "Clerk", ');
    await eventually(async () => dev.server.output().includes('seeding failed'), 'the failure report');
    expect((await dev.fetch('/.well-known/openid-configuration')).status).toBe(200);
    expect((await dev.mgmt('GET', '/clients?is_global=false')).body.filter((c: any) => c.name === 'Orders Worker')).toHaveLength(1); // updated, never duplicated
  });
});

const TENANT_YAML = `
resourceServers:
  - name: Orders API
    identifier: ${API}
    scopes:
      - { value: read:orders, description: Read orders }
clients:
  - name: Orders Worker
    app_type: non_interactive
    grant_types: [client_credentials]
    client_id: orders-worker
    client_secret: "##WORKER_SECRET##"
clientGrants:
  - client_id: Orders Worker
    audience: ${API}
    scope: [read:orders]
roles:
  - name: Clerk
    description: Reads orders
    permissions:
      - { permission_name: read:orders, resource_server_identifier: "${API}" }
organizations:
  - name: acme
    display_name: Acme Inc
    client_grants:
      - { client_id: Orders Worker, audience: "${API}" }
`;

describe('seeding from tenant.yaml', () => {
  it('keeps a fixed client secret valid across restarts of fresh tenants', async () => {
    const dir = files({ 'tenant.yaml': TENANT_YAML });
    const env = { AUTH0_KEYWORD_REPLACE_MAPPINGS: JSON.stringify({ WORKER_SECRET: 'worker-secret-0123456789' }) };
    for (let run = 0; run < 2; run++) {
      const dev = await startDev(['--http', '--seed', join(dir, 'tenant.yaml')], { caDir: CA_DIR, env });
      try {
        const r = await dev.token('orders-worker', 'worker-secret-0123456789', API);
        expect(r.status).toBe(200);
        const org = (await dev.mgmt('GET', '/organizations/name/acme')).body;
        expect((await dev.mgmt('GET', `/organizations/${org.id}/client-grants`)).body.map((g: any) => g.audience)).toEqual([API]);
      } finally {
        await dev.stop();
      }
    }
  });

  it('--data keeps the tenant and the admin credentials; seeding it again changes nothing twice', async () => {
    const dir = files({ 'tenant.yaml': TENANT_YAML });
    const data = join(dir, 'data');
    const env = { AUTH0_KEYWORD_REPLACE_MAPPINGS: JSON.stringify({ WORKER_SECRET: 'worker-secret-0123456789' }) };
    const first = await startDev(['--http', '--data', data, '--seed', join(dir, 'tenant.yaml')], { caDir: CA_DIR, env });
    const admin = first.admin;
    await first.mgmt('POST', '/roles', { name: 'Kept', description: 'made between runs' });
    await first.stop();
    const second = await startDev(['--http', '--data', data, '--seed', join(dir, 'tenant.yaml')], { caDir: CA_DIR, env });
    try {
      expect(second.admin).toEqual(admin);
      expect(second.server.output()).toMatch(/seeded:\s+0 created/);
      const roles = (await second.mgmt('GET', '/roles')).body.map((r: any) => r.name).sort();
      expect(roles).toEqual(['Clerk', 'Kept']);
      expect((await second.mgmt('GET', '/clients?is_global=false')).body.filter((c: any) => c.name === 'Orders Worker')).toHaveLength(1);
    } finally {
      await second.stop();
    }
  });
});

describe('seeding from Tessera manifests', () => {
  it('applies them with the deployment planner (and a users file holding roles they declare)', async () => {
    const dir = files({
      'manifests/api.yaml': `apiVersion: tessera/v1\nkind: ResourceServer\nmetadata: { name: orders }\nspec:\n  identifier: ${API}\n  name: Orders API\n  scopes: [{ value: read:orders }]\n---\napiVersion: tessera/v1\nkind: Role\nmetadata: { name: clerk }\nspec:\n  name: Clerk\n  permissions: [{ resource_server_identifier: "${API}", permission_name: read:orders }]\n`,
      'manifests/worker.yaml': `apiVersion: tessera/v1\nkind: Client\nmetadata: { name: worker }\nspec:\n  name: Orders Worker\n  app_type: non_interactive\n  grant_types: [client_credentials]\n---\napiVersion: tessera/v1\nkind: ClientGrant\nmetadata: { name: worker-orders }\nspec:\n  client: Orders Worker\n  audience: ${API}\n  scope: [read:orders]\n`,
      'users.json': JSON.stringify({ users: [{ email: 'cy@example.com', password: PASSWORD, roles: ['Clerk'] }] }),
    });
    const dev = await startDev(['--http', '--seed', join(dir, 'users.json'), '--seed', join(dir, 'manifests')], { caDir: CA_DIR });
    try {
      const worker = (await dev.mgmt('GET', '/clients?is_global=false')).body.find((c: any) => c.name === 'Orders Worker');
      expect((await dev.token(worker.client_id, worker.client_secret, API)).body.scope).toBe('read:orders');
      const [cy] = (await dev.mgmt('GET', '/users-by-email?email=cy@example.com')).body;
      expect((await dev.mgmt('GET', `/users/${encodeURIComponent(cy.user_id)}/roles`)).body.map((r: any) => r.name)).toEqual(['Clerk']);
    } finally {
      await dev.stop();
    }
  });
});

describe('seeds that are refused stop the start with the reason', () => {
  const refused = async (tree: Record<string, string>, seed: string[], extra: string[] = []) => {
    const dir = files(tree);
    return runCli(['dev', '--http', '--port', '0', ...seed.flatMap((s) => ['--seed', join(dir, s)]), ...extra], { TESSERA_DEV_CA_DIR: CA_DIR });
  };

  it('an unresolved keyword', async () => {
    const r = await refused({ 'tenant.yaml': TENANT_YAML }, ['tenant.yaml']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('no value for the keyword WORKER_SECRET');
    expect(r.stderr).not.toContain('Tessera listening');
  });

  it('a body the Management API refuses, in its words', async () => {
    const r = await refused({ 'tenant.yaml': 'clients:\n  - name: Bad\n    app_type: spaceship\n' }, ['tenant.yaml']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/seeding failed.*app_type|app_type.*enum|No enum match/);
  });

  it('a fixed client_id with a short secret, or an invalid client_id', async () => {
    const short = await refused({ 'tenant.yaml': 'clients:\n  - name: A\n    client_id: fixed-a\n    client_secret: short\n' }, ['tenant.yaml']);
    expect(short.code).toBe(1);
    expect(short.stderr).toContain('client_secret must be at least 16 characters');
    const bad = await refused({ 'tenant.yaml': 'clients:\n  - name: A\n    client_id: "has spaces"\n' }, ['tenant.yaml']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('client_id must be');
  });

  it('a weak password, a malformed users file, a missing seed, bad --keywords', async () => {
    const weak = await refused({ 'users.json': JSON.stringify([{ email: 'w@example.com', password: 'password' }]) }, ['users.json']);
    expect(weak.code).toBe(1);
    expect(weak.stderr).toContain('PasswordStrengthError');
    const shape = await refused({ 'users.json': JSON.stringify([{ email: 'w@example.com' }]) }, ['users.json']);
    expect(shape.code).toBe(1);
    expect(shape.stderr).toContain('email and password');
    const missing = await runCli(['dev', '--http', '--port', '0', '--seed', '/nonexistent/tenant.yaml'], { TESSERA_DEV_CA_DIR: CA_DIR });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no such file or directory');
    const keywords = await refused({ 'tenant.yaml': TENANT_YAML }, ['tenant.yaml'], ['--keywords', '[1,2]']);
    expect(keywords.code).toBe(1);
    expect(keywords.stderr).toContain('expected a JSON object');
  });
});
