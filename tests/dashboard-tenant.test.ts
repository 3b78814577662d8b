import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { decodeJwt, importPKCS8, SignJWT } from 'jose';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresAvailable, type DialectName } from './helpers/databases';
import { chromiumAvailable, fieldErrorOf, poll, signIn, startDashboard, type DashboardSession } from './helpers/dashboard';
import { authorize, Browser, CALLBACK, callbackParams, CONNECTION, PASSWORD } from './helpers/flows';

const available = chromiumAvailable();
const API = 'https://orders.example/';

/**
 * The rest of the tenant in the dashboard, in Debian's chromium against the real server (SQLite and PostgreSQL):
 * organizations (members, member roles, connections, machine-to-machine access), application credentials and APIs,
 * a user's permissions with their sources, and the tenant log. Each action is read back through the Management API,
 * and credentials and organization access are proven at /oauth/token. Screenshots in test-artifacts/dashboard-tenant.
 */
const pgReady = available && await postgresAvailable();
for (const dialect of ['sqlite', 'postgres'] as DialectName[]) {
describe.skipIf(!available || (dialect === 'postgres' && !pgReady))(`dashboard tenant sections in chromium [${dialect}]`, () => {
  let d: DashboardSession;
  let page: Page;
  const api = (method: string, path: string, body?: unknown) => d.api(method, path, body);
  const token = (params: Record<string, string>) => d.srv.s.token(params);
  const seed = { clientId: '', secret: '', grantId: '', userId: '', roleId: '', connectionId: '' };

  beforeAll(async () => {
    d = await startDashboard(dialect, 'dashboard-tenant');
    page = d.page;
    expect((await api('POST', '/resource-servers', { name: 'Orders', identifier: API, allow_offline_access: true, skip_consent_for_verifiable_first_party_clients: true, scopes: [{ value: 'read:orders', description: 'Read orders' }, { value: 'write:orders', description: 'Place orders' }] })).status).toBe(201);
    const client = (await api('POST', '/clients', { name: 'Orders Service', app_type: 'non_interactive', grant_types: ['client_credentials'] })).body;
    Object.assign(seed, { clientId: client.client_id, secret: client.client_secret });
    seed.grantId = (await api('POST', '/client-grants', { client_id: seed.clientId, audience: API, scope: ['read:orders'] })).body.id;
    seed.userId = (await api('POST', '/users', { connection: CONNECTION, email: 'ada@example.com', password: PASSWORD })).body.user_id;
    seed.roleId = (await api('POST', '/roles', { name: 'Order readers', description: 'Read the orders' })).body.id;
    expect((await api('POST', `/roles/${seed.roleId}/permissions`, { permissions: [{ resource_server_identifier: API, permission_name: 'read:orders' }] })).status).toBe(201);
    expect((await api('POST', `/users/${encodeURIComponent(seed.userId)}/roles`, { roles: [seed.roleId] })).status).toBe(204);
    seed.connectionId = ((await api('GET', '/connections')).body as Array<{ id: string }>)[0].id;
  }, 120_000);
  afterAll(async () => {
    await d?.close();
  });

  it('signs in', async () => {
    await signIn(d);
    expect(new URL(page.url()).pathname).toBe('/dashboard/apis');
  }, 60_000);

  it('creates an organization (a bad name shows the server error under the field and creates nothing), adds a member and gives them an organization role', async () => {
    await page.getByRole('link', { name: 'Organizations' }).click();
    await page.getByRole('button', { name: '+ Create Organization' }).click();
    await page.getByLabel('Name', { exact: true }).fill('Acme Corp');
    await page.getByLabel('Display name').fill('Acme Corp');
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    await poll(() => fieldErrorOf(page, 'Name').textContent()).toMatch(/^Payload validation error: .* on property name/);
    await d.shot('organization-create-error');
    expect((await api('GET', '/organizations')).body).toEqual([]);
    await page.getByLabel('Name', { exact: true }).fill('acme');
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    await page.getByRole('heading', { name: 'Acme Corp', level: 1 }).waitFor();
    await d.shot('organization');
    const org = ((await api('GET', '/organizations')).body as Array<{ id: string; name: string; display_name: string }>)[0];
    expect(org).toMatchObject({ name: 'acme', display_name: 'Acme Corp' });

    await page.getByLabel('User', { exact: true }).selectOption({ label: 'ada@example.com' });
    await page.getByRole('button', { name: 'Add member' }).click();
    await page.getByRole('link', { name: 'ada@example.com' }).waitFor();
    expect(((await api('GET', `/organizations/${org.id}/members`)).body as Array<{ user_id: string }>).map((m) => m.user_id)).toEqual([seed.userId]);
    await page.getByRole('button', { name: 'Roles of ada@example.com' }).click();
    await page.getByLabel('Role', { exact: true }).selectOption({ label: 'Order readers' });
    await page.getByRole('button', { name: 'Assign role' }).click();
    await page.getByRole('cell', { name: 'Order readers', exact: true }).waitFor();
    await d.shot('organization-members');
    const roles = (await api('GET', `/organizations/${org.id}/members/${encodeURIComponent(seed.userId)}/roles`)).body as Array<{ id: string }>;
    expect(roles.map((r) => r.id)).toEqual([seed.roleId]);
  }, 90_000);

  it('enables the database connection for the organization with membership on login', async () => {
    const org = ((await api('GET', '/organizations')).body as Array<{ id: string }>)[0];
    await page.getByRole('tab', { name: 'Connections' }).click();
    const sw = page.getByRole('switch', { name: /Username-Password-Authentication/ });
    expect(await sw.isChecked()).toBe(false);
    await sw.click();
    await poll(() => sw.isChecked()).toBe(true);
    await page.getByLabel('Assign membership on login').click();
    await poll(async () => (await api('GET', `/organizations/${org.id}/enabled_connections`)).body)
      .toEqual([expect.objectContaining({ connection_id: seed.connectionId, assign_membership_on_login: true })]);
    await poll(() => page.getByLabel('Assign membership on login').isChecked()).toBe(true);
    await d.shot('organization-connections');
  }, 60_000);

  it('gives an application machine-to-machine access to the organization: client credentials with organization work only while linked', async () => {
    const org = ((await api('GET', '/organizations')).body as Array<{ id: string }>)[0];
    const ask = () => token({ grant_type: 'client_credentials', client_id: seed.clientId, client_secret: seed.secret, audience: API, organization: org.id });
    await page.getByRole('tab', { name: 'Machine to Machine Access' }).click();
    const label = 'Orders Service on Orders';
    await page.getByLabel(`Organization use of ${label}`).selectOption('allow');
    await poll(async () => (await api('GET', `/client-grants/${seed.grantId}`)).body.organization_usage).toBe('allow');
    expect((await ask()).body).toEqual({ error: 'access_denied', error_description: `Organization ${org.id} is not associated with this client grant.` });

    await page.getByRole('switch', { name: `No access for ${label}`, exact: true }).click();
    await page.getByRole('switch', { name: `Access for ${label}`, exact: true }).waitFor();
    await d.shot('organization-m2m');
    expect(((await api('GET', `/organizations/${org.id}/client-grants`)).body as Array<{ id: string }>).map((g) => g.id)).toEqual([seed.grantId]);
    const ok = await ask();
    expect(ok.status).toBe(200);
    expect(decodeJwt(ok.body.access_token)).toMatchObject({ org_id: org.id, aud: API, scope: 'read:orders' });

    await page.getByRole('switch', { name: `Access for ${label}`, exact: true }).click();
    await page.getByRole('switch', { name: `No access for ${label}`, exact: true }).waitFor();
    expect((await api('GET', `/organizations/${org.id}/client-grants`)).body).toEqual([]);
    expect((await ask()).status).toBe(403);
  }, 60_000);

  it('refuses a bad branding color without saving, and removes a member after a confirmation', async () => {
    const org = ((await api('GET', '/organizations')).body as Array<{ id: string }>)[0];
    await page.getByRole('tab', { name: 'Settings' }).click();
    await page.getByLabel('Primary color').fill('blue');
    await page.getByLabel('Page background color').fill('#ffffff');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await poll(() => fieldErrorOf(page, 'Primary color').textContent()).toMatch(/on property branding/);
    expect((await api('GET', `/organizations/${org.id}`)).body.branding).toBeUndefined();
    await page.getByLabel('Primary color').fill('#1b4fd8');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByText('Settings saved.').waitFor();
    await d.shot('organization-settings');
    expect((await api('GET', `/organizations/${org.id}`)).body.branding).toEqual({ colors: { primary: '#1b4fd8', page_background: '#ffffff' } });

    await page.getByRole('tab', { name: 'Members' }).click();
    await page.getByRole('button', { name: 'Remove ada@example.com' }).click();
    await page.getByRole('dialog').getByText('loses the roles they had in it').waitFor();
    await page.getByRole('dialog').getByRole('button', { name: 'Remove' }).click();
    await page.getByText('No members yet.').waitFor();
    expect((await api('GET', `/organizations/${org.id}/members`)).body).toEqual([]);
  }, 60_000);

  it('reveals the client secret and rotates it after a confirmation: the old secret is refused at once', async () => {
    await page.getByRole('link', { name: 'Applications' }).click();
    await page.getByRole('link', { name: 'Orders Service' }).click();
    await page.getByRole('tab', { name: 'Credentials' }).click();
    await page.getByRole('button', { name: 'Reveal secret' }).click();
    await poll(() => page.locator('.secret-value').textContent()).toBe(seed.secret);
    await page.getByRole('button', { name: 'Rotate secret' }).click();
    await page.getByRole('dialog').getByText(/stops working at once/).waitFor();
    await page.getByRole('dialog').getByRole('button', { name: 'Rotate' }).click();
    await poll(async () => (await api('GET', `/clients/${seed.clientId}`)).body.client_secret).not.toBe(seed.secret);
    const rotated = (await api('GET', `/clients/${seed.clientId}`)).body.client_secret as string;
    await poll(() => page.locator('.secret-value').textContent()).toBe(rotated);
    expect((await token({ grant_type: 'client_credentials', client_id: seed.clientId, client_secret: seed.secret, audience: API })).status).toBe(401);
    expect((await token({ grant_type: 'client_credentials', client_id: seed.clientId, client_secret: rotated, audience: API })).status).toBe(200);
    seed.secret = rotated;
  }, 60_000);

  it('adds a private_key_jwt credential (a private key is refused under the field), switches to it, and deletes it only once unused', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const creds = `/clients/${seed.clientId}/credentials`;
    await page.getByLabel('Credential name').fill('CI key');
    await page.getByLabel('Public key (PEM)').fill(privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
    await page.getByRole('button', { name: 'Add credential' }).click();
    await poll(() => fieldErrorOf(page, 'Public key (PEM)').textContent())
      .toBe("Payload validation error: 'Invalid PEM: private keys are not accepted; send the public key or the certificate' on property pem.");
    expect((await api('GET', creds)).body).toEqual([]);
    await page.getByLabel('Public key (PEM)').fill(publicKey.export({ type: 'spki', format: 'pem' }) as string);
    await page.getByRole('button', { name: 'Add credential' }).click();
    await page.getByRole('cell', { name: 'CI key', exact: true }).waitFor();
    const [cred] = (await api('GET', creds)).body as Array<{ id: string; name: string; alg: string }>;
    expect(cred).toMatchObject({ name: 'CI key', alg: 'RS256', credential_type: 'public_key' });

    await page.getByRole('radio', { name: /Private Key JWT/ }).check();
    await page.getByRole('checkbox', { name: 'CI key' }).check();
    await page.getByRole('button', { name: 'Save authentication method' }).click();
    await page.getByText('Authentication method saved.').waitFor();
    await d.shot('application-credentials');
    const client = (await api('GET', `/clients/${seed.clientId}`)).body;
    expect(client.client_authentication_methods).toEqual({ private_key_jwt: { credentials: [{ id: cred.id }] } });
    expect(client.token_endpoint_auth_method).toBeUndefined();
    const now = Math.floor(d.srv.s.clock.now() / 1000); // the server's clock stands still in tests
    const key = await importPKCS8(privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, 'RS256');
    const assertion = await new SignJWT({}).setProtectedHeader({ alg: 'RS256' }).setIssuer(seed.clientId).setSubject(seed.clientId)
      .setAudience(`${d.srv.publicUrl}/`).setJti(randomUUID()).setIssuedAt(now).setExpirationTime(now + 120).sign(key);
    const byKey = await token({ grant_type: 'client_credentials', client_id: seed.clientId, audience: API, client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion });
    expect(byKey).toMatchObject({ status: 200, body: { token_type: 'Bearer' } });
    expect((await token({ grant_type: 'client_credentials', client_id: seed.clientId, client_secret: seed.secret, audience: API })).status).toBe(401);

    await page.getByRole('button', { name: 'Delete CI key' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
    await poll(() => page.getByRole('dialog').locator('.error').textContent()).toMatch(/^The credential is in use by the client authentication method private_key_jwt/);
    expect((await api('GET', creds)).body).toHaveLength(1);
    await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();

    await page.getByRole('radio', { name: /Client Secret \(Post\)/ }).check();
    await page.getByRole('button', { name: 'Save authentication method' }).click();
    await poll(async () => (await api('GET', `/clients/${seed.clientId}`)).body.token_endpoint_auth_method).toBe('client_secret_post');
    await page.getByRole('button', { name: 'Delete CI key' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
    await page.getByText('No credentials.').waitFor();
    expect((await api('GET', creds)).body).toEqual([]);
    expect((await token({ grant_type: 'client_credentials', client_id: seed.clientId, client_secret: seed.secret, audience: API })).status).toBe(200);
  }, 90_000);

  it('the APIs tab changes the application\'s client grant scopes', async () => {
    await page.getByRole('tab', { name: 'APIs' }).click();
    const row = page.locator('li.m2m-row', { hasText: API });
    await poll(() => row.getByRole('switch').isChecked()).toBe(true);
    await row.getByRole('button', { name: 'Permissions' }).click();
    await row.getByRole('checkbox', { name: 'write:orders' }).check();
    await row.getByRole('button', { name: 'Update' }).click();
    await row.getByText('Permissions updated.').waitFor();
    await d.shot('application-apis');
    expect((await api('GET', `/client-grants/${seed.grantId}`)).body.scope).toEqual(['read:orders', 'write:orders']);
  }, 60_000);

  it('creates a single-page application; a too-long description is refused under the field and nothing is saved; its URIs are saved and used by /authorize; it is deleted after a confirmation', async () => {
    await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Applications' }).click();
    await page.getByRole('button', { name: '+ Create Application' }).click();
    await page.getByLabel('Name', { exact: true }).fill('Orders SPA');
    await page.getByLabel('Single Page Web Applications').check();
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    await page.getByRole('heading', { name: 'Orders SPA', level: 1 }).waitFor();
    const spa = ((await api('GET', '/clients')).body as Array<{ client_id: string; name: string }>).find((c) => c.name === 'Orders SPA')!;
    const uris = async () => { const c = (await api('GET', `/clients/${spa.client_id}`)).body; return { callbacks: c.callbacks ?? [], web_origins: c.web_origins ?? [], description: c.description } };
    expect((await api('GET', `/clients/${spa.client_id}`)).body).toMatchObject({ app_type: 'spa', token_endpoint_auth_method: 'none' });
    expect(await uris()).toEqual({ callbacks: [], web_origins: [], description: undefined });

    const callback = 'https://spa.example/callback';
    await page.getByLabel('Allowed Callback URLs').fill(`${callback}\nhttps://spa.example/silent`);
    await page.getByLabel('Allowed Web Origins').fill('https://spa.example');
    await page.getByLabel('Description').fill('x'.repeat(141));
    await page.getByRole('button', { name: 'Save Changes' }).click();
    await poll(() => fieldErrorOf(page, 'Description').textContent())
      .toBe("Payload validation error: 'String is too long (141 chars), maximum 140' on property description (Free text description of this client (max length: 140 characters).).");
    expect(await uris()).toEqual({ callbacks: [], web_origins: [], description: undefined }); // nothing half-saved
    await page.getByLabel('Description').fill('The orders single-page app');
    await page.getByRole('button', { name: 'Save Changes' }).click();
    await page.getByText('Changes saved.').waitFor();
    await d.shot('application-spa-settings');
    expect(await uris()).toEqual({ description: 'The orders single-page app', callbacks: [callback, 'https://spa.example/silent'], web_origins: ['https://spa.example'] });
    const authorizeTo = async (redirect: string) => (await d.srv.s.t.app.inject({ method: 'GET', url: `/authorize?${new URLSearchParams({
      response_type: 'code', client_id: spa.client_id, redirect_uri: redirect, scope: 'openid', state: 'st', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256',
    })}` }));
    const listed = await authorizeTo(callback);
    expect(listed.statusCode).toBe(302);
    expect(listed.headers.location).toMatch(/^\/u\/login\?/);
    expect((await authorizeTo('https://elsewhere.example/callback')).statusCode).toBe(400);

    await page.getByRole('button', { name: 'Delete Application' }).click();
    await page.getByRole('dialog').getByText('This cannot be undone.').waitFor();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('heading', { name: 'Applications', level: 1 }).waitFor();
    expect((await api('GET', `/clients/${spa.client_id}`)).status).toBe(404);
    await poll(() => page.getByRole('link', { name: 'Orders SPA' }).count()).toBe(0);
    await d.shot('applications');
  }, 60_000);

  it('shows a user\'s permissions with their sources; a direct one is added and removed, a role\'s has no remove button', async () => {
    await page.getByRole('link', { name: 'Users' }).click();
    await page.getByRole('link', { name: 'ada@example.com' }).click();
    await page.getByRole('tab', { name: 'Permissions' }).click();
    await page.getByRole('row', { name: /read:orders/ }).getByRole('link', { name: 'Order readers' }).waitFor();
    await page.getByLabel('API', { exact: true }).selectOption({ label: 'Orders' });
    await page.getByRole('checkbox', { name: 'write:orders' }).check();
    await page.getByRole('button', { name: 'Add permissions' }).click();
    await poll(() => page.getByRole('row', { name: /write:orders/ }).textContent()).toContain('Direct');
    await d.shot('user-permissions');
    const path = `/users/${encodeURIComponent(seed.userId)}/permissions`;
    const held = ((await api('GET', path)).body as Array<{ permission_name: string }>).sort((a, b) => a.permission_name.localeCompare(b.permission_name));
    expect(held).toEqual([
      expect.objectContaining({ permission_name: 'read:orders', sources: [{ source_id: seed.roleId, source_name: 'Order readers', source_type: 'ROLE' }] }),
      expect.objectContaining({ permission_name: 'write:orders', sources: [{ source_id: '', source_name: '', source_type: 'DIRECT' }] }),
    ]);
    expect(await page.getByRole('button', { name: 'Remove read:orders' }).count()).toBe(0);
    await page.getByRole('button', { name: 'Remove write:orders' }).click();
    await poll(() => page.getByRole('row', { name: /write:orders/ }).count()).toBe(0);
    expect(((await api('GET', path)).body as Array<{ permission_name: string }>).map((p) => p.permission_name)).toEqual(['read:orders']);
  }, 60_000);

  it('lists the user\'s session and refresh token and ends each after a confirmation: the hosted login and the token endpoint refuse them at once', async () => {
    const s = d.srv.s;
    const created = (await api('POST', '/clients', { name: 'Orders Web', app_type: 'regular_web', callbacks: [CALLBACK], grant_types: ['authorization_code', 'refresh_token', 'http://auth0.com/oauth/grant-type/password-realm'] })).body;
    const web = { clientId: created.client_id as string, secret: created.client_secret as string };
    const query = (extra: Record<string, string> = {}) => ({ response_type: 'code', client_id: web.clientId, redirect_uri: CALLBACK, audience: API, scope: 'openid read:orders', state: 'st', ...extra });
    const browser = new Browser(s);
    expect(callbackParams((await authorize(s, browser, query(), { email: 'ada@example.com' })).res.location)).toHaveProperty('code');
    const silent = async () => callbackParams((await browser.get(`/authorize?${new URLSearchParams(query({ prompt: 'none' }))}`)).location);
    expect(await silent()).toHaveProperty('code');
    const issued = await token({ grant_type: 'http://auth0.com/oauth/grant-type/password-realm', realm: CONNECTION, username: 'ada@example.com', password: PASSWORD, client_id: web.clientId, client_secret: web.secret, audience: API, scope: 'openid offline_access read:orders' });
    expect(issued.body.refresh_token).toBeTruthy();

    await page.getByRole('tab', { name: 'Sessions' }).click();
    const sessionRow = page.getByRole('row', { name: /pwd/ });
    await sessionRow.waitFor();
    const tokenRow = page.getByRole('row', { name: /Orders Web/ });
    await tokenRow.waitFor();
    expect(await tokenRow.textContent()).toContain(API);
    await d.shot('user-sessions');

    await sessionRow.getByRole('button', { name: /^End session/ }).click();
    await page.getByRole('dialog').getByText(/login_required/).waitFor();
    await page.getByRole('dialog').getByRole('button', { name: 'End' }).click();
    await page.getByText('No active sessions.').waitFor();
    expect((await api('GET', `/users/${encodeURIComponent(seed.userId)}/sessions`)).body).toEqual({ sessions: [] });
    expect((await silent()).error).toBe('login_required');

    await tokenRow.getByRole('button', { name: /^Revoke refresh token/ }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Revoke' }).click();
    await page.getByText('No refresh tokens.').waitFor();
    expect((await api('GET', `/users/${encodeURIComponent(seed.userId)}/refresh-tokens`)).body).toEqual({ tokens: [] });
    expect((await token({ grant_type: 'refresh_token', client_id: web.clientId, client_secret: web.secret, refresh_token: issued.body.refresh_token })).body.error).toBe('invalid_grant');
  }, 60_000);

  it('the log page filters by event type and application, refuses a query it does not understand under the field, pages, and opens an event', async () => {
    expect((await token({ grant_type: 'client_credentials', client_id: seed.clientId, client_secret: 'wrong', audience: API })).status).toBe(401);
    const q = `type:"feccft" AND client_id:"${seed.clientId}"`;
    // events are written in batches 100 ms after they happen: wait until two reads half a second apart agree
    let failures: Array<{ log_id: string }> = [];
    const read = async () => (await api('GET', `/logs?q=${encodeURIComponent(q)}`)).body as Array<{ log_id: string }>;
    await poll(async () => {
      const before = (await read()).length;
      await new Promise((r) => setTimeout(r, 500));
      failures = await read();
      return before > 0 && before === failures.length;
    }).toBe(true);

    await page.getByRole('link', { name: 'Logs' }).click();
    await page.getByLabel('Query').fill('foo:bar');
    await page.getByRole('button', { name: 'Search' }).click();
    await poll(() => fieldErrorOf(page, 'Query').textContent()).toMatch(/^Query validation error: 'Unsupported field foo' on property q/);
    await page.getByLabel('Query').fill('');
    await page.getByLabel('Event type').selectOption('feccft');
    await page.getByLabel('Application').selectOption({ label: 'Orders Service' });
    await page.getByRole('button', { name: 'Search' }).click();
    const rows = page.locator('table.list tbody tr');
    await poll(() => rows.count()).toBe(failures.length);
    expect(await rows.first().textContent()).toContain('Failed Exchange (Client Credentials)');
    await d.shot('logs-filtered');

    await rows.first().getByRole('link').click();
    await page.getByRole('heading', { name: 'Failed Exchange (Client Credentials)', level: 1 }).waitFor();
    const shown = JSON.parse((await page.getByTestId('log-raw').textContent()) as string);
    expect(shown).toEqual((await api('GET', `/logs/${failures[0].log_id}`)).body);
    expect(shown).toMatchObject({ type: 'feccft', client_id: seed.clientId });
    await d.shot('log-detail');

    await page.getByRole('link', { name: '← Back to Logs' }).click();
    await page.getByRole('button', { name: 'Search' }).click();
    const total = (await api('GET', '/logs?include_totals=true&per_page=1')).body.total as number;
    expect(total).toBeGreaterThan(25);
    await poll(() => page.locator('.pager [role=status]').textContent()).toMatch(/^1–25 of \d+$/);
    await page.getByRole('button', { name: 'Next' }).click();
    await poll(() => page.locator('.pager [role=status]').textContent()).toMatch(/^26–\d+ of \d+$/);
    await d.shot('logs');
  }, 60_000);

  it('no page broke the Content Security Policy or threw', () => {
    expect(d.cspViolations).toEqual([]);
    expect(d.pageErrors).toEqual([]);
  });
});
}
