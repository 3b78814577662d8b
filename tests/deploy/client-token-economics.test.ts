import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, manifests, startServer, type Server } from './helpers';

const API = `apiVersion: tessera/v1
kind: ResourceServer
metadata:
  name: quota-api
spec:
  identifier: https://quota.example.com
`;
const client = (extra: string) => `apiVersion: tessera/v1
kind: Client
metadata:
  name: quota-worker
spec:
  name: Quota Worker
  app_type: non_interactive
  grant_types: [client_credentials]
${extra}---
apiVersion: tessera/v1
kind: ClientGrant
metadata:
  name: quota-worker-api
spec:
  client: Quota Worker
  audience: https://quota.example.com
`;
const QUOTA = '  token_quota:\n    client_credentials:\n      enforce: true\n      per_hour: 2\n  tessera_token_reuse: false\n';

/** Clients declared in manifests carry Auth0's token_quota and Tessera's tessera_token_reuse: validated, planned, applied, exported. */
describe('manifests: token quota and token reuse of clients', { timeout: 120_000 }, () => {
  let s: Server;
  beforeAll(async () => { s = await startServer(); });
  afterAll(async () => { await s?.stop(); });

  it('validate refuses what the server refuses, naming the field', async () => {
    const bad = manifests({
      'bad.yaml': client('  token_quota:\n    client_credentials:\n      per_hour: 0\n  tessera_token_reuse: sometimes\n'),
      'empty.yaml': client('  token_quota:\n    client_credentials: {}\n').replace(/quota-worker/g, 'other').replace('Quota Worker', 'Other'),
    });
    const r = await cli(['validate', '-f', bad]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/spec\.token_quota\.client_credentials\.per_hour/);
    expect(r.stdout).toMatch(/spec\.tessera_token_reuse/);
    expect(r.stdout).toMatch(/spec\.token_quota\.client_credentials/);
  });

  it('apply sets them, the token endpoint enforces them, a second plan has nothing to do, export writes them back', async () => {
    const dir = manifests({ 'all.yaml': `${API}---\n${client(QUOTA)}` });
    expect((await cli(['validate', '-f', dir])).code).toBe(0);
    const applied = await cli(['apply', '-f', dir], s.env);
    expect(applied.stderr).toBe('');
    expect(applied.code).toBe(0);
    const worker = ((await s.mgmt('GET', '/clients')).body as Array<Record<string, any>>).find((c) => c.name === 'Quota Worker')!;
    expect(worker.token_quota).toEqual({ client_credentials: { enforce: true, per_hour: 2 } });
    expect(worker.tessera_token_reuse).toBe(false);
    const ask = () => fetch(`${s.origin}/oauth/token`, { method: 'POST', body: new URLSearchParams({ grant_type: 'client_credentials', client_id: worker.client_id, client_secret: worker.client_secret, audience: 'https://quota.example.com' }) });
    expect((await ask()).headers.get('auth0-client-quota-limit')).toMatch(/^b=per_hour;q=2;r=1;/);
    expect((await ask()).status).toBe(200);
    expect((await ask()).status).toBe(429);
    expect((await cli(['plan', '-f', dir], s.env)).code).toBe(0);
    const exported = await cli(['export'], s.env);
    expect(exported.stdout).toContain('token_quota:\n    client_credentials:\n      enforce: true\n      per_hour: 2\n  tessera_token_reuse: false');
    // null clears the client's own quota
    const cleared = manifests({ 'all.yaml': `${API}---\n${client('  token_quota: null\n')}` });
    const plan = await cli(['plan', '-f', cleared], s.env);
    expect(plan.code).toBe(2);
    expect(plan.stdout).toContain('token_quota');
    expect((await cli(['apply', '-f', cleared], s.env)).code).toBe(0);
    expect((await s.mgmt('GET', `/clients/${worker.client_id}`)).body.token_quota).toBeUndefined();
    expect((await ask()).status).toBe(200);
    expect((await cli(['plan', '-f', cleared], s.env)).code).toBe(0);
  });
});
