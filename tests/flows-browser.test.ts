import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser as Chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CALLBACK, createApi, createUser, createWebApp, exchange, PASSWORD, pkce } from './helpers/flows';
import { startListening, type ListeningServer } from './helpers/listening';
import { PUBLIC_URL } from './helpers/tessera';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(process.cwd(), 'test-artifacts');
const available = existsSync(CHROMIUM);
if (!available) {
  if (process.env.CI === 'true') throw new Error(`${CHROMIUM} is required in CI (apt-get install -y chromium)`);
  console.warn(`\n[browser] SKIPPING the hosted-login browser test: ${CHROMIUM} is not installed (apt-get install -y chromium)\n`);
}

/** Debian's chromium logs in through the hosted pages once, like a person would, and screenshots them. */
describe.skipIf(!available)('hosted login and consent pages in a real browser', () => {
  let l: ListeningServer;
  let browser: Chromium;
  let app: { clientId: string; secret: string };
  const API = 'https://orders.example/';
  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    l = await startListening('sqlite', { publicUrl: PUBLIC_URL }); // https public URL: Secure cookies, served on 127.0.0.1
    await createApi(l.s, API);
    app = await createWebApp(l.s);
    await createUser(l.s, 'linus@example.com');
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
  }, 120_000);
  afterAll(async () => { await browser?.close(); await l?.close(); });

  it('logs in, consents, lands on the callback with a code that exchanges, and reuses the session', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const callbacks: string[] = [];
    await context.route('https://app.example/**', (route) => {
      callbacks.push(route.request().url());
      return route.fulfill({ status: 200, contentType: 'text/plain', body: 'back at the app' });
    });
    const { verifier, challenge } = pkce();
    const query = new URLSearchParams({
      response_type: 'code', client_id: app.clientId, redirect_uri: CALLBACK, audience: API, scope: 'openid read:orders',
      state: 'browser-state', code_challenge: challenge, code_challenge_method: 'S256',
    });
    await page.goto(`${l.origin}/authorize?${query}`);
    await expect.poll(() => page.title()).toBe('Log in');
    await page.getByLabel('Email address').fill('linus@example.com');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.screenshot({ path: join(ARTIFACTS, 'login-page.png'), fullPage: true });
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.waitForURL(/\/u\/consent\?/);
    await expect.poll(() => page.getByRole('list', { name: 'Requested permissions' }).innerText()).toContain('read:orders: Read your orders');
    await page.screenshot({ path: join(ARTIFACTS, 'consent-page.png'), fullPage: true });
    await page.getByRole('button', { name: 'Accept' }).click();
    await page.waitForURL(/^https:\/\/app\.example\/callback\?/);
    const cb = new URL(callbacks[0]);
    expect(cb.searchParams.get('state')).toBe('browser-state');
    const t = await exchange(l.s, { client_id: app.clientId, client_secret: app.secret, code: cb.searchParams.get('code') as string, code_verifier: verifier });
    expect(t.status).toBe(200);
    expect(t.body.scope).toBe('openid read:orders');
    const cookies = await context.cookies(l.origin);
    expect(cookies.find((c) => c.name === 'tessera_session')).toMatchObject({ httpOnly: true, secure: true, sameSite: 'None', path: '/' });
    // a second /authorize within the session: no login page, no consent page
    // (Playwright does not route the redirect of a typed navigation, so watch the request instead)
    const second = page.waitForRequest(/^https:\/\/app\.example\/callback\?/);
    await page.goto(`${l.origin}/authorize?${query}`).catch(() => undefined);
    const again = new URL((await second).url());
    expect(again.searchParams.get('state')).toBe('browser-state');
    expect(again.searchParams.get('code')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(existsSync(join(ARTIFACTS, 'login-page.png')) && existsSync(join(ARTIFACTS, 'consent-page.png'))).toBe(true);
    await context.close();
  }, 120_000);
});
