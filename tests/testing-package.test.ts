import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { auth, requiredScopes } from 'express-oauth2-jwt-bearer';
import type { ManagementError } from 'auth0';
import { afterAll, describe, expect } from 'vitest';
import { tesseraTest } from '../packages/testing/src/vitest';
import type { TesseraSeed } from '../packages/testing/src/index';

/**
 * @tessera/testing judged by what teams run against Auth0: an Express API with express-oauth2-jwt-bearer, the auth0
 * SDK's ManagementClient (its retries on 429 included), and refresh tokens expiring when the clock moves. One
 * server for the file, reset to the seed before every test by the fixture.
 */
const API = 'https://orders.example/';
const PASSWORD = 'Correct-Horse-9';
const seed: TesseraSeed = {
  apis: [{
    identifier: API, name: 'Orders', enforce_policies: true, token_dialect: 'access_token_authz', allow_offline_access: true,
    skip_consent_for_verifiable_first_party_clients: true, scopes: [{ value: 'read:orders' }, { value: 'write:orders' }],
  }],
  clients: [
    { name: 'Orders worker', app_type: 'non_interactive', grant_types: ['client_credentials'], grants: [{ audience: API, scope: ['read:orders', 'write:orders'] }] },
    {
      name: 'Orders web', app_type: 'regular_web', callbacks: ['https://app.example/callback'], grant_types: ['authorization_code', 'refresh_token'],
      refresh_token: { rotation_type: 'rotating', expiration_type: 'expiring', token_lifetime: 86400, idle_token_lifetime: 3600, leeway: 0, infinite_token_lifetime: false, infinite_idle_token_lifetime: false },
    },
  ],
  roles: [{ name: 'reader', permissions: [{ api: API, scope: 'read:orders' }] }],
  users: [{ email: 'ann@example.com', password: PASSWORD, roles: ['reader'] }, { email: 'bob@example.com', password: PASSWORD }],
  organizations: [{ name: 'acme', display_name: 'Acme', members: ['ann@example.com'] }],
};
const test = tesseraTest({ seed });

const claims = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString());
const collect = async <T>(pager: AsyncIterable<T>): Promise<T[]> => {
  const out: T[] = [];
  for await (const x of pager) out.push(x);
  return out;
};

// the first test that uses the fixture waits for the server's start and seeding as well
describe('@tessera/testing: startTessera with a seed, through the vitest fixture', { timeout: 60_000 }, () => {
  let api: { server: Server; origin: string } | undefined;
  afterAll(() => { api?.server.close(); });

  /** The API a team protects with express-oauth2-jwt-bearer, pointed at this Tessera. */
  const ordersApi = async (issuerBaseURL: string) => {
    if (api) return api.origin;
    const app = express();
    app.use(auth({ issuerBaseURL, audience: API, cooldownDuration: 0 })); // a new signing key is fetched at once
    app.get('/orders', requiredScopes('read:orders'), (req, res) => { res.json({ sub: req.auth?.payload.sub, org: req.auth?.payload.org_id ?? null }); });
    app.post('/orders', requiredScopes('write:orders'), (_req, res) => { res.status(201).json({ ok: true }); });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    api = { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
    return api.origin;
  };

  test('hands back what an SDK needs: domain, issuer, Management audience, the seeded ids', async ({ tessera }) => {
    expect(tessera.domain).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(tessera.issuer).toBe(`http://${tessera.domain}/`);
    expect(tessera.audience).toBe(`http://${tessera.domain}/api/v2/`);
    const discovery = await (await fetch(`${tessera.issuer}.well-known/openid-configuration`)).json();
    expect(discovery.issuer).toBe(tessera.issuer);
    expect(Object.keys(tessera.seeded.clients).sort()).toEqual(['Orders web', 'Orders worker']);
    expect(tessera.seeded.clients['Orders web'].client_secret).toEqual(expect.any(String));
    expect(tessera.seeded.users['ann@example.com']).toMatch(/^auth0\|/);
    expect(tessera.seeded.organizations.acme).toMatch(/^org_/);
  });

  test('an Express API with express-oauth2-jwt-bearer accepts minted client and user tokens (RBAC and organization claims)', async ({ tessera }) => {
    const origin = await ordersApi(tessera.issuer);
    const call = (method: string, token?: string) => fetch(`${origin}/orders`, { method, headers: token ? { authorization: `Bearer ${token}` } : {} });
    const worker = await tessera.token({ client: 'Orders worker', audience: API });
    expect(claims(worker)).toMatchObject({ sub: `${tessera.seeded.clients['Orders worker'].client_id}@clients`, scope: 'read:orders write:orders', gty: 'client-credentials' });
    expect((await call('POST', worker)).status).toBe(201);
    const ann = await tessera.userToken({ user: 'ann@example.com', client: 'Orders web', audience: API, scope: 'openid read:orders write:orders', organization: 'acme' });
    expect(claims(ann)).toMatchObject({ permissions: ['read:orders'], scope: 'openid read:orders', org_id: tessera.seeded.organizations.acme });
    const read = await call('GET', ann);
    expect(read.status).toBe(200);
    expect(await read.json()).toEqual({ sub: tessera.seeded.users['ann@example.com'], org: tessera.seeded.organizations.acme });
    expect((await call('POST', ann)).status).toBe(403); // write:orders is not among Ann's permissions
    expect((await call('GET')).status).toBe(401);
    // bob has no role: RBAC leaves him no scope of the API
    const bob = await tessera.userToken({ user: 'bob@example.com', client: 'Orders web', audience: API, scope: 'read:orders' });
    expect((await call('GET', bob)).status).toBe(403);
    // a revoked signing key: the API fetches the JWKS again for the new key and keeps accepting fresh tokens
    await tessera.rotateKeys({ revoke: true });
    expect((await call('GET', await tessera.userToken({ user: 'ann@example.com', client: 'Orders web', audience: API, scope: 'read:orders' }))).status).toBe(200);
  });

  test('the auth0 SDK manages the seeded tenant (what it creates is gone at the next test)', async ({ tessera }) => {
    const mgmt = tessera.managementClient;
    const clients = await collect(await mgmt.clients.list({}));
    expect(clients.map((c) => c.name)).toEqual(expect.arrayContaining(['Orders worker', 'Orders web']));
    const roles = await collect(await mgmt.roles.list({}));
    expect(roles.map((r) => r.name)).toEqual(['reader']);
    const created = await mgmt.users.create({ connection: 'Username-Password-Authentication', email: 'carol@example.com', password: PASSWORD });
    await mgmt.roles.users.assign(roles[0].id!, { users: [created.user_id!] });
    expect((await collect(await mgmt.users.roles.list(created.user_id!))).map((r) => r.name)).toEqual(['reader']);
  });

  test('…reset by the fixture: carol is gone, the seed is intact', async ({ tessera }) => {
    const users = await collect(await tessera.managementClient.users.list({}));
    expect(users.map((u) => u.email).sort()).toEqual(['ann@example.com', 'bob@example.com']);
  });

  test('fault injection as the auth0 SDK sees it: it retries a 429 and succeeds; more 429s than its retries surface as 429', async ({ tessera }) => {
    const mgmt = tessera.managementClient;
    await collect(await mgmt.users.list({})); // the SDK's own token is fetched before the fault
    await tessera.fault({ path: '/api/v2/users', method: 'GET', status: 429, count: 1 });
    const started = Date.now();
    const users = await collect(await mgmt.users.list({}));
    expect(users).toHaveLength(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900); // it waited for Retry-After: 1
    expect(await tessera.dev('GET', '/faults')).toEqual([]); // the fault was spent on the first attempt
    await tessera.fault({ path: '/api/v2/roles', status: 429, count: 3 });
    const refused = await mgmt.roles.list({}).then(() => undefined, (e: ManagementError) => e);
    expect(refused?.statusCode).toBe(429);
    expect(refused?.body).toMatchObject({ statusCode: 429, error: 'Too Many Requests', errorCode: 'too_many_requests' });
    await tessera.fault({ path: '/api/v2/clients', status: 503, count: 1 });
    expect((await collect(await mgmt.clients.list({}))).length).toBeGreaterThanOrEqual(2); // 5xx are retried too
  }, 20_000);

  test('moving the clock forward expires a refresh token (idle lifetime 1 h)', async ({ tessera }) => {
    const web = tessera.seeded.clients['Orders web'];
    const tokens = await tessera.userTokens({ user: 'ann@example.com', client: 'Orders web', audience: API, scope: 'openid offline_access read:orders' });
    expect(tokens.refresh_token).toMatch(/^v1\./);
    const refresh = (refresh_token: string) => fetch(`${tessera.origin}/oauth/token`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: 'refresh_token', client_id: web.client_id, client_secret: web.client_secret, refresh_token }),
    });
    const first = await refresh(tokens.refresh_token as string);
    expect(first.status).toBe(200);
    const next = (await first.json()).refresh_token as string; // rotated
    await tessera.advanceClock(3601);
    const expired = await refresh(next);
    expect(expired.status).toBe(403);
    expect(await expired.json()).toEqual({ error: 'invalid_grant', error_description: 'Unknown or invalid refresh token.' });
  });

  test('snapshots and a session through the package; refusals surface as errors naming the answer', async ({ tessera }) => {
    await tessera.snapshot('before-dave');
    await tessera.managementClient.users.create({ connection: 'Username-Password-Authentication', email: 'dave@example.com', password: PASSWORD });
    await tessera.restore('before-dave');
    expect((await collect(await tessera.managementClient.users.list({}))).map((u) => u.email)).not.toContain('dave@example.com');
    const cookie = await tessera.session('ann@example.com');
    expect(cookie).toMatchObject({ name: 'tessera_session', url: tessera.origin, httpOnly: true, secure: false, sameSite: 'Lax' });
    await expect(tessera.session('nobody@example.com')).rejects.toThrow('POST /tessera/dev/sessions: 404');
    await expect(tessera.userToken({ user: 'bob@example.com', client: 'Orders web', organization: 'acme' })).rejects.toThrow(/400 .*not_a_member/);
  });
});
