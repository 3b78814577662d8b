import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, manifests, startServer, type Server } from './helpers';

const API = 'https://ledger.example.com';
const scopes = ['read:ledger', 'write:ledger', 'admin:ledger'];

const api = (enforce: boolean) => `apiVersion: tessera/v1
kind: ResourceServer
metadata:
  name: ledger-api
spec:
  identifier: ${API}
  name: Ledger API
  scopes:
${scopes.map((s) => `    - value: ${s}\n      description: ${s}`).join('\n')}
  enforce_policies: ${enforce}
`;
const grant = (scope: string[]) => `apiVersion: tessera/v1
kind: ClientGrant
metadata:
  name: worker-ledger
spec:
  client: Ledger Worker
  audience: ${API}
  scope: [${scope.join(', ')}]
`;
const role = (perms: string[]) => `apiVersion: tessera/v1
kind: Role
metadata:
  name: ledger-clerks
spec:
  name: Ledger Clerks
  permissions:
${perms.map((p) => `    - resource_server_identifier: ${API}\n      permission_name: ${p}`).join('\n')}
`;

/** `tessera plan` shows which clients and users gain or lose scopes, from the server's explain (today vs as planned). */
describe('tessera plan: token impact', { timeout: 180_000 }, () => {
  let s: Server;
  let worker: { client_id: string; client_secret: string };
  let web: { client_id: string; client_secret: string };
  let alice: string;

  beforeAll(async () => {
    s = await startServer();
    const ok = async (method: string, path: string, body?: unknown) => {
      const r = await s.mgmt(method, path, body);
      expect(r.status, `${method} ${path}: ${JSON.stringify(r.body)}`).toBeLessThan(300);
      return r.body;
    };
    await ok('POST', '/resource-servers', { identifier: API, name: 'Ledger API', scopes: scopes.map((value) => ({ value, description: value })), enforce_policies: true });
    worker = await ok('POST', '/clients', { name: 'Ledger Worker', app_type: 'non_interactive', grant_types: ['client_credentials'] });
    await ok('POST', '/client-grants', { client_id: worker.client_id, audience: API, scope: ['read:ledger'] });
    web = await ok('POST', '/clients', { name: 'Ledger Web', app_type: 'regular_web', callbacks: ['https://ledger.example.com/callback'], grant_types: ['authorization_code', 'password'] });
    await ok('POST', '/client-grants', { client_id: web.client_id, audience: API, subject_type: 'user', allow_all_scopes: true });
    const clerks = await ok('POST', '/roles', { name: 'Ledger Clerks' });
    await ok('POST', `/roles/${clerks.id}/permissions`, { permissions: [{ resource_server_identifier: API, permission_name: 'read:ledger' }] });
    alice = (await ok('POST', '/users', { connection: 'Username-Password-Authentication', email: 'alice@ledger.example.com', password: 'Correct-Horse-9' })).user_id;
    await ok('POST', `/users/${encodeURIComponent(alice)}/roles`, { roles: [clerks.id] });
  });
  afterAll(async () => { await s?.stop(); });

  it('grants and role permissions: the worker gains a scope, the clerk trades one for another; JSON carries it', async () => {
    const dir = manifests({ 'ledger.yaml': `${grant(['read:ledger', 'write:ledger'])}---\n${role(['admin:ledger'])}` });
    const r = await cli(['plan', '-f', dir], s.env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(2);
    expect(r.stdout).toContain([
      '',
      'Token impact (the server\'s explain, today and as planned):',
      `  client Ledger Worker (${worker.client_id}) → ${API}: gains write:ledger`,
      `  user ${alice} through Ledger Web (${web.client_id}) → ${API}: gains admin:ledger; loses read:ledger`,
      '',
    ].join('\n'));
    const json = JSON.parse((await cli(['plan', '-f', dir, '--output', 'json'], s.env)).stdout);
    expect(json.impact).toEqual([
      { subject: 'client', client_id: worker.client_id, client: 'Ledger Worker', audience: API, gains: ['write:ledger'], loses: [] },
      { subject: 'user', client_id: web.client_id, client: 'Ledger Web', user_id: alice, audience: API, gains: ['admin:ledger'], loses: ['read:ledger'] },
    ]);
    // what plan predicted is what the tokens carry once applied
    expect((await cli(['apply', '-f', dir], s.env)).code).toBe(0);
    const cc = await fetch(`${s.origin}/oauth/token`, { method: 'POST', body: new URLSearchParams({ grant_type: 'client_credentials', client_id: worker.client_id, client_secret: worker.client_secret, audience: API }) });
    expect((await cc.json()).scope).toBe('read:ledger write:ledger');
    const pw = await fetch(`${s.origin}/oauth/token`, { method: 'POST', body: new URLSearchParams({ grant_type: 'password', client_id: web.client_id, client_secret: web.client_secret, username: 'alice@ledger.example.com', password: 'Correct-Horse-9', audience: API }) });
    expect((await pw.json()).scope).toBe('admin:ledger');
    // nothing left to change: no impact
    const again = JSON.parse((await cli(['plan', '-f', dir, '--output', 'json'], s.env)).stdout);
    expect(again.summary.update + again.summary.create).toBe(0);
    expect(again.impact ?? []).toEqual([]);
  });

  it('an RBAC switch: turning enforce_policies off gives the user every scope the user grant allows', async () => {
    const dir = manifests({ 'ledger.yaml': api(false) });
    const r = await cli(['plan', '-f', dir, '--output', 'json'], s.env);
    expect(r.code).toBe(2);
    const json = JSON.parse(r.stdout);
    expect(json.changes.map((c: { kind: string; fields: Array<{ field: string }> }) => `${c.kind} ${c.fields.map((f) => f.field)}`)).toEqual(['ResourceServer enforce_policies']);
    expect(json.impact).toEqual([
      { subject: 'user', client_id: web.client_id, client: 'Ledger Web', user_id: alice, audience: API, gains: ['read:ledger', 'write:ledger'], loses: [] },
    ]);
    const text = await cli(['plan', '-f', dir], s.env);
    expect(text.stdout).toContain(`  user ${alice} through Ledger Web (${web.client_id}) → ${API}: gains read:ledger write:ledger\n`);
  });

  it('a plan that touches no token says nothing about impact', async () => {
    const dir = manifests({ 'ledger.yaml': api(true).replace('name: Ledger API', 'name: Ledger API v2') });
    const r = await cli(['plan', '-f', dir], s.env);
    expect(r.code).toBe(2);
    expect(r.stdout).not.toContain('Token impact');
  });
});
