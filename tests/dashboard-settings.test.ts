import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { compactDecrypt, createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresAvailable, type DialectName } from './helpers/databases';
import { chromiumAvailable, fieldErrorOf, poll, signIn, startDashboard, type DashboardSession } from './helpers/dashboard';

const available = chromiumAvailable();
const API = 'https://orders.example/';

/** The server's message under the field labelled `label` inside `scope` (a fieldset, where labels repeat). */
const errorIn = (scope: Locator, label: string) => scope.locator('.field.invalid', { has: scope.page().getByLabel(label, { exact: true }) }).locator('.field-error');

/**
 * The dashboard's settings pages in Debian's chromium against the real server (SQLite and PostgreSQL): the tenant
 * Settings page (the default token quotas of /api/v2/tenants/settings) and every field of an API's Settings tab.
 * What a page saved is read back through the Management API, and its effect is checked at /oauth/token: quotas
 * refuse or count tokens, proof-of-possession refuses a Bearer request, token encryption and the token profile change
 * the token issued. Screenshots in test-artifacts/dashboard-settings/<dialect>.
 */
const pgReady = available && await postgresAvailable();
for (const dialect of ['sqlite', 'postgres'] as DialectName[]) {
describe.skipIf(!available || (dialect === 'postgres' && !pgReady))(`dashboard settings pages in chromium [${dialect}]`, () => {
  let d: DashboardSession;
  let page: Page;
  const api = (method: string, path: string, body?: unknown) => d.api(method, path, body);
  const seed = { apiId: '', orders: { id: '', secret: '' }, partner: { id: '', secret: '' }, orgId: '' };
  let encryptionKey: KeyObject; // the private half of the key pasted into the API's Settings tab
  const token = (c: { id: string; secret: string }, extra: Record<string, string> = {}) =>
    d.srv.s.token({ grant_type: 'client_credentials', client_id: c.id, client_secret: c.secret, audience: API, ...extra });

  beforeAll(async () => {
    d = await startDashboard(dialect, 'dashboard-settings');
    page = d.page;
    seed.apiId = (await api('POST', '/resource-servers', { name: 'Orders', identifier: API, scopes: [{ value: 'read:orders' }] })).body.id;
    for (const [key, name, extra] of [['orders', 'Orders Service', {}], ['partner', 'Partner Service', { token_quota: { client_credentials: { per_hour: 1000 } } }]] as const) {
      const c = (await api('POST', '/clients', { name, app_type: 'non_interactive', grant_types: ['client_credentials'], ...extra })).body;
      seed[key] = { id: c.client_id, secret: c.client_secret };
      const grant = await api('POST', '/client-grants', { client_id: c.client_id, audience: API, scope: ['read:orders'], organization_usage: 'allow' });
      expect(grant.status).toBe(201);
      if (key === 'partner') {
        seed.orgId = (await api('POST', '/organizations', { name: 'acme' })).body.id;
        expect((await api('POST', `/organizations/${seed.orgId}/client-grants`, { grant_id: grant.body.id })).status).toBe(201);
      }
    }
  }, 120_000);
  afterAll(async () => {
    await d?.close();
  });

  it('signs in', async () => {
    await signIn(d);
    expect(new URL(page.url()).pathname).toBe('/dashboard/apis');
  }, 60_000);

  it('the Settings page refuses a bad quota under its field and saves nothing, not even the valid part', async () => {
    await page.getByRole('link', { name: 'Settings', exact: true }).click();
    await page.getByRole('heading', { name: 'Default Token Quotas' }).waitFor();
    expect((await api('GET', '/tenants/settings')).body).toEqual({});
    const apps = page.getByRole('group', { name: 'Applications' });
    const orgs = page.getByRole('group', { name: 'Organizations' });
    expect(await apps.getByLabel('Tokens per hour').inputValue()).toBe('');
    expect(await apps.getByLabel('Enforce').isChecked()).toBe(true);

    await orgs.getByLabel('Tokens per day').fill('5');
    await apps.getByLabel('Tokens per hour').fill('0');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await poll(() => errorIn(apps, 'Tokens per hour').textContent())
      .toBe("Payload validation error: 'Value 0 is less than minimum 1' on property default_token_quota.clients.client_credentials.per_hour (Maximum number of issued tokens per hour).");
    await d.shot('settings-error');
    expect((await api('GET', '/tenants/settings')).body).toEqual({}); // the organizations' default was not written either

    await apps.getByLabel('Tokens per hour').fill('');
    await apps.getByLabel('Tokens per day').fill('1.5');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await poll(() => errorIn(apps, 'Tokens per day').textContent())
      .toBe("Payload validation error: 'Expected type integer but found type string' on property default_token_quota.clients.client_credentials.per_day (Maximum number of issued tokens per day).");
    expect(await apps.locator('.field-error').count()).toBe(1); // the earlier error went with the new answer
    expect((await api('GET', '/tenants/settings')).body).toEqual({});
  }, 60_000);

  it('a default application quota saved in the page is enforced by /oauth/token; an own quota replaces it; a warn-only organization default issues past its limit', async () => {
    const apps = page.getByRole('group', { name: 'Applications' });
    const orgs = page.getByRole('group', { name: 'Organizations' });
    await apps.getByLabel('Tokens per day').fill('');
    await apps.getByLabel('Tokens per hour').fill('1');
    await orgs.getByLabel('Tokens per day').fill('1');
    await orgs.getByLabel('Enforce').uncheck();
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByText('Settings saved.').waitFor();
    expect((await api('GET', '/tenants/settings')).body).toEqual({ default_token_quota: {
      clients: { client_credentials: { enforce: true, per_hour: 1 } }, organizations: { client_credentials: { enforce: false, per_day: 1 } },
    } });

    const first = await token(seed.orders);
    expect(first.status).toBe(200);
    expect(first.headers['auth0-client-quota-limit']).toMatch(/^b=per_hour;q=1;r=0;t=\d+$/);
    const refused = await token(seed.orders);
    expect(refused.status).toBe(429);
    expect(refused.body).toEqual({ error: 'too_many_requests', error_description: 'Too Many Requests: the client token quota (per_hour) has been exceeded.' });

    // Partner Service has its own quota (1000 an hour); tokens for the organization count against its warn-only default
    for (const remaining of [999, 998]) {
      const r = await token(seed.partner, { organization: seed.orgId });
      expect(r.status).toBe(200);
      expect(r.headers['auth0-client-quota-limit']).toMatch(new RegExp(`^b=per_hour;q=1000;r=${remaining};`));
      expect(r.headers['auth0-organization-quota-limit']).toMatch(/^b=per_day;q=1;r=0;t=\d+$/);
    }

    // the saved values come back on a fresh load
    await page.reload();
    await poll(() => page.getByRole('group', { name: 'Applications' }).getByLabel('Tokens per hour').inputValue()).toBe('1');
    expect(await page.getByRole('group', { name: 'Organizations' }).getByLabel('Tokens per day').inputValue()).toBe('1');
    expect(await page.getByRole('group', { name: 'Organizations' }).getByLabel('Enforce').isChecked()).toBe(false);
    await d.shot('settings');
  }, 60_000);

  it('emptying the limits removes the defaults: tokens are issued again without quota headers', async () => {
    await page.getByRole('group', { name: 'Applications' }).getByLabel('Tokens per hour').fill('');
    await page.getByRole('group', { name: 'Organizations' }).getByLabel('Tokens per day').fill('');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByText('Settings saved.').waitFor();
    expect((await api('GET', '/tenants/settings')).body).toEqual({});
    const free = await token(seed.orders);
    expect(free.status).toBe(200);
    expect(free.headers['auth0-client-quota-limit']).toBeUndefined();
  }, 60_000);

  it('the API Settings tab: a refused encryption key saves none of the other changes; then every field is saved as shown', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    encryptionKey = privateKey;
    await page.goto(`${d.srv.origin}/dashboard/apis/${seed.apiId}/settings`);
    await page.getByLabel('Name', { exact: true }).fill('Orders v2');
    await page.getByLabel('JSON Web Token (JWT) Profile').selectOption('rfc9068_profile');
    await page.getByLabel('Allow Offline Access').check();
    await page.getByLabel('Consent policy').selectOption('transactional-authorization-with-mfa');
    await page.getByLabel('User access (subject type policy)', { exact: true }).selectOption('require_client_grant');
    await page.getByLabel('Proof-of-Possession mechanism').selectOption('dpop');
    await page.getByLabel('Require Proof-of-Possession').check();
    await page.getByLabel('Required for').selectOption('all_clients');
    await page.getByLabel('Authorization details types').fill('payment_initiation\naccount_information');
    await page.getByLabel('Allow Online Access', { exact: true }).check();
    await page.getByLabel('Allow Online Access with Ephemeral Sessions').check();
    await page.getByLabel('Anonymous Access Token Lifetime (seconds)').fill('600');
    await page.getByLabel('Anonymous user access (subject type policy)').selectOption('deny_all');
    await page.getByLabel('Authorization policy ID').fill('pol_123');
    await page.getByLabel('Verification location').fill('https://verify.example/jwks');
    await page.getByLabel('Encryption key name').fill('Orders key');
    await page.getByLabel('Encryption key ID (kid)').fill('orders-1');
    await page.getByLabel('Encryption public key (PEM)').fill(privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
    const before = (await api('GET', `/resource-servers/${seed.apiId}`)).body;
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await poll(() => fieldErrorOf(page, 'Encryption public key (PEM)').textContent())
      .toBe("Payload validation error: 'Invalid PEM: private key material is not accepted; send only the public key or certificate' on property token_encryption.encryption_key.pem.");
    await d.shot('api-settings-encryption-error');
    expect((await api('GET', `/resource-servers/${seed.apiId}`)).body).toEqual(before);

    await page.getByLabel('Encryption public key (PEM)').fill(publicKey.export({ type: 'spki', format: 'pem' }) as string);
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByText('Settings saved.').waitFor();
    await d.shot('api-settings');
    const rs = (await api('GET', `/resource-servers/${seed.apiId}`)).body;
    expect(rs).toMatchObject({
      name: 'Orders v2', identifier: API, token_dialect: 'rfc9068_profile', allow_offline_access: true, consent_policy: 'transactional-authorization-with-mfa',
      subject_type_authorization: { user: { policy: 'require_client_grant' }, client: { policy: 'require_client_grant' }, anonymous_user: { policy: 'deny_all' } },
      proof_of_possession: { mechanism: 'dpop', required: true, required_for: 'all_clients' },
      authorization_details: [{ type: 'payment_initiation' }, { type: 'account_information' }],
      allow_online_access: true, allow_online_access_with_ephemeral_sessions: true, token_lifetime_for_anonymous_access_tokens: 600,
      authorization_policy: { policy_id: 'pol_123' }, verification_location: 'https://verify.example/jwks',
      token_encryption: { format: 'compact-nested-jwe', encryption_key: { name: 'Orders key', alg: 'RSA-OAEP-256', kid: 'orders-1', thumbprint_sha256: expect.any(String) } },
    });
    // the page shows what was saved, the key by its name and thumbprint (the PEM is write-only)
    await page.getByText(rs.token_encryption.encryption_key.thumbprint_sha256).waitFor();
    expect(await page.getByLabel('Encryption public key (PEM)').inputValue()).toBe('');

    // DPoP required for all clients: a Bearer request is refused
    const bearer = await token(seed.orders);
    expect(bearer.status).toBe(400);
    expect(bearer.body).toEqual({ error: 'invalid_request', error_description: `DPoP proof required: the API "${API}" requires proof of possession` });
  }, 90_000);

  it('with proof-of-possession off again the token is a JWE for the API\'s key around an RFC 9068 token; removing encryption (after a confirmation) signs only', async () => {
    await page.getByLabel('Proof-of-Possession mechanism').selectOption('');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByText('Settings saved.').waitFor();
    expect((await api('GET', `/resource-servers/${seed.apiId}`)).body.proof_of_possession).toBeUndefined();
    const jwks = createRemoteJWKSet(new URL(`${d.srv.origin}/.well-known/jwks.json`));
    const verify = (jwt: string) => jwtVerify(jwt, jwks, { issuer: `${d.srv.publicUrl}/`, audience: API, typ: 'at+jwt' });
    const issued = await token(seed.orders);
    expect(issued.status).toBe(200);
    expect(decodeProtectedHeader(issued.body.access_token)).toEqual({ alg: 'RSA-OAEP-256', enc: 'A256GCM', cty: 'JWT', kid: 'orders-1' });
    const inner = new TextDecoder().decode((await compactDecrypt(issued.body.access_token, encryptionKey)).plaintext);
    expect((await verify(inner)).payload).toMatchObject({ scope: 'read:orders', client_id: seed.orders.id });

    await page.getByRole('button', { name: 'Remove encryption' }).click();
    await page.getByRole('dialog').getByText(/readable by anyone who holds them/).waitFor();
    await page.getByRole('dialog').getByRole('button', { name: 'Remove encryption' }).click();
    await poll(async () => (await api('GET', `/resource-servers/${seed.apiId}`)).body.token_encryption).toBeUndefined();
    const plain = await token(seed.orders);
    expect(plain.status).toBe(200);
    const { protectedHeader, payload } = await verify(plain.body.access_token);
    expect(protectedHeader.alg).toBe('RS256');
    expect(payload).toMatchObject({ scope: 'read:orders', client_id: seed.orders.id });
  }, 60_000);

  it('no page broke the Content Security Policy or threw', () => {
    expect(d.cspViolations).toEqual([]);
    expect(d.pageErrors).toEqual([]);
  });
});
}
