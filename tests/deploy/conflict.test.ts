import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyPlan } from '../../packages/cli/src/deploy/applier';
import { readLive } from '../../packages/cli/src/deploy/live';
import { ManagementClient } from '../../packages/cli/src/deploy/mgmt-client';
import { plan } from '../../packages/cli/src/deploy/planner';
import type { ResourceServerRes } from '../../packages/cli/src/deploy/types';
import { ADMIN_ID, ADMIN_SECRET, MGMT_AUDIENCE, startTessera, type TestServer } from '../helpers/tessera';

describe('an API created by someone else between plan and apply', () => {
  let s: TestServer;
  let origin: string;
  beforeAll(async () => {
    s = await startTessera('sqlite');
    origin = await s.t.app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => { await s.close(); });

  it('stops with the 409 and tells the user to adopt it with tessera import', async () => {
    const api = new ManagementClient({ domain: new URL(origin).host, origin, audience: MGMT_AUDIENCE, clientId: ADMIN_ID, clientSecret: ADMIN_SECRET });
    const rs: ResourceServerRes = { kind: 'ResourceServer', name: 'orders-api', spec: { identifier: 'https://orders.example.com', name: 'Orders API' }, source: { file: 'm.yaml', doc: 1 } };
    const p = plan([rs], await readLive(api), { prune: false }, new Map());
    expect(p.changes.map((c) => c.action)).toEqual(['create']);
    expect((await s.api('POST', '/resource-servers', { identifier: 'https://orders.example.com' })).status).toBe(201);
    const lines: string[] = [];
    const out = await applyPlan(api, p, (l) => lines.push(l));
    expect(lines).toEqual([]);
    expect(out.applied).toEqual([]);
    expect(out.failed?.message).toBe([
      'POST /resource-servers failed: 409 Conflict: A resource server with the same identifier already exists. (conflict)',
      'An API with identifier https://orders.example.com already exists on the target. Adopt it with `tessera import https://orders.example.com -o <manifest file>` and plan again.',
    ].join('\n'));
  });
});
