import { closest, distance, type SigningKey } from '@tessera/core';
import { mtlsProxyFrom, type MtlsProxy } from './mtls-proxy';
import { existsSync, mkdirSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { randomBytes, createPrivateKey, X509Certificate } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { isIP } from 'node:net';

/** Every setting: its variable, default and meaning. The README's configuration table lists the same. */
export const SETTINGS = [
  { env: 'TESSERA_HOST', default: '127.0.0.1', doc: 'listen address' },
  { env: 'TESSERA_PORT', default: '3000', doc: 'listen port (0 picks a free port)' },
  { env: 'TESSERA_PUBLIC_URL', default: 'http://localhost:${port}', doc: 'public base URL: issuer is `${TESSERA_PUBLIC_URL}/`, Management audience `${…}/api/v2/`' },
  { env: 'TESSERA_DATABASE_URL', default: 'sqlite:./data/tessera.db', doc: '`sqlite:<path>` or `postgres://…`' },
  { env: 'TESSERA_ADMIN_CLIENT_ID', default: 'generated', doc: 'bootstrap M2M client with every Management scope (created on first start)' },
  { env: 'TESSERA_ADMIN_CLIENT_SECRET', default: 'generated', doc: 'its secret (generated and printed once if unset)' },
  { env: 'TESSERA_MASTER_KEY', default: 'generated', doc: '32-byte key (base64 or hex) that encrypts secrets at rest; comma-separated list to rotate (first encrypts). Generated into the data folder (mode 0600) for SQLite if unset' },
  { env: 'TESSERA_TLS_CERT', default: 'off', doc: 'PEM certificate file: serve HTTPS directly' },
  { env: 'TESSERA_TLS_KEY', default: 'off', doc: 'PEM private key file for TESSERA_TLS_CERT' },
  { env: 'TESSERA_MTLS_PROXY_HEADER', default: 'off', doc: 'header in which a TLS-terminating proxy forwards the client certificate (URL-encoded PEM, PEM or base64 DER); read only from TESSERA_MTLS_TRUSTED_PROXIES' },
  { env: 'TESSERA_MTLS_TRUSTED_PROXIES', default: 'off', doc: 'comma-separated proxy addresses or CIDR ranges whose TESSERA_MTLS_PROXY_HEADER is believed' },
  { env: 'TESSERA_MTLS_PUBLIC_URL', default: 'off', doc: 'https URL (e.g. https://mtls.example.com) at which the same listener is reachable for mTLS clients; advertised as mtls_endpoint_aliases in discovery; needs TESSERA_TLS_CERT or TESSERA_MTLS_PROXY_HEADER' },
  { env: 'TESSERA_MTLS_PORT', default: 'off', doc: 'a second HTTPS port serving the same app that asks clients for certificates (Auth0\'s mtls.{domain}); the main port then no longer asks; mtls_endpoint_aliases point at it (https://<TESSERA_PUBLIC_URL host>:<port> unless TESSERA_MTLS_PUBLIC_URL says otherwise); needs TESSERA_TLS_CERT' },
  { env: 'TESSERA_MTLS_CA', default: 'off', doc: 'PEM file of the CA certificates trusted for tls_client_auth (RFC 8705 §2.1) client certificates; needs TESSERA_TLS_CERT' },
  { env: 'TESSERA_HSTS_MAX_AGE', default: '31536000', doc: 'Strict-Transport-Security max-age (seconds) sent on every response when serving HTTPS or when TESSERA_PUBLIC_URL is https; 0 sends max-age=0 (browsers forget the policy)' },
  { env: 'TESSERA_LOG_LEVEL', default: 'info', doc: 'pino level: fatal, error, warn, info, debug, trace, silent' },
  { env: 'TESSERA_DPOP_NONCE', default: 'public_clients', doc: 'which clients must put a server nonce (DPoP-Nonce) in their DPoP proofs at /oauth/token: public_clients, all_clients or off' },
  { env: 'TESSERA_ALLOWED_LOGOUT_URLS', default: 'none', doc: 'comma-separated tenant-level allowed logout URLs: where GET /v2/logout without client_id may send the browser (returnTo)' },
  { env: 'TESSERA_DASHBOARD', default: 'on', doc: '`on` serves the admin dashboard at `/dashboard` (`/` redirects there) and registers its SPA client on the first start; `off` serves neither and creates no client' },
  { env: 'TESSERA_WORKERS', default: '1', doc: 'number of worker processes (node:cluster) sharing the port' },
  { env: 'TESSERA_PASSWORD_THREADS', default: 'half the cores (at least 1)', doc: 'worker threads per process that hash and verify passwords (scrypt, 32 MiB each), apart from token signing' },
  { env: 'TESSERA_PASSWORD_QUEUE', default: '32', doc: 'password derivations that may wait for a thread; beyond it logins get 503 temporarily_unavailable (a friendly message on the login page)' },
  { env: 'TESSERA_PASSWORD_NICE', default: '19', doc: 'nice increment (0–19) of the hashing threads on Linux, so token issuance wins the CPU during a login flood' },
  { env: 'TESSERA_RATE_LIMIT_AUTH', default: '100/1', doc: 'Authentication API requests (`/oauth/token`, `/authorize`, `/u/*`, `/userinfo`, `/oauth/revoke`) per client (per address when no known client is named) as `<requests>/<seconds>`, or `off`' },
  { env: 'TESSERA_RATE_LIMIT_MANAGEMENT', default: '50/1', doc: 'Management API requests per client token as `<requests>/<seconds>`, or `off`' },
  { env: 'TESSERA_RATE_LIMIT_STORE', default: 'memory (redis with TESSERA_REDIS_URL, database with several workers)', doc: 'where rate-limit counters live: `memory` (this process), `database` (shared through the database), `redis` (TESSERA_REDIS_URL)' },
  { env: 'TESSERA_REDIS_URL', default: 'off', doc: '`redis://…`: rate-limit counters shared by every worker and instance in Redis/Valkey' },
  { env: 'TESSERA_TOKEN_REUSE', default: 'off', doc: 'tenant default of the client extension `tessera_token_reuse`: `on` hands a still-valid client_credentials token out again for the same client, audience, scopes, organization and binding instead of signing a new one (docs/compatibility.md), `off` signs every time' },
  { env: 'TESSERA_TOKEN_REUSE_MIN_REMAINING', default: '0.5', doc: 'share of its lifetime (greater than 0, less than 1) a token must still have to be handed out again' },
  { env: 'TESSERA_TOKEN_QUOTA_CLIENTS', default: 'off', doc: 'tenant default `token_quota.client_credentials` of applications without one, as `per_hour=<n>,per_day=<n>,enforce=<true|false>` (any subset; enforce defaults to true), or `off`; applies until PATCH /api/v2/tenants/settings first writes default_token_quota' },
  { env: 'TESSERA_TOKEN_QUOTA_ORGANIZATIONS', default: 'off', doc: 'tenant default `token_quota.client_credentials` of organizations without one, same form and rule' },
  { env: 'TESSERA_TRUSTED_PROXIES', default: 'off', doc: 'comma-separated addresses or CIDR ranges of reverse proxies whose X-Forwarded-For gives the client address (rate limits and brute-force protection key on it)' },
  { env: 'TESSERA_BRUTE_FORCE_THRESHOLD', default: '10', doc: 'consecutive failed logins for one user from one address before that address is blocked for the user; 0 = off' },
  { env: 'TESSERA_SUSPICIOUS_IP_THROTTLING', default: '100/86400', doc: 'failed logins one address may make (across users) as `<failures>/<seconds>` (a bucket refilling at that rate), or `off`' },
  { env: 'TESSERA_CLIENT_AUTH_THROTTLING', default: '20/300', doc: 'failed client authentications one address may make for one client as `<failures>/<seconds>`, or `off`' },
  { env: 'TESSERA_TENANT_LOGS', default: 'on', doc: 'record tenant log events (GET /api/v2/logs, log streams): `on` or `off`' },
  { env: 'TESSERA_LOG_RETENTION_DAYS', default: '30', doc: 'days tenant log events are kept (checked hourly)' },
  { env: 'TESSERA_LOG_RETENTION_ROWS', default: '1000000', doc: 'most tenant log events kept; the oldest beyond it are deleted (checked hourly)' },
  { env: 'TESSERA_LOG_STREAMS_ALLOW_PRIVATE', default: 'off', doc: '`on` lets log streams deliver to loopback, private and link-local addresses and over plain http (development and tests); off, sinks must be https URLs resolving to public addresses' },
] as const;

export interface Config {
  host: string;
  port: number;
  publicUrl: string; // no trailing slash
  issuer: string; // publicUrl + '/'
  managementAudience: string; // publicUrl + '/api/v2/'
  databaseUrl: string;
  adminClientId?: string;
  adminClientSecret?: string;
  masterKeys: Buffer[];
  masterKeyFile?: string;
  /** `ca`: the CAs trusted for tls_client_auth client certificates (TESSERA_MTLS_CA). */
  tls?: { cert: Buffer; key: Buffer; ca?: Buffer };
  /** A TLS-terminating proxy forwarding client certificates in a header (RFC 8705 behind a proxy). */
  mtlsProxy?: MtlsProxy;
  /** RFC 8705 §5: where mTLS clients reach the token, userinfo and revocation endpoints (no trailing slash). */
  mtlsPublicUrl?: string;
  /** A separate listener for mTLS clients (TESSERA_MTLS_PORT): it alone asks for client certificates. */
  mtlsPort?: number;
  /** Strict-Transport-Security max-age; undefined when neither TLS nor an https public URL is configured. */
  hstsMaxAge?: number;
  logLevel: string;
  workers: number;
  /** RFC 9449 §8: which clients get the use_dpop_nonce challenge at the token endpoint. */
  dpopNonce: 'public_clients' | 'all_clients' | 'off';
  /** The password hashing pool (worker threads of its own, bounded queue, lowered priority). */
  passwordPool: { threads: number; queue: number; niceIncrement: number };
  /** Requests per window; max 0 = no limit. */
  rateLimits: { auth: Rate; management: Rate; store: 'memory' | 'database' | 'redis'; redisUrl?: string };
  /** client_credentials token reuse: the tenant default and the share of lifetime a reused token must keep. */
  tokenReuse: { enabledByDefault: boolean; minRemaining: number };
  /** Auth0's tenant default token quotas (TESSERA_TOKEN_QUOTA_CLIENTS / _ORGANIZATIONS). */
  tokenQuotaDefaults: { clients?: { enforce?: boolean; per_hour?: number; per_day?: number }; organizations?: { enforce?: boolean; per_hour?: number; per_day?: number } };
  /** Tenant logs: on/off and retention (TESSERA_TENANT_LOGS, TESSERA_LOG_RETENTION_*). */
  tenantLogs: { enabled: boolean; retentionDays: number; retentionRows: number };
  /** Log streams may reach loopback/private addresses and plain http (TESSERA_LOG_STREAMS_ALLOW_PRIVATE). */
  logStreamsAllowPrivate: boolean;
  /** Addresses whose X-Forwarded-For is believed (Fastify trustProxy). */
  trustedProxies?: string[];
  loginProtection: { bruteForceThreshold: number; suspiciousIpMax: number; suspiciousIpWindowMs: number };
  clientAuthProtection: Rate;
  /** Tenant-level allowed logout URLs (Auth0's tenant setting `allowed_logout_urls`). */
  allowedLogoutUrls: string[];
  /** TESSERA_DASHBOARD: serve the dashboard and bootstrap its client. */
  dashboard: boolean;
  /** Development-mode settings: set by `tessera dev` only, never from the environment (`tessera serve` cannot set them). */
  dev?: DevSettings;
}

/** What `tessera dev` adds to a configuration. */
export interface DevSettings {
  /** A fixed tenant signing key (PKCS#8 PEM, RSA): made the current key at start, so tokens verify across restarts. */
  signingKey?: string;
  /** The record (certificate included) an earlier start made from `signingKey`: used when it is that key's. */
  signingKeyMade?: SigningKey;
  /** Fresh signing keys generated ahead by an earlier run and never used: a new tenant takes them instead of generating. */
  keysMadeAhead?: SigningKey[];
}

/** `max` events per `windowMs`; max 0 = off. */
export interface Rate { max: number; windowMs: number }

export class ConfigError extends Error {
  constructor(readonly variable: string, message: string) { super(`${variable}: ${message}`); }
}

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function int(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) throw new ConfigError(name, `expected an integer from ${min} to ${max}, got "${raw}"`);
  return Number(raw);
}

export function decodeMasterKey(raw: string, variable = 'TESSERA_MASTER_KEY'): Buffer {
  const s = raw.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(s) ? Buffer.from(s, 'hex') : Buffer.from(s, 'base64');
  if (key.length !== 32) throw new ConfigError(variable, 'expected 32 bytes, as 64 hex characters or base64');
  return key;
}

/** Reads and validates the environment; throws ConfigError naming the variable on a bad value. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const host = env.TESSERA_HOST || '127.0.0.1';
  const port = int(env, 'TESSERA_PORT', 3000, 0, 65535);
  const workers = int(env, 'TESSERA_WORKERS', 1, 1, 64);
  let publicUrl = env.TESSERA_PUBLIC_URL || `http://localhost:${port}`;
  try {
    const u = new URL(publicUrl);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('scheme');
    if (u.search || u.hash) throw new Error('query');
    publicUrl = publicUrl.replace(/\/+$/, '');
  } catch {
    throw new ConfigError('TESSERA_PUBLIC_URL', `expected an absolute http(s) URL without query or fragment, got "${publicUrl}"`);
  }
  const databaseUrl = env.TESSERA_DATABASE_URL || 'sqlite:./data/tessera.db';
  if (!/^(sqlite:.+|postgres(ql)?:\/\/.+)$/.test(databaseUrl)) throw new ConfigError('TESSERA_DATABASE_URL', `expected sqlite:<path> or postgres://…, got "${databaseUrl}"`);
  const logLevel = env.TESSERA_LOG_LEVEL || 'info';
  if (!LEVELS.includes(logLevel)) throw new ConfigError('TESSERA_LOG_LEVEL', `expected one of ${LEVELS.join(', ')}`);
  const adminClientId = env.TESSERA_ADMIN_CLIENT_ID || undefined;
  const adminClientSecret = env.TESSERA_ADMIN_CLIENT_SECRET || undefined;
  if (adminClientId !== undefined && !/^[A-Za-z0-9_.-]{1,128}$/.test(adminClientId)) throw new ConfigError('TESSERA_ADMIN_CLIENT_ID', 'expected 1–128 characters of [A-Za-z0-9_.-]');
  if (adminClientSecret !== undefined && adminClientSecret.length < 16) throw new ConfigError('TESSERA_ADMIN_CLIENT_SECRET', 'must be at least 16 characters');
  if ((adminClientId === undefined) !== (adminClientSecret === undefined)) {
    throw new ConfigError(adminClientId === undefined ? 'TESSERA_ADMIN_CLIENT_ID' : 'TESSERA_ADMIN_CLIENT_SECRET', 'set TESSERA_ADMIN_CLIENT_ID and TESSERA_ADMIN_CLIENT_SECRET together');
  }
  let tls: Config['tls'];
  if (env.TESSERA_TLS_CERT || env.TESSERA_TLS_KEY) {
    if (!env.TESSERA_TLS_CERT) throw new ConfigError('TESSERA_TLS_CERT', 'required when TESSERA_TLS_KEY is set');
    if (!env.TESSERA_TLS_KEY) throw new ConfigError('TESSERA_TLS_KEY', 'required when TESSERA_TLS_CERT is set');
    tls = { cert: readPem(env.TESSERA_TLS_CERT, 'TESSERA_TLS_CERT'), key: readPem(env.TESSERA_TLS_KEY, 'TESSERA_TLS_KEY') };
    checkTlsPair(tls.cert, tls.key, env.TESSERA_TLS_CERT, env.TESSERA_TLS_KEY);
    if (env.TESSERA_MTLS_CA) tls.ca = readPem(env.TESSERA_MTLS_CA, 'TESSERA_MTLS_CA');
  } else if (env.TESSERA_MTLS_CA) throw new ConfigError('TESSERA_MTLS_CA', 'needs TESSERA_TLS_CERT and TESSERA_TLS_KEY (client certificates are only seen when Tessera serves TLS)');
  const hsts = int(env, 'TESSERA_HSTS_MAX_AGE', 31536000, 0, 2 ** 31 - 1);
  const hstsMaxAge = tls || publicUrl.startsWith('https:') ? hsts : undefined;
  const { masterKeys, masterKeyFile } = masterKeysFrom(env, databaseUrl);
  const dpopNonce = env.TESSERA_DPOP_NONCE || 'public_clients';
  if (dpopNonce !== 'public_clients' && dpopNonce !== 'all_clients' && dpopNonce !== 'off') {
    throw new ConfigError('TESSERA_DPOP_NONCE', `expected public_clients, all_clients or off, got "${dpopNonce}"`);
  }
  const mtlsProxy = mtlsProxyFrom(env);
  const passwordPool = {
    threads: int(env, 'TESSERA_PASSWORD_THREADS', Math.max(1, Math.floor(availableParallelism() / 2)), 1, 64),
    queue: int(env, 'TESSERA_PASSWORD_QUEUE', 32, 0, 100_000),
    niceIncrement: int(env, 'TESSERA_PASSWORD_NICE', 19, 0, 19),
  };
  const suspicious = rate(env, 'TESSERA_SUSPICIOUS_IP_THROTTLING', '100/86400');
  let mtlsPort: number | undefined;
  if (env.TESSERA_MTLS_PORT) {
    if (!tls) throw new ConfigError('TESSERA_MTLS_PORT', 'needs TESSERA_TLS_CERT and TESSERA_TLS_KEY (the mTLS port serves HTTPS)');
    mtlsPort = int(env, 'TESSERA_MTLS_PORT', 0, 1, 65535);
    if (mtlsPort === port) throw new ConfigError('TESSERA_MTLS_PORT', `must differ from TESSERA_PORT (${port})`);
  }
  const mtlsPublicUrl = mtlsPublicUrlFrom(env, tls !== undefined || mtlsProxy !== undefined)
    ?? (mtlsPort === undefined ? undefined : `https://${new URL(publicUrl).hostname}:${mtlsPort}`);
  const allowedLogoutUrls = logoutUrlsFrom(env.TESSERA_ALLOWED_LOGOUT_URLS);
  const dashboardSetting = (env.TESSERA_DASHBOARD || 'on').trim();
  if (dashboardSetting !== 'on' && dashboardSetting !== 'off') throw new ConfigError('TESSERA_DASHBOARD', `expected on or off, got "${dashboardSetting}"`);
  return {
    dashboard: dashboardSetting === 'on',
    rateLimits: rateLimitsFrom(env, workers),
    tokenReuse: tokenReuseFrom(env),
    tokenQuotaDefaults: { clients: quotaFrom(env, 'TESSERA_TOKEN_QUOTA_CLIENTS'), organizations: quotaFrom(env, 'TESSERA_TOKEN_QUOTA_ORGANIZATIONS') },
    trustedProxies: addressList(env, 'TESSERA_TRUSTED_PROXIES'),
    loginProtection: { bruteForceThreshold: int(env, 'TESSERA_BRUTE_FORCE_THRESHOLD', 10, 0, 1_000_000), suspiciousIpMax: suspicious.max, suspiciousIpWindowMs: suspicious.windowMs },
    clientAuthProtection: rate(env, 'TESSERA_CLIENT_AUTH_THROTTLING', '20/300'),
    tenantLogs: { enabled: onOff(env, 'TESSERA_TENANT_LOGS', true), retentionDays: int(env, 'TESSERA_LOG_RETENTION_DAYS', 30, 1, 36_500), retentionRows: int(env, 'TESSERA_LOG_RETENTION_ROWS', 1_000_000, 1, 2 ** 31 - 1) },
    logStreamsAllowPrivate: onOff(env, 'TESSERA_LOG_STREAMS_ALLOW_PRIVATE', false),
    host, port, publicUrl, issuer: `${publicUrl}/`, managementAudience: `${publicUrl}/api/v2/`, databaseUrl,
    adminClientId, adminClientSecret, masterKeys, masterKeyFile, tls, hstsMaxAge, logLevel, workers, dpopNonce, passwordPool, allowedLogoutUrls,
    mtlsProxy, mtlsPublicUrl, ...(mtlsPort !== undefined && { mtlsPort }),
  };
}

function tokenReuseFrom(env: NodeJS.ProcessEnv): { enabledByDefault: boolean; minRemaining: number } {
  const raw = env.TESSERA_TOKEN_REUSE || 'off';
  if (raw !== 'on' && raw !== 'off') throw new ConfigError('TESSERA_TOKEN_REUSE', `expected on or off, got "${raw}"`);
  const share = env.TESSERA_TOKEN_REUSE_MIN_REMAINING || '0.5';
  const n = Number(share);
  if (!/^0?\.\d+$/.test(share) || !(n > 0 && n < 1)) throw new ConfigError('TESSERA_TOKEN_REUSE_MIN_REMAINING', `expected a number greater than 0 and less than 1, got "${share}"`);
  return { enabledByDefault: raw === 'on', minRemaining: n };
}

/** `per_hour=<n>,per_day=<n>,enforce=<true|false>` (Auth0's token_quota.client_credentials), or `off`. */
function quotaFrom(env: NodeJS.ProcessEnv, name: string): { enforce?: boolean; per_hour?: number; per_day?: number } | undefined {
  const raw = (env[name] || 'off').trim();
  if (raw === 'off') return undefined;
  const out: { enforce?: boolean; per_hour?: number; per_day?: number } = {};
  for (const part of raw.split(',')) {
    const m = /^\s*(per_hour|per_day|enforce)=([^,\s]+)\s*$/.exec(part);
    if (!m || m[1] in out) throw new ConfigError(name, `expected per_hour=<n>,per_day=<n>,enforce=<true|false> or off, got "${raw}"`);
    if (m[1] === 'enforce') {
      if (m[2] !== 'true' && m[2] !== 'false') throw new ConfigError(name, `enforce must be true or false, got "${m[2]}"`);
      out.enforce = m[2] === 'true';
    } else {
      if (!/^\d{1,10}$/.test(m[2]) || Number(m[2]) < 1 || Number(m[2]) > 2147483647) throw new ConfigError(name, `${m[1]} must be an integer from 1 to 2147483647, got "${m[2]}"`);
      out[m[1] as 'per_hour' | 'per_day'] = Number(m[2]);
    }
  }
  if (out.per_hour === undefined && out.per_day === undefined) throw new ConfigError(name, 'needs per_hour or per_day');
  return out;
}

export { distance };

/** Variables of other parts of Tessera (the deployment verbs) and of its own test and benchmark tooling. */
const OTHER_VARIABLES = /^TESSERA_(DEV_CA_DIR|DEPLOY_(DOMAIN|CLIENT_ID|CLIENT_SECRET|AUDIENCE|INSECURE_HTTP)|FROM_SOURCE|TEST_.*|COMPAT.*|FUZZ_.*|BENCH_.*|JSON_TOO_DEEP)$/;

/**
 * One warning per `TESSERA_*` variable that is no setting: it would be silently ignored, so the closest setting's name
 * is suggested (a misspelling), or the variable is called unknown.
 */
export function unknownVariableWarnings(env: NodeJS.ProcessEnv): string[] {
  const known: string[] = SETTINGS.map((s) => s.env);
  const warnings: string[] = [];
  for (const name of Object.keys(env)) {
    if (!name.startsWith('TESSERA_') || known.includes(name) || OTHER_VARIABLES.test(name)) continue;
    const best = closest(name, known);
    warnings.push(best
      ? `${name} is not a Tessera setting and is ignored: did you mean ${best}?`
      : `${name} is not a Tessera setting and is ignored (see tessera serve --help)`);
  }
  return warnings;
}

function onOff(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (raw === 'on' || raw === 'true') return true;
  if (raw === 'off' || raw === 'false') return false;
  throw new ConfigError(name, `expected on or off, got "${raw}"`);
}

/** `<count>/<seconds>` or `off`. */
function rate(env: NodeJS.ProcessEnv, name: string, fallback: string): Rate {
  const raw = (env[name] || fallback).trim();
  if (raw === 'off') return { max: 0, windowMs: 1000 };
  const m = /^(\d{1,9})\/(\d{1,7})$/.exec(raw);
  if (!m || Number(m[1]) < 1 || Number(m[2]) < 1) throw new ConfigError(name, `expected <count>/<seconds> (e.g. ${fallback}) or off, got "${raw}"`);
  return { max: Number(m[1]), windowMs: Number(m[2]) * 1000 };
}

function rateLimitsFrom(env: NodeJS.ProcessEnv, workers: number): Config['rateLimits'] {
  const redisUrl = env.TESSERA_REDIS_URL || undefined;
  if (redisUrl !== undefined && !/^rediss?:\/\/.+/.test(redisUrl)) throw new ConfigError('TESSERA_REDIS_URL', `expected redis://… or rediss://…, got "${redisUrl}"`);
  const store = env.TESSERA_RATE_LIMIT_STORE || (redisUrl ? 'redis' : workers > 1 ? 'database' : 'memory');
  if (store !== 'memory' && store !== 'database' && store !== 'redis') throw new ConfigError('TESSERA_RATE_LIMIT_STORE', `expected memory, database or redis, got "${store}"`);
  if (store === 'redis' && !redisUrl) throw new ConfigError('TESSERA_RATE_LIMIT_STORE', 'redis needs TESSERA_REDIS_URL');
  return { auth: rate(env, 'TESSERA_RATE_LIMIT_AUTH', '100/1'), management: rate(env, 'TESSERA_RATE_LIMIT_MANAGEMENT', '50/1'), store, redisUrl };
}

function addressList(env: NodeJS.ProcessEnv, name: string): string[] | undefined {
  const raw = env[name];
  if (!raw) return undefined;
  const list = raw.split(',').map((s) => s.trim()).filter(Boolean);
  for (const a of list) {
    const [addr, bits] = a.split('/');
    const family = isIP(addr);
    if (family === 0 || (bits !== undefined && !(/^\d+$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128)))) {
      throw new ConfigError(name, `expected addresses or CIDR ranges, got "${a}"`);
    }
  }
  return list;
}

/** The certificate and key parse and belong together (otherwise the listener would fail later with OpenSSL's words). */
function checkTlsPair(cert: Buffer, key: Buffer, certPath: string, keyPath: string): void {
  let x509: X509Certificate;
  try { x509 = new X509Certificate(cert); } catch { throw new ConfigError('TESSERA_TLS_CERT', `${certPath} is not a PEM certificate`); }
  let privateKey: ReturnType<typeof createPrivateKey>;
  try { privateKey = createPrivateKey(key); } catch { throw new ConfigError('TESSERA_TLS_KEY', `${keyPath} is not an unencrypted PEM private key`); }
  if (!x509.checkPrivateKey(privateKey)) throw new ConfigError('TESSERA_TLS_KEY', `${keyPath} is not the private key of the certificate in ${certPath} (TESSERA_TLS_CERT)`);
}

function readPem(path: string, variable: string): Buffer {
  try { return readFileSync(path); } catch (e) { throw new ConfigError(variable, `cannot read ${path}: ${(e as Error).message}`); }
}

/** The master key list, or (SQLite development setup only) a key generated once into the data folder with mode 0600. */
function masterKeysFrom(env: NodeJS.ProcessEnv, databaseUrl: string): { masterKeys: Buffer[]; masterKeyFile?: string } {
  if (env.TESSERA_MASTER_KEY) {
    return { masterKeys: env.TESSERA_MASTER_KEY.split(',').map((k) => decodeMasterKey(k)) };
  }
  if (!databaseUrl.startsWith('sqlite:') || databaseUrl === 'sqlite::memory:') {
    if (databaseUrl === 'sqlite::memory:') return { masterKeys: [randomBytes(32)] };
    throw new ConfigError('TESSERA_MASTER_KEY', 'required with PostgreSQL (every instance must share it)');
  }
  const file = join(dirname(databaseUrl.slice('sqlite:'.length)), 'master.key');
  try {
    if (!existsSync(file)) {
      mkdirSync(dirname(file), { recursive: true, mode: 0o700 }); // folders Tessera creates are private; existing ones are left alone
      writeFileSync(file, randomBytes(32).toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
    }
    chmodSync(file, 0o600);
    return { masterKeys: [decodeMasterKey(readFileSync(file, 'utf8'), `TESSERA_MASTER_KEY (from ${file})`)], masterKeyFile: file };
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    throw new ConfigError('TESSERA_DATABASE_URL', `cannot write the data folder ${dirname(file)} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}): point it at a writable folder, or set TESSERA_MASTER_KEY`);
  }
}

function mtlsPublicUrlFrom(env: Record<string, string | undefined>, certificatesSeen: boolean): string | undefined {
  const raw = env.TESSERA_MTLS_PUBLIC_URL;
  if (!raw) return undefined;
  if (!certificatesSeen) throw new ConfigError('TESSERA_MTLS_PUBLIC_URL', 'needs TESSERA_TLS_CERT/TESSERA_TLS_KEY or TESSERA_MTLS_PROXY_HEADER (otherwise no client certificate reaches Tessera)');
  let u: URL;
  try { u = new URL(raw); } catch { u = new URL('x:'); }
  if (u.protocol !== 'https:' || u.search || u.hash) throw new ConfigError('TESSERA_MTLS_PUBLIC_URL', `expected an absolute https URL without query or fragment, got "${raw}"`);
  return raw.replace(/\/+$/, '');
}

/** TESSERA_ALLOWED_LOGOUT_URLS: absolute URLs, no script schemes (the same rule as a client's allowed_logout_urls). */
function logoutUrlsFrom(raw: string | undefined): string[] {
  const list = (raw ?? '').split(',').map((u) => u.trim()).filter(Boolean);
  for (const u of list) {
    if (!URL.canParse(u) || /^\s*(javascript|data|vbscript):/i.test(u)) {
      throw new ConfigError('TESSERA_ALLOWED_LOGOUT_URLS', `expected comma-separated absolute URLs, got "${u}"`);
    }
  }
  return list;
}
