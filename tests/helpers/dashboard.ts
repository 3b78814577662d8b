import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { expect } from 'vitest';
import { createAdminUser } from '@tessera/server';
import type { DialectName } from './databases';
import { startListening, type ListeningServer } from './listening';

export const CHROMIUM = '/usr/bin/chromium';
export const ADMIN_EMAIL = 'admin@example.com';
export const ADMIN_PASSWORD = 'Dashboard-Admin-7';

/** Whether Debian's chromium is there (required in CI; the dashboard suites are skipped elsewhere without it). */
export function chromiumAvailable(): boolean {
  const available = existsSync(CHROMIUM);
  if (!available) {
    if (process.env.CI === 'true') throw new Error(`${CHROMIUM} is required in CI (apt-get install -y chromium)`);
    console.warn(`\n[browser] SKIPPING the dashboard suite: ${CHROMIUM} is not installed\n`);
  }
  return available;
}

/** The browser and the server share two loaded cores: wait up to 20 s for what the page shows. */
export const poll = <T>(fn: () => T | Promise<T>) => expect.poll(fn, { timeout: 20_000 });

export interface DashboardSession {
  srv: ListeningServer;
  browser: Browser;
  page: Page;
  /** The one-time link that sets the administrator's password. */
  setPasswordUrl: string;
  /** A full-page screenshot, numbered in the order taken, into test-artifacts/<folder>/<dialect>. */
  shot(name: string): Promise<unknown>;
  /** Management API call with the bootstrap admin's token (the judge of what the page did). */
  api(method: string, path: string, body?: unknown): ReturnType<ListeningServer['mgmt']>;
  cspViolations: string[];
  pageErrors: string[];
  close(): Promise<void>;
}

/**
 * The real server with the dashboard on (SQLite or PostgreSQL), an administrator made by `createAdminUser`, and a
 * page in Debian's chromium that records CSP violations and uncaught errors.
 */
export async function startDashboard(dialect: DialectName, folder: string): Promise<DashboardSession> {
  const artifacts = join(process.cwd(), 'test-artifacts', folder, dialect);
  rmSync(artifacts, { recursive: true, force: true });
  mkdirSync(artifacts, { recursive: true });
  const srv = await startListening(dialect, { env: { TESSERA_DASHBOARD: 'on' } });
  const made = await createAdminUser(srv.s.t.services, { publicUrl: srv.publicUrl, managementAudience: `${srv.publicUrl}/api/v2/` }, ADMIN_EMAIL);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'] });
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const cspViolations: string[] = [];
  const pageErrors: string[] = [];
  page.on('console', (m) => { if (/Content.Security.Policy|Refused to/i.test(m.text())) cspViolations.push(m.text()); });
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.setDefaultTimeout(20_000);
  let step = 0;
  return {
    srv, browser, page, setPasswordUrl: made.set_password_url, cspViolations, pageErrors,
    shot: (name) => page.screenshot({ path: join(artifacts, `${String(++step).padStart(2, '0')}-${name}.png`), fullPage: true }),
    api: (method, path, body) => srv.mgmt(method, path, body),
    close: async () => { await browser.close(); await srv.close(); },
  };
}

/** Sets the administrator's password through the one-time link, then signs in through the hosted login (code + PKCE). */
export async function signIn(d: DashboardSession, shots = false): Promise<void> {
  const { page } = d;
  await page.goto(d.setPasswordUrl);
  await poll(() => page.title()).toBe('Set up Tessera');
  await page.getByLabel('Password', { exact: true }).fill(ADMIN_PASSWORD);
  await page.getByLabel('Confirm password').fill(ADMIN_PASSWORD);
  if (shots) await d.shot('setup-password');
  await page.getByRole('button', { name: 'Save password' }).click();
  await page.getByRole('heading', { name: 'Password set' }).waitFor();
  await page.getByRole('link', { name: 'Open the dashboard' }).click();
  await page.getByRole('button', { name: 'Sign in' }).waitFor();
  if (shots) await d.shot('sign-in');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await poll(() => page.title()).toBe('Log in');
  await page.getByLabel('Email address').fill(ADMIN_EMAIL);
  await page.getByLabel('Password').fill(ADMIN_PASSWORD);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByRole('heading', { name: 'APIs', level: 1 }).waitFor();
}

/** The server's validation message shown under the form field labelled `label`. */
export const fieldErrorOf = (page: Page, label: string | RegExp) =>
  page.locator('.field.invalid', { has: page.getByLabel(label, { exact: true }) }).locator('.field-error');
