import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createAdminUser } from '@tessera/server';
import { Browser, callbackParams, hiddenFields, pkce } from './helpers/flows';
import { eachDialect, MGMT_AUDIENCE, PUBLIC_URL, startTessera, type TestServer } from './helpers/tessera';

/**
 * Dashboard administrators when the database connection has `requires_username`: the first-administrator page asks
 * for a username (and only then), `createAdminUser` (`tessera admin create-user --username`) takes one, and both
 * refuse a new administrator without one, with a message that says what to do and nothing written.
 */
const CALLBACK = `${PUBLIC_URL}/dashboard/callback`;
const STRONG = 'Dashboard-Admin-7';
const URLS = { publicUrl: PUBLIC_URL, managementAudience: MGMT_AUDIENCE };
const ticketOf = (url: string) => new URL(url).searchParams.get('ticket') as string;

/** The hosted login for the dashboard's client with `identifier` (email or username), then the code exchange. */
async function dashboardToken(s: TestServer, clientId: string, identifier: string, password: string) {
  const b = new Browser(s);
  const { verifier, challenge } = pkce();
  let r = await b.get(`/authorize?${new URLSearchParams({
    response_type: 'code', client_id: clientId, redirect_uri: CALLBACK, audience: MGMT_AUDIENCE, scope: 'openid read:clients', state: 'st',
    code_challenge: challenge, code_challenge_method: 'S256',
  })}`);
  if (r.location?.startsWith('/u/login')) {
    const page = await b.get(r.location);
    r = await b.post('/u/login', { ...hiddenFields(page.body), username: identifier, password });
  }
  const code = callbackParams(r.location).code;
  if (!code) return { status: r.status };
  return s.token({ grant_type: 'authorization_code', client_id: clientId, code, redirect_uri: CALLBACK, code_verifier: verifier });
}

eachDialect('dashboard administrators on a connection that requires usernames', (dialect) => {
  let s: TestServer;
  let dashboardId: string;
  beforeAll(async () => {
    s = await startTessera(dialect, { masterKey: randomBytes(32).toString('base64'), env: { TESSERA_DASHBOARD: 'on' } });
    dashboardId = s.t.boot.dashboardClientId as string;
  }, 60_000);
  afterAll(async () => { await s?.close(); });

  it('the first-administrator page asks for a username only once the connection requires one', async () => {
    const b = new Browser(s);
    const url = `/dashboard/setup?ticket=${ticketOf(s.t.boot.setupUrl as string)}`;
    const before = await b.get(url);
    expect(before.status).toBe(200);
    expect(before.body).not.toContain('name="username"');
    const connection = (await s.api('GET', '/connections')).body[0];
    expect((await s.api('PATCH', `/connections/${connection.id}`, { options: { requires_username: true } })).status).toBe(200);
    const after = await b.get(url);
    expect(after.status).toBe(200);
    expect(after.body).toContain('<label for="username">Username</label><input type="text" id="username" name="username" autocomplete="username" required value="">');
    expect(after.body).toContain('<input type="email" id="email" name="email" autocomplete="email" required value="">');
  });

  it('refuses the first administrator without a username or with an invalid one, keeping the link and writing nothing', async () => {
    const b = new Browser(s);
    const ticket = ticketOf(s.t.boot.setupUrl as string);
    const missing = await b.post('/dashboard/setup', { ticket, email: 'root@example.com', password: STRONG, confirm: STRONG });
    expect(missing.status).toBe(400);
    expect(missing.body).toContain('Enter a username: the database connection requires one.');
    expect(missing.body).toContain('value="root@example.com"'); // the form keeps what was typed
    const emailLike = await b.post('/dashboard/setup', { ticket, email: 'root@example.com', username: 'root@example.com', password: STRONG, confirm: STRONG });
    expect(emailLike.status).toBe(400);
    expect(emailLike.body).toContain('Username cannot be an email address.');
    expect(emailLike.body).toContain('name="username" autocomplete="username" required value="root@example.com"');
    expect((await s.api('GET', '/users')).body).toEqual([]);
    expect((await b.get(`/dashboard/setup?ticket=${ticket}`)).status).toBe(200); // the link was not used up
  });

  it('creates the first administrator with the username; they sign in with it and get Management scopes', async () => {
    const b = new Browser(s);
    const ticket = ticketOf(s.t.boot.setupUrl as string);
    const ok = await b.post('/dashboard/setup', { ticket, email: 'root@example.com', username: 'Root_Admin', password: STRONG, confirm: STRONG });
    expect(ok.status).toBe(200);
    expect(ok.body).toContain('Password set');
    const users = (await s.api('GET', '/users')).body;
    expect(users).toEqual([expect.objectContaining({ email: 'root@example.com', username: 'root_admin' })]);
    expect((await s.api('GET', `/users/${encodeURIComponent(users[0].user_id)}/roles`)).body).toEqual([expect.objectContaining({ name: 'Tessera Administrators' })]);
    const token = await dashboardToken(s, dashboardId, 'root_admin', STRONG);
    expect(token.status).toBe(200);
    expect((token as { body: { scope: string } }).body.scope).toBe('openid read:clients');
  });

  it('createAdminUser (tessera admin create-user) needs a username for a new user, not for one found by email', async () => {
    await expect(createAdminUser(s.t.services, URLS, 'ops@example.com')).rejects.toThrow(
      'The database connection requires a username (requires_username): pass --username <name>.');
    expect(((await s.api('GET', '/users')).body as Array<{ email: string }>).map((u) => u.email)).toEqual(['root@example.com']);
    await expect(createAdminUser(s.t.services, URLS, 'ops@example.com', { username: 'ops@example.com' })).rejects.toThrow('Username cannot be an email address.');

    const made = await createAdminUser(s.t.services, URLS, 'ops@example.com', { username: 'ops' });
    expect(made).toMatchObject({ email: 'ops@example.com', username: 'ops', created: true });
    const b = new Browser(s);
    const ticket = ticketOf(made.set_password_url);
    const page = await b.get(`/dashboard/setup?ticket=${ticket}`);
    expect(page.body).toContain('Choose a password for <strong>ops@example.com</strong>');
    expect(page.body).not.toContain('name="username"');
    expect((await b.post('/dashboard/setup', { ticket, password: STRONG, confirm: STRONG })).status).toBe(200);
    expect((await dashboardToken(s, dashboardId, 'ops', STRONG)).status).toBe(200);

    const again = await createAdminUser(s.t.services, URLS, 'root@example.com'); // found by email: no username needed, theirs kept
    expect(again).toMatchObject({ user_id: expect.stringMatching(/^auth0\|/), username: 'root_admin', created: false });
  });
});
