import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MANAGEMENT_SCOPES } from '@tessera/core';
import { createAdminUser } from '@tessera/server';
import { postgresAvailable, type DialectName } from './helpers/databases';
import { Browser, callbackParams, createUser, hiddenFields, pkce } from './helpers/flows';
import { MGMT_AUDIENCE, PUBLIC_URL, startTessera, type TestServer } from './helpers/tessera';

const CALLBACK = `${PUBLIC_URL}/dashboard/callback`;
const ALL = MANAGEMENT_SCOPES.map((s) => s.value);
const STRONG = 'Dashboard-Admin-7';
const MASTER_KEY = randomBytes(32).toString('base64');

/** /authorize for the dashboard's client (code + PKCE, the Management API audience) through the hosted login. */
async function signIn(s: TestServer, clientId: string, email: string, password: string, scope = `openid ${ALL.join(' ')}`) {
  const b = new Browser(s);
  const { verifier, challenge } = pkce();
  let r = await b.get(`/authorize?${new URLSearchParams({
    response_type: 'code', client_id: clientId, redirect_uri: CALLBACK, audience: MGMT_AUDIENCE, scope, state: 'st',
    code_challenge: challenge, code_challenge_method: 'S256',
  })}`);
  const pages: string[] = [];
  for (let hops = 0; hops < 5 && r.status === 302 && r.location?.startsWith('/u/'); hops++) {
    pages.push(r.location.split('?')[0]);
    const page = await b.get(r.location);
    if (r.location.startsWith('/u/login')) r = await b.post('/u/login', { ...hiddenFields(page.body), username: email, password });
    else break;
  }
  return { res: r, pages, verifier };
}

async function tokenFor(s: TestServer, clientId: string, email: string, password: string, scope?: string) {
  const { res, pages, verifier } = await signIn(s, clientId, email, password, scope);
  const params = callbackParams(res.location);
  if (!params.code) return { pages, params };
  const t = await s.token({ grant_type: 'authorization_code', client_id: clientId, code: params.code, redirect_uri: CALLBACK, code_verifier: verifier });
  return { pages, params, token: t };
}

const claims = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString());
const ticketOf = (url: string) => new URL(url).searchParams.get('ticket') as string;

const pgReady = await postgresAvailable();
for (const dialect of ['sqlite', 'postgres'] as DialectName[]) {
  describe.skipIf(dialect === 'postgres' && !pgReady)(`dashboard: bootstrap, first administrator, sign-in [${dialect}]`, () => {
    let s: TestServer;
    let dashboardId: string;
    beforeAll(async () => {
      s = await startTessera(dialect, { masterKey: MASTER_KEY, env: { TESSERA_DASHBOARD: 'on' } });
      dashboardId = s.t.boot.dashboardClientId as string;
    }, 60_000);
    afterAll(async () => { await s?.close(); });

    it('first start registers the dashboard SPA client with a user grant on the Management API, and prints a one-time link', async () => {
      const c = await s.api('GET', `/clients/${dashboardId}`);
      expect(c.body).toMatchObject({
        name: 'Tessera Dashboard', app_type: 'spa', is_first_party: true, token_endpoint_auth_method: 'none',
        callbacks: [CALLBACK], web_origins: [PUBLIC_URL], allowed_origins: [PUBLIC_URL], allowed_logout_urls: [`${PUBLIC_URL}/dashboard/`],
      });
      expect(c.body.grant_types).toEqual(['authorization_code', 'refresh_token']);
      const g = await s.api('GET', `/client-grants?client_id=${dashboardId}`);
      expect(g.body).toEqual([expect.objectContaining({ audience: MGMT_AUDIENCE, subject_type: 'user', allow_all_scopes: true })]);
      expect(s.t.boot.setupUrl).toMatch(new RegExp(`^${PUBLIC_URL}/dashboard/setup\\?ticket=[A-Za-z0-9_-]{43}$`));
    });

    it('the setup link: a form under the strict CSP; mismatched or weak passwords are refused without using the link; then it creates the first administrator once', async () => {
      const ticket = ticketOf(s.t.boot.setupUrl as string);
      const b = new Browser(s);
      const page = await b.get(`/dashboard/setup?ticket=${ticket}`);
      expect(page.status).toBe(200);
      expect(page.headers['content-security-policy']).toMatch(/default-src 'none'.*script-src 'none'/);
      expect(page.headers['cache-control']).toBe('no-store');
      expect(page.body).toContain('Create the first administrator');

      const mismatch = await b.post('/dashboard/setup', { ticket, email: 'root@example.com', password: STRONG, confirm: 'other' });
      expect(mismatch.status).toBe(400);
      expect(mismatch.body).toContain('The passwords do not match.');
      const weak = await b.post('/dashboard/setup', { ticket, email: 'root@example.com', password: 'short', confirm: 'short' });
      expect(weak.status).toBe(400);
      expect(weak.body).toContain('PasswordStrengthError: Password is too weak');
      expect((await s.api('GET', '/users')).body).toEqual([]); // nothing half-written

      const ok = await b.post('/dashboard/setup', { ticket, email: 'root@example.com', password: STRONG, confirm: STRONG });
      expect(ok.status).toBe(200);
      expect(ok.body).toContain('Password set');
      const replay = await b.post('/dashboard/setup', { ticket, email: 'evil@example.com', password: STRONG, confirm: STRONG });
      expect(replay.status).toBe(400);
      expect(replay.body).toContain('not valid or was already used');
      expect((await b.get(`/dashboard/setup?ticket=${ticket}`)).status).toBe(400);

      const users = (await s.api('GET', '/users')).body as Array<{ user_id: string; email: string }>;
      expect(users.map((u) => u.email)).toEqual(['root@example.com']);
      const roles = (await s.api('GET', `/users/${encodeURIComponent(users[0].user_id)}/roles`)).body;
      expect(roles).toEqual([expect.objectContaining({ name: 'Tessera Administrators' })]);
      const perms: Array<{ permission_name: string; resource_server_identifier: string }> = [];
      for (let page = 0; page * 100 < ALL.length; page++) perms.push(...(await s.api('GET', `/roles/${roles[0].id}/permissions?per_page=100&page=${page}`)).body);
      expect(perms.map((p) => p.permission_name).sort()).toEqual([...ALL].sort());
      expect(new Set(perms.map((p) => p.resource_server_identifier))).toEqual(new Set([MGMT_AUDIENCE]));
    });

    it('hostile or unknown tickets are refused with the page, never a 5xx', async () => {
      const b = new Browser(s);
      for (const t of ['', 'x', 'A'.repeat(43), '../../etc/passwd', 'A'.repeat(5000)]) {
        const r = await b.get(`/dashboard/setup?ticket=${encodeURIComponent(t)}`);
        expect(r.status).toBe(400);
        const p = await b.post('/dashboard/setup', { ticket: t, email: 'x@example.com', password: STRONG, confirm: STRONG });
        expect(p.status).toBe(400);
      }
    });

    it('the administrator signs in with code + PKCE without a consent page; the token holds exactly the RBAC permissions and works on the Management API', async () => {
      const { pages, token } = await tokenFor(s, dashboardId, 'root@example.com', STRONG);
      expect(pages).toEqual(['/u/login']); // Tessera's own page on Tessera's origin: no consent
      expect(token?.status).toBe(200);
      const c = claims(token!.body.access_token);
      expect(c.aud).toContain(MGMT_AUDIENCE);
      expect(c.azp).toBe(dashboardId);
      expect((c.scope as string).split(' ').filter((x: string) => x !== 'openid').sort()).toEqual([...ALL].sort());
      const list = await s.api('GET', '/resource-servers', undefined, { token: token!.body.access_token });
      expect(list.status).toBe(200);
    });

    it('a user without Management permissions gets no Management scope (403 insufficient_scope); a narrower role narrows the token', async () => {
      const uid = await createUser(s, 'reader@example.com');
      const none = await tokenFor(s, dashboardId, 'reader@example.com', 'Correct-Horse-9');
      expect(none.token?.status).toBe(200);
      expect(none.token!.body.scope).toBe('openid');
      const r = await s.api('GET', '/clients', undefined, { token: none.token!.body.access_token });
      expect(r.status).toBe(403);
      expect(r.body).toMatchObject({ statusCode: 403, error: 'Forbidden', errorCode: 'insufficient_scope' });

      const role = (await s.api('POST', '/roles', { name: 'API readers' })).body;
      await s.api('POST', `/roles/${role.id}/permissions`, { permissions: [{ resource_server_identifier: MGMT_AUDIENCE, permission_name: 'read:resource_servers' }] });
      await s.api('POST', `/roles/${role.id}/users`, { users: [uid] });
      const some = await tokenFor(s, dashboardId, 'reader@example.com', 'Correct-Horse-9');
      expect(some.token!.body.scope).toBe('openid read:resource_servers');
      expect((await s.api('GET', '/resource-servers', undefined, { token: some.token!.body.access_token })).status).toBe(200);
      expect((await s.api('POST', '/resource-servers', { identifier: 'urn:nope' }, { token: some.token!.body.access_token })).status).toBe(403);
    });

    it('another first-party client cannot get Management API tokens for users without a user grant', async () => {
      const c = (await s.api('POST', '/clients', { name: 'Other SPA', app_type: 'spa', callbacks: [CALLBACK], grant_types: ['authorization_code'] })).body;
      const { res } = await signIn(s, c.client_id, 'root@example.com', STRONG);
      const params = callbackParams(res.location);
      expect(params.error).toBe('access_denied');
      expect(params.error_description).toBe(`Client "${c.client_id}" is not authorized to access resource server "${MGMT_AUDIENCE}". You need to create a "client-grant" associated to this API.`);
    });

    it('tessera admin create-user: an administrator and a one-time password link; replayed and expired links are refused', async () => {
      const cfg = { publicUrl: PUBLIC_URL, managementAudience: MGMT_AUDIENCE };
      const made = await createAdminUser(s.t.services, cfg, 'ops@example.com');
      expect(made).toMatchObject({ email: 'ops@example.com', created: true });
      // no usable password until the link is used
      expect((await signIn(s, dashboardId, 'ops@example.com', STRONG)).res.status).toBe(401);
      const b = new Browser(s);
      const ticket = ticketOf(made.set_password_url);
      const page = await b.get(`/dashboard/setup?ticket=${ticket}`);
      expect(page.body).toContain('Choose a password for <strong>ops@example.com</strong>');
      expect((await b.post('/dashboard/setup', { ticket, password: STRONG, confirm: STRONG })).status).toBe(200);
      expect((await b.post('/dashboard/setup', { ticket, password: 'Another-Pass-8', confirm: 'Another-Pass-8' })).status).toBe(400);
      const { token } = await tokenFor(s, dashboardId, 'ops@example.com', STRONG);
      expect(token?.body.scope).toContain('create:resource_servers');

      const again = await createAdminUser(s.t.services, cfg, 'OPS@example.com'); // the same user, a new link
      expect(again).toMatchObject({ user_id: made.user_id, created: false });
      s.clock.advance(24 * 3600 + 1);
      const expired = await b.post('/dashboard/setup', { ticket: ticketOf(again.set_password_url), password: STRONG, confirm: STRONG });
      expect(expired.status).toBe(400);
      expect(expired.body).toContain('expired');
    });

    it('serves the app: / and /dashboard redirect, pages and assets under a strict CSP, the public config', async () => {
      const root = await s.t.app.inject({ method: 'GET', url: '/' });
      expect(root.statusCode).toBe(302);
      expect(root.headers.location).toBe('/dashboard/');
      expect((await s.t.app.inject({ method: 'GET', url: '/dashboard' })).headers.location).toBe('/dashboard/');
      const index = await s.t.app.inject({ method: 'GET', url: '/dashboard/apis/abc/settings' });
      expect(index.statusCode).toBe(200);
      expect(index.headers['content-type']).toMatch(/^text\/html/);
      const policy = String(index.headers['content-security-policy']);
      expect(policy).toContain("default-src 'none'");
      expect(policy).toContain("script-src 'self'");
      expect(policy).toContain("style-src 'self'");
      expect(policy).toContain("frame-ancestors 'none'");
      expect(policy).not.toMatch(/unsafe-inline|unsafe-eval|https?:/);
      expect(index.body).not.toMatch(/<script(?![^>]*\ssrc=)/); // no inline script
      expect(index.body).not.toMatch(/<style|style="/);
      const src = /src="(\/dashboard\/assets\/[^"]+\.js)"/.exec(index.body)?.[1] as string;
      const js = await s.t.app.inject({ method: 'GET', url: src });
      expect(js.statusCode).toBe(200);
      expect(js.headers['content-type']).toMatch(/^text\/javascript/);
      expect(js.headers['cache-control']).toContain('immutable');
      expect((await s.t.app.inject({ method: 'GET', url: '/dashboard/assets/nope.js' })).statusCode).toBe(404);
      expect((await s.t.app.inject({ method: 'GET', url: '/dashboard/assets/..%2f..%2fpackage.json' })).statusCode).toBe(404);
      const cfg = JSON.parse((await s.t.app.inject({ method: 'GET', url: '/dashboard/config.json' })).body);
      expect(cfg).toEqual({ issuer: `${PUBLIC_URL}/`, domain: PUBLIC_URL, clientId: dashboardId, audience: MGMT_AUDIENCE, scope: ALL.join(' ') });
    });

    it('a restart keeps the client and prints no link once an administrator exists; a deleted dashboard client is not recreated', async () => {
      const again = await startTessera(dialect, { database: s.db, masterKey: MASTER_KEY, env: { TESSERA_DASHBOARD: 'on' } });
      try {
        expect(again.t.boot.dashboardClientId).toBe(dashboardId);
        expect(again.t.boot.setupUrl).toBeUndefined();
        const names = ((await again.api('GET', '/clients')).body as Array<{ name: string }>).filter((c) => c.name === 'Tessera Dashboard');
        expect(names).toHaveLength(1);
        expect((await again.api('DELETE', `/clients/${dashboardId}`)).status).toBe(204);
      } finally { await again.close(); }
      const third = await startTessera(dialect, { database: s.db, masterKey: MASTER_KEY, env: { TESSERA_DASHBOARD: 'on' } });
      try {
        expect(third.t.boot.dashboardClientId).toBeUndefined();
        expect(JSON.parse((await third.t.app.inject({ method: 'GET', url: '/dashboard/config.json' })).body).clientId).toBeNull();
      } finally { await third.close(); }
    });
  });
}

describe('dashboard: TESSERA_DASHBOARD=off', () => {
  it('serves no dashboard, creates no client and prints no link', async () => {
    const s = await startTessera('sqlite', { env: { TESSERA_DASHBOARD: 'off' } });
    try {
      expect(s.t.boot.dashboardClientId).toBeUndefined();
      expect(s.t.boot.setupUrl).toBeUndefined();
      for (const url of ['/', '/dashboard/', '/dashboard/config.json', '/dashboard/setup']) expect((await s.t.app.inject({ method: 'GET', url })).statusCode).toBe(404);
      expect(((await s.api('GET', '/clients')).body as Array<{ name: string }>).map((c) => c.name)).not.toContain('Tessera Dashboard');
    } finally { await s.close(); }
  });
  it('refuses a value other than on or off', async () => {
    const { loadConfig } = await import('@tessera/server');
    expect(() => loadConfig({ TESSERA_DASHBOARD: 'yes', TESSERA_DATABASE_URL: 'sqlite::memory:', TESSERA_MASTER_KEY: Buffer.alloc(32, 1).toString('base64') })).toThrow(/TESSERA_DASHBOARD/);
  });
});
