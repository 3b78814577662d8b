import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, hasRoles, manifests, startServer, tempDir, workerManifests, type Server } from './helpers';

const TENANT = `apiVersion: tessera/v1
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
  token_lifetime_for_web: 1800
  enforce_policies: true
  token_dialect: rfc9068_profile_authz
  proof_of_possession:
    mechanism: dpop
    required: false
  subject_type_authorization:
    user:
      policy: require_client_grant
---
apiVersion: auth0.project-planton.org/v1
kind: Auth0ResourceServer
metadata:
  name: signer-api
spec:
  identifier: urn:signer
  name: Signer API
  signing_alg: HS256
  allow_offline_access: true
  scopes:
    - name: sign
      description: Sign documents
---
` + workerManifests(['write:orders', 'read:orders']);
const ROLE = `---
apiVersion: tessera/v1
kind: Role
metadata:
  name: orders-reader
spec:
  name: Orders Reader
  description: Can read orders
  permissions:
    - resource_server_identifier: https://orders.example.com
      permission_name: read:orders
`;

const readTree = (dir: string) => Object.fromEntries(readdirSync(dir).sort().map((f) => [f, readFileSync(join(dir, f), 'utf8')]));

describe('tessera import / export, roles and a failing apply', { timeout: 180_000 }, () => {
  let a: Server;
  let b: Server;
  let roles = false;
  beforeAll(async () => {
    [a, b] = await Promise.all([startServer(), startServer()]);
    roles = await hasRoles(a);
  });
  afterAll(async () => { await Promise.all([a?.stop(), b?.stop()]); });

  it('export → apply to an empty server → export again gives identical manifests', async () => {
    const src = manifests({ 'tenant.yaml': TENANT + (roles ? ROLE : '') });
    expect((await cli(['apply', '-f', src], a.env)).code).toBe(0);
    const first = tempDir();
    const exported = await cli(['export', '-o', first], a.env);
    expect(exported.code).toBe(0);
    const files = readTree(first);
    expect(Object.keys(files)).toEqual(['client-grants.yaml', 'clients.yaml', 'resource-servers.yaml', ...(roles ? ['roles.yaml'] : [])]);
    expect(files['resource-servers.yaml']).toBe(`apiVersion: tessera/v1
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
  token_lifetime_for_web: 1800
  enforce_policies: true
  token_dialect: rfc9068_profile_authz
  proof_of_possession:
    mechanism: dpop
    required: false
  subject_type_authorization:
    client:
      policy: require_client_grant
    user:
      policy: require_client_grant
---
apiVersion: tessera/v1
kind: ResourceServer
metadata:
  name: signer-api
spec:
  identifier: urn:signer
  name: Signer API
  scopes:
    - value: sign
      description: Sign documents
  signing_alg: HS256
  allow_offline_access: true
`);
    expect(files['client-grants.yaml']).toContain('  client: Orders Worker\n  audience: https://orders.example.com\n  scope:\n    - write:orders\n    - read:orders\n');
    expect((await cli(['plan', '-f', first], a.env)).code).toBe(0);
    const applied = await cli(['apply', '-f', first], b.env);
    expect(applied.code).toBe(0);
    expect(applied.stdout).toContain(`Apply complete: ${roles ? 5 : 4} created, 0 updated, 0 replaced, 0 deleted.`);
    const second = tempDir();
    expect((await cli(['export', '-o', second], b.env)).code).toBe(0);
    expect(readTree(second)).toEqual(files);
    const single = await cli(['export'], b.env);
    expect(single.stdout).toBe(Object.entries(files).sort(([x], [y]) => order(x) - order(y)).map(([, t]) => t).join('---\n'));
  });

  it('manages roles and their permissions (skipped when the target has no /api/v2/roles)', async (ctx) => {
    if (!roles) ctx.skip('the target has no /api/v2/roles yet');
    const dir = manifests({ 'tenant.yaml': TENANT + ROLE.replace('Can read orders', 'Reads and writes orders').replace('      permission_name: read:orders', '      permission_name: read:orders\n    - resource_server_identifier: https://orders.example.com\n      permission_name: write:orders') });
    const plan = await cli(['plan', '-f', dir], a.env);
    expect(plan.code).toBe(2);
    expect(plan.stdout).toContain([
      '  ~ Role orders-reader (Orders Reader): update',
      '      description: Can read orders → Reads and writes orders',
      '      permissions: ["https://orders.example.com|read:orders"] → ["https://orders.example.com|read:orders","https://orders.example.com|write:orders"]',
    ].join('\n'));
    expect((await cli(['apply', '-f', dir], a.env)).code).toBe(0);
    const role = ((await a.mgmt('GET', '/roles')).body as Array<{ id: string; name: string; description: string }>).find((r) => r.name === 'Orders Reader')!;
    expect(role.description).toBe('Reads and writes orders');
    const perms = (await a.mgmt('GET', `/roles/${role.id}/permissions`)).body as Array<{ permission_name: string }>;
    expect(perms.map((p) => p.permission_name).sort()).toEqual(['read:orders', 'write:orders']);
    expect((await cli(['plan', '-f', dir], a.env)).code).toBe(0);
  });

  it('import adopts an existing API by identifier or id into a manifest file, and plan then shows no changes', async () => {
    const created = await a.mgmt('POST', '/resource-servers', { identifier: 'https://legacy.example.com', name: 'Legacy API', token_lifetime: 600, scopes: [{ value: 'read:legacy' }] });
    expect(created.status).toBe(201);
    const dir = tempDir();
    const file = join(dir, 'legacy.yaml');
    const byIdentifier = await cli(['import', 'https://legacy.example.com', '-o', file], a.env);
    expect(byIdentifier.code).toBe(0);
    expect(byIdentifier.stderr).toBe(`imported https://legacy.example.com (id ${created.body.id}) into ${file} as ResourceServer legacy-api\n`);
    expect(readFileSync(file, 'utf8')).toBe(`apiVersion: tessera/v1
kind: ResourceServer
metadata:
  name: legacy-api
spec:
  identifier: https://legacy.example.com
  name: Legacy API
  scopes:
    - value: read:legacy
  token_lifetime: 600
`);
    const again = await cli(['import', created.body.id, '-o', file], a.env);
    expect(again.code).toBe(1);
    expect(again.stderr).toBe(`tessera: ${file} already declares https://legacy.example.com (metadata.name legacy-api)\n`);
    const plan = await cli(['plan', '-f', file], a.env);
    expect(plan.code).toBe(0);
    const missing = await cli(['import', 'urn:nope'], a.env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(`tessera: no API with id or identifier urn:nope on ${a.origin}\n`);
  });

  it('a failure in the middle stops the apply, keeps what was applied, and a fixed re-run converges', async () => {
    const ok = 'apiVersion: tessera/v1\nkind: ResourceServer\nmetadata:\n  name: first\nspec:\n  identifier: urn:first\n  name: First\n';
    const client = 'apiVersion: tessera/v1\nkind: Client\nmetadata:\n  name: late\nspec:\n  name: Late Client\n  app_type: non_interactive\n';
    // a scope the target's Management API does not define: only the server knows its vocabulary
    const refused = `apiVersion: tessera/v1\nkind: ClientGrant\nmetadata:\n  name: refused\nspec:\n  client: Late Client\n  audience: ${b.origin}/api/v2/\n  scope: [read:nothing]\n`;
    const after = 'apiVersion: tessera/v1\nkind: ClientGrant\nmetadata:\n  name: after\nspec:\n  client: Late Client\n  audience: urn:first\n';
    const dir = manifests({ 'a.yaml': `${ok}---\n${client}---\n${refused}---\n${after}` });
    const r = await cli(['apply', '-f', dir], b.env);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('+ ResourceServer first (urn:first): created');
    expect(r.stdout).toContain('+ Client late (Late Client): created');
    expect(r.stderr).toContain(`\nError: create ClientGrant refused (Late Client → ${b.origin}/api/v2/) failed:\n  POST /client-grants failed: 400 Bad Request: `);
    expect(r.stderr).toContain('read:nothing');
    expect(r.stderr).toContain('Apply stopped: 2 of 4 change(s) were applied and are in place; nothing after the failed step was attempted. Fix the problem and run apply again.\n');
    expect((await b.mgmt('GET', '/resource-servers/urn%3Afirst')).status).toBe(200);
    const late = ((await b.mgmt('GET', '/clients')).body as Array<{ name: string; client_id: string }>).find((c) => c.name === 'Late Client')!;
    expect(((await b.mgmt('GET', '/client-grants')).body as Array<{ client_id: string }>).filter((g) => g.client_id === late.client_id)).toEqual([]);
    const fixed = manifests({ 'a.yaml': `${ok}---\n${client}---\n${after}` });
    const rerun = await cli(['apply', '-f', fixed], b.env);
    expect(rerun.code).toBe(0);
    expect(rerun.stdout).toContain('Apply complete: 1 created, 0 updated, 0 replaced, 0 deleted.');
  });
});

function order(file: string): number {
  return ['resource-servers.yaml', 'clients.yaml', 'client-grants.yaml', 'roles.yaml'].indexOf(file);
}
