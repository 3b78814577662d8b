import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser, CALLBACK, callbackParams } from '../helpers/flows';
import { badRequest } from '../helpers/management';
import { eachDialect, startTessera, type TestServer } from '../helpers/tessera';
import { cli, manifests } from '../deploy/helpers';

/** Script-capable URLs as an attacker would spell them to slip past a naive prefix check. */
const HOSTILE = [
  'javascript:alert(1)',
  'JavaScript:alert(1)',
  'data:text/html,<script>alert(1)</script>',
  'vbscript:msgbox(1)',
  ' javascript:alert(1)',
  '\u0001\u0008javascript:alert(1)',
  'java\tscript:alert(1)',
  'java\nscript:alert(1)',
  '\u00a0javascript:alert(1)',
  'jav&#x61;script:alert(1)',
  '&#106;avascript:alert(1)',
  'javascript&colon;alert(1)',
  '%6Aavascript:alert(1)',
  'javascript%3Aalert(1)',
  '%256Aavascript:alert(1)',
  'DATA:,x',
];

const FIELDS: Array<[field: string, format: string, list: boolean]> = [
  ['callbacks', 'callback-url', true],
  ['allowed_logout_urls', 'callback-url', true],
  ['web_origins', 'web-origin', true],
  ['allowed_origins', 'web-origin', true],
  ['initiate_login_uri', 'absolute-uri-or-empty', false],
];

/** Control characters other than tab/LF/CR are refused in every body string before the URL check sees the value. */
const refusal = (format: string, value: string, property: string) => (/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/.test(value)
  ? badRequest(`Payload validation error: 'Control characters are not allowed' on property ${property}.`)
  : badRequest(`Payload validation error: 'Object didn't pass validation for format ${format}: ${value}' on property ${property}.`));

eachDialect('security: script URL schemes in client URLs', (dialect) => {
  let s: TestServer;
  beforeAll(async () => { s = await startTessera(dialect); });
  afterAll(async () => { await s.close(); });

  const clientCount = async () => (await s.api('GET', '/clients')).body.length as number;

  describe('at registration (POST /clients)', () => {
    for (const [field, format, list] of FIELDS) {
      it(`refuses every hostile spelling in ${field} with 400 and creates nothing`, async () => {
        const before = await clientCount();
        for (const value of HOSTILE) {
          const body = list ? { name: 'evil', [field]: ['https://ok.example/cb', value] } : { name: 'evil', [field]: value };
          const r = await s.api('POST', '/clients', body);
          expect([r.status, r.body], JSON.stringify(value)).toEqual([400, refusal(format, value, list ? `${field}[1]` : field)]);
        }
        expect(await clientCount()).toBe(before);
      });
    }

    it('accepts https, http on localhost, custom app schemes and URLs that only mention a scheme later on', async () => {
      const r = await s.api('POST', '/clients', {
        name: 'fine', app_type: 'native',
        callbacks: ['https://app.example/cb', 'http://localhost:3000/cb', 'com.example.app://callback', 'https://app.example/cb?next=javascript:x'],
        allowed_logout_urls: ['https://app.example/bye'], web_origins: ['https://app.example'], allowed_origins: ['https://*.example.com'],
        initiate_login_uri: 'https://app.example/login',
      });
      expect(r.status).toBe(201);
      expect(r.body.callbacks).toHaveLength(4);
    });
  });

  describe('at registration (PATCH /clients/{id})', () => {
    for (const [field, format, list] of FIELDS) {
      it(`refuses a hostile ${field} with 400 and leaves the client unchanged`, async () => {
        const created = (await s.api('POST', '/clients', { name: `patched-${field}`, callbacks: ['https://app.example/cb'] })).body;
        for (const value of ['javascript:alert(document.cookie)', '\tdata:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==', 'VBScript:x']) {
          const r = await s.api('PATCH', `/clients/${created.client_id}`, list ? { [field]: [value] } : { [field]: value });
          expect([r.status, r.body]).toEqual([400, refusal(format, value, list ? `${field}[0]` : field)]);
        }
        expect((await s.api('GET', `/clients/${created.client_id}`)).body).toEqual(created);
      });
    }
  });

  describe('at use (/authorize), for callbacks stored before registration refused them', () => {
    let clientId: string;
    const store = (callbacks: string[]) => s.t.services.store.write(async (tx) => {
      const c = await tx.clients.findById(clientId);
      await tx.clients.replace({ ...c!, callbacks });
    }).then(() => s.t.services.changes.notify());
    beforeAll(async () => {
      const r = await s.api('POST', '/clients', { name: 'legacy', app_type: 'regular_web', callbacks: [CALLBACK], grant_types: ['authorization_code', 'implicit'] });
      clientId = r.body.client_id;
    });

    const authorizeWith = (redirect: string | undefined, extra: Record<string, string> = {}) => new Browser(s).get(`/authorize?${new URLSearchParams({
      response_type: 'code', client_id: clientId, state: 'st', prompt: 'none', ...(redirect !== undefined && { redirect_uri: redirect }), ...extra,
    })}`);

    for (const value of ['javascript:alert(1)', ' JAVASCRIPT:alert(1)', 'data:text/html,x', 'vbscript:x', 'jav&#x61;script:alert(1)']) {
      it(`never redirects to a stored callback ${JSON.stringify(value)}: an error page (400) instead`, async () => {
        await store([value, CALLBACK]);
        for (const mode of ['query', 'fragment', 'form_post']) {
          const r = await authorizeWith(value, { response_mode: mode });
          expect(r.status).toBe(400);
          expect(r.location).toBeUndefined();
          expect(r.headers['content-type']).toBe('text/html; charset=utf-8');
          expect(r.body).toContain('The callback URL uses a scheme that is not allowed (javascript:, data:, vbscript:).');
          expect(r.body).not.toContain('<form method="post"');
        }
      });
    }

    it('refuses a hostile first callback used as the default redirect_uri', async () => {
      await store(['javascript:alert(1)', CALLBACK]);
      const r = await authorizeWith(undefined);
      expect([r.status, r.location]).toEqual([400, undefined]);
    });

    it('a stored callback that is not an absolute URL gives an error page, not a 5xx', async () => {
      await store(['not a url', CALLBACK]);
      const r = await authorizeWith('not a url');
      expect([r.status, r.location]).toEqual([400, undefined]);
      expect(r.body).toContain('The callback URL is not an absolute URL.');
    });

    it('control: the registered https callback of the same client still gets its redirect', async () => {
      await store(['javascript:alert(1)', CALLBACK]);
      const r = await authorizeWith(CALLBACK);
      expect(r.status).toBe(302);
      expect(callbackParams(r.location)).toMatchObject({ error: 'login_required', state: 'st' });
    });
  });
});

describe('security: tessera validate agrees with the server on script URL schemes', { timeout: 60_000 }, () => {
  it('reports each hostile client URL with its field path and exits 1', async () => {
    const dir = manifests({
      'app.yaml': `apiVersion: tessera/v1
kind: Client
metadata:
  name: web
spec:
  name: Web
  app_type: regular_web
  callbacks: ["https://app.example/cb", "JavaScript:alert(1)"]
  web_origins: ["data:text/html,x"]
  initiate_login_uri: "https://app.example/login"
`,
    });
    const r = await cli(['validate', '-f', dir]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("spec.callbacks[1]: Object didn't pass validation for format callback-url: JavaScript:alert(1)");
    expect(r.stdout).toContain("spec.web_origins[0]: Object didn't pass validation for format web-origin: data:text/html,x");
    expect(r.stdout).not.toContain('initiate_login_uri');
  });
});
