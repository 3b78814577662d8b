import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, manifests, startServer, workerManifests, type Server } from './helpers';

const ORDERS = `apiVersion: tessera/v1
kind: ResourceServer
metadata:
  name: orders-api
spec:
  identifier: https://orders.example.com
  name: Orders API
  scopes:
    - value: read:orders
      description: Read orders
    - value: write:orders
  token_lifetime: 3600
  enforce_policies: true
  token_dialect: access_token_authz
`;
const SIGNER = `apiVersion: tessera/v1
kind: ResourceServer
metadata:
  name: signer-api
spec:
  identifier: urn:signer
  name: Signer API
  signing_alg: HS256
`;
const WORKER = workerManifests(['read:orders']);

describe('tessera plan / apply / destroy against a Tessera server', { timeout: 120_000 }, () => {
  let s: Server;
  let dir: string;
  beforeAll(async () => {
    s = await startServer();
    dir = manifests({ 'apis.yaml': `${ORDERS}---\n${SIGNER}`, 'worker.yaml': WORKER });
  });
  afterAll(async () => { await s?.stop(); });

  it('plan on an empty target lists every create and exits 2', async () => {
    const r = await cli(['plan', '-f', dir], s.env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(2);
    expect(r.stdout).toBe([
      `Plan for ${s.origin}`, '',
      '  + ResourceServer orders-api (https://orders.example.com): create',
      '      identifier: https://orders.example.com',
      '      name: Orders API',
      '      scopes: [{"value":"read:orders","description":"Read orders"},{"value":"write:orders"}]',
      '      token_lifetime: 3600',
      '      enforce_policies: true',
      '      token_dialect: access_token_authz',
      '  + ResourceServer signer-api (urn:signer): create',
      '      identifier: urn:signer',
      '      name: Signer API',
      '      signing_alg: HS256',
      '  + Client orders-worker (Orders Worker): create',
      '      name: Orders Worker',
      '      app_type: non_interactive',
      '      grant_types: ["client_credentials"]',
      '      token_endpoint_auth_method: client_secret_post',
      '  + ClientGrant worker-orders (Orders Worker → https://orders.example.com): create',
      '      audience: https://orders.example.com',
      '      scope: ["read:orders"]',
      '',
      'Plan: 4 to create, 0 to update, 0 to replace, 0 to delete; 0 unchanged.', '',
    ].join('\n'));
  });

  it('apply creates in dependency order, prints the outputs with the secret masked, and the token flow works', async () => {
    const r = await cli(['apply', '-f', dir], s.env);
    expect(r.code).toBe(0);
    const order = [...r.stdout.matchAll(/^\+ (\w+) (\S+) .*: created/gm)].map((m) => `${m[1]} ${m[2]}`);
    expect(order).toEqual(['ResourceServer orders-api', 'ResourceServer signer-api', 'Client orders-worker', 'ClientGrant worker-orders']);
    expect(r.stdout).toContain('Apply complete: 4 created, 0 updated, 0 replaced, 0 deleted.');
    const orders = (await s.mgmt('GET', `/resource-servers/${encodeURIComponent('https://orders.example.com')}`)).body;
    const signer = (await s.mgmt('GET', '/resource-servers/urn%3Asigner')).body;
    expect(r.stdout).toContain([
      'Outputs:', '  orders-api',
      `    id                      ${orders.id}`,
      '    identifier              https://orders.example.com',
      '    name                    Orders API',
      '    signing_alg             RS256',
      '    signing_secret          (none)',
      '    token_lifetime          3600',
      '    token_lifetime_for_web  3600',
      '    allow_offline_access    false',
      '    enforce_policies        true',
      '    token_dialect           access_token_authz',
      '    is_system               false',
      '    client_id               (none)',
    ].join('\n'));
    expect(r.stdout).toContain('    signing_secret          (sensitive value)');
    expect(r.stdout).not.toContain(signer.signing_secret);
    // The client and its grant really work: the worker gets a token for the API.
    const clients = (await s.mgmt('GET', '/clients')).body as Array<{ name: string; client_id: string; client_secret: string }>;
    const worker = clients.find((c) => c.name === 'Orders Worker')!;
    const tok = await fetch(`${s.origin}/oauth/token`, { method: 'POST', body: new URLSearchParams({ grant_type: 'client_credentials', client_id: worker.client_id, client_secret: worker.client_secret, audience: 'https://orders.example.com' }) });
    expect(tok.status).toBe(200);
    expect((await tok.json()).scope).toBe('read:orders');
  });

  it('a second apply is a no-op and says so; plan exits 0', async () => {
    const again = await cli(['apply', '-f', dir], s.env);
    expect(again.code).toBe(0);
    expect(again.stdout.startsWith('No changes. The target matches the manifests; nothing to apply.\n')).toBe(true);
    const plan = await cli(['plan', '-f', dir], s.env);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toBe(`Plan for ${s.origin}\n\nNo changes. The target matches the manifests (4 resource(s)).\n`);
  });

  it('outputs as JSON for scripts, with the signing secret only under --show-secrets', async () => {
    const masked = JSON.parse((await cli(['apply', '-f', dir, '--output', 'json'], s.env)).stdout);
    expect(masked.applied).toBe(0);
    expect(masked.summary).toEqual({ create: 0, update: 0, replace: 0, delete: 0, unchanged: 4 });
    expect(masked.outputs['signer-api'].signing_secret).toBe('(sensitive value)');
    const shown = JSON.parse((await cli(['apply', '-f', dir, '--output', 'json', '--show-secrets'], s.env)).stdout);
    const signer = (await s.mgmt('GET', '/resource-servers/urn%3Asigner')).body;
    expect(shown.outputs['signer-api']).toEqual({
      id: signer.id, identifier: 'urn:signer', name: 'Signer API', signing_alg: 'HS256', signing_secret: signer.signing_secret,
      token_lifetime: 86400, token_lifetime_for_web: 7200, allow_offline_access: false, enforce_policies: false,
      token_dialect: 'access_token', is_system: false, client_id: null,
    });
  });

  it('plan shows field-level before → after for updates, masks secrets, and --output json says the same', async () => {
    writeFileSync(join(dir, 'apis.yaml'), `${ORDERS.replace('token_lifetime: 3600', 'token_lifetime: 7200\n  allow_offline_access: true')}---\n${SIGNER}  signing_secret: a-brand-new-secret-0123456789\n`);
    const r = await cli(['plan', '-f', dir], s.env);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe([
      `Plan for ${s.origin}`, '',
      '  ~ ResourceServer orders-api (https://orders.example.com): update',
      '      allow_offline_access: false → true',
      '      token_lifetime: 3600 → 7200',
      '      token_lifetime_for_web: 3600 → 7200',
      '  ~ ResourceServer signer-api (urn:signer): update',
      '      signing_secret: (sensitive value) → (sensitive value)',
      '',
      'Plan: 0 to create, 2 to update, 0 to replace, 0 to delete; 2 unchanged.', '',
    ].join('\n'));
    const json = JSON.parse((await cli(['plan', '-f', dir, '--output', 'json'], s.env)).stdout);
    expect(json.changes[0]).toEqual({
      action: 'update', kind: 'ResourceServer', name: 'orders-api', key: 'https://orders.example.com', id: expect.any(String),
      fields: [
        { field: 'allow_offline_access', before: false, after: true },
        { field: 'token_lifetime', before: 3600, after: 7200 },
        { field: 'token_lifetime_for_web', before: 3600, after: 7200 },
      ],
    });
    expect(JSON.stringify(json)).not.toContain('a-brand-new-secret');
    const applied = await cli(['apply', '-f', dir], s.env);
    expect(applied.code).toBe(0);
    expect(applied.stdout).toContain('~ ResourceServer orders-api (https://orders.example.com): updated');
    expect((await s.mgmt('GET', '/resource-servers/urn%3Asigner')).body.signing_secret).toBe('a-brand-new-secret-0123456789');
    expect((await cli(['plan', '-f', dir], s.env)).code).toBe(0);
  });

  it('--prune deletes undeclared resources of the declared kinds, never the system API or the deploying client', async () => {
    const stray = await s.mgmt('POST', '/resource-servers', { identifier: 'urn:stray', name: 'Stray' });
    expect(stray.status).toBe(201);
    const without = await cli(['plan', '-f', dir], s.env);
    expect(without.code).toBe(0);
    const pruned = await cli(['plan', '-f', join(dir, 'apis.yaml'), '--prune'], s.env);
    expect(pruned.code).toBe(2);
    expect(pruned.stdout).toContain('  - ResourceServer stray (urn:stray): delete\n');
    expect(pruned.stdout).toContain('Plan: 0 to create, 0 to update, 0 to replace, 1 to delete; 2 unchanged.');
    expect((await cli(['apply', '-f', join(dir, 'apis.yaml'), '--prune'], s.env)).code).toBe(0);
    expect((await s.mgmt('GET', '/resource-servers/urn%3Astray')).status).toBe(404);
    const left = (await s.mgmt('GET', '/resource-servers')).body as Array<{ identifier: string }>;
    expect(left.map((x) => x.identifier).sort()).toEqual([`${s.origin}/api/v2/`, 'https://orders.example.com', 'urn:signer']);
  });

  it('an identifier change is a replace: refused without --allow-replace, then moves the grant and deletes the old API', async () => {
    const old = (await s.mgmt('GET', `/resource-servers/${encodeURIComponent('https://orders.example.com')}`)).body;
    const text = readFileSync(join(dir, 'apis.yaml'), 'utf8');
    writeFileSync(join(dir, 'apis.yaml'), text.replace('identifier: https://orders.example.com', 'identifier: https://orders.example.com/v2'));
    writeFileSync(join(dir, 'worker.yaml'), WORKER.replace('audience: https://orders.example.com', 'audience: https://orders.example.com/v2'));
    const plan = await cli(['plan', '-f', dir], s.env);
    expect(plan.code).toBe(2);
    expect(plan.stdout).toContain([
      '  -/+ ResourceServer orders-api (https://orders.example.com/v2): replace (requires --allow-replace)',
      '      identifier: https://orders.example.com → https://orders.example.com/v2',
      '      moves 1 client grant(s) and the permissions of 0 role(s) to https://orders.example.com/v2, then deletes https://orders.example.com',
    ].join('\n'));
    expect(plan.stdout).toContain('Plan: 0 to create, 0 to update, 1 to replace, 0 to delete; 3 unchanged.');
    const refused = await cli(['apply', '-f', dir], s.env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('tessera: The identifier of an API cannot be changed; these changes replace the API:\n  ResourceServer orders-api: identifier https://orders.example.com → https://orders.example.com/v2\n');
    expect(refused.stderr).toContain('Re-run with --allow-replace to proceed.');
    expect((await s.mgmt('GET', `/resource-servers/${old.id}`)).status).toBe(200);
    const done = await cli(['apply', '-f', dir, '--allow-replace'], s.env);
    expect(done.code).toBe(0);
    expect(done.stdout).toContain('-/+ ResourceServer orders-api (https://orders.example.com/v2): replaced');
    expect((await s.mgmt('GET', `/resource-servers/${old.id}`)).status).toBe(404);
    const fresh = (await s.mgmt('GET', `/resource-servers/${encodeURIComponent('https://orders.example.com/v2')}`)).body;
    expect(fresh).toMatchObject({ name: 'Orders API', token_lifetime: 7200, enforce_policies: true, token_dialect: 'access_token_authz' });
    const grants = (await s.mgmt('GET', '/client-grants')).body as Array<{ audience: string; scope?: string[] }>;
    expect(grants.filter((g) => g.audience.startsWith('https://orders.example.com'))).toEqual([expect.objectContaining({ audience: 'https://orders.example.com/v2', scope: ['read:orders'] })]);
    expect((await cli(['plan', '-f', dir], s.env)).code).toBe(0);
  });

  it('clients reveal prints a manifest-created client\'s secret on request, and only with read:client_keys', async () => {
    const r = await cli(['clients', 'reveal', 'Orders Worker', '--output', 'json'], s.env);
    expect(r.code, r.stderr).toBe(0);
    const shown = JSON.parse(r.stdout) as { client_id: string; client_secret: string };
    expect(shown.client_secret).toMatch(/^\S{32,}$/);
    expect(r.stderr).toContain('the client_secret above is a credential');
    const token = await fetch(`${s.origin}/oauth/token`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: 'client_credentials', client_id: shown.client_id, client_secret: shown.client_secret, audience: 'https://orders.example.com/v2' }), // after the replace above
    });
    expect(token.status).toBe(200);
    expect((await cli(['clients', 'reveal', shown.client_id], s.env)).stdout).toContain(`client_secret: ${shown.client_secret}`);
    // a deploying client with read:clients but not read:client_keys gets no secret
    const reader = (await s.mgmt('POST', '/clients', { name: 'Reader', app_type: 'non_interactive', grant_types: ['client_credentials'] })).body;
    expect((await s.mgmt('POST', '/client-grants', { client_id: reader.client_id, audience: `${s.origin}/api/v2/`, scope: ['read:clients'] })).status).toBe(201);
    const denied = await cli(['clients', 'reveal', 'Orders Worker'], { ...s.env, TESSERA_DEPLOY_CLIENT_ID: reader.client_id, TESSERA_DEPLOY_CLIENT_SECRET: reader.client_secret });
    expect(denied.code).toBe(1);
    expect(denied.stdout).toBe('');
    expect(denied.stderr).toContain('returned no secret');
    expect(denied.stderr).not.toContain(shown.client_secret);
    const unknown = await cli(['clients', 'reveal', 'No Such App'], s.env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no client with client_id or name "No Such App"');
    await s.mgmt('DELETE', `/clients/${reader.client_id}`);
  });

  it('destroy without a terminal deletes nothing unless --yes confirms', async () => {
    const r = await cli(['destroy', '-f', dir], s.env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('destroy would delete 4 resource(s)');
    expect(r.stderr).toContain('pass --yes to confirm');
    expect((await s.mgmt('GET', `/resource-servers/${encodeURIComponent('https://orders.example.com/v2')}`)).status).toBe(200);
  });

  it('destroy --yes removes what the manifests declare and never a system API', async () => {
    const sys = manifests({ 'sys.yaml': `apiVersion: tessera/v1\nkind: ResourceServer\nmetadata:\n  name: mgmt\nspec:\n  identifier: ${s.origin}/api/v2/\n` });
    const refused = await cli(['destroy', '-f', sys], s.env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`spec.identifier: ${s.origin}/api/v2/ is reserved: it is the Management API audience of the server at ${s.domain}`);
    expect(refused.stderr).toContain('nothing was sent to the target');
    const r = await cli(['destroy', '--yes', '-f', dir], s.env);
    expect(r.code).toBe(0);
    const order = [...r.stdout.matchAll(/^- (\w+) (\S+) .*: deleted/gm)].map((m) => `${m[1]} ${m[2]}`);
    expect(order).toEqual(['ClientGrant worker-orders', 'Client orders-worker', 'ResourceServer orders-api', 'ResourceServer signer-api']);
    const left = (await s.mgmt('GET', '/resource-servers')).body as Array<{ identifier: string; is_system?: boolean }>;
    expect(left).toEqual([expect.objectContaining({ identifier: `${s.origin}/api/v2/`, is_system: true })]);
    const plan = await cli(['plan', '-f', dir], s.env);
    expect(plan.stdout).toContain('Plan: 4 to create');
  });
});
