import { createHash, randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import type { TestServer } from './tessera';

export const CONNECTION = 'Username-Password-Authentication';
export const PASSWORD = 'Correct-Horse-9';

export interface Res { status: number; headers: Record<string, unknown>; body: string; location?: string }

/** A cookie jar over app.inject: carries Set-Cookie between requests like a browser would (one origin). */
export class Browser {
  readonly jar = new Map<string, string>();
  constructor(private readonly s: TestServer) {}

  private cookieHeader(): string | undefined {
    return this.jar.size ? [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ') : undefined;
  }

  private keep(headers: Record<string, unknown>): void {
    const set = headers['set-cookie'];
    for (const line of set === undefined ? [] : Array.isArray(set) ? set : [set]) {
      const [pair] = String(line).split(';');
      const i = pair.indexOf('=');
      this.jar.set(pair.slice(0, i), pair.slice(i + 1));
    }
  }

  async get(url: string): Promise<Res> {
    const cookie = this.cookieHeader();
    const r = await this.s.t.app.inject({ method: 'GET', url, headers: cookie ? { cookie } : {} });
    this.keep(r.headers);
    return { status: r.statusCode, headers: r.headers, body: r.body, location: r.headers.location as string | undefined };
  }

  async post(url: string, form: Record<string, string>): Promise<Res> {
    const cookie = this.cookieHeader();
    const r = await this.s.t.app.inject({
      method: 'POST', url, payload: new URLSearchParams(form).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookie ? { cookie } : {}) },
    });
    this.keep(r.headers);
    return { status: r.statusCode, headers: r.headers, body: r.body, location: r.headers.location as string | undefined };
  }
}

/** Hidden form fields of a rendered page. */
export function hiddenFields(html: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
    out[m[1]] = m[2].replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
  }
  return out;
}

export function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** Parameters of a redirect back to the client (query or fragment). */
export function callbackParams(location: string | undefined): Record<string, string> {
  expect(location, 'expected a redirect').toBeDefined();
  const u = new URL(location as string);
  return Object.fromEntries(new URLSearchParams(u.hash ? u.hash.slice(1) : u.search));
}

export async function createUser(s: TestServer, email: string, extra: Record<string, unknown> = {}): Promise<string> {
  const r = await s.api('POST', '/users', { connection: CONNECTION, email, password: PASSWORD, ...extra });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body.user_id as string;
}

export async function createApi(s: TestServer, identifier: string, extra: Record<string, unknown> = {}): Promise<void> {
  const r = await s.api('POST', '/resource-servers', {
    identifier, name: `API ${identifier}`,
    scopes: [{ value: 'read:orders', description: 'Read your orders' }, { value: 'write:orders', description: 'Place orders' }, { value: 'admin:orders', description: 'Administer orders' }],
    ...extra,
  });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
}

export const CALLBACK = 'https://app.example/callback';

export async function createWebApp(s: TestServer, extra: Record<string, unknown> = {}): Promise<{ clientId: string; secret: string }> {
  const r = await s.api('POST', '/clients', {
    name: 'Orders Web', app_type: 'regular_web', callbacks: [CALLBACK, 'http://localhost:3000/callback'],
    grant_types: ['authorization_code', 'refresh_token', 'implicit', 'password', 'http://auth0.com/oauth/grant-type/password-realm'],
    ...extra,
  });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return { clientId: r.body.client_id, secret: r.body.client_secret };
}

/**
 * Drives /authorize → login page → (consent page) → callback with a cookie jar. Returns the final redirect
 * and what pages were seen on the way.
 */
export async function authorize(s: TestServer, b: Browser, query: Record<string, string>, o: { email?: string; password?: string; consent?: 'accept' | 'deny' } = {}) {
  const seen: string[] = [];
  let r = await b.get(`/authorize?${new URLSearchParams(query)}`);
  for (let hops = 0; hops < 6; hops++) {
    if (r.status === 302 && r.location?.startsWith('/u/login')) {
      seen.push('login');
      const page = await b.get(r.location);
      expect(page.status).toBe(200);
      r = await b.post('/u/login', { ...hiddenFields(page.body), username: o.email ?? '', password: o.password ?? PASSWORD });
      continue;
    }
    if (r.status === 302 && r.location?.startsWith('/u/consent')) {
      seen.push('consent');
      const page = await b.get(r.location);
      if (page.status !== 200) { r = page; continue; }
      seen.push(page.body);
      r = await b.post('/u/consent', { ...hiddenFields(page.body), action: o.consent ?? 'accept' });
      continue;
    }
    break;
  }
  return { res: r, pages: seen.filter((p) => p === 'login' || p === 'consent'), consentHtml: seen.find((p) => p.startsWith('<!DOCTYPE')) };
}

export async function exchange(s: TestServer, params: Record<string, string>) {
  return s.token({ grant_type: 'authorization_code', redirect_uri: CALLBACK, ...params });
}
