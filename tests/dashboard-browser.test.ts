import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresAvailable, type DialectName } from './helpers/databases';
import { chromiumAvailable, poll, signIn, startDashboard, type DashboardSession } from './helpers/dashboard';
import type { ListeningServer } from './helpers/listening';
import { ADMIN_ID, ADMIN_SECRET } from './helpers/tessera';

const available = chromiumAvailable();
const API = 'https://orders.example/';

/** How far the page scrolls sideways, and the innermost elements reaching past the viewport's right edge. */
const sideways = (page: Page) => page.evaluate(() => {
  const width = document.documentElement.clientWidth;
  const over = Array.from(document.body.querySelectorAll<HTMLElement>('*')).filter((el) => el.getBoundingClientRect().right > width + 0.5);
  const leaves = over.filter((el) => !over.some((o) => o !== el && el.contains(o)));
  return { by: document.documentElement.scrollWidth - width, what: leaves.slice(0, 5).map((el) => `${el.tagName.toLowerCase()}.${el.className}: ${(el.textContent ?? '').slice(0, 40)}`) };
});

/** Form controls and buttons of the page without an accessible name (label, aria-label, aria-labelledby or text). */
const unlabelled = (page: Page) => page.evaluate(() => Array.from(document.querySelectorAll<HTMLElement>('input, select, textarea, button'))
  .filter((el) => (el as HTMLInputElement).type !== 'hidden')
  .filter((el) => {
    const labels = Array.from((el as HTMLInputElement).labels ?? []).map((l) => l.textContent?.trim()).join('');
    const by = (el.getAttribute('aria-labelledby') ?? '').split(' ').map((id: string) => document.getElementById(id)?.textContent?.trim() ?? '').join('');
    return !(el.getAttribute('aria-label') || by || labels || (el.tagName === 'BUTTON' && el.textContent?.trim()));
  })
  .map((el) => el.outerHTML.slice(0, 160)));

/**
 * The dashboard in Debian's chromium against the real server (SQLite and PostgreSQL): the first administrator sets a
 * password through the one-time link, signs in through the hosted login (code + PKCE), and does the APIs section of
 * Auth0's dashboard end to end, then roles, users and signing keys. Every result is checked through the Management
 * API or, for tokens, against the JWKS with jose. Screenshots land in test-artifacts/dashboard/<dialect>.
 */
const pgReady = available && await postgresAvailable();
for (const dialect of ['sqlite', 'postgres'] as DialectName[]) {
describe.skipIf(!available || (dialect === 'postgres' && !pgReady))(`dashboard in chromium [${dialect}]`, () => {
  let d: DashboardSession;
  let srv: ListeningServer;
  let page: Page;
  let testTabToken = ''; // the token the Test tab got, signed by the key that is rotated out and then revoked
  const shot = (name: string) => d.shot(name);
  const api = (method: string, path: string, body?: unknown) => d.api(method, path, body);

  beforeAll(async () => {
    d = await startDashboard(dialect, 'dashboard');
    ({ srv, page } = d);
  }, 120_000);
  afterAll(async () => {
    await d?.close();
  });

  it('the one-time link sets the administrator password; sign-in goes through the hosted login with code + PKCE', async () => {
    const authorizeUrls: string[] = [];
    const exchanges: string[] = [];
    const watch = (r: import('playwright-core').Request) => {
      const url = new URL(r.url());
      if (url.pathname === '/authorize') authorizeUrls.push(r.url());
      if (url.pathname === '/oauth/token' && r.method() === 'POST') exchanges.push(r.postData() ?? '');
    };
    page.on('request', watch);
    await signIn(d, true);
    page.off('request', watch);
    expect(new URL(page.url()).pathname).toBe('/dashboard/apis');
    const config = await (await fetch(`${srv.origin}/dashboard/config.json`)).json() as { clientId: string };
    const asked = new URL(authorizeUrls[0]).searchParams;
    expect(Object.fromEntries(['response_type', 'client_id', 'redirect_uri', 'audience', 'code_challenge_method'].map((k) => [k, asked.get(k)]))).toEqual({
      response_type: 'code', client_id: config.clientId, redirect_uri: `${srv.origin}/dashboard/callback`, audience: `${srv.publicUrl}/api/v2/`, code_challenge_method: 'S256',
    });
    expect(asked.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const exchange = new URLSearchParams(exchanges.find((b) => b.includes('authorization_code')));
    expect(exchange.get('grant_type')).toBe('authorization_code');
    expect(exchange.get('code_verifier')).toMatch(/^[A-Za-z0-9_~.-]{43,128}$/);
    expect(exchange.get('client_secret')).toBeNull();
    await page.getByRole('link', { name: 'Auth0 Management API' }).waitFor();
    await shot('apis-list');
  }, 60_000);

  it('creates a machine-to-machine application', async () => {
    await page.getByRole('link', { name: 'Applications' }).click();
    await page.getByRole('heading', { name: 'Applications', level: 1 }).waitFor();
    await shot('applications');
    await page.getByRole('button', { name: '+ Create Application' }).click();
    await page.getByLabel('Name', { exact: true }).fill('Orders Service');
    await page.getByLabel('Machine to Machine Applications').check();
    await shot('application-create');
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    await page.getByRole('heading', { name: 'Orders Service', level: 1 }).waitFor();
    await shot('application-settings');
    const clients = (await api('GET', '/clients')).body as Array<{ name: string; app_type: string; grant_types: string[] }>;
    expect(clients.find((c) => c.name === 'Orders Service')).toMatchObject({ app_type: 'non_interactive', grant_types: ['client_credentials'] });
  }, 60_000);

  it('creates an API with two permissions; bad settings show the server error next to the field and save nothing', async () => {
    await page.getByRole('link', { name: 'APIs', exact: true }).click();
    await page.getByRole('button', { name: '+ Create API' }).click();
    await page.getByLabel('Name', { exact: true }).fill('Orders <API>');
    await page.getByLabel('Identifier').fill(API);
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    // Ajv's pattern error names the field: shown under Name, and no API was created
    const nameError = page.locator('.field.invalid', { has: page.getByLabel('Name', { exact: true }) }).locator('.field-error');
    await poll(() => nameError.textContent()).toMatch(/^Payload validation error: .* on property name/);
    await shot('api-create-error');
    expect(((await api('GET', '/resource-servers')).body as Array<{ identifier: string }>).map((r) => r.identifier)).not.toContain(API);
    await page.getByLabel('Name', { exact: true }).fill('Orders');
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    await page.getByRole('heading', { name: 'Orders', level: 1 }).waitFor();
    await poll(() => page.getByRole('tab', { name: 'Quick Start' }).getAttribute('aria-selected')).toBe('true');
    const quick = await page.locator('[aria-label="Express example"]').textContent();
    expect(quick).toContain(`issuerBaseURL: '${srv.publicUrl}/'`);
    expect(quick).toContain(`audience: '${API}'`);
    await shot('api-quickstart');

    await page.getByRole('tab', { name: 'Settings' }).click();
    await poll(() => page.getByLabel('Identifier').getAttribute('readonly')).toBe('');
    await page.getByLabel('Maximum Access Token Lifetime (seconds)').fill('3600');
    await page.getByLabel(/Implicit \/ Hybrid Flow/).fill('9000');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    const webError = page.locator('.field.invalid', { has: page.getByLabel(/Implicit \/ Hybrid Flow/) }).locator('.field-error');
    await poll(() => webError.textContent()).toBe("Payload validation error: 'token_lifetime_for_web (9000) cannot be greater than token_lifetime (3600)' on property token_lifetime_for_web.");
    await shot('api-settings-error');
    const rs = ((await api('GET', '/resource-servers')).body as Array<{ id: string; identifier: string; token_lifetime: number }>).find((r) => r.identifier === API)!;
    expect(rs.token_lifetime).toBe(86400); // nothing half-saved
    await page.getByLabel(/Implicit \/ Hybrid Flow/).fill('1800');
    await page.getByLabel('Enable RBAC').check();
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByText('Settings saved.').waitFor();
    expect((await api('GET', `/resource-servers/${rs.id}`)).body).toMatchObject({ token_lifetime: 3600, token_lifetime_for_web: 1800, enforce_policies: true });

    await page.getByRole('tab', { name: 'Permissions' }).click();
    for (const [value, description] of [['read:orders', 'Read orders'], ['write:orders', 'Place orders']]) {
      await page.getByLabel('Permission', { exact: true }).fill(value);
      await page.getByLabel('Description').fill(description);
      await page.getByRole('button', { name: '+ Add' }).click();
      await page.getByRole('cell', { name: value, exact: true }).waitFor();
    }
    await page.getByLabel('Permission', { exact: true }).fill('read:orders');
    await page.getByRole('button', { name: '+ Add' }).click();
    const dup = page.locator('.field.invalid', { has: page.getByLabel('Permission', { exact: true }) }).locator('.field-error');
    await poll(() => dup.textContent()).toMatch(/Array items are not unique.*on property scopes/);
    expect((await api('GET', `/resource-servers/${rs.id}`)).body.scopes).toHaveLength(2);
    await page.getByLabel('Permission', { exact: true }).fill('delete:orders');
    await page.getByRole('button', { name: '+ Add' }).click();
    await page.getByRole('cell', { name: 'delete:orders', exact: true }).waitFor();
    expect((await api('GET', `/resource-servers/${rs.id}`)).body.scopes).toHaveLength(3);
    await page.getByRole('button', { name: 'Remove delete:orders' }).click();
    await poll(() => page.getByRole('cell', { name: 'delete:orders', exact: true }).count()).toBe(0);
    await shot('api-permissions');
    expect((await api('GET', `/resource-servers/${rs.id}`)).body.scopes).toEqual([{ value: 'read:orders', description: 'Read orders' }, { value: 'write:orders', description: 'Place orders' }]);
  }, 90_000);

  it('authorizes the application for one permission; the Test tab gets a token with that scope and audience that verifies against the JWKS', async () => {
    await page.getByRole('tab', { name: 'Machine to Machine Applications' }).click();
    const row = page.locator('li.m2m-row', { hasText: 'Orders Service' });
    await row.getByRole('switch').click(); // on once the client grant exists
    await poll(() => row.getByRole('switch').isChecked()).toBe(true);
    await row.getByRole('checkbox', { name: 'read:orders' }).check();
    await row.getByRole('button', { name: 'Update' }).click();
    await row.getByText('Permissions updated.').waitFor();
    await shot('api-m2m');
    const client = ((await api('GET', '/clients')).body as Array<{ name: string; client_id: string }>).find((c) => c.name === 'Orders Service')!;
    const grants = (await api('GET', `/client-grants?client_id=${client.client_id}`)).body;
    expect(grants).toEqual([expect.objectContaining({ audience: API, scope: ['read:orders'] })]);

    await page.getByRole('tab', { name: 'Test' }).click();
    await page.getByRole('button', { name: 'Get token' }).click();
    await page.getByRole('heading', { name: 'Response' }).waitFor();
    await shot('api-test-token');
    const response = JSON.parse((await page.locator('[aria-label="Token response"]').textContent()) as string);
    testTabToken = response.access_token;
    const { payload, protectedHeader } = await jwtVerify(response.access_token, createRemoteJWKSet(new URL(`${srv.origin}/.well-known/jwks.json`)), {
      issuer: `${srv.publicUrl}/`, audience: API, algorithms: ['RS256'],
    });
    expect(protectedHeader.alg).toBe('RS256');
    expect(payload).toMatchObject({ aud: API, scope: 'read:orders', azp: client.client_id, gty: 'client-credentials' });
    expect(JSON.parse((await page.getByTestId('token-payload').textContent()) as string)).toMatchObject({ scope: 'read:orders', aud: API });
    const curl = await page.locator('[aria-label="cURL"]').textContent();
    expect(curl).toContain(`--url ${srv.origin}/oauth/token`);
    expect(curl).toContain(`"audience":"${API}"`);
    const node = await page.locator('[aria-label="Node.js"]').textContent();
    expect(node).toContain(`fetch('${srv.origin}/oauth/token'`);
    expect(node).toContain(`"client_id": "${client.client_id}"`);
  }, 60_000);

  it('unauthorizing the application (with a confirmation) makes the Test tab fail with Auth0\'s error', async () => {
    await page.getByRole('tab', { name: 'Machine to Machine Applications' }).click();
    const row = page.locator('li.m2m-row', { hasText: 'Orders Service' });
    await row.getByRole('switch').click();
    const dialog = page.getByRole('dialog');
    await dialog.getByText('Tokens already issued stay valid until they expire.').waitFor();
    await shot('api-m2m-unauthorize');
    await dialog.getByRole('button', { name: 'Unauthorize' }).click();
    await poll(() => row.getByRole('switch').isChecked()).toBe(false);
    const client = ((await api('GET', '/clients')).body as Array<{ name: string; client_id: string }>).find((c) => c.name === 'Orders Service')!;
    expect((await api('GET', `/client-grants?client_id=${client.client_id}`)).body).toEqual([]);

    await page.getByRole('tab', { name: 'Test' }).click();
    await page.getByLabel('Application').selectOption({ label: 'Orders Service' });
    await page.getByRole('button', { name: 'Get token' }).click();
    await page.getByRole('heading', { name: 'Error 403' }).waitFor();
    const alert = await page.locator('section.card p.error').textContent();
    expect(alert).toBe(`access_denied: Client "${client.client_id}" is not authorized to access resource server "${API}". You need to create a "client-grant" associated to this API.`);
    await shot('api-test-refused');
  }, 60_000);

  it('creates a user, a role with a permission, and assigns the role to the user', async () => {
    await page.getByRole('link', { name: 'Users' }).click();
    await page.getByRole('heading', { name: 'Users', level: 1 }).waitFor();
    await shot('users');
    await page.getByRole('button', { name: '+ Create User' }).click();
    await page.getByLabel('Email').fill('ada@example.com');
    await page.getByLabel('Password').fill('weak');
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    const pwError = page.locator('.field.invalid', { has: page.getByLabel('Password') }).locator('.field-error');
    await poll(() => pwError.textContent()).toBe('PasswordStrengthError: Password is too weak');
    await page.getByLabel('Password').fill('Correct-Horse-9');
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    await page.getByRole('heading', { name: 'ada@example.com', level: 1 }).waitFor();
    await shot('user-detail');

    await page.getByRole('link', { name: 'Roles' }).click();
    await page.getByRole('heading', { name: 'Roles', level: 1 }).waitFor();
    await shot('roles');
    await page.getByRole('button', { name: '+ Create Role' }).click();
    await page.getByLabel('Name', { exact: true }).fill('Order readers');
    await page.getByLabel('Description').fill('Read the orders');
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    await page.getByRole('heading', { name: 'Order readers', level: 1 }).waitFor();
    await page.getByLabel('API', { exact: true }).selectOption({ label: 'Orders' });
    await page.getByRole('checkbox', { name: 'read:orders' }).check();
    await page.getByRole('button', { name: 'Add permissions' }).click();
    await page.getByRole('cell', { name: 'read:orders', exact: true }).waitFor();
    await shot('role-permissions');
    await page.getByRole('tab', { name: 'Users' }).click();
    await page.getByLabel('User', { exact: true }).selectOption({ label: 'ada@example.com' });
    await page.getByRole('button', { name: 'Assign' }).click();
    await page.getByRole('link', { name: 'ada@example.com' }).waitFor();
    await shot('role-users');

    const role = ((await api('GET', '/roles')).body as Array<{ id: string; name: string }>).find((r) => r.name === 'Order readers')!;
    expect((await api('GET', `/roles/${role.id}/permissions`)).body).toEqual([expect.objectContaining({ resource_server_identifier: API, permission_name: 'read:orders' })]);
    expect(((await api('GET', `/roles/${role.id}/users`)).body as Array<{ email: string }>).map((u) => u.email)).toEqual(['ada@example.com']);

    // block and unblock from the user's page
    await page.getByRole('link', { name: 'ada@example.com' }).click();
    await page.getByRole('button', { name: 'Block', exact: true }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Block' }).click();
    await page.getByRole('button', { name: 'Unblock' }).waitFor();
    const ada = ((await api('GET', '/users')).body as Array<{ email: string; user_id: string; blocked?: boolean }>).find((u) => u.email === 'ada@example.com')!;
    expect(ada.blocked).toBe(true);
    await page.getByRole('button', { name: 'Unblock' }).click();
    await page.getByRole('button', { name: 'Block', exact: true }).waitFor();
    expect((await api('GET', `/users/${encodeURIComponent(ada.user_id)}`)).body.blocked).toBe(false);

    // the user's Roles tab: the role given on the role's page, removed and assigned again from here
    const rolesOf = async () => ((await api('GET', `/users/${encodeURIComponent(ada.user_id)}/roles`)).body as Array<{ name: string }>).map((r) => r.name);
    await page.getByRole('cell', { name: 'Order readers', exact: true }).waitFor();
    await page.getByRole('button', { name: 'Remove Order readers' }).click();
    await page.getByText('No roles.').waitFor();
    expect(await rolesOf()).toEqual([]);
    await page.getByLabel('Role', { exact: true }).selectOption({ label: 'Order readers' });
    await page.getByRole('button', { name: 'Assign role' }).click();
    await page.getByRole('cell', { name: 'Order readers', exact: true }).waitFor();
    await shot('user-roles');
    expect(await rolesOf()).toEqual(['Order readers']);
  }, 90_000);

  it('rotates the signing key after a confirmation', async () => {
    const before = ((await api('GET', '/keys/signing')).body as Array<{ kid: string; current?: boolean }>).find((k) => k.current)!.kid;
    await page.getByRole('link', { name: 'Signing Keys' }).click();
    await page.getByRole('cell', { name: before }).waitFor();
    await page.getByRole('button', { name: 'Rotate key' }).click();
    await page.getByRole('dialog').getByText(/tokens it signed keep verifying/).waitFor();
    await shot('keys-rotate-confirm');
    await page.getByRole('dialog').getByRole('button', { name: 'Rotate' }).click();
    await poll(async () => ((await api('GET', '/keys/signing')).body as Array<{ kid: string; current?: boolean }>).find((k) => k.current)!.kid).not.toBe(before);
    await page.getByRole('button', { name: `Revoke ${before}` }).waitFor();
    await shot('keys');
  }, 60_000);

  it('reveals and, after a confirmation, rotates an HS256 API\'s signing secret', async () => {
    const created = (await api('POST', '/resource-servers', { name: 'Ledger', identifier: 'https://ledger.example/', signing_alg: 'HS256' })).body;
    await page.goto(`${srv.origin}/dashboard/apis/${created.id}/settings`);
    await page.getByRole('button', { name: 'Reveal secret' }).click();
    await poll(() => page.locator('.secret-value').first().textContent()).toBe(created.signing_secret);
    await page.getByRole('button', { name: 'Rotate secret' }).click();
    await page.getByRole('dialog').getByText(/stops verifying/).waitFor();
    await shot('api-hs256-rotate');
    await page.getByRole('dialog').getByRole('button', { name: 'Rotate' }).click();
    await poll(async () => (await api('GET', `/resource-servers/${created.id}`)).body.signing_secret).not.toBe(created.signing_secret);
    const now = (await api('GET', `/resource-servers/${created.id}`)).body.signing_secret as string;
    await poll(() => page.locator('.secret-value').first().textContent()).toBe(now);
    expect(now.length).toBeGreaterThanOrEqual(32);
  }, 90_000);

  it('works from the keyboard: the skip link, tabs with arrows, Home and End, a create form that takes the focus', async () => {
    const rs = ((await api('GET', '/resource-servers')).body as Array<{ id: string; identifier: string }>).find((r) => r.identifier === API)!;
    const focused = () => page.evaluate(() => document.activeElement?.textContent ?? '');
    await page.goto(`${srv.origin}/dashboard/apis/${rs.id}/quickstart`);
    await page.getByRole('heading', { name: 'Orders', level: 1 }).waitFor();
    await page.keyboard.press('Tab');
    expect(await focused()).toBe('Skip to content');
    await page.keyboard.press('Enter');
    await poll(() => page.evaluate(() => document.activeElement?.id)).toBe('content');

    await page.getByRole('tab', { name: 'Quick Start' }).focus();
    await page.keyboard.press('ArrowRight');
    await poll(focused).toBe('Settings');
    expect(await page.getByRole('tab', { name: 'Settings' }).getAttribute('aria-selected')).toBe('true');
    expect(new URL(page.url()).pathname).toBe(`/dashboard/apis/${rs.id}/settings`);
    await page.keyboard.press('End');
    await poll(focused).toBe('Test');
    await page.keyboard.press('Home');
    await poll(focused).toBe('Quick Start');
    await page.getByRole('tab', { name: 'Node.js (Express)' }).focus();
    await page.keyboard.press('ArrowRight');
    await poll(focused).toBe('Node.js (Fastify)');
    const fastify = await page.locator('[aria-label="Fastify example"]').textContent();
    expect(fastify).toContain(`issuer: '${srv.publicUrl}/'`);
    expect(fastify).toContain(`audience: '${API}'`);
    expect(fastify).toContain(`createRemoteJWKSet(new URL('${srv.publicUrl}/.well-known/jwks.json'))`);
    await shot('api-quickstart-fastify');

    // a role made with the keyboard alone: Enter opens the form, the focus is in its first field, Enter submits
    await page.getByRole('link', { name: 'Roles' }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Roles', level: 1 }).waitFor();
    await page.getByRole('button', { name: '+ Create Role' }).focus();
    await page.keyboard.press('Enter');
    await poll(() => page.getByLabel('Name', { exact: true }).evaluate((el) => el === document.activeElement)).toBe(true);
    await page.keyboard.type('Auditors');
    await page.keyboard.press('Tab');
    await page.keyboard.type('Read the log');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Auditors', level: 1 }).waitFor();
    expect(((await api('GET', '/roles')).body as Array<{ name: string; description?: string }>).find((r) => r.name === 'Auditors')).toMatchObject({ description: 'Read the log' });
  }, 60_000);

  it('every control on every page has a label; on a phone-sized screen no page scrolls sideways', async () => {
    const rs = ((await api('GET', '/resource-servers')).body as Array<{ id: string; identifier: string }>).find((r) => r.identifier === API)!;
    const client = ((await api('GET', '/clients')).body as Array<{ name: string; client_id: string }>).find((c) => c.name === 'Orders Service')!;
    const ada = ((await api('GET', '/users')).body as Array<{ email: string; user_id: string }>).find((u) => u.email === 'ada@example.com')!;
    const pages: Array<[string, string]> = [
      ['/apis', 'APIs'], [`/apis/${rs.id}/settings`, 'Orders'], [`/apis/${rs.id}/permissions`, 'Orders'], [`/apis/${rs.id}/m2m`, 'Orders'], [`/apis/${rs.id}/test`, 'Orders'],
      ['/applications', 'Applications'], [`/applications/${client.client_id}/settings`, 'Orders Service'], [`/applications/${client.client_id}/credentials`, 'Orders Service'],
      [`/applications/${client.client_id}/apis`, 'Orders Service'], ['/roles', 'Roles'], ['/users', 'Users'], [`/users/${encodeURIComponent(ada.user_id)}/permissions`, 'ada@example.com'],
      [`/users/${encodeURIComponent(ada.user_id)}/sessions`, 'ada@example.com'], ['/organizations', 'Organizations'], ['/keys', 'Signing Keys'], ['/logs', 'Logs'], ['/settings', 'Settings'],
    ];
    // in-app navigation (the router follows popstate): no reload, no new sign-in check per page
    const go = async (path: string) => {
      await page.evaluate((to) => { history.pushState({}, '', to); dispatchEvent(new PopStateEvent('popstate')); }, `/dashboard${path}`);
      const tab = path.split('/')[3];
      if (tab) await page.locator(`#tab-${tab}[aria-selected=true]`).waitFor();
    };
    for (const [path, heading] of pages) {
      await go(path);
      await page.getByRole('heading', { name: heading, level: 1, exact: true }).waitFor();
      await page.locator('main .muted[aria-live]').first().waitFor({ state: 'detached' }); // no "Loading…" left
      expect(await unlabelled(page), path).toEqual([]);
      await shot(`page-${path.split('/').filter((x, i) => i !== 2).join('-').slice(1) || 'apis'}`);
    }
    await page.setViewportSize({ width: 390, height: 844 });
    try {
      for (const [path, heading] of [['/apis', 'APIs'], [`/apis/${rs.id}/settings`, 'Orders'], [`/apis/${rs.id}/m2m`, 'Orders'], ['/applications', 'Applications'], ['/keys', 'Signing Keys'], ['/logs', 'Logs'], ['/settings', 'Settings']]) {
        await go(path);
        await page.getByRole('heading', { name: heading, level: 1, exact: true }).waitFor();
        await page.locator('main .muted[aria-live]').first().waitFor({ state: 'detached' });
        const wide = await sideways(page);
        expect(wide.by, `${path}: ${JSON.stringify(wide.what)}`).toBeLessThanOrEqual(0);
        await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Settings' }).waitFor();
        if (path === '/apis' || path === '/keys') await shot(`phone${path.replace('/', '-')}`);
      }
    } finally {
      await page.setViewportSize({ width: 1280, height: 900 });
    }
  }, 120_000);

  it('revokes the previous key after a confirmation that says what breaks: Escape cancels; then the key leaves the JWKS, its tokens stop verifying, and the dashboard carries on with a fresh token', async () => {
    // the admin client's cached token was signed by the key about to be revoked: judge with a fresh one
    const fresh = (await srv.s.token({ grant_type: 'client_credentials', client_id: ADMIN_ID, client_secret: ADMIN_SECRET, audience: `${srv.publicUrl}/api/v2/` })).body.access_token as string;
    const keys = async () => (await srv.s.api('GET', '/keys/signing', undefined, { token: fresh })).body as Array<{ kid: string; previous?: boolean; revoked?: boolean }>;
    const previous = (await keys()).find((k) => k.previous && !k.revoked)!.kid;
    expect(decodeProtectedHeader(testTabToken).kid).toBe(previous);
    const jwks = () => createRemoteJWKSet(new URL(`${srv.origin}/.well-known/jwks.json`));
    await jwtVerify(testTabToken, jwks(), { issuer: `${srv.publicUrl}/`, audience: API });

    await page.goto(`${srv.origin}/dashboard/keys`);
    const revoke = page.getByRole('button', { name: `Revoke ${previous}` });
    await revoke.click();
    const dialog = page.getByRole('dialog');
    await dialog.getByText(/every token it signed .* stops verifying everywhere/).waitFor();
    await poll(() => dialog.getByRole('button', { name: 'Cancel' }).evaluate((el) => el === document.activeElement)).toBe(true);
    await page.keyboard.press('Escape');
    await poll(() => dialog.isVisible()).toBe(false);
    expect((await keys()).find((k) => k.kid === previous)?.revoked).toBeFalsy();

    await revoke.click();
    await shot('keys-revoke-confirm');
    await dialog.getByRole('button', { name: 'Revoke' }).click();
    // the page reloads the list with the user's token, which the revoked key signed: refused (401), then retried with a new one
    await poll(() => page.getByRole('row', { name: new RegExp(previous) }).textContent()).toContain('Revoked');
    await shot('keys-revoked');
    expect((await keys()).find((k) => k.kid === previous)?.revoked).toBe(true);
    const published = (await (await fetch(`${srv.origin}/.well-known/jwks.json`)).json()) as { keys: Array<{ kid: string }> };
    expect(published.keys.map((k) => k.kid)).not.toContain(previous);
    await expect(jwtVerify(testTabToken, jwks(), { issuer: `${srv.publicUrl}/`, audience: API })).rejects.toThrow();
    expect(await page.locator('main .error').count()).toBe(0);
  }, 60_000);

  it('no page broke the Content Security Policy or threw', () => {
    expect(d.cspViolations).toEqual([]);
    expect(d.pageErrors).toEqual([]);
  });
});
}
