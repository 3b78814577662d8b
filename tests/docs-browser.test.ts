import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startListening, type ListeningServer } from './helpers/listening';

const CHROMIUM = '/usr/bin/chromium';
const available = existsSync(CHROMIUM);
if (!available) {
  if (process.env.CI === 'true') throw new Error(`${CHROMIUM} is required in CI (apt-get install -y chromium)`);
  console.warn(`\n[browser] SKIPPING the /docs suite: ${CHROMIUM} is not installed\n`);
}
const ARTIFACTS = join(process.cwd(), 'test-artifacts', 'docs');
const poll = <T>(fn: () => T | Promise<T>) => expect.poll(fn, { timeout: 150_000 });
/** One operation's block in Swagger UI, by method and path. */
const operation = (page: Page, method: string, path: string) => page.locator(`.opblock-${method}`, { has: page.locator(`.opblock-summary-path[data-path="${path}"]`) });

/**
 * /docs, the browsable API reference, in Debian's chromium against the real server: it renders the operations of
 * /openapi.json from files this server sends (no other origin is contacted), under its CSP without a violation, and
 * an operation tried from the page with a pasted Management token really answers. Screenshots: test-artifacts/docs.
 */
describe('/docs over HTTP', () => {
  let srv: ListeningServer;
  beforeAll(async () => { srv = await startListening('sqlite'); });
  afterAll(async () => { await srv?.close(); });

  it('sends the page under a CSP that allows this origin only and no inline script', async () => {
    const res = await fetch(`${srv.origin}/docs`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const policy = res.headers.get('content-security-policy') ?? '';
    expect(policy).toContain("script-src 'self'");
    expect(policy).toContain("default-src 'none'");
    expect(policy).not.toMatch(/unsafe-inline|unsafe-eval|https?:/);
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    const page = await res.text();
    // every script is a file of this origin
    expect([...page.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)].every(([, attrs, body]) => /src="\/docs\//.test(attrs) && body.trim() === '')).toBe(true);
    expect(page).not.toMatch(/https?:\/\//);
  });

  it('serves the Swagger UI files from the package, and nothing else under /docs', async () => {
    for (const [file, type] of [['swagger-ui-bundle.js', 'text/javascript'], ['swagger-ui.css', 'text/css'], ['init.js', 'text/javascript']]) {
      const res = await fetch(`${srv.origin}/docs/${file}`);
      expect(res.status, file).toBe(200);
      expect(res.headers.get('content-type'), file).toContain(type);
      expect((await res.arrayBuffer()).byteLength, file).toBeGreaterThan(100);
    }
    for (const path of ['/docs/package.json', '/docs/index.html', '/docs/..%2Fpackage.json', '/docs/%2e%2e%2f%2e%2e%2fpackage.json', '/docs/swagger-initializer.js', '/docs/constructor', '/docs/__proto__']) {
      const res = await fetch(`${srv.origin}${path}`);
      expect([400, 404], path).toContain(res.status);
      expect(await res.text(), path).not.toContain('"name"');
    }
  });
});

describe.skipIf(!available)('/docs in chromium', () => {
  let srv: ListeningServer;
  let browser: Browser;
  let page: Page;
  const cspViolations: string[] = [];
  const pageErrors: string[] = [];
  const foreign: string[] = [];

  beforeAll(async () => {
    rmSync(ARTIFACTS, { recursive: true, force: true });
    mkdirSync(ARTIFACTS, { recursive: true });
    srv = await startListening('sqlite');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'] });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.setDefaultTimeout(150_000); // Swagger UI parses a 1.5 MB bundle and renders ~100 operations: slow on a loaded machine
    page.on('console', (m) => { if (/Content.Security.Policy|Refused to/i.test(m.text())) cspViolations.push(m.text()); });
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('request', (r) => { if (!r.url().startsWith(srv.origin) && !r.url().startsWith('data:')) foreign.push(r.url()); });
    if (process.env.DEBUG_DOCS) {
      page.on('request', (r) => console.log('request', r.url()));
      page.on('requestfinished', (r) => console.log('finished', r.url()));
      page.on('requestfailed', (r) => console.log('failed', r.url(), r.failure()?.errorText));
      page.on('console', (m) => console.log('console', m.text()));
    }
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await srv?.close();
  });

  it('lists every tag of /openapi.json; a tag opens to its operations, with the scopes of each', async () => {
    const doc = await (await fetch(`${srv.origin}/openapi.json`)).json() as { tags: { name: string }[]; paths: Record<string, Record<string, { tags?: string[] }>> };
    const used = new Set(Object.values(doc.paths).flatMap((item) => Object.values(item).flatMap((op) => op.tags ?? [])));
    await page.goto(`${srv.origin}/docs`, { waitUntil: 'domcontentloaded', timeout: 150_000 });
    await page.locator('.opblock-tag').first().waitFor();
    for (const tag of used) await poll(() => page.locator(`.opblock-tag[data-tag="${tag}"]`).count()).toBe(1);
    const rsOps = Object.values(doc.paths).reduce((n, item) => n + Object.values(item).filter((op) => op.tags?.includes('resource-servers')).length, 0);
    await page.locator('.opblock-tag', { hasText: 'resource-servers' }).click();
    await poll(() => page.locator('.opblock').count()).toBe(rsOps);
    await page.screenshot({ path: join(ARTIFACTS, '01-reference.png') });

    const op = operation(page, 'post', '/api/v2/resource-servers');
    await op.locator('.opblock-summary').click();
    await poll(() => op.locator('.opblock-description-wrapper').first().textContent()).toContain('Scopes: create:resource_servers');
    await op.locator('.model-example').first().waitFor();
    await op.screenshot({ path: join(ARTIFACTS, '02-operation.png') });
  }, 400_000);

  it('tries an operation with a pasted Management token: the live answer comes from this server', async () => {
    await page.locator('.auth-wrapper .authorize').click();
    const modal = page.locator('.modal-ux');
    await poll(() => modal.textContent()).toContain('managementApi');
    await poll(() => modal.textContent()).toContain('clientSecretBasic');
    await modal.locator('.auth-container', { hasText: 'managementApi' }).locator('input').fill(await srv.adminToken());
    await modal.locator('.auth-container', { hasText: 'managementApi' }).locator('button.authorize').click();
    await page.screenshot({ path: join(ARTIFACTS, '03-authorize.png') });
    await modal.locator('button.btn-done').first().click();

    const op = operation(page, 'get', '/api/v2/resource-servers');
    await op.locator('.opblock-summary').click();
    await op.locator('.try-out__btn').click();
    await op.locator('.execute').click();
    const live = op.locator('.live-responses-table tr.response .response-col_status').first();
    await poll(() => live.textContent()).toBe('200');
    await poll(() => op.locator('.live-responses-table').textContent()).toContain('Auth0 Management API');
    await op.screenshot({ path: join(ARTIFACTS, '04-try-it-out.png') });
  }, 400_000);

  it('kept the CSP without a violation, threw no error, and contacted no other origin', () => {
    expect(cspViolations).toEqual([]);
    expect(pageErrors).toEqual([]);
    expect(foreign).toEqual([]);
  });
});
