import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { authorize, Browser, callbackParams, CALLBACK, createWebApp, exchange, PASSWORD, pkce } from './helpers/flows';
import { uniq } from './helpers/management';
import { freePort, spawnTessera } from './helpers/process';
import { ADMIN_ID, ADMIN_SECRET, eachDialect, MGMT_AUDIENCE, startTessera, type TestServer } from './helpers/tessera';

const claims = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString());
const without = (o: Record<string, unknown>, ...keys: string[]) => Object.fromEntries(Object.entries(o).filter(([k]) => !keys.includes(k)));
const envelope = (statusCode: number, error: string, message: string, errorCode: string) => ({ statusCode, error, message, errorCode });

/** One development control through the app (loopback unless another address is given). */
async function dev(s: TestServer, method: string, path: string, body?: unknown, remoteAddress?: string) {
  const r = await s.t.app.inject({
    method: method as 'POST', url: `/tessera/dev${path}`, ...(remoteAddress && { remoteAddress }),
    ...(body !== undefined && { payload: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });
  return { status: r.statusCode, body: r.body ? JSON.parse(r.body) : undefined, headers: r.headers };
}

/** An API with scopes, RBAC on, first-party logins without consent. */
async function orderApi(s: TestServer, extra: Record<string, unknown> = {}) {
  const identifier = `https://orders-${uniq()}.example/`;
  const r = await s.api('POST', '/resource-servers', {
    identifier, name: `Orders ${uniq()}`, enforce_policies: true, token_dialect: 'access_token_authz', skip_consent_for_verifiable_first_party_clients: true, allow_offline_access: true,
    scopes: [{ value: 'read:orders' }, { value: 'write:orders' }], ...extra,
  });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return identifier;
}

async function m2m(s: TestServer, audience: string, scope: string[]) {
  const c = await s.api('POST', '/clients', { name: `m2m-${uniq()}`, app_type: 'non_interactive', grant_types: ['client_credentials'] });
  expect((await s.api('POST', '/client-grants', { client_id: c.body.client_id, audience, scope })).status).toBe(201);
  return { client_id: c.body.client_id as string, client_secret: c.body.client_secret as string };
}

/** A user holding read:orders through a role, member of an organization. */
async function member(s: TestServer, api: string) {
  const email = `ann-${uniq()}@example.com`;
  const user = (await s.api('POST', '/users', { connection: 'Username-Password-Authentication', email, password: PASSWORD })).body.user_id as string;
  const role = (await s.api('POST', '/roles', { name: `readers-${uniq()}` })).body.id as string;
  expect((await s.api('POST', `/roles/${role}/permissions`, { permissions: [{ resource_server_identifier: api, permission_name: 'read:orders' }] })).status).toBe(201);
  expect((await s.api('POST', `/roles/${role}/users`, { users: [user] })).status).toBe(200);
  const org = (await s.api('POST', '/organizations', { name: `acme-${uniq()}` })).body as { id: string; name: string };
  expect((await s.api('POST', `/organizations/${org.id}/members`, { members: [user] })).status).toBe(204);
  return { email, user, role, org };
}

eachDialect('development mode: test controls under /tessera/dev', (dialect) => {
  let s: TestServer;
  beforeAll(async () => { s = await startTessera(dialect, { devMode: true }); });
  afterAll(async () => { await s?.close(); });
  afterEach(async () => { expect((await dev(s, 'POST', '/reset')).status).toBe(204); });

  it('reset returns to the seed: data written since is gone and the token path forgets the clients it had cached', async () => {
    const api = await orderApi(s);
    const c = await m2m(s, api, ['read:orders']);
    const before = await s.token({ grant_type: 'client_credentials', ...c, audience: api });
    expect(before.status).toBe(200); // the client is now in the token path's cache
    const reset = await dev(s, 'POST', '/reset');
    expect(reset.status).toBe(204);
    expect((await s.api('GET', `/clients/${c.client_id}`)).status).toBe(404);
    expect((await s.api('GET', '/resource-servers')).body.map((r: { identifier: string }) => r.identifier)).not.toContain(api);
    const after = await s.token({ grant_type: 'client_credentials', ...c, audience: api });
    expect(after.status).toBe(401);
    expect(after.body).toEqual({ error: 'access_denied', error_description: 'Unauthorized' });
    // the seed (the bootstrap admin client and its grant) is still there
    expect((await s.token({ grant_type: 'client_credentials', client_id: ADMIN_ID, client_secret: ADMIN_SECRET, audience: MGMT_AUDIENCE })).status).toBe(200);
  });

  it('named snapshots: take, restore (rows with foreign keys between them come back whole), delete; refusals', async () => {
    const api = await orderApi(s);
    const m = await member(s, api);
    expect(await dev(s, 'POST', '/snapshots', { name: 'with-ann' })).toMatchObject({ status: 201, body: { name: 'with-ann' } });
    const later = (await s.api('POST', '/users', { connection: 'Username-Password-Authentication', email: `later-${uniq()}@example.com`, password: PASSWORD })).body.user_id;
    expect((await s.api('DELETE', `/users/${m.user}`)).status).toBe(204);
    expect((await dev(s, 'POST', '/snapshots/with-ann/restore')).status).toBe(204);
    expect((await s.api('GET', `/users/${later}`)).status).toBe(404);
    expect((await s.api('GET', `/users/${m.user}`)).status).toBe(200);
    expect((await s.api('GET', `/users/${m.user}/roles`)).body.map((r: { id: string }) => r.id)).toEqual([m.role]);
    expect((await s.api('GET', `/organizations/${m.org.id}/members`)).body.map((u: { user_id: string }) => u.user_id)).toEqual([m.user]);
    const listed = await dev(s, 'GET', '/snapshots');
    expect(listed.body.map((x: { name: string }) => x.name).sort()).toEqual(['seed', 'with-ann']);

    expect(await dev(s, 'POST', '/snapshots', { name: 'seed' })).toMatchObject({ status: 409, body: envelope(409, 'Conflict', 'The seed snapshot is taken by the server after seeding.', 'reserved_snapshot_name') });
    expect((await dev(s, 'POST', '/snapshots', { name: 'no spaces/here' })).body).toMatchObject({ statusCode: 400, errorCode: 'invalid_body' });
    expect((await dev(s, 'POST', '/snapshots', {})).body).toEqual(envelope(400, 'Bad Request', "Payload validation error: 'Missing required property: name'.", 'invalid_body'));
    expect((await dev(s, 'POST', '/snapshots/nope/restore')).body).toEqual(envelope(404, 'Not Found', 'No snapshot named nope.', 'inexistent_snapshot'));
    expect((await dev(s, 'DELETE', '/snapshots/seed')).status).toBe(409);
    expect((await dev(s, 'DELETE', '/snapshots/with-ann')).status).toBe(204);
    expect((await dev(s, 'POST', '/snapshots/with-ann/restore')).status).toBe(404);
  });

  it('mints a client token with exactly the claims of /oauth/token; refusals name the client, grant type and grant', async () => {
    const api = await orderApi(s);
    const c = await m2m(s, api, ['read:orders']);
    const real = await s.token({ grant_type: 'client_credentials', ...c, audience: api, scope: 'read:orders' });
    const minted = await dev(s, 'POST', '/tokens/client', { client_id: c.client_id, audience: api, scope: 'read:orders' });
    expect(minted.status).toBe(200);
    expect(minted.headers['cache-control']).toBe('no-store');
    expect(without(minted.body, 'access_token')).toEqual(without(real.body, 'access_token'));
    expect(without(claims(minted.body.access_token), 'iat', 'exp', 'jti')).toEqual(without(claims(real.body.access_token), 'iat', 'exp', 'jti'));
    // the minted token works where a real one does
    const admin = await dev(s, 'POST', '/tokens/client', { client_id: ADMIN_ID, audience: MGMT_AUDIENCE });
    expect((await s.api('GET', '/clients', undefined, { token: admin.body.access_token })).status).toBe(200);

    expect((await dev(s, 'POST', '/tokens/client', { client_id: 'nobody', audience: api })).body).toEqual(envelope(404, 'Not Found', 'The client does not exist', 'inexistent_client'));
    const web = await createWebApp(s);
    expect((await dev(s, 'POST', '/tokens/client', { client_id: web.clientId, audience: api })).body)
      .toEqual(envelope(400, 'Bad Request', `The client ${web.clientId} does not have the client_credentials grant type.`, 'invalid_grant_type'));
    const other = await orderApi(s);
    expect((await dev(s, 'POST', '/tokens/client', { client_id: c.client_id, audience: other })).body).toMatchObject({ statusCode: 403, errorCode: 'access_denied' });
    expect((await dev(s, 'POST', '/tokens/client', { client_id: c.client_id, audience: api, scope: 'write:orders' })).body)
      .toEqual(envelope(403, 'Forbidden', 'Client has not been granted scopes: write:orders', 'access_denied'));
    expect((await dev(s, 'POST', '/tokens/client', { audience: api })).body).toEqual(envelope(400, 'Bad Request', "Payload validation error: 'Missing required property: client_id'.", 'invalid_body'));
    expect((await dev(s, 'POST', '/tokens/client', { client_id: c.client_id, client_secret: 'x' })).body).toMatchObject({ statusCode: 400, errorCode: 'invalid_body' });
  });

  it('mints a user\'s tokens with the claims of a real login (RBAC permissions, organization); refusals', async () => {
    const api = await orderApi(s);
    const m = await member(s, api);
    const web = await createWebApp(s);
    const scope = 'openid email read:orders write:orders offline_access';
    // the real flow: hosted login and code exchange
    const p = pkce();
    const flow = await authorize(s, new Browser(s), {
      client_id: web.clientId, response_type: 'code', redirect_uri: CALLBACK, audience: api, scope, state: 'st', code_challenge: p.challenge, code_challenge_method: 'S256',
    }, { email: m.email });
    expect(flow.pages).toEqual(['login']);
    const real = await exchange(s, { client_id: web.clientId, client_secret: web.secret, code: callbackParams(flow.res.location).code, code_verifier: p.verifier });
    expect(real.status, JSON.stringify(real.body)).toBe(200);
    const minted = await dev(s, 'POST', '/tokens/user', { client_id: web.clientId, email: m.email, audience: api, scope });
    expect(minted.status, JSON.stringify(minted.body)).toBe(200);
    expect(Object.keys(minted.body).sort()).toEqual(Object.keys(real.body).sort()); // access, ID and refresh tokens
    expect(minted.body.scope).toBe('openid email read:orders offline_access'); // write:orders dropped by RBAC, as in the real flow
    expect(minted.body.scope).toBe(real.body.scope);
    expect(without(claims(minted.body.access_token), 'iat', 'exp', 'jti')).toEqual(without(claims(real.body.access_token), 'iat', 'exp', 'jti'));
    expect(claims(minted.body.access_token).permissions).toEqual(['read:orders']);
    expect(without(claims(minted.body.id_token), 'iat', 'exp', 'auth_time', 'sid', 'nonce')).toEqual(without(claims(real.body.id_token), 'iat', 'exp', 'auth_time', 'sid', 'nonce'));
    // the refresh token is a real one
    const refreshed = await s.token({ grant_type: 'refresh_token', client_id: web.clientId, client_secret: web.secret, refresh_token: minted.body.refresh_token });
    expect(refreshed.status).toBe(200);
    // an organization the user belongs to, by name or id
    const inOrg = await dev(s, 'POST', '/tokens/user', { client_id: web.clientId, user_id: m.user, audience: api, scope: 'read:orders', organization: m.org.name });
    expect(claims(inOrg.body.access_token)).toMatchObject({ sub: m.user, org_id: m.org.id, permissions: ['read:orders'] });

    const stranger = (await s.api('POST', '/users', { connection: 'Username-Password-Authentication', email: `x-${uniq()}@example.com`, password: PASSWORD })).body.user_id;
    expect((await dev(s, 'POST', '/tokens/user', { client_id: web.clientId, user_id: stranger, organization: m.org.id })).body)
      .toEqual(envelope(400, 'Bad Request', `The user ${stranger} is not part of the ${m.org.id} organization.`, 'not_a_member'));
    expect((await dev(s, 'POST', '/tokens/user', { client_id: web.clientId, user_id: stranger, organization: 'org_nope' })).status).toBe(404);
    expect((await s.api('PATCH', `/users/${stranger}`, { blocked: true })).status).toBe(200);
    expect((await dev(s, 'POST', '/tokens/user', { client_id: web.clientId, user_id: stranger })).body).toEqual(envelope(400, 'Bad Request', `The user ${stranger} is blocked.`, 'user_blocked'));
    expect((await dev(s, 'POST', '/tokens/user', { client_id: web.clientId, email: 'nobody@example.com' })).body).toEqual(envelope(404, 'Not Found', 'The user does not exist.', 'inexistent_user'));
    expect((await dev(s, 'POST', '/tokens/user', { client_id: web.clientId })).body).toEqual(envelope(400, 'Bad Request', 'Give user_id or email.', 'invalid_body'));
    expect((await dev(s, 'POST', '/tokens/user', { client_id: web.clientId, user_id: m.user, audience: 'https://unknown.example/' })).body).toMatchObject({ statusCode: 403, errorCode: 'access_denied' });
  });

  it('creates a logged-in session: /authorize answers without a login page; unknown users are refused', async () => {
    const api = await orderApi(s);
    const m = await member(s, api);
    const web = await createWebApp(s);
    const made = await dev(s, 'POST', '/sessions', { email: m.email });
    expect(made.status).toBe(201);
    expect(made.body).toMatchObject({ name: 'tessera_session', url: 'https://tessera.test', httpOnly: true, secure: true, sameSite: 'None' });
    expect(made.body.expires * 1000).toBeGreaterThan(Date.now() + 6 * 86400_000);
    expect(String(made.headers['set-cookie'])).toContain(`tessera_session=${made.body.value}`);
    const b = new Browser(s);
    b.jar.set('tessera_session', made.body.value);
    const flow = await authorize(s, b, { client_id: web.clientId, response_type: 'code', redirect_uri: CALLBACK, audience: api, scope: 'openid read:orders', state: 'st', prompt: 'none' });
    expect(flow.pages).toEqual([]);
    const code = callbackParams(flow.res.location).code;
    const tokens = await exchange(s, { client_id: web.clientId, client_secret: web.secret, code });
    expect(claims(tokens.body.access_token)).toMatchObject({ sub: m.user, permissions: ['read:orders'] });
    // without the cookie the same request needs a login
    const anonymous = await authorize(s, new Browser(s), { client_id: web.clientId, response_type: 'code', redirect_uri: CALLBACK, state: 'st', prompt: 'none' });
    expect(callbackParams(anonymous.res.location).error).toBe('login_required');
    expect((await dev(s, 'POST', '/sessions', { user_id: 'auth0|nobody' })).status).toBe(404);
    expect((await dev(s, 'POST', '/sessions', { email: m.email, password: 'x' })).status).toBe(400);
  });

  it('fault injection: Auth0\'s 429 and 5xx answers for the next N matching requests, added latency; the controls are never affected', async () => {
    const added = await dev(s, 'POST', '/faults', { path: '/api/v2/clients', method: 'GET', status: 429, count: 2 });
    expect(added).toMatchObject({ status: 201, body: { path: '/api/v2/clients', method: 'GET', status: 429, remaining: 2, delay_ms: 0 } });
    expect((await s.api('POST', '/clients', { name: `other-method-${uniq()}` })).status).toBe(201); // another method passes
    for (let i = 0; i < 2; i++) {
      const r = await s.api('GET', '/clients');
      expect(r.status).toBe(429);
      expect(r.body).toEqual(envelope(429, 'Too Many Requests', 'Too many requests. Check the X-RateLimit-Limit, X-RateLimit-Remaining and X-RateLimit-Reset headers.', 'too_many_requests'));
      expect(r.headers).toMatchObject({ 'x-ratelimit-limit': '1', 'x-ratelimit-remaining': '0', 'retry-after': '1' });
      expect(Number(r.headers['x-ratelimit-reset'])).toBeGreaterThanOrEqual(Math.floor(Date.now() / 1000));
    }
    expect((await s.api('GET', '/clients')).status).toBe(200); // spent
    expect((await dev(s, 'GET', '/faults')).body).toEqual([]);

    await dev(s, 'POST', '/faults', { path: '/oauth/token', status: 503 });
    const token = await s.token({ grant_type: 'client_credentials', client_id: ADMIN_ID, client_secret: ADMIN_SECRET, audience: MGMT_AUDIENCE });
    expect(token.status).toBe(503);
    expect(token.body).toEqual({ error: 'temporarily_unavailable', error_description: 'Service Unavailable (injected by development mode)' });
    await dev(s, 'POST', '/faults', { path: '/oauth/token', status: 429 });
    const limited = await s.token({ grant_type: 'client_credentials', client_id: ADMIN_ID, client_secret: ADMIN_SECRET, audience: MGMT_AUDIENCE });
    expect(limited).toMatchObject({ status: 429, body: { error: 'too_many_requests' }, headers: { 'retry-after': '1', 'x-ratelimit-remaining': '0' } });
    expect((await s.token({ grant_type: 'client_credentials', client_id: ADMIN_ID, client_secret: ADMIN_SECRET, audience: MGMT_AUDIENCE })).status).toBe(200);

    await dev(s, 'POST', '/faults', { path: '/api/v2/*', status: 500 });
    expect((await s.api('GET', '/users')).body).toEqual(envelope(500, 'Internal Server Error', 'Internal Server Error (injected by development mode)', 'internal_error'));

    await dev(s, 'POST', '/faults', { path: '/.well-known/jwks.json', delay_ms: 300 });
    const started = Date.now();
    const slow = await s.t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' });
    expect(slow.statusCode).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);

    await dev(s, 'POST', '/faults', { path: '/tessera/dev/*', status: 500, count: 5 });
    expect((await dev(s, 'GET', '/faults')).status).toBe(200); // the controls stay reachable to clear it
    expect((await dev(s, 'DELETE', '/faults')).status).toBe(204);
    expect((await dev(s, 'GET', '/faults')).body).toEqual([]);

    expect((await dev(s, 'POST', '/faults', { path: '/api/v2/users', status: 404 })).body).toEqual(envelope(400, 'Bad Request', "Payload validation error: 'No enum match for: 404' on property status (429 (Auth0's rate-limit answer) or a 5xx; absent: latency only).", 'invalid_body'));
    expect((await dev(s, 'POST', '/faults', { path: '/api/v2/users' })).body).toEqual(envelope(400, 'Bad Request', 'Give a status, a delay_ms, or both.', 'invalid_body'));
    expect((await dev(s, 'POST', '/faults', { path: 'api/v2/users', status: 500 })).status).toBe(400);
    expect((await dev(s, 'POST', '/faults', { path: '/x', status: 500, count: 0 })).status).toBe(400);
    expect((await dev(s, 'GET', '/faults')).body).toEqual([]);
  });

  it('rotates the signing key, and revokes the one that was current: its tokens stop verifying; reset brings the seed keys back', async () => {
    const jwks = async () => JSON.parse((await s.t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).body).keys.map((k: { kid: string }) => k.kid);
    const mint = async () => (await dev(s, 'POST', '/tokens/client', { client_id: ADMIN_ID, audience: MGMT_AUDIENCE })).body.access_token as string;
    const seedKid = s.t.services.keys.currentKid();
    const old = await mint();
    const rotated = await dev(s, 'POST', '/keys/rotate');
    expect(rotated.status).toBe(200);
    expect(rotated.body.current).not.toBe(seedKid);
    expect(await jwks()).toEqual(expect.arrayContaining([seedKid, rotated.body.current]));
    expect((await s.api('GET', '/clients', undefined, { token: old })).status).toBe(200); // a previous key still verifies
    const fresh = await mint();
    expect(JSON.parse(Buffer.from(fresh.split('.')[0], 'base64url').toString()).kid).toBe(rotated.body.current);
    const revoked = await dev(s, 'POST', '/keys/revoke');
    expect(revoked.body).toEqual({ current: expect.any(String), revoked: rotated.body.current });
    expect(await jwks()).not.toContain(rotated.body.current);
    expect((await s.api('GET', '/clients', undefined, { token: fresh })).status).toBe(401);
    expect((await dev(s, 'POST', '/reset')).status).toBe(204);
    expect(s.t.services.keys.currentKid()).toBe(seedKid);
    expect((await s.api('GET', '/clients', undefined, { token: old })).status).toBe(200);
  });

  it('moves the clock forward: access tokens, authorization codes and refresh tokens expire; reset brings the real time back', async () => {
    const api = await orderApi(s);
    const m = await member(s, api);
    const web = await createWebApp(s);
    expect((await s.api('PATCH', `/clients/${web.clientId}`, { refresh_token: { rotation_type: 'non-rotating', expiration_type: 'expiring', token_lifetime: 7200, idle_token_lifetime: 3600, infinite_token_lifetime: false, infinite_idle_token_lifetime: false } })).status).toBe(200);
    const admin = (await dev(s, 'POST', '/tokens/client', { client_id: ADMIN_ID, audience: MGMT_AUDIENCE })).body.access_token;
    const tokens = (await dev(s, 'POST', '/tokens/user', { client_id: web.clientId, email: m.email, audience: api, scope: 'openid offline_access read:orders' })).body;
    const session = (await dev(s, 'POST', '/sessions', { email: m.email })).body.value;
    const b = new Browser(s);
    b.jar.set('tessera_session', session);
    const flow = await authorize(s, b, { client_id: web.clientId, response_type: 'code', redirect_uri: CALLBACK, scope: 'openid', state: 'st' });
    const code = callbackParams(flow.res.location).code;
    const refresh = () => s.token({ grant_type: 'refresh_token', client_id: web.clientId, client_secret: web.secret, refresh_token: tokens.refresh_token });
    expect((await refresh()).status).toBe(200);

    const before = Date.parse((await dev(s, 'GET', '/clock')).body.now);
    const moved = await dev(s, 'POST', '/clock', { advance: 3601 });
    expect(moved.body).toEqual({ now: expect.any(String), offset_seconds: 3601 });
    expect(Date.parse(moved.body.now) - before).toBeGreaterThanOrEqual(3601_000);
    expect(await refresh()).toMatchObject({ status: 403, body: { error: 'invalid_grant', error_description: 'Unknown or invalid refresh token.' } });
    expect(await exchange(s, { client_id: web.clientId, client_secret: web.secret, code })).toMatchObject({ status: 403, body: { error: 'invalid_grant', error_description: 'Invalid authorization code' } });
    expect((await s.api('GET', '/clients', undefined, { token: admin })).status).toBe(200); // 24 h tokens live on
    await dev(s, 'POST', '/clock', { advance: 86400 });
    expect((await s.api('GET', '/clients', undefined, { token: admin })).status).toBe(401);
    expect((await dev(s, 'GET', '/clock')).body.offset_seconds).toBe(90001);

    expect((await dev(s, 'POST', '/clock', { advance: -5 })).body).toEqual(envelope(400, 'Bad Request', "Payload validation error: 'Value -5 is less than minimum 0' on property advance (Seconds to move the clock forward).", 'invalid_body'));
    expect((await dev(s, 'POST', '/clock', { advance: '60' })).status).toBe(400);
    expect((await dev(s, 'POST', '/reset')).status).toBe(204);
    expect((await dev(s, 'GET', '/clock')).body.offset_seconds).toBe(0);
    expect((await s.api('GET', '/clients', undefined, { token: admin })).status).toBe(200);
  });
});

describe('development mode: who may call the controls', () => {
  let s: TestServer;
  let remote: TestServer;
  beforeAll(async () => {
    s = await startTessera('sqlite', { devMode: true });
    remote = await startTessera('sqlite', { devMode: { allowRemote: true } });
  });
  afterAll(async () => { await s?.close(); await remote?.close(); });

  it('refuses callers from other addresses (a forwarded loopback address does not help) unless development mode allows them', async () => {
    const refused = await dev(s, 'GET', '/clock', undefined, '192.0.2.7');
    expect(refused).toMatchObject({ status: 403, body: envelope(403, 'Forbidden', 'The development controls answer loopback callers only.', 'loopback_only') });
    const forwarded = await s.t.app.inject({ method: 'POST', url: '/tessera/dev/reset', remoteAddress: '192.0.2.7', headers: { 'x-forwarded-for': '127.0.0.1' } });
    expect(forwarded.statusCode).toBe(403);
    expect((await dev(s, 'GET', '/clock', undefined, '::1')).status).toBe(200);
    expect((await dev(remote, 'GET', '/clock', undefined, '192.0.2.7')).status).toBe(200);
  });

  it('lists the controls in /openapi.json under their own tag, without credentials, and nothing else under that tag', async () => {
    const doc = await openapi(s);
    expect(doc.tags.map((t) => t.name)).toContain('development');
    const ops = Object.entries(doc.paths).flatMap(([path, item]) => Object.entries(item).map(([method, op]) => ({ path, method, op })));
    const controls = ops.filter((o) => o.path.startsWith('/tessera/dev'));
    expect(controls.map((o) => `${o.method.toUpperCase()} ${o.path}`).sort()).toEqual([
      'DELETE /tessera/dev/faults', 'DELETE /tessera/dev/snapshots/{name}', 'GET /tessera/dev', 'GET /tessera/dev/clock', 'GET /tessera/dev/faults', 'GET /tessera/dev/snapshots',
      'POST /tessera/dev/clock', 'POST /tessera/dev/faults', 'POST /tessera/dev/keys/revoke', 'POST /tessera/dev/keys/rotate', 'POST /tessera/dev/reset', 'POST /tessera/dev/sessions',
      'POST /tessera/dev/snapshots', 'POST /tessera/dev/snapshots/{name}/restore', 'POST /tessera/dev/tokens/client', 'POST /tessera/dev/tokens/user',
    ]);
    for (const o of controls) {
      expect(o.op.tags, `${o.method} ${o.path}`).toEqual(['development']);
      expect(o.op.security, `${o.method} ${o.path}`).toBeUndefined();
    }
    expect(ops.filter((o) => o.op.tags?.includes('development') && !o.path.startsWith('/tessera/dev'))).toEqual([]);
  });
});

interface OpenApiDoc { tags: Array<{ name: string }>; paths: Record<string, Record<string, { tags?: string[]; security?: unknown }>> }
async function openapi(s: TestServer): Promise<OpenApiDoc> {
  const r = await s.t.app.inject({ method: 'GET', url: '/openapi.json' });
  expect(r.statusCode).toBe(200);
  return JSON.parse(r.body) as OpenApiDoc;
}

describe('tessera serve: the controls do not exist', () => {
  const probes: Array<[string, string]> = [['GET', '/tessera/dev'], ['POST', '/tessera/dev/reset'], ['POST', '/tessera/dev/tokens/client'], ['POST', '/tessera/dev/sessions'], ['POST', '/tessera/dev/clock'], ['POST', '/tessera/dev/faults']];

  it('in process, without development mode: 404 like any unknown path, and no fault is ever injected', async () => {
    const s = await startTessera('sqlite');
    try {
      const unknown = await s.t.app.inject({ method: 'POST', url: '/no/such/path' });
      for (const [method, url] of probes) {
        const r = await s.t.app.inject({ method: method as 'POST', url, payload: '{}', headers: { 'content-type': 'application/json' } });
        expect(r.statusCode, `${method} ${url}`).toBe(404);
        expect(r.body).toBe(unknown.body);
      }
      expect(s.t.dev).toBeUndefined();
      // nor does its OpenAPI document name them, or their tag
      const doc = await openapi(s);
      expect(Object.keys(doc.paths).filter((p) => p.startsWith('/tessera/dev'))).toEqual([]);
      expect(doc.tags.map((t) => t.name)).not.toContain('development');
      expect(Object.keys(doc.paths).length).toBeGreaterThan(50);
    } finally { await s.close(); }
  });

  it('the real binary (`tessera serve`): 404 for every control', async () => {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'tessera-dev-'));
    const server = await spawnTessera({ TESSERA_PORT: String(port), TESSERA_PUBLIC_URL: `http://127.0.0.1:${port}`, TESSERA_DATABASE_URL: `sqlite:${join(dir, 't.db')}`, TESSERA_ADMIN_CLIENT_ID: ADMIN_ID, TESSERA_ADMIN_CLIENT_SECRET: ADMIN_SECRET });
    try {
      for (const [method, path] of probes) {
        const r = await fetch(`http://127.0.0.1:${port}${path}`, { method, headers: { 'content-type': 'application/json' }, body: method === 'POST' ? '{"advance":60}' : undefined });
        expect(r.status, `${method} ${path}`).toBe(404);
      }
      // and the server's clock was not moved: a fresh token is valid
      const t = await fetch(`http://127.0.0.1:${port}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ grant_type: 'client_credentials', client_id: ADMIN_ID, client_secret: ADMIN_SECRET, audience: `http://127.0.0.1:${port}/api/v2/` }) });
      expect(t.status).toBe(200);
    } finally { await server.stop(); }
  }, 60_000);
});
