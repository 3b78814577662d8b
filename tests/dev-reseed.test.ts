// `tessera dev --watch`: the tenant follows the seed. Removing an API, a client, a client grant, a role, an
// organization or a user from a seed (a0deploy folder, Tessera manifests, users file) deletes it from the running
// tenant; what was made by hand through the Management API stays; with --data a restart with a smaller seed deletes
// too. Each test starts the real binary.
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { caDir, startDev, type DevServer } from './helpers/dev';

vi.setConfig({ testTimeout: 180_000, hookTimeout: 180_000 });
const CA_DIR = caDir();
const PASSWORD = 'Correct-Horse-9';
const ORDERS = 'https://orders.example.com';
const STOCK = 'https://stock.example.com';
const REPORTS = 'https://reports.example.com';

function write(dir: string, tree: Record<string, string>): void {
  for (const [name, text] of Object.entries(tree)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
}

async function eventually(check: () => Promise<boolean>, what: string, dev: DevServer): Promise<void> {
  const until = Date.now() + 30_000;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}:\n${dev.server.output()}`);
}

const json = (v: unknown) => JSON.stringify(v);
const USERS = [
  { email: 'ann@example.com', password: PASSWORD, roles: ['Clerk'], organizations: ['acme'] },
  { email: 'bob@example.com', password: 'Battery-Staple-7', roles: ['Stocker'], organizations: ['globex'] },
];
const SEED = {
  'tenant/resource-servers/Orders API.json': json({ name: 'Orders API', identifier: ORDERS, scopes: [{ value: 'read:orders', description: 'Read orders' }] }),
  'tenant/resource-servers/Stock API.json': json({ name: 'Stock API', identifier: STOCK, scopes: [{ value: 'read:stock', description: 'Read stock' }] }),
  'tenant/clients/Orders Worker.json': json({ name: 'Orders Worker', app_type: 'non_interactive', grant_types: ['client_credentials'], client_id: 'orders-worker', client_secret: 'orders-secret-0123456789' }),
  'tenant/clients/Stock Worker.json': json({ name: 'Stock Worker', app_type: 'non_interactive', grant_types: ['client_credentials'], client_id: 'stock-worker', client_secret: 'stock-secret-0123456789' }),
  'tenant/clients/Shop.json': json({ name: 'Shop', app_type: 'regular_web', grant_types: ['password'], client_id: 'shop-web', client_secret: 'shop-web-secret-0123456789' }),
  'tenant/grants/Orders Worker.json': json({ client_id: 'Orders Worker', audience: ORDERS, scope: ['read:orders'] }),
  'tenant/grants/Stock Worker.json': json({ client_id: 'Stock Worker', audience: STOCK, scope: ['read:stock'] }),
  'tenant/roles/Clerk.json': json({ name: 'Clerk', permissions: [{ permission_name: 'read:orders', resource_server_identifier: ORDERS }] }),
  'tenant/roles/Stocker.json': json({ name: 'Stocker', permissions: [{ permission_name: 'read:stock', resource_server_identifier: STOCK }] }),
  'tenant/organizations/acme.json': json({ name: 'acme', display_name: 'Acme' }),
  'tenant/organizations/globex.json': json({ name: 'globex', display_name: 'Globex' }),
  'manifests/reports.yaml': `apiVersion: tessera/v1\nkind: ResourceServer\nmetadata: { name: reports }\nspec:\n  identifier: ${REPORTS}\n  name: Reports API\n  scopes: [{ value: read:reports }]\n---\napiVersion: tessera/v1\nkind: Role\nmetadata: { name: reporter }\nspec:\n  name: Reporter\n  permissions: [{ resource_server_identifier: "${REPORTS}", permission_name: read:reports }]\n`,
  'users.json': json(USERS),
};

async function passwordLogin(dev: DevServer, username: string, password: string): Promise<number> {
  const r = await dev.fetch('/oauth/token', {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'password', client_id: 'shop-web', client_secret: 'shop-web-secret-0123456789', username, password }).toString(),
  });
  return r.status;
}

describe('re-seeding deletes what left the seed, and keeps what was made by hand', () => {
  let dev: DevServer;
  let dir: string;
  const id: Record<string, string> = {};
  const hand: Record<string, string> = {};

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-dev-reseed-'));
    write(dir, SEED);
    dev = await startDev(['--http', '--watch', '--seed', join(dir, 'tenant'), '--seed', join(dir, 'manifests'), '--seed', join(dir, 'users.json')], { caDir: CA_DIR });
    const rs = (await dev.mgmt('GET', '/resource-servers')).body;
    id.stock = rs.find((r: any) => r.identifier === STOCK).id;
    id.orders = rs.find((r: any) => r.identifier === ORDERS).id;
    const roles = (await dev.mgmt('GET', '/roles')).body;
    for (const name of ['Clerk', 'Stocker', 'Reporter']) id[name] = roles.find((r: any) => r.name === name).id;
    id.acme = (await dev.mgmt('GET', '/organizations/name/acme')).body.id;
    id.globex = (await dev.mgmt('GET', '/organizations/name/globex')).body.id;
    id.bob = (await dev.mgmt('GET', '/users-by-email?email=bob@example.com')).body[0].user_id;
    id.stockGrant = (await dev.mgmt('GET', '/client-grants?client_id=stock-worker')).body[0].id;
    // made by hand through the Management API: never the seed's to delete
    hand.role = (await dev.mgmt('POST', '/roles', { name: 'Hand Role' })).body.id;
    hand.api = (await dev.mgmt('POST', '/resource-servers', { name: 'Hand API', identifier: 'https://hand.example.com' })).body.id;
    hand.client = (await dev.mgmt('POST', '/clients', { name: 'Hand Client', app_type: 'non_interactive' })).body.client_id;
    hand.grant = (await dev.mgmt('POST', '/client-grants', { client_id: hand.client, audience: ORDERS, scope: ['read:orders'] })).body.id;
    hand.org = (await dev.mgmt('POST', '/organizations', { name: 'hand-org' })).body.id;
    hand.user = (await dev.mgmt('POST', '/users', { connection: 'Username-Password-Authentication', email: 'hand@example.com', password: PASSWORD })).body.user_id;
  });
  afterAll(async () => { await dev?.stop(); });

  it('starts with everything the seed declares', async () => {
    expect((await dev.token('stock-worker', 'stock-secret-0123456789', STOCK)).status).toBe(200);
    expect((await dev.token('orders-worker', 'orders-secret-0123456789', ORDERS)).body.scope).toBe('read:orders');
    expect(await passwordLogin(dev, 'bob@example.com', 'Battery-Staple-7')).toBe(200);
    expect(dev.server.output()).toMatch(/seeded:\s+\d+ created, 0 updated, 0 deleted from 3 source\(s\)/);
  });

  it('removing items from the seed files deletes them from the running tenant: 404s and refused tokens', async () => {
    for (const f of ['tenant/resource-servers/Stock API.json', 'tenant/clients/Stock Worker.json', 'tenant/grants/Stock Worker.json',
      'tenant/grants/Orders Worker.json', 'tenant/roles/Stocker.json', 'tenant/organizations/globex.json']) rmSync(join(dir, f));
    write(dir, {
      'users.json': json(USERS.slice(0, 1)),
      'manifests/reports.yaml': `apiVersion: tessera/v1\nkind: ResourceServer\nmetadata: { name: reports }\nspec:\n  identifier: ${REPORTS}\n  name: Reports API\n  scopes: [{ value: read:reports }]\n`,
    });
    await eventually(async () => (await dev.mgmt('GET', `/users/${encodeURIComponent(id.bob)}`)).status === 404
      && (await dev.mgmt('GET', `/roles/${id.Reporter}`)).status === 404
      && (await dev.mgmt('GET', `/resource-servers/${id.stock}`)).status === 404, 'the removed items to go', dev);
    expect(dev.server.output()).toMatch(/seeded again \(\d+ created, \d+ updated, [1-9]\d* deleted/);

    // gone: the API, the client, both grants, the roles, the organization, the user
    expect((await dev.mgmt('GET', `/resource-servers/${id.stock}`)).status).toBe(404);
    expect((await dev.mgmt('GET', '/clients/stock-worker')).status).toBe(404);
    expect((await dev.mgmt('GET', `/client-grants?client_id=stock-worker`)).body).toEqual([]);
    expect((await dev.mgmt('GET', `/client-grants?client_id=orders-worker`)).body).toEqual([]);
    expect((await dev.mgmt('GET', `/roles/${id.Stocker}`)).status).toBe(404);
    expect((await dev.mgmt('GET', `/organizations/${id.globex}`)).status).toBe(404);
    expect((await dev.mgmt('GET', `/users/${encodeURIComponent(id.bob)}`)).status).toBe(404);
    // refused: the deleted client, the client that lost its grant, the deleted user
    const stock = await dev.token('stock-worker', 'stock-secret-0123456789', STOCK);
    expect(stock.status).toBe(401);
    expect(stock.body).toEqual({ error: 'access_denied', error_description: 'Unauthorized' });
    const orders = await dev.token('orders-worker', 'orders-secret-0123456789', ORDERS);
    expect(orders.status).toBe(403);
    expect(orders.body.error).toBe('access_denied');
    expect(await passwordLogin(dev, 'bob@example.com', 'Battery-Staple-7')).toBe(403);

    // kept: what the seed still declares, and everything made by hand (a hand-made grant to a seeded API included)
    expect((await dev.mgmt('GET', `/resource-servers/${id.orders}`)).status).toBe(200);
    expect((await dev.mgmt('GET', '/resource-servers')).body.map((r: any) => r.identifier)).toContain(REPORTS);
    expect((await dev.mgmt('GET', '/clients/orders-worker')).status).toBe(200);
    expect((await dev.mgmt('GET', `/roles/${id.Clerk}`)).status).toBe(200);
    expect((await dev.mgmt('GET', `/organizations/${id.acme}`)).status).toBe(200);
    expect(await passwordLogin(dev, 'ann@example.com', PASSWORD)).toBe(200);
    expect((await dev.mgmt('GET', `/roles/${hand.role}`)).status).toBe(200);
    expect((await dev.mgmt('GET', `/resource-servers/${hand.api}`)).status).toBe(200);
    expect((await dev.mgmt('GET', `/clients/${hand.client}`)).status).toBe(200);
    expect((await dev.mgmt('GET', `/client-grants?client_id=${hand.client}`)).body.map((g: any) => g.id)).toEqual([hand.grant]);
    expect((await dev.mgmt('GET', `/organizations/${hand.org}`)).status).toBe(200);
    expect((await dev.mgmt('GET', `/users/${encodeURIComponent(hand.user)}`)).status).toBe(200);
  });

  it('an item put back into the seed is created again (a user included, with its password and roles)', async () => {
    write(dir, { 'tenant/resource-servers/Stock API.json': SEED['tenant/resource-servers/Stock API.json'], 'users.json': json(USERS), 'tenant/roles/Stocker.json': SEED['tenant/roles/Stocker.json'], 'tenant/organizations/globex.json': SEED['tenant/organizations/globex.json'] });
    await eventually(async () => (await passwordLogin(dev, 'bob@example.com', 'Battery-Staple-7')) === 200, 'bob to log in again', dev);
    const [bob] = (await dev.mgmt('GET', '/users-by-email?email=bob@example.com')).body;
    expect(bob.user_id).not.toBe(id.bob);
    expect((await dev.mgmt('GET', `/users/${encodeURIComponent(bob.user_id)}/roles`)).body.map((r: any) => r.name)).toEqual(['Stocker']);
  });
});

describe('with --data, a restart with a smaller seed deletes what left it', () => {
  it('deletes the removed role and client at start, keeps a role made by hand, and keeps the seed ids private', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-dev-reseed-data-'));
    const data = join(dir, 'data');
    const yaml = (extra: boolean) => `
resourceServers:
  - { name: Orders API, identifier: "${ORDERS}", scopes: [{ value: read:orders, description: Read orders }] }
clients:
  - { name: Orders Worker, app_type: non_interactive, grant_types: [client_credentials], client_id: orders-worker, client_secret: orders-secret-0123456789 }
${extra ? '  - { name: Extra Worker, app_type: non_interactive, grant_types: [client_credentials], client_id: extra-worker, client_secret: extra-secret-0123456789 }\n' : ''}clientGrants:
  - { client_id: Orders Worker, audience: "${ORDERS}", scope: [read:orders] }
${extra ? `  - { client_id: Extra Worker, audience: "${ORDERS}", scope: [read:orders] }\n` : ''}roles:
  - { name: Clerk }
${extra ? '  - { name: Extra }\n' : ''}`;
    writeFileSync(join(dir, 'tenant.yaml'), yaml(true));
    const first = await startDev(['--http', '--data', data, '--seed', join(dir, 'tenant.yaml')], { caDir: CA_DIR });
    try {
      expect((await first.token('extra-worker', 'extra-secret-0123456789', ORDERS)).status).toBe(200);
      expect((await first.mgmt('POST', '/roles', { name: 'Kept' })).status).toBe(200);
    } finally {
      await first.stop();
    }
    expect(statSync(join(data, 'dev-seed.json')).mode & 0o077).toBe(0);
    writeFileSync(join(dir, 'tenant.yaml'), yaml(false));
    const second = await startDev(['--http', '--data', data, '--seed', join(dir, 'tenant.yaml')], { caDir: CA_DIR });
    try {
      expect(second.server.output()).toMatch(/seeded:\s+0 created, \d+ updated, 3 deleted/); // the client, its grant, the role
      expect((await second.mgmt('GET', '/roles')).body.map((r: any) => r.name).sort()).toEqual(['Clerk', 'Kept']);
      expect((await second.mgmt('GET', '/clients/extra-worker')).status).toBe(404);
      expect((await second.token('extra-worker', 'extra-secret-0123456789', ORDERS)).status).toBe(401);
      expect((await second.token('orders-worker', 'orders-secret-0123456789', ORDERS)).status).toBe(200);
    } finally {
      await second.stop();
    }
  });
});
