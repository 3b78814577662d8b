import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { Secret, TOTP } from 'otpauth';
import { chromium, type Browser as Chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CALLBACK, createUser, createWebApp, exchange, PASSWORD, pkce } from './helpers/flows';
import { startListening, type ListeningServer } from './helpers/listening';
import { PUBLIC_URL } from './helpers/tessera';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(process.cwd(), 'test-artifacts');
const available = existsSync(CHROMIUM);
if (!available) {
  if (process.env.CI === 'true') throw new Error(`${CHROMIUM} is required in CI (apt-get install -y chromium)`);
  console.warn(`\n[browser] SKIPPING the MFA browser test: ${CHROMIUM} is not installed (apt-get install -y chromium)\n`);
}

const API = 'https://payments.example/';
const PAYMENT = { type: 'payment_initiation', instructedAmount: { currency: 'EUR', amount: '123.50' }, creditorName: 'Merchant A', creditorAccount: { iban: 'DE02100100109307118603' } };
const codeAt = (secret: string, ms: number) => new TOTP({ algorithm: 'SHA1', digits: 6, period: 30, secret: Secret.fromBase32(secret) }).generate({ timestamp: ms });

/**
 * Debian's chromium enrolls a user in TOTP, logs in with a generated code and approves a payment transaction on an
 * API with consent_policy transactional-authorization-with-mfa; the tokens carry the approved authorization_details
 * and amr ["mfa"] (checked with jose against the served JWKS).
 */
describe.skipIf(!available)('MFA and transactional consent in a real browser', () => {
  let l: ListeningServer;
  let browser: Chromium;
  let app: { clientId: string; secret: string };
  let secret: string;
  const email = 'payer@example.com';

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    l = await startListening('sqlite', { publicUrl: PUBLIC_URL }); // https public URL: Secure cookies, served on 127.0.0.1
    const api = await l.mgmt('POST', '/resource-servers', {
      identifier: API, name: 'Payments', scopes: [{ value: 'payments:initiate', description: 'Initiate payments' }],
      authorization_details: [{ type: 'payment_initiation' }], consent_policy: 'transactional-authorization-with-mfa',
    });
    expect(api.status, JSON.stringify(api.body)).toBe(201);
    app = await createWebApp(l.s, { callbacks: [CALLBACK] });
    expect((await l.mgmt('POST', '/client-grants', { client_id: app.clientId, audience: API, scope: ['payments:initiate'], subject_type: 'user', authorization_details_types: ['payment_initiation'] })).status).toBe(201);
    await createUser(l.s, email);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
  }, 120_000);
  afterAll(async () => { await browser?.close(); await l?.close(); });

  const start = async (context: BrowserContext) => {
    const callbacks: string[] = [];
    await context.route('https://app.example/**', (route) => {
      callbacks.push(route.request().url());
      return route.fulfill({ status: 200, contentType: 'text/plain', body: 'back at the app' });
    });
    const page = await context.newPage();
    const p = pkce();
    const query = new URLSearchParams({
      response_type: 'code', client_id: app.clientId, redirect_uri: CALLBACK, audience: API, scope: 'openid payments:initiate', state: 'pay-1',
      nonce: 'n-1', code_challenge: p.challenge, code_challenge_method: 'S256', authorization_details: JSON.stringify([PAYMENT]),
    });
    return { page, callbacks, verifier: p.verifier, url: `${l.origin}/authorize?${query}` };
  };
  const logIn = async (page: Page) => {
    await expect.poll(() => page.title(), { timeout: 10_000 }).toBe('Log in');
    await page.getByLabel('Email address').fill(email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Continue' }).click();
  };
  const tokensOf = async (callbacks: string[], verifier: string) => {
    const cb = new URL(callbacks.at(-1) as string);
    expect(cb.searchParams.get('state')).toBe('pay-1');
    const t = await exchange(l.s, { client_id: app.clientId, client_secret: app.secret, code: cb.searchParams.get('code') as string, code_verifier: verifier });
    expect(t.status, JSON.stringify(t.body)).toBe(200);
    const jwks = createRemoteJWKSet(new URL(`${l.origin}/.well-known/jwks.json`));
    const at = await jwtVerify(t.body.access_token, jwks, { issuer: `${PUBLIC_URL}/`, audience: API, currentDate: new Date(l.s.clock.now()) });
    const id = await jwtVerify(t.body.id_token, jwks, { issuer: `${PUBLIC_URL}/`, audience: app.clientId, currentDate: new Date(l.s.clock.now()) });
    return { body: t.body, at: at.payload, id: id.payload };
  };

  it('enrolls during the first payment, approves it, and gets a token with the payment and amr mfa', async () => {
    const context = await browser.newContext();
    const { page, callbacks, verifier, url } = await start(context);
    await page.goto(url);
    await logIn(page);
    // not enrolled: the transaction needs a second factor, so enrollment comes first
    await page.waitForURL(/\/u\/mfa\?/);
    await expect.poll(() => page.title(), { timeout: 10_000 }).toBe('Secure your account');
    await expect.poll(() => page.locator('#totp-qr').evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0), { timeout: 10_000 }).toBe(true);
    await page.screenshot({ path: join(ARTIFACTS, 'mfa-enroll.png'), fullPage: true });
    secret = (await page.locator('#totp-secret').innerText()).replace(/\s/g, '');
    await page.getByLabel('Enter the 6-digit code from your authenticator app').fill(codeAt(secret, l.s.clock.now()));
    await page.getByRole('button', { name: 'Continue' }).click();
    await expect.poll(() => page.title(), { timeout: 10_000 }).toBe('Save your recovery code');
    expect(await page.locator('#recovery-code').innerText()).toMatch(/^[A-Z0-9]{24}$/);
    await page.screenshot({ path: join(ARTIFACTS, 'mfa-recovery-code.png'), fullPage: true });
    await page.getByRole('button', { name: 'I have saved it, continue' }).click();
    // the consent page: the payment itself, no second code (the enrollment was this transaction's second factor)
    await page.waitForURL(/\/u\/consent\?/);
    await expect.poll(() => page.locator('main').innerText(), { timeout: 10_000 }).toContain('123.50');
    expect(await page.locator('#code').count()).toBe(0);
    await page.screenshot({ path: join(ARTIFACTS, 'mfa-transaction-consent.png'), fullPage: true });
    await page.getByRole('button', { name: 'Accept' }).click();
    await page.waitForURL(/^https:\/\/app\.example\/callback\?/);
    expect(callbacks).toHaveLength(1);
    const t = await tokensOf(callbacks, verifier);
    expect(t.at.authorization_details).toEqual([PAYMENT]);
    expect(t.body.authorization_details).toEqual([PAYMENT]);
    expect(t.at.amr).toEqual(['mfa']);
    expect(t.id.amr).toEqual(['mfa']);
    await context.close();
  }, 120_000);

  it('logs in with a generated TOTP code, approves the next payment, and a third one asks again with a code on the consent page', async () => {
    l.s.clock.advance(30);
    const context = await browser.newContext();
    const { page, callbacks, verifier, url } = await start(context);
    await page.goto(url);
    await logIn(page);
    await page.waitForURL(/\/u\/mfa\?/);
    await expect.poll(() => page.title(), { timeout: 10_000 }).toBe('Verify your identity');
    await page.getByLabel('Enter the 6-digit code from your authenticator app').fill(codeAt(secret, l.s.clock.now()));
    await page.screenshot({ path: join(ARTIFACTS, 'mfa-challenge.png'), fullPage: true });
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.waitForURL(/\/u\/consent\?/);
    await page.getByRole('button', { name: 'Accept' }).click();
    await page.waitForURL(/^https:\/\/app\.example\/callback\?/);
    expect(callbacks).toHaveLength(1);
    const t = await tokensOf(callbacks, verifier);
    expect(t.at).toMatchObject({ amr: ['mfa'], authorization_details: [PAYMENT] });

    // the same session, a new transaction: consent again (never remembered), with a fresh code
    l.s.clock.advance(30);
    const next = await start(context);
    await next.page.goto(next.url);
    await next.page.waitForURL(/\/u\/consent\?/);
    await expect.poll(() => next.page.locator('#transaction-mfa').count(), { timeout: 10_000 }).toBe(1);
    await next.page.getByLabel('6-digit code').fill('000000');
    await next.page.getByRole('button', { name: 'Accept' }).click();
    await expect.poll(() => next.page.locator('#consent-error').innerText(), { timeout: 10_000 }).toContain('not valid');
    await next.page.getByLabel('6-digit code').fill(codeAt(secret, l.s.clock.now()));
    await next.page.screenshot({ path: join(ARTIFACTS, 'mfa-transaction-consent-code.png'), fullPage: true });
    await next.page.getByRole('button', { name: 'Accept' }).click();
    await next.page.waitForURL(/^https:\/\/app\.example\/callback\?/);
    expect(next.callbacks).toHaveLength(1);
    expect((await tokensOf(next.callbacks, next.verifier)).at).toMatchObject({ amr: ['mfa'], authorization_details: [PAYMENT] });
    await context.close();
  }, 120_000);
});
