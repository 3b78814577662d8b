import { Management, type ManagementClient } from 'auth0';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTessera, type RunningTessera } from '../packages/testing/src/index';
import { createTestDatabase, type TestDatabase } from './helpers/databases';
import { eachDialect } from './helpers/tessera';

/**
 * The auth0 SDK v7 ManagementClient as an independent client (shared/reference/clients.md §1.1), against a server
 * started by @tessera/testing: the SDK hard-codes https://<domain>, and the package's management client sends it
 * to the plain-HTTP socket. The fetch given to the package records every request the SDK makes.
 */
eachDialect('auth0 SDK v7 ManagementClient round trip', (dialect) => {
  let t: RunningTessera;
  let db: TestDatabase;
  let mgmt: ManagementClient;
  const seen: string[] = [];

  beforeAll(async () => {
    db = await createTestDatabase(dialect);
    const recording: typeof fetch = (input, init) => {
      const url = input instanceof Request ? input.url : String(input);
      if (!url.startsWith(t.origin)) throw new Error(`unexpected request outside ${t.origin}: ${url}`);
      seen.push(`${init?.method ?? (input instanceof Request ? input.method : 'GET')} ${url.slice(t.origin.length)}`);
      return fetch(input, init);
    };
    t = await startTessera({ databaseUrl: db.url, fetch: recording });
    mgmt = t.managementClient;
  });
  afterAll(async () => { await t?.stop(); await db?.drop(); });

  it('resource servers and client grants: create → list → update → delete, and a 409 ConflictError', async () => {
    const identifier = 'https://sdk-orders.example/';
    const rs = await mgmt.resourceServers.create({
      name: 'SDK Orders', identifier, signing_alg: 'RS256', token_dialect: 'rfc9068_profile_authz', enforce_policies: true,
      scopes: [{ value: 'read:orders', description: 'Read' }, { value: 'write:orders', description: 'Write' }],
    });
    expect(rs).toMatchObject({ id: expect.any(String), identifier, name: 'SDK Orders', token_lifetime: 86400, signing_alg: 'RS256' });

    const page = await mgmt.resourceServers.list();
    expect(page.data.map((r) => r.identifier).sort()).toEqual([t.audience, identifier].sort());
    const walked: string[] = [];
    for await (const r of await mgmt.resourceServers.list({ per_page: 1 })) walked.push(r.identifier!);
    expect(walked.sort()).toEqual([t.audience, identifier].sort());

    const updated = await mgmt.resourceServers.update(rs.id!, { token_lifetime: 600 });
    expect(updated).toMatchObject({ id: rs.id, token_lifetime: 600 });

    const dup = await mgmt.resourceServers.create({ name: 'again', identifier }).then(() => undefined, (e: unknown) => e);
    expect(dup).toBeInstanceOf(Management.ConflictError);
    expect(dup).toMatchObject({ statusCode: 409 });

    const client = await mgmt.clients.create({ name: 'SDK worker', app_type: 'non_interactive', grant_types: ['client_credentials'] });
    const grant = await mgmt.clientGrants.create({ client_id: client.client_id!, audience: identifier, scope: ['read:orders'] });
    expect(grant).toMatchObject({ id: expect.any(String), client_id: client.client_id, audience: identifier, scope: ['read:orders'], subject_type: 'client' });
    const grants = await mgmt.clientGrants.list({ audience: identifier });
    expect(grants.data.map((g) => g.id)).toEqual([grant.id]);

    const tokenFor = async () => {
      const r = await fetch(`${t.origin}/oauth/token`, {
        method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'client_credentials', client_id: client.client_id!, client_secret: client.client_secret!, audience: identifier }),
      });
      return { status: r.status, body: await r.json() };
    };
    const first = await tokenFor();
    expect(first.body).toMatchObject({ scope: 'read:orders', expires_in: 600 });
    expect(decodeJwt(first.body.access_token)).toMatchObject({ permissions: ['read:orders'], client_id: client.client_id });

    const regranted = await mgmt.clientGrants.update(grant.id!, { scope: ['read:orders', 'write:orders'] });
    expect(regranted.scope).toEqual(['read:orders', 'write:orders']);
    expect((await tokenFor()).body.scope).toBe('read:orders write:orders');

    await mgmt.clientGrants.delete(grant.id!);
    expect((await mgmt.clientGrants.list({ audience: identifier })).data).toEqual([]);
    expect((await tokenFor()).status).toBe(403);

    await mgmt.resourceServers.delete(rs.id!);
    const gone = await mgmt.resourceServers.get(rs.id!).then(() => undefined, (e: unknown) => e);
    expect(gone).toBeInstanceOf(Management.NotFoundError);
    expect((await tokenFor()).body).toEqual({ error: 'access_denied', error_description: `Service not enabled within domain: ${identifier}` });
  });

  it('obtained one Management token (client_secret_post, form body) and reused it', () => {
    expect(seen.filter((r) => r === 'POST /oauth/token')).toHaveLength(1);
    expect(seen[0]).toBe('POST /oauth/token');
    expect(seen.every((r) => r === 'POST /oauth/token' || r.includes(' /api/v2/'))).toBe(true);
  });
});
