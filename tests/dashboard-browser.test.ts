import { createRemoteJWKSet, jwtVerify } from 'jose';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresAvailable, type DialectName } from './helpers/databases';
import { chromiumAvailable, poll, signIn, startDashboard, type DashboardSession } from './helpers/dashboard';
import type { ListeningServer } from './helpers/listening';

const available = chromiumAvailable();
const API = 'https://orders.example/';

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
  const shot = (name: string) => d.shot(name);
  const api = (method: string, path: string, body?: unknown) => d.api(method, path, body);

  beforeAll(async () => {
    d = await startDashboard(dialect, 'dashboard');
    ({ srv, page } = d);
  }, 120_000);
  afterAll(async () => {
    await d?.close();
  });

  it('the one-time link sets the administrator password; sign-in goes through the hosted login', async () => {
    await signIn(d, true);
    expect(new URL(page.url()).pathname).toBe('/dashboard/apis');
    await page.getByRole('link', { name: 'Auth0 Management API' }).waitFor();
    await shot('apis-list');
  }, 60_000);

  it('creates a machine-to-machine application', async () => {
    await page.getByRole('link', { name: 'Applications' }).click();
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
    const { payload, protectedHeader } = await jwtVerify(response.access_token, createRemoteJWKSet(new URL(`${srv.origin}/.well-known/jwks.json`)), {
      issuer: `${srv.publicUrl}/`, audience: API, algorithms: ['RS256'],
    });
    expect(protectedHeader.alg).toBe('RS256');
    expect(payload).toMatchObject({ aud: API, scope: 'read:orders', azp: client.client_id, gty: 'client-credentials' });
    expect(JSON.parse((await page.getByTestId('token-payload').textContent()) as string)).toMatchObject({ scope: 'read:orders', aud: API });
    const curl = await page.locator('[aria-label="cURL"]').textContent();
    expect(curl).toContain(`--url ${srv.origin}/oauth/token`);
    expect(curl).toContain(`"audience":"${API}"`);
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

  it('no page broke the Content Security Policy or threw', () => {
    expect(d.cspViolations).toEqual([]);
    expect(d.pageErrors).toEqual([]);
  });
});
}
