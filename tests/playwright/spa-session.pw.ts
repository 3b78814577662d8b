import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { join } from 'node:path';
// @ts-ignore: loaded by Playwright's runner; a checkout whose node_modules predate this devDependency still type-checks
import { test as base, expect, type Page } from '@playwright/test';
import express from 'express';
import { withTessera } from '../../packages/testing/src/playwright';
import type { RunningTessera } from '../../packages/testing/src/index';

/**
 * A single-page app (Auth0's auth0-spa-js, as published) on https://spa.test, logged in twice: without the hosted
 * pages (the test adds a session cookie minted by Tessera's development controls, and loginWithRedirect comes straight
 * back with a code), and through the hosted login page. The `tessera` option and `tesseraServer` fixture are @tessera/testing's Playwright fixtures.
 */
const API = 'https://orders.example/';
const SPA_PORT = Number(process.env.TESSERA_PW_SPA_PORT);
const SPA = `https://spa.test:${SPA_PORT}`;
const ROOT = join(import.meta.dirname, '..', '..');

const test = withTessera(base);
test.use({
  tessera: {
    https: { cert: readFileSync(process.env.TESSERA_PW_CERT as string), key: readFileSync(process.env.TESSERA_PW_KEY as string) },
    seed: {
      apis: [{ identifier: API, name: 'Orders', allow_offline_access: true, skip_consent_for_verifiable_first_party_clients: true, enforce_policies: true, token_dialect: 'access_token_authz', scopes: [{ value: 'read:orders' }] }],
      clients: [{ name: 'Orders SPA', app_type: 'spa', callbacks: [`${SPA}/`], web_origins: [SPA], allowed_logout_urls: [`${SPA}/`], grant_types: ['authorization_code', 'refresh_token'] }],
      roles: [{ name: 'reader', permissions: [{ api: API, scope: 'read:orders' }] }],
      users: [{ email: 'ann@example.com', password: 'Correct-Horse-9', roles: ['reader'] }],
    },
  },
});

let spa: Server | undefined;
let tenant: RunningTessera | undefined;
test.beforeAll(() => {
  // the SPA's origin serves the page, the SDK's ESM build and its configuration (this worker's Tessera)
  const app = express();
  app.get('/', (_req, res) => { res.sendFile(join(ROOT, 'tests/fixtures/spa/index.html')); });
  app.get('/app.js', (_req, res) => { res.type('application/javascript').sendFile(join(ROOT, 'tests/fixtures/spa/app.js')); });
  app.get('/auth0-spa-js.production.esm.js', (_req, res) => { res.type('application/javascript').sendFile(join(ROOT, 'node_modules/@auth0/auth0-spa-js/dist/auth0-spa-js.production.esm.js')); });
  app.get('/config.json', (_req, res) => {
    if (!tenant) { res.status(503).end(); return; }
    res.json({ domain: tenant.domain, clientId: tenant.seeded.clients['Orders SPA'].client_id, audience: API });
  });
  spa = createServer({ cert: readFileSync(process.env.TESSERA_PW_CERT as string), key: readFileSync(process.env.TESSERA_PW_KEY as string) }, app).listen(SPA_PORT, '127.0.0.1');
});
test.afterAll(() => { spa?.close(); });

test('loginWithRedirect returns with a code at once: the minted session skips the hosted login', async ({ page, tesseraServer }: { page: Page; tesseraServer: RunningTessera }) => {
  tenant = tesseraServer;
  const hosted: string[] = [];
  page.on('request', (r: { url(): string }) => { if (new URL(r.url()).pathname.startsWith('/u/')) hosted.push(r.url()); });
  await page.context().addCookies([await tesseraServer.session('ann@example.com')]);
  await page.goto(`${SPA}/`);
  await expect(page.locator('#status')).toHaveText('ready');
  await Promise.all([page.waitForURL(new RegExp(`^${SPA}/\\?code=`)), page.evaluate(() => (window as any).spa.login())]);
  await expect(page.locator('#status')).toHaveText('ready');
  expect(await page.evaluate(() => (window as any).spa.handleCallback())).toEqual({ ok: true, value: 'ann@example.com' });
  const token = await page.evaluate(() => (window as any).spa.silentViaRefreshToken());
  expect(token.ok).toBe(true);
  const claims = JSON.parse(Buffer.from(token.value.split('.')[1], 'base64url').toString());
  expect(claims).toMatchObject({ iss: tesseraServer.issuer, sub: tesseraServer.seeded.users['ann@example.com'], permissions: ['read:orders'] });
  expect(hosted).toEqual([]);
});

test('without the cookie the same SPA logs in through the hosted login page (the fixture reset the tenant, sessions included)', async ({ page, tesseraServer }: { page: Page; tesseraServer: RunningTessera }) => {
  tenant = tesseraServer;
  await page.goto(`${SPA}/`);
  await expect(page.locator('#status')).toHaveText('ready');
  await Promise.all([page.waitForURL(/\/u\/login\?/), page.evaluate(() => (window as any).spa.login())]);
  await expect(page).toHaveTitle('Log in');
  await page.getByLabel('Email address').fill('ann@example.com');
  await page.getByLabel('Password').fill('Correct-Horse-9');
  // a first-party SPA on its own site (not localhost) with skip_consent on the API: straight back with a code
  await Promise.all([page.waitForURL(new RegExp(`^${SPA}/\\?code=`)), page.getByRole('button', { name: 'Continue' }).click()]);
  await expect(page.locator('#status')).toHaveText('ready');
  expect(await page.evaluate(() => (window as any).spa.handleCallback())).toEqual({ ok: true, value: 'ann@example.com' });
  const token = await page.evaluate(() => (window as any).spa.silentViaRefreshToken());
  expect(token.ok).toBe(true);
  const claims = JSON.parse(Buffer.from(token.value.split('.')[1], 'base64url').toString());
  expect(claims).toMatchObject({ iss: tesseraServer.issuer, sub: tesseraServer.seeded.users['ann@example.com'], permissions: ['read:orders'] });
});
