import { afterAll, beforeAll, expect, it } from 'vitest';
import { eachDialect, startTessera, type TestServer } from './helpers/tessera';

eachDialect('smoke', (dialect) => {
  let s: TestServer;
  beforeAll(async () => { s = await startTessera(dialect); });
  afterAll(async () => { await s.close(); });

  it('issues a Management API token to the bootstrap admin and lists the system API', async () => {
    const r = await s.api('GET', '/resource-servers?include_totals=true');
    expect(r.status).toBe(200);
    expect(r.body.total).toBe(1);
    expect(r.body.resource_servers[0]).toMatchObject({ name: 'Auth0 Management API', identifier: 'https://tessera.test/api/v2/', is_system: true });
  });
});
