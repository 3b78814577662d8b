import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, manifests, startServer, type Server } from './helpers';

// Documents written the way Project Planton's published Auth0ResourceServer and Auth0Client examples are: its
// apiVersion and kinds, CloudResourceMetadata (org, env, labels, …), snake_case specs, scopes as name/description,
// an Auth0Client's API access as api_grants with `audience.value` or `audience.value_from.name`.
const PLANTON = 'auth0.project-planton.org/v1';
const MINIMAL = `apiVersion: ${PLANTON}
kind: Auth0ResourceServer
metadata:
  name: minimal-api
spec:
  identifier: https://api.minimal.test/
`;
const BILLING = `apiVersion: ${PLANTON}
kind: Auth0ResourceServer
metadata:
  name: billing-api
  org: acme-corp
  env: production
  labels:
    team: billing
    cost-center: finance
  annotations:
    owner: billing@acme.test
  tags: [payments]
spec:
  identifier: https://api.billing.test/v1
  name: Billing API v1

  # Token configuration
  signing_alg: RS256
  token_lifetime: 3600           # 1 hour
  token_lifetime_for_web: 1800

  skip_consent_for_verifiable_first_party_clients: true
  allow_offline_access: true
  enforce_policies: true
  token_dialect: access_token_authz
  scopes:
    - name: read:invoices
      description: Read invoices
    - name: write:invoices
      description: Create and update invoices
`;
const DEV = `apiVersion: ${PLANTON}
kind: Auth0ResourceServer
metadata:
  name: dev-api
  env: development
spec:
  identifier: https://api.dev.billing.test/
  name: Development API
  signing_alg: HS256
  token_lifetime: 86400
  allow_offline_access: true
`;
const WORKER = `apiVersion: ${PLANTON}
kind: Auth0Client
metadata:
  name: billing-worker
  org: acme-corp
  env: production
spec:
  application_type: non_interactive
  description: Billing batch jobs
  grant_types:
    - client_credentials
  jwt_configuration:
    lifetime_in_seconds: 3600
  client_metadata:
    owner_team: billing
  api_grants:
    - audience:
        value_from:
          name: billing-api
      scopes:
        - read:invoices
    - audience:
        value: https://api.minimal.test/
`;

describe('Project Planton manifests', { timeout: 180_000 }, () => {
  let s: Server;
  let dir: string;
  beforeAll(async () => {
    s = await startServer();
    dir = manifests({ 'apis.yaml': `${MINIMAL}---\n${BILLING}---\n${DEV}`, 'worker.yaml': WORKER });
  });
  afterAll(async () => { await s?.stop(); });

  it('Auth0ResourceServer examples validate as written; their metadata is carried into the JSON outputs', async () => {
    const r = await cli(['validate', '-f', dir, '--output', 'json']);
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ valid: true, errors: 0, warnings: 0 });
    expect(out.resources.map((x: { kind: string; name: string }) => `${x.kind} ${x.name}`)).toEqual([
      'ResourceServer minimal-api', 'ResourceServer billing-api', 'ResourceServer dev-api',
      'Client billing-worker', 'ClientGrant billing-worker.api_grants[0]', 'ClientGrant billing-worker.api_grants[1]',
    ]);
    expect(out.resources[1].metadata).toEqual({ org: 'acme-corp', env: 'production', labels: { team: 'billing', 'cost-center': 'finance' }, annotations: { owner: 'billing@acme.test' }, tags: ['payments'] });
    expect(out.resources[2].metadata).toEqual({ env: 'development' });
    expect(out.resources[0].metadata).toBeUndefined();
  });

  it('an Auth0Client with api_grants is planned as a Client and its ClientGrants, and the grants work', async () => {
    const plan = await cli(['plan', '-f', dir], s.env);
    expect(plan.stderr).toBe('');
    expect(plan.code).toBe(2);
    expect(plan.stdout).toContain([
      '  + ResourceServer minimal-api (https://api.minimal.test/): create',
      '      identifier: https://api.minimal.test/',
      '      name: minimal-api',
    ].join('\n'));
    expect(plan.stdout).toContain([
      '  + Client billing-worker (billing-worker): create',
      '      name: billing-worker',
      '      app_type: non_interactive',
      '      description: Billing batch jobs',
      '      grant_types: ["client_credentials"]',
      '      jwt_configuration: {"lifetime_in_seconds":3600}',
      '      client_metadata: {"owner_team":"billing"}',
      '  + ClientGrant billing-worker.api_grants[0] (billing-worker → https://api.billing.test/v1): create',
      '      audience: https://api.billing.test/v1',
      '      scope: ["read:invoices"]',
      '  + ClientGrant billing-worker.api_grants[1] (billing-worker → https://api.minimal.test/): create',
      '      audience: https://api.minimal.test/',
      '      scope: []',
    ].join('\n'));
    expect(plan.stdout).toContain('Plan: 6 to create, 0 to update, 0 to replace, 0 to delete; 0 unchanged.');
    const json = JSON.parse((await cli(['plan', '-f', dir, '--output', 'json'], s.env)).stdout);
    const byName = Object.fromEntries(json.changes.map((c: { name: string }) => [c.name, c]));
    expect(byName['billing-api'].metadata).toMatchObject({ org: 'acme-corp', env: 'production' });
    expect(byName['billing-worker'].metadata).toEqual({ org: 'acme-corp', env: 'production' });

    const applied = await cli(['apply', '-f', dir], s.env);
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stdout).toContain('Apply complete: 6 created, 0 updated, 0 replaced, 0 deleted.');
    const worker = ((await s.mgmt('GET', '/clients')).body as Array<{ name: string; client_id: string; client_secret: string; app_type: string }>).find((c) => c.name === 'billing-worker')!;
    expect(worker.app_type).toBe('non_interactive');
    const token = await fetch(`${s.origin}/oauth/token`, { method: 'POST', body: new URLSearchParams({ grant_type: 'client_credentials', client_id: worker.client_id, client_secret: worker.client_secret, audience: 'https://api.billing.test/v1' }) });
    expect(token.status).toBe(200);
    expect((await token.json()).scope).toBe('read:invoices');
    const denied = await fetch(`${s.origin}/oauth/token`, { method: 'POST', body: new URLSearchParams({ grant_type: 'client_credentials', client_id: worker.client_id, client_secret: worker.client_secret, audience: 'https://api.dev.billing.test/' }) });
    expect(denied.status).toBe(403);
    const again = await cli(['plan', '-f', dir], s.env);
    expect(again.code).toBe(0);
    expect(again.stdout).toBe(`Plan for ${s.origin}\n\nNo changes. The target matches the manifests (6 resource(s)).\n`);
  });

  it('refuses Auth0Client fields without an equivalent, misspelt fields and unknown API references, all in one run', async () => {
    const bad = manifests({
      'phone.yaml': `apiVersion: ${PLANTON}
kind: Auth0Client
metadata:
  name: phone-app
spec:
  applicationType: native
  mobile:
    ios:
      team_id: ABCDE12345
  apiGrants:
    - audience:
        valueFrom:
          name: no-such-api
      scops: [read:x]
    - audience: {}
`,
    });
    const r = await cli(['validate', '-f', bad]);
    expect(r.code).toBe(1);
    const file = join(bad, 'phone.yaml');
    expect(r.stdout.split('\n').map((l) => l.replace(`${file}, `, ''))).toEqual([
      'error: line 7, document 1: spec.mobile: mobile (a field of Project Planton\'s Auth0Client) has no equivalent in Tessera\'s Client and is refused rather than ignored',
      'error: line 11, document 1: spec.apiGrants[0].audience: value_from names no-such-api, but no Auth0ResourceServer (or ResourceServer) in the manifests has that metadata.name',
      'error: line 14, document 1: spec.apiGrants[0].scops: Additional properties not allowed: scops; did you mean scopes?',
      'error: line 15, document 1: spec.apiGrants[1].audience: Data does not match any schemas from \'anyOf\'',
      'invalid: 3 resource(s), 4 error(s), 0 warning(s)',
      '',
    ]);
  });

  it('an identifier change of an API without name is found through metadata.name and planned as a replace', async () => {
    writeFileSync(join(dir, 'apis.yaml'), `${MINIMAL.replace('https://api.minimal.test/', 'https://api.minimal.test/v2/')}---\n${BILLING}---\n${DEV}`);
    writeFileSync(join(dir, 'worker.yaml'), WORKER.replace('value: https://api.minimal.test/', 'value: https://api.minimal.test/v2/'));
    const plan = await cli(['plan', '-f', dir], s.env);
    expect(plan.code).toBe(2);
    expect(plan.stdout).toContain([
      '  -/+ ResourceServer minimal-api (https://api.minimal.test/v2/): replace (requires --allow-replace)',
      '      identifier: https://api.minimal.test/ → https://api.minimal.test/v2/',
      '      moves 1 client grant(s) and the permissions of 0 role(s) to https://api.minimal.test/v2/, then deletes https://api.minimal.test/',
    ].join('\n'));
    expect(plan.stdout).not.toContain(': create');
    expect(plan.stdout).toContain('Plan: 0 to create, 0 to update, 1 to replace, 0 to delete; 5 unchanged.');
    const done = await cli(['apply', '-f', dir, '--allow-replace'], s.env);
    expect(done.code, done.stderr).toBe(0);
    const apis = ((await s.mgmt('GET', '/resource-servers')).body as Array<{ identifier: string; name: string }>).filter((a) => a.identifier.startsWith('https://api.minimal.test'));
    expect(apis).toEqual([expect.objectContaining({ identifier: 'https://api.minimal.test/v2/', name: 'minimal-api' })]);
    expect((await cli(['plan', '-f', dir], s.env)).code).toBe(0);
  });

  it('adopting an API the manifests never managed says so in the plan, once', async () => {
    const made = await s.mgmt('POST', '/resource-servers', { identifier: 'https://api.handmade.test', name: 'Handmade', token_lifetime: 600 });
    expect(made.status).toBe(201);
    writeFileSync(join(dir, 'handmade.yaml'), 'apiVersion: tessera/v1\nkind: ResourceServer\nmetadata:\n  name: ledger-api\nspec:\n  identifier: https://api.handmade.test\n  name: Ledger API\n');
    const plan = await cli(['plan', '-f', dir], s.env);
    expect(plan.code).toBe(2);
    expect(plan.stdout).toContain([
      '  ~ ResourceServer ledger-api (https://api.handmade.test): update',
      '      name: Handmade → Ledger API',
      '      token_lifetime: 600 → 86400',
      '      token_lifetime_for_web: 600 → 7200',
    ].join('\n'));
    expect(plan.stdout).toContain(`  note: ResourceServer ledger-api adopts https://api.handmade.test (id ${made.body.id}, name "Handmade"): an existing API these manifests did not create (its name is neither spec.name nor metadata.name); from now on they manage it\n`);
    expect(JSON.parse((await cli(['plan', '-f', dir, '--output', 'json'], s.env)).stdout).notes).toEqual([expect.stringContaining('ResourceServer ledger-api adopts https://api.handmade.test')]);
    expect((await cli(['apply', '-f', dir], s.env)).code).toBe(0);
    const after = await cli(['plan', '-f', dir], s.env);
    expect(after.code).toBe(0);
    expect(after.stdout).not.toContain('adopts');
  });
});
