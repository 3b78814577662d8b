import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser, CALLBACK, createApi, createUser, createWebApp, hiddenFields, PASSWORD, pkce, type Res } from '../helpers/flows';
import { eachDialect, startTessera, type TestServer } from '../helpers/tessera';

/**
 * Reflected and stored XSS through the hosted pages: every /authorize parameter, the login form fields and the
 * names an administrator can set are rendered escaped, and every HTML page carries a script-blocking CSP.
 */
const P = `"'><script>alert(1)</script><svg/onload=alert(1)>`;
const ESCAPED = '&quot;&#39;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;svg/onload=alert(1)&gt;';
const API = 'https://orders.example/';

/** No page may carry the payload as markup, and each must forbid inline scripts it did not hash. */
function assertSafe(pages: Res[]): void {
  for (const r of pages) {
    expect(r.status).toBeLessThan(500);
    if (r.location !== undefined) expect(r.location).toMatch(/^(\/u\/|https:\/\/app\.example\/callback[?#])/);
    if (!String(r.headers['content-type']).startsWith('text/html')) continue;
    expect(r.body).not.toContain('<script>alert(1)');
    expect(r.body).not.toContain('<svg/onload');
    expect(r.body).not.toContain(`"'>`);
    const csp = String(r.headers['content-security-policy']);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toMatch(/script-src ('none'|'sha256-[A-Za-z0-9+/=]+');/);
    expect(csp).toContain("base-uri 'none'");
  }
}

eachDialect('security: XSS through the hosted pages', (dialect) => {
  let s: TestServer;
  let web: { clientId: string; secret: string };
  beforeAll(async () => {
    s = await startTessera(dialect);
    await createApi(s, API);
    web = await createWebApp(s);
    await createUser(s, 'victim@example.com');
  });
  afterAll(async () => { await s.close(); });

  /** Follows /authorize through login and consent like a browser; returns every response on the way. */
  async function walk(query: Record<string, string>): Promise<Res[]> {
    const b = new Browser(s);
    const seen: Res[] = [];
    let r = await b.get(`/authorize?${new URLSearchParams(query)}`);
    seen.push(r);
    for (let hops = 0; hops < 6 && r.status === 302 && r.location?.startsWith('/u/'); hops++) {
      const page = await b.get(r.location);
      seen.push(page);
      if (page.status !== 200) break;
      const form: Record<string, string> = r.location.startsWith('/u/login') ? { username: 'victim@example.com', password: PASSWORD } : { action: 'accept' };
      r = await b.post(r.location.startsWith('/u/login') ? '/u/login' : '/u/consent', { ...hiddenFields(page.body), ...form });
      seen.push(r);
    }
    return seen;
  }
  const query = (extra: Record<string, string>) => ({
    response_type: 'code', client_id: web.clientId, redirect_uri: CALLBACK, audience: API, scope: 'openid read:orders', state: 'st', ...extra,
  });
  const reflected = (pages: Res[]) => pages.some((p) => p.body.includes(ESCAPED));

  describe('reflected through /authorize', () => {
    it.each([
      ['state (form_post response)', { state: P, response_mode: 'form_post' }],
      ['login_hint (login page)', { login_hint: P }],
      ['audience (form_post error)', { audience: P, response_mode: 'form_post' }],
      ['prompt (form_post error)', { prompt: P, response_mode: 'form_post' }],
      ['response_type (form_post error)', { response_type: P, response_mode: 'form_post' }],
      ['code_challenge_method (form_post error)', { code_challenge: pkce().challenge, code_challenge_method: P, response_mode: 'form_post' }],
      ['redirect_uri (error page)', { redirect_uri: `${CALLBACK}${P}` }],
      ['client_id (error page)', { client_id: P }],
    ])('%s: rendered escaped under a CSP', async (_name, extra) => {
      const pages = await walk(query(extra));
      assertSafe(pages);
      expect(reflected(pages)).toBe(true);
    });

    it.each([
      ['nonce', { nonce: P, response_mode: 'form_post' }],
      ['scope', { scope: `openid ${P}`, response_mode: 'form_post' }],
      ['max_age', { max_age: P, response_mode: 'form_post' }],
      ['organization', { organization: P, response_mode: 'form_post' }],
      ['response_mode', { response_mode: P }],
      ['a parameter name', { [P]: P }],
    ])('%s: never rendered as markup', async (_name, extra) => {
      assertSafe(await walk(query(extra)));
    });
  });

  describe('reflected through the page endpoints', () => {
    it('a forged transaction handle on /u/login and /u/consent renders the generic error page', async () => {
      for (const path of ['/u/login', '/u/consent']) {
        const r = await new Browser(s).get(`${path}?state=${encodeURIComponent(P)}`);
        assertSafe([r]);
        expect(r.status).toBe(400);
        expect(r.body).toContain('The login transaction is invalid or has expired.');
      }
    });

    it('a username typed into the login form is re-rendered escaped after a failed login', async () => {
      const b = new Browser(s);
      const start = await b.get(`/authorize?${new URLSearchParams(query({}))}`);
      const page = await b.get(start.location as string);
      const r = await b.post('/u/login', { ...hiddenFields(page.body), username: P, password: 'wrong' });
      expect(r.status).toBe(401);
      assertSafe([r]);
      expect(r.body).toContain(`value="${ESCAPED}"`);
    });
  });

  describe('stored by an administrator, shown to users', () => {
    /** Names may not contain < or > (Auth0's rule), so a stored payload can only try to break out of an attribute. */
    const NAME = 'Evil" autofocus onfocus="alert(1)';
    const NAME_ESCAPED = 'Evil&quot; autofocus onfocus=&quot;alert(1)';

    it('client and API names with < or > are refused at registration', async () => {
      expect((await s.api('POST', '/clients', { name: P })).status).toBe(400);
      expect((await s.api('POST', '/resource-servers', { identifier: 'https://refused-name.example/', name: P })).status).toBe(400);
    });

    it('a client name, an API name and scope descriptions are rendered escaped on the login and consent pages', async () => {
      const storedApi = 'https://stored-xss.example/';
      const created = await s.api('POST', '/resource-servers', { identifier: storedApi, name: NAME, scopes: [{ value: 'read:x', description: P }] });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      const app = await createWebApp(s, { name: NAME });
      const pages = await walk(query({ client_id: app.clientId, audience: storedApi, scope: 'openid read:x' }));
      assertSafe(pages);
      const html = pages.filter((p) => p.status === 200).map((p) => p.body);
      for (const b of html) expect(b).not.toContain(NAME);
      expect(html.some((b) => b.includes('<h1>Log in</h1>') && b.includes(`<strong>${NAME_ESCAPED}</strong>`))).toBe(true);
      const consent = html.find((b) => b.includes('<h1>Authorize'));
      expect(consent).toContain(`<code>read:x</code>: ${ESCAPED}</li>`);
      expect(consent).toContain(`your <strong>${NAME_ESCAPED}</strong> account`);
    });
  });
});
