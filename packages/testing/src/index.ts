import { randomBytes } from 'node:crypto';
import { ManagementClient } from 'auth0';
import { createLogger, createTessera, loadConfig, type Tessera } from '@tessera/server';
import { freePort } from './free-port';
import { applySeed, type Seeded, type TesseraSeed } from './seed';

export type { Seeded, TesseraSeed } from './seed';
export { freePort } from './free-port';

export interface StartOptions {
  /** The tenant to start with: Management API bodies (see TesseraSeed), or a function run against the started server. */
  seed?: TesseraSeed | ((t: RunningTessera) => Promise<void>);
  /** Serve HTTPS with this certificate and key (PEM, for `localhost`); the caller trusts its CA (NODE_EXTRA_CA_CERTS, or `fetch`). */
  https?: { cert: string | Buffer; key: string | Buffer };
  /** Where the data lives (default: an in-memory SQLite database, gone at stop()). */
  databaseUrl?: string;
  /** Further TESSERA_* settings. */
  env?: Record<string, string>;
  /** The fetch used for the controls and the management client (one that trusts a test CA, for `https`). */
  fetch?: typeof fetch;
}

export interface MintedTokens { access_token: string; token_type: string; expires_in: number; scope?: string; id_token?: string; refresh_token?: string }

/** A logged-in session cookie, in the shape Playwright's `context.addCookies()` takes. */
export interface SessionCookie { name: string; value: string; url: string; expires: number; httpOnly: boolean; secure: boolean; sameSite: 'Lax' | 'None' }

export interface FaultSpec { path: string; method?: string; status?: 429 | 500 | 502 | 503 | 504; count?: number; delay_ms?: number }

export interface RunningTessera {
  /** `host:port`, what Auth0 SDKs take as `domain`. */
  domain: string;
  /** `http(s)://host:port`. */
  origin: string;
  /** The `iss` of every token (`${origin}/`), express-oauth2-jwt-bearer's `issuerBaseURL`. */
  issuer: string;
  /** The Management API audience (`${origin}/api/v2/`). */
  audience: string;
  /** The bootstrap admin client (every Management scope). */
  admin: { clientId: string; clientSecret: string };
  /** Ids and secrets of what the seed created, by the names it used. */
  seeded: Seeded;
  /** The auth0 SDK's ManagementClient, authenticated as the admin client. */
  managementClient: ManagementClient;
  /** The server itself (services, store, app) for what the controls do not cover. */
  server: Tessera;
  /** A client_credentials access token (default: the admin client for the Management API). `client`: a seeded name or a client id. */
  token(o?: { client?: string; audience?: string; scope?: string; organization?: string }): Promise<string>;
  /** A user's access token, as the login of `user` (seeded email, email or user id) at `client` would give. */
  userToken(o: UserTokenOptions): Promise<string>;
  /** The whole token response of such a login (ID and refresh tokens included). */
  userTokens(o: UserTokenOptions): Promise<MintedTokens>;
  /** A logged-in browser session for a user: add the cookie to the browser and the hosted login is skipped. */
  session(user: string): Promise<SessionCookie>;
  /** Back to the seed state (data, clock, faults). */
  reset(): Promise<void>;
  snapshot(name: string): Promise<void>;
  restore(name: string): Promise<void>;
  /** The next `count` (default 1) requests to `path` answer `status` and/or wait `delay_ms`. */
  fault(spec: FaultSpec): Promise<void>;
  clearFaults(): Promise<void>;
  /** Moves the server's clock forward: tokens, codes, sessions and refresh tokens expire. */
  advanceClock(seconds: number): Promise<void>;
  /** Rotates the signing key; with `revoke`, the key that was current is revoked (its tokens stop verifying). */
  rotateKeys(o?: { revoke?: boolean }): Promise<{ current: string; revoked?: string }>;
  /** Any development control: `dev('POST', '/faults', {...})` calls /tessera/dev/faults. */
  dev(method: string, path: string, body?: unknown): Promise<any>;
  stop(): Promise<void>;
}

export interface UserTokenOptions { user: string; client: string; audience?: string; scope?: string; organization?: string }

/** Auth0 SDKs always call https://{domain}: over plain HTTP their requests are sent to the HTTP origin instead. */
function towards(origin: string, domain: string, base: typeof fetch): typeof fetch {
  if (origin.startsWith('https:')) return base;
  const from = `https://${domain}`;
  return (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    const target = url.startsWith(from) ? origin + url.slice(from.length) : url;
    return input instanceof Request ? base(new Request(target, input), init) : base(target, init);
  };
}

async function listening(o: StartOptions, admin: { clientId: string; clientSecret: string }): Promise<{ server: Tessera; origin: string; domain: string }> {
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const domain = `${o.https ? 'localhost' : '127.0.0.1'}:${port}`;
    const origin = `${o.https ? 'https' : 'http'}://${domain}`;
    const config = loadConfig({
      TESSERA_DATABASE_URL: o.databaseUrl ?? 'sqlite::memory:',
      TESSERA_HOST: '127.0.0.1',
      TESSERA_PORT: String(port),
      TESSERA_PUBLIC_URL: origin,
      TESSERA_ADMIN_CLIENT_ID: admin.clientId,
      TESSERA_ADMIN_CLIENT_SECRET: admin.clientSecret,
      TESSERA_MASTER_KEY: randomBytes(32).toString('base64'),
      TESSERA_LOG_LEVEL: 'silent',
      TESSERA_DASHBOARD: 'off',
      // a test suite logs in from one address many times a second: Auth0's defaults would throttle it
      TESSERA_RATE_LIMIT_AUTH: '1000000/1',
      TESSERA_RATE_LIMIT_MANAGEMENT: '1000000/1',
      TESSERA_SUSPICIOUS_IP_THROTTLING: '1000000/1',
      TESSERA_BRUTE_FORCE_THRESHOLD: '1000000',
      TESSERA_CLIENT_AUTH_THROTTLING: '1000000/1',
      TESSERA_PASSWORD_NICE: '0',
      ...o.env,
    });
    const tls = o.https && { cert: Buffer.from(o.https.cert), key: Buffer.from(o.https.key) };
    // no HSTS: a browser would apply it to every port of localhost
    const server = await createTessera({ ...config, ...(tls && { tls }), hstsMaxAge: undefined }, { devMode: true, logger: createLogger('silent') });
    try {
      await server.app.listen({ host: '127.0.0.1', port });
      return { server, origin, domain };
    } catch (e) {
      await server.close();
      if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= 5) throw e;
    }
  }
}

/**
 * Starts Tessera in development mode in this process on a free loopback port, seeds it, records the seed for
 * reset(), and hands back what an Auth0 SDK or API needs plus the test controls.
 */
export async function startTessera(o: StartOptions = {}): Promise<RunningTessera> {
  const admin = { clientId: `test-admin-${randomBytes(4).toString('hex')}`, clientSecret: randomBytes(24).toString('base64url') };
  const { server, origin, domain } = await listening(o, admin);
  const base = o.fetch ?? fetch;
  try {
    const call = async (method: string, url: string, body: unknown, headers: Record<string, string> = {}) => {
      const res = await base(url, {
        method, headers: { ...headers, ...(body !== undefined && { 'content-type': 'application/json' }) },
        ...(body !== undefined && { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      const parsed = text ? JSON.parse(text) : undefined;
      if (!res.ok) throw new Error(`${method} ${new URL(url).pathname}: ${res.status} ${text}`);
      return parsed;
    };
    const dev = (method: string, path: string, body?: unknown) => call(method, `${origin}/tessera/dev${path}`, body);
    let adminToken: string | undefined;
    const management = async (method: string, path: string, body?: unknown) => {
      adminToken ??= (await dev('POST', '/tokens/client', { client_id: admin.clientId, audience: server.config.managementAudience })).access_token;
      return call(method, `${origin}/api/v2${path}`, body, { authorization: `Bearer ${adminToken}` });
    };
    const resolveClient = (name: string) => t.seeded.clients[name]?.client_id ?? name;
    const resolveUser = (user: string) => t.seeded.users[user] !== undefined ? { user_id: t.seeded.users[user] } : user.includes('@') ? { email: user } : { user_id: user };
    const userTokens = (u: UserTokenOptions): Promise<MintedTokens> => dev('POST', '/tokens/user', {
      client_id: resolveClient(u.client), ...resolveUser(u.user),
      ...(u.audience !== undefined && { audience: u.audience }), ...(u.scope !== undefined && { scope: u.scope }), ...(u.organization !== undefined && { organization: u.organization }),
    });
    const t: RunningTessera = {
      domain, origin, issuer: server.config.issuer, audience: server.config.managementAudience, admin, server,
      seeded: { clients: {}, users: {}, roles: {}, organizations: {} },
      managementClient: new ManagementClient({ domain, audience: server.config.managementAudience, clientId: admin.clientId, clientSecret: admin.clientSecret, fetch: towards(origin, domain, base) }),
      async token(c = {}) {
        const r = await dev('POST', '/tokens/client', {
          client_id: c.client === undefined ? admin.clientId : resolveClient(c.client), audience: c.audience ?? server.config.managementAudience,
          ...(c.scope !== undefined && { scope: c.scope }), ...(c.organization !== undefined && { organization: c.organization }),
        });
        return r.access_token;
      },
      userTokens,
      async userToken(u) { return (await userTokens(u)).access_token; },
      session: (user) => dev('POST', '/sessions', resolveUser(user)),
      reset: () => dev('POST', '/reset'),
      snapshot: (name) => dev('POST', '/snapshots', { name }).then(() => undefined),
      restore: (name) => dev('POST', `/snapshots/${encodeURIComponent(name)}/restore`),
      fault: (spec) => dev('POST', '/faults', spec).then(() => undefined),
      clearFaults: () => dev('DELETE', '/faults'),
      advanceClock: (seconds) => dev('POST', '/clock', { advance: seconds }).then(() => undefined),
      rotateKeys: (k = {}) => dev('POST', k.revoke ? '/keys/revoke' : '/keys/rotate'),
      dev,
      stop: () => server.close(),
    };
    if (typeof o.seed === 'function') await o.seed(t);
    else if (o.seed) t.seeded = await applySeed(management, o.seed);
    await server.dev?.markSeeded();
    return t;
  } catch (e) {
    await server.close().catch(() => undefined);
    throw e;
  }
}
