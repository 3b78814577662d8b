import { createHash, randomBytes, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import express from 'express';
import { auth as jwtAuth, requiredScopes } from '@tessera/verify';
import { auth as oidcAuth, requiresAuth } from 'express-openid-connect';
import { chromium, type Browser as Chromium, type BrowserContext, type Page } from 'playwright-core';
import { Agent, fetch as undiciFetch } from 'undici';
import { Agent as HttpsAgent } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCerts, type TestCerts } from './helpers/certs';
import { postgresAvailable, type DialectName } from './helpers/databases';
import { createApi, createUser, PASSWORD } from './helpers/flows';
import { freePort } from './helpers/process';
import { ADMIN_ID, ADMIN_SECRET, startTessera, type TestServer } from './helpers/tessera';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS_ROOT = join(process.cwd(), 'test-artifacts', 'browser-apps');
const available = existsSync(CHROMIUM);
if (!available) {
  if (process.env.CI === 'true') throw new Error(`${CHROMIUM} is required in CI (apt-get install -y chromium)`);
  console.warn(`\n[browser] SKIPPING the auth0-spa-js and express-openid-connect suites: ${CHROMIUM} is not installed\n`);
}
const API = 'https://orders.example/';
const SPA_DIST = join(process.cwd(), 'node_modules/@auth0/auth0-spa-js/dist/auth0-spa-js.production.esm.js');
const FIXTURES = join(process.cwd(), 'tests/fixtures/spa');

/** Serves an Express app over HTTPS on localhost with the suite's certificate. */
async function serveHttps(certs: TestCerts, app: express.Express): Promise<{ server: Server; origin: string }> {
  const server = createServer({ cert: readFileSync(certs.certFile), key: readFileSync(certs.keyFile) }, app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, origin: `https://localhost:${(server.address() as AddressInfo).port}` };
}

/**
 * Judges: Auth0's own browser SDK (@auth0/auth0-spa-js) in a single-page app on its own site (https://localhost:<port>),
 * and Auth0's Express SDK (express-openid-connect) in a server-side web app, both against Tessera over HTTPS on
 * https://127.0.0.1:<port> (another site), in Debian's chromium. Chromium trusts exactly the suite's server key
 * (--ignore-certificate-errors-spki-list pins it); Node trusts the suite's CA through the SDKs' fetch/agent options.
 * Tessera runs in-process with an injected clock (the idle-expiry refusal moves it, nothing sleeps).
 */
// both dialects: PostgreSQL is skipped with a message when it does not answer (an error when CI is set)
const pgReady = available && await postgresAvailable();
for (const dialect of ['sqlite', 'postgres'] as DialectName[]) {
describe.skipIf(!available || (dialect === 'postgres' && !pgReady))(`Auth0 browser SDKs in chromium: auth0-spa-js and express-openid-connect [${dialect}]`, () => {
  const ARTIFACTS = join(ARTIFACTS_ROOT, dialect);
  let certs: TestCerts;
  let s: TestServer;
  let tessera: string;
  let browser: Chromium;
  let spa: { server: Server; origin: string };
  let foreign: { server: Server; origin: string };
  let web: { server: Server; origin: string };
  let spaClientId: string;
  let chromiumArgs: string[];
  let step = 0;
  const shot = async (page: Page, name: string) => page.screenshot({ path: join(ARTIFACTS, `${String(++step).padStart(2, '0')}-${name}.png`), fullPage: true });

  beforeAll(async () => {
    rmSync(ARTIFACTS, { recursive: true, force: true });
    mkdirSync(ARTIFACTS, { recursive: true });
    certs = makeCerts();
    const port = await freePort();
    tessera = `https://127.0.0.1:${port}`;
    s = await startTessera(dialect, { env: { TESSERA_TLS_CERT: certs.certFile, TESSERA_TLS_KEY: certs.keyFile, TESSERA_PUBLIC_URL: tessera } });
    await s.t.app.listen({ host: '127.0.0.1', port });
    const admin = await s.token({ grant_type: 'client_credentials', client_id: ADMIN_ID, client_secret: ADMIN_SECRET, audience: `${tessera}/api/v2/` });
    const token = admin.body.access_token as string;
    s.adminToken = async () => token; // the Management audience follows this server's public URL
    await createApi(s, API, { allow_offline_access: true, token_lifetime: 3600 });
    await createUser(s, 'ada@example.com');
    const ca = readFileSync(certs.caFile);

    // the SPA's origin serves the page, the SDK's published ESM build and an API protected by @tessera/verify
    const spaApp = express();
    spa = await serveHttps(certs, spaApp);
    foreign = await serveHttps(certs, express().get('/', (_req, res) => { res.type('html').send('<!DOCTYPE html><title>Elsewhere</title><h1>Another site</h1>'); }));
    const c = await s.api('POST', '/clients', {
      name: 'Orders SPA', app_type: 'spa', callbacks: [`${spa.origin}/`, `${foreign.origin}/callback`], web_origins: [spa.origin],
      allowed_logout_urls: [`${spa.origin}/`], grant_types: ['authorization_code', 'refresh_token'],
    });
    expect(c.status).toBe(201);
    spaClientId = c.body.client_id;
    spaApp.get('/', (_req, res) => { res.sendFile(join(FIXTURES, 'index.html')); });
    spaApp.get('/app.js', (_req, res) => { res.type('application/javascript').sendFile(join(FIXTURES, 'app.js')); });
    spaApp.get('/auth0-spa-js.production.esm.js', (_req, res) => { res.type('application/javascript').sendFile(SPA_DIST); });
    spaApp.get('/config.json', (_req, res) => { res.json({ domain: `127.0.0.1:${port}`, clientId: spaClientId, audience: API }); });
    spaApp.get('/api/orders', jwtAuth({ issuerBaseURL: tessera, audience: API, agent: new HttpsAgent({ ca }) }), requiredScopes('read:orders'), (req, res) => {
      res.json({ orders: [], for: req.auth?.payload.sub });
    });

    chromiumArgs = [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run',
      `--ignore-certificate-errors-spki-list=${spkiHash(certs.certFile)}`,
    ];
    browser = await chromium.launch({ executablePath: CHROMIUM, args: chromiumArgs });
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    for (const x of [spa, foreign, web]) x?.server.close();
    await s?.close();
  });

  const login = async (page: Page, name: string) => {
    await expect.poll(() => page.title()).toBe('Log in');
    await page.getByLabel('Email address').fill('ada@example.com');
    await page.getByLabel('Password').fill(PASSWORD);
    await shot(page, `${name}-login`);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.waitForURL(/\/u\/consent\?/); // a localhost application is always asked for consent
    await shot(page, `${name}-consent`);
    await page.getByRole('button', { name: 'Accept' }).click();
  };

  describe('auth0-spa-js 2.28.3 (SPA on its own site)', () => {
    let context: BrowserContext;
    let page: Page;
    beforeAll(async () => {
      // silent authentication in the iframe needs Tessera's session cookie inside the SPA's site, i.e. a browser that
      // allows third-party cookies (as with Auth0 on its own domain); headless chromium blocks them unless the profile
      // says otherwise. Where they are blocked, the refresh-token path below is the one that works.
      const profile = mkdtempSync(join(tmpdir(), 'tessera-chromium-'));
      mkdirSync(join(profile, 'Default'));
      writeFileSync(join(profile, 'Default', 'Preferences'), JSON.stringify({ profile: { cookie_controls_mode: 0, block_third_party_cookies: false } }));
      context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, args: chromiumArgs });
      page = await context.newPage();
    });
    afterAll(async () => { await context?.close(); });
    const call = <T>(fn: string, arg?: unknown) => page.evaluate(([f, a]) => (window as any).spa[f as string](a), [fn, arg] as const) as Promise<T>;
    type Outcome = { ok: boolean; value?: string; error?: string; description?: string };

    it('loginWithRedirect → hosted login → handleRedirectCallback', async () => {
      await page.goto(`${spa.origin}/`);
      await expect.poll(() => page.locator('#status').textContent()).toBe('ready');
      await shot(page, 'spa-start');
      await Promise.all([page.waitForURL(`${tessera}/u/login?**`), call('login')]);
      await login(page, 'spa');
      await page.waitForURL(new RegExp(`^${spa.origin}/\\?code=`));
      await expect.poll(() => page.locator('#status').textContent()).toBe('ready');
      const cb = await call<Outcome>('handleCallback');
      expect(cb).toEqual({ ok: true, value: 'ada@example.com' });
      expect(await call('isAuthenticated')).toBe(true);
      await shot(page, 'spa-logged-in');
      const session = (await context.cookies(tessera)).find((k) => k.name === 'tessera_session');
      expect(session).toMatchObject({ httpOnly: true, secure: true, sameSite: 'None' });
    });

    it('getTokenSilently through the hidden iframe (prompt=none, web_message), then calls the API', async () => {
      const silent = await call<Outcome>('silentViaIframe');
      expect(silent.ok, JSON.stringify(silent)).toBe(true);
      const token = silent.value as string;
      const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());
      expect(claims).toMatchObject({ iss: `${tessera}/`, azp: spaClientId });
      expect(claims.aud).toContain(API);
      expect(await call('callApi', token)).toMatchObject({ status: 200 });
      expect(await call('callApi', undefined)).toMatchObject({ status: 401 });
      await shot(page, 'spa-silent-iframe');
    });

    it('getTokenSilently through rotating refresh tokens; a rotated token used again revokes the family', async () => {
      const first = await call<string>('refreshToken');
      expect(first).toMatch(/^v1\./);
      const a = await call<Outcome>('silentViaRefreshToken');
      expect(a.ok, JSON.stringify(a)).toBe(true);
      const second = await call<string>('refreshToken');
      expect(second).toMatch(/^v1\./);
      expect(second).not.toBe(first); // rotated
      expect(await call('callApi', a.value)).toMatchObject({ status: 200 });
      const b = await call<Outcome>('silentViaRefreshToken');
      expect(b.ok).toBe(true);
      // replay of the first (rotated) token from the page: refused, readable through CORS, and the family is gone
      const replay = await call<{ status: number; body: unknown }>('refreshRaw', first);
      expect(replay).toEqual({ status: 403, body: { error: 'invalid_grant', error_description: 'Unknown or invalid refresh token.' } });
      const after = await call<Outcome>('silentViaRefreshToken');
      expect(after).toMatchObject({ ok: false, error: 'invalid_grant' });
      await shot(page, 'spa-refresh-family-revoked');
    });

    it('an idle-expired refresh token is refused (clock moved past the 15-day idle lifetime)', async () => {
      // a new login in the same session (no login page) brings a new family
      await Promise.all([page.waitForURL(new RegExp(`^${spa.origin}/\\?code=`)), call('login')]);
      await expect.poll(() => page.locator('#status').textContent()).toBe('ready');
      expect((await call<Outcome>('handleCallback')).ok).toBe(true);
      expect((await call<Outcome>('silentViaRefreshToken')).ok).toBe(true);
      s.clock.advance(16 * 86400);
      try {
        const idle = await call<Outcome>('silentViaRefreshToken');
        expect(idle).toMatchObject({ ok: false, error: 'invalid_grant', description: 'Unknown or invalid refresh token.' });
      } finally { s.clock.advance(-16 * 86400); }
    });

    it('a page on an origin that is not in web_origins cannot read the token endpoint (CORS), the SPA\'s origin can', async () => {
      const other = await context.newPage();
      await other.goto(`${foreign.origin}/`);
      const body = JSON.stringify({ grant_type: 'refresh_token', client_id: spaClientId, refresh_token: 'v1.x' });
      const fromForeign = await other.evaluate(([url, b]) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: b })
        .then((r) => `status ${r.status}`, (e) => `blocked: ${e.name}`), [`${tessera}/oauth/token`, body] as const);
      expect(fromForeign).toBe('blocked: TypeError');
      await shot(other, 'cors-foreign-origin-blocked');
      expect(await call('refreshRaw', 'v1.x')).toMatchObject({ status: 403 });
      // web_message to a registered callback whose origin is not a web origin: an error page, nothing posted
      const wm = await other.goto(`${tessera}/authorize?${new URLSearchParams({ response_type: 'code', client_id: spaClientId, redirect_uri: `${foreign.origin}/callback`, response_mode: 'web_message', prompt: 'none', state: 's' })}`);
      expect(wm?.status()).toBe(400);
      await expect.poll(() => other.locator('[role=alert]').textContent()).toContain('is not in the list of allowed web origins');
      await shot(other, 'web-message-foreign-origin-refused');
      await other.close();
    });

    it('logout lands on returnTo and ends the session; an unknown returnTo is refused', async () => {
      const refused = await page.goto(`${tessera}/v2/logout?client_id=${spaClientId}&returnTo=${encodeURIComponent(`${foreign.origin}/`)}`);
      expect(refused?.status()).toBe(400);
      await shot(page, 'logout-unknown-returnTo');
      await page.goto(`${spa.origin}/`);
      await expect.poll(() => page.locator('#status').textContent()).toBe('ready');
      await Promise.all([page.waitForURL(`${spa.origin}/`), call('logout')]);
      await expect.poll(() => page.locator('#status').textContent()).toBe('ready');
      await shot(page, 'spa-logged-out');
      expect((await context.cookies(tessera)).find((k) => k.name === 'tessera_session')).toBeUndefined();
      expect(await call<Outcome>('silentViaIframe')).toMatchObject({ ok: false, error: 'login_required' });
    });
  });

  describe('express-openid-connect 3.4.0 (server-side web app)', () => {
    let context: BrowserContext;
    let page: Page;
    let webClient: { client_id: string; client_secret: string };
    beforeAll(async () => {
      const ca = readFileSync(certs.caFile);
      const dispatcher = new Agent({ connect: { ca } });
      const app = express();
      web = await serveHttps(certs, app);
      const r = await s.api('POST', '/clients', {
        name: 'Orders Web', app_type: 'regular_web', callbacks: [`${web.origin}/callback`], allowed_logout_urls: [web.origin, `${web.origin}/`],
        grant_types: ['authorization_code', 'refresh_token'], token_endpoint_auth_method: 'client_secret_basic',
      });
      expect(r.status).toBe(201);
      webClient = r.body;
      app.use(oidcAuth({
        issuerBaseURL: tessera, baseURL: web.origin, clientID: webClient.client_id, clientSecret: webClient.client_secret,
        secret: randomBytes(32).toString('hex'), authRequired: false, idpLogout: true,
        authorizationParams: { response_type: 'code', audience: API, scope: 'openid profile email offline_access read:orders' },
        customFetch: ((url: string, init: object) => undiciFetch(url, { ...init, dispatcher })) as never,
      }));
      app.get('/', (req, res) => { res.type('html').send(`<!DOCTYPE html><title>Orders Web</title><h1>${req.oidc.isAuthenticated() ? `Hello ${req.oidc.user?.email}` : 'Signed out'}</h1>`); });
      app.get('/orders', requiresAuth(), async (req, res) => {
        const at = req.oidc.accessToken!;
        const api = await undiciFetch(`${spa.origin}/api/orders`, { headers: { authorization: `Bearer ${at.access_token}` }, dispatcher });
        res.json({ api: api.status, token: at.access_token, expired: at.isExpired(), refresh: req.oidc.refreshToken !== undefined });
      });
      app.get('/refresh', requiresAuth(), async (req, res) => {
        const next = await req.oidc.accessToken!.refresh();
        res.json({ token: next.access_token });
      });
      context = await browser.newContext();
      page = await context.newPage();
    });
    afterAll(async () => { await context?.close(); });

    it('login, session, an access token for the API, refresh, logout', async () => {
      await page.goto(`${web.origin}/login`);
      await login(page, 'web');
      await page.waitForURL(`${web.origin}/`);
      await expect.poll(() => page.locator('h1').textContent()).toBe('Hello ada@example.com');
      await shot(page, 'web-logged-in');
      const orders = await (await page.goto(`${web.origin}/orders`))!.json();
      expect(orders).toMatchObject({ api: 200, expired: false, refresh: true });
      const refreshed = await (await page.goto(`${web.origin}/refresh`))!.json();
      expect(refreshed.token).not.toBe(orders.token);
      const again = await (await page.goto(`${web.origin}/orders`))!.json();
      expect(again).toMatchObject({ api: 200, token: refreshed.token });
      await page.goto(`${web.origin}/logout`);
      await page.waitForURL(`${web.origin}/`);
      await expect.poll(() => page.locator('h1').textContent()).toBe('Signed out');
      await shot(page, 'web-logged-out');
      expect((await context.cookies(tessera)).find((k) => k.name === 'tessera_session')).toBeUndefined();
    });
  });
});
}

/** base64(SHA-256(SubjectPublicKeyInfo)) of a certificate: what Chromium's certificate pin list takes. */
function spkiHash(certFile: string): string {
  const der = new X509Certificate(readFileSync(certFile)).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('base64');
}
