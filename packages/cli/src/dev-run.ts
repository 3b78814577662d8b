import { createPrivateKey, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ApiError, ids, type SigningKey } from '@tessera/core';
import { ConfigError, loadConfig, unknownVariableWarnings, type Config } from '@tessera/server/config';
import { createTessera, explainStartupFailure, listen, resetAdminCredentials, type Tessera } from '@tessera/server';
import type { DevOptions } from './dev';
import type { SeedResult } from './dev-seed';
import { devKeysDir, fixedKeyMade, makeKeysAhead, rememberFixedKey, seededKey, takeKeysMadeAhead } from './dev-keys';
import { devCaDir, loopbackTls, type DevTls } from './dev-tls';
import { DeployError } from './deploy/types';

/** What the flags decide; the rest of the TESSERA_* settings apply as in `tessera serve`. */
const FLAG_VARIABLES = { TESSERA_PORT: '--port', TESSERA_HOST: '--host', TESSERA_DATABASE_URL: '--data', TESSERA_PUBLIC_URL: '--port' } as const;

class DevFailure extends Error {
  constructor(message: string, readonly exitCode: number) { super(message); }
}

/** `tessera dev`: start, seed, listen, print what an SDK needs, re-seed on change, clean up on exit. */
export async function runDev(o: DevOptions): Promise<void> {
  const started = performance.now();
  let cleanup = () => undefined as void;
  try {
    const port = await portFrom(o.port, o.host);
    const scheme = o.http ? 'http' : 'https';
    const publicUrl = `${scheme}://localhost:${port}`;
    const data = o.data === undefined ? undefined : resolve(o.data);
    const dir = data ?? mkdtempSync(join(tmpdir(), 'tessera-dev-'));
    if (data === undefined) cleanup = () => rmSync(dir, { recursive: true, force: true });
    else mkdirSync(data, { recursive: true, mode: 0o700 });
    const admin = adminCredentials(data);
    const keysDir = devKeysDir(devCaDir());
    const signingKey = signingKeyFrom(o, keysDir);
    // keys made by an earlier run: the fixed key's certificate, or (a new tenant only) a pair of fresh keys
    const keys = signingKey !== undefined ? { signingKeyMade: fixedKeyMade(keysDir, signingKey) }
      : existsSync(join(dir, 'tessera.db')) ? {} : { keysMadeAhead: takeKeysMadeAhead(keysDir) };
    // the seeding code (YAML, a0deploy's formats, the deployment planner) is loaded only for a run that seeds
    const seeding = o.seed.length ? await import('./dev-seed') : undefined;
    const sources = seeding ? o.seed.map((p) => seeding.classifySeed(p)) : [];
    const keywords = seeding || o.keywords !== undefined ? (await import('./dev-a0deploy')).keywordsFrom(o.keywords, process.env) : {};
    const tls = o.http ? undefined : await loopbackTls(devCaDir());
    const config = devConfig({ port, host: o.host, publicUrl, dir, admin, dashboard: !!o.dashboard, tls, signingKey, ...keys });

    let t: Tessera;
    try {
      t = await createTessera(config, { devMode: true }); // the /tessera/dev controls, loopback callers only
    } catch (e) {
      throw startupFailure(e, config);
    }
    let stopWatching = () => undefined as void;
    const stop = async (code: number) => {
      stopWatching();
      await t.close().catch(() => undefined);
      cleanup();
      process.exit(code);
    };
    try {
      await ensureAdmin(t, admin);
      // with --data, the ids of what the seed holds are kept beside the database: a smaller seed deletes at restart too
      const seeder = seeding && new seeding.Seeder(t, admin, sources, keywords, data === undefined ? undefined : join(data, 'dev-seed.json'));
      const seeded = await seeder?.run();
      await t.dev?.markSeeded(); // what POST /tessera/dev/reset returns to
      try { await listen(t, false); } catch (e) { throw startupFailure(e, config); }
      const ready = Math.round(performance.now() - started);
      announce(t, { admin, tls, data, seeded, ready, signingKey: signingKey !== undefined });
      // after listening, off the start's path: the keys the next run will take instead of making them
      setTimeout(() => {
        void (signingKey !== undefined ? rememberFixedKey(keysDir, signingKey) : makeKeysAhead(keysDir)).catch(() => undefined); // a cache only
      }, 1000).unref();
      if (o.writeEnv) writeFileSync(o.writeEnv, sdkEnv(t, admin, tls).map(([k, v]) => `${k}=${v}`).join('\n') + '\n', { mode: 0o600 });
      if (o.watch && seeder) {
        stopWatching = seeder.watch((r) => {
          if (!(r instanceof Error)) void t.dev?.markSeeded(); // the new seed is what a reset returns to
          process.stderr.write(r instanceof Error ? `tessera dev: seeding failed: ${r.message}\n` : `tessera dev: seeded again (${summary(r)})\n`);
        });
      }
    } catch (e) {
      await t.close().catch(() => undefined);
      throw e;
    }
    process.once('SIGINT', () => { void stop(0); });
    process.once('SIGTERM', () => { void stop(0); });
  } catch (e) {
    cleanup();
    if (e instanceof DevFailure || e instanceof DeployError) {
      process.stderr.write(`tessera dev: cannot start: ${e.message}\n`);
      process.exit(e instanceof DevFailure ? e.exitCode : 1);
    }
    if (e instanceof ApiError) { // the client service refused a seeded client with fixed credentials
      process.stderr.write(`tessera dev: cannot start: seeding failed: ${e.message}\n`);
      process.exit(1);
    }
    throw e;
  }
}

function startupFailure(e: unknown, config: Config): unknown {
  const line = explainStartupFailure(e, config);
  if (line === undefined) return e;
  let out = line;
  for (const [variable, flag] of Object.entries(FLAG_VARIABLES)) out = out.replaceAll(variable, flag);
  return new DevFailure(out, 78);
}

/** `--port 0` is resolved before start: the issuer names the port. */
async function portFrom(raw: string, host: string): Promise<number> {
  if (!/^\d{1,5}$/.test(raw) || Number(raw) > 65535) throw new DevFailure(`--port: expected 0–65535, got "${raw}"`, 78);
  if (Number(raw) !== 0) return Number(raw);
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, host === 'localhost' ? '127.0.0.1' : host, () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => res(port));
    });
  });
}

interface Admin { clientId: string; clientSecret: string }

/**
 * TESSERA_ADMIN_CLIENT_ID/SECRET when set; with --data, the pair made on the first run (kept in the folder, mode
 * 0600); otherwise a new pair per run.
 */
function adminCredentials(data: string | undefined): Admin {
  const { TESSERA_ADMIN_CLIENT_ID: id, TESSERA_ADMIN_CLIENT_SECRET: secret } = process.env;
  if (id && secret) return { clientId: id, clientSecret: secret };
  const file = data === undefined ? undefined : join(data, 'dev-admin.json');
  if (file && existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as Admin;
  const made = { clientId: ids.client(), clientSecret: ids.clientSecret() };
  if (file) writeFileSync(file, JSON.stringify(made) + '\n', { mode: 0o600 });
  return made;
}

/**
 * The admin client answers to the printed credentials with every Management scope (a kept tenant may have had them
 * changed or deleted, or have been started on another port: another Management API audience).
 */
async function ensureAdmin(t: Tessera, admin: Admin): Promise<void> {
  const { store } = t.services;
  const current = await store.clients.findById(admin.clientId);
  const grant = await store.clientGrants.findFor(admin.clientId, t.config.managementAudience, 'client');
  if (t.boot.adminClientId === admin.clientId && current?.client_secret === admin.clientSecret && grant?.allow_all_scopes && grant.scope === undefined) return;
  await resetAdminCredentials(t.services, { managementAudience: t.config.managementAudience, clientId: admin.clientId, secret: admin.clientSecret }, t.logger);
}

function signingKeyFrom(o: DevOptions, keysDir: string): string | undefined {
  if (o.signingKey !== undefined && o.signingSeed !== undefined) throw new DevFailure('--signing-key and --signing-seed exclude each other', 78);
  if (o.signingSeed !== undefined) {
    if (o.signingSeed.length < 8) throw new DevFailure('--signing-seed: use a phrase of at least 8 characters', 78);
    return seededKey(keysDir, o.signingSeed); // derived once per machine
  }
  if (o.signingKey === undefined) return undefined;
  let pem: string;
  try { pem = readFileSync(o.signingKey, 'utf8'); } catch (e) { throw new DevFailure(`--signing-key: cannot read ${o.signingKey} (${(e as NodeJS.ErrnoException).code})`, 78); }
  let key: KeyObject;
  try { key = createPrivateKey(pem); } catch { throw new DevFailure(`--signing-key: ${o.signingKey} is not an unencrypted PEM private key (RSA, PKCS#1 or PKCS#8)`, 78); }
  if (key.asymmetricKeyType !== 'rsa' || (key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) {
    throw new DevFailure(`--signing-key: ${o.signingKey} must be an RSA key of at least 2048 bits (tenant tokens are RS256)`, 78);
  }
  return pem;
}

interface DevConfigInput {
  port: number; host: string; publicUrl: string; dir: string; admin: Admin; dashboard: boolean; tls?: DevTls; signingKey?: string;
  signingKeyMade?: SigningKey; keysMadeAhead?: SigningKey[];
}

/** The configuration of `tessera serve` from the same variables, with the flags' decisions and development defaults. */
function devConfig(c: DevConfigInput): Config {
  const env = process.env;
  const dflt = (name: string, value: string) => env[name] || value;
  const effective: NodeJS.ProcessEnv = {
    ...env,
    TESSERA_HOST: c.host, TESSERA_PORT: String(c.port), TESSERA_PUBLIC_URL: c.publicUrl, TESSERA_DATABASE_URL: `sqlite:${join(c.dir, 'tessera.db')}`,
    TESSERA_ADMIN_CLIENT_ID: c.admin.clientId, TESSERA_ADMIN_CLIENT_SECRET: c.admin.clientSecret, TESSERA_DASHBOARD: c.dashboard ? 'on' : 'off', TESSERA_WORKERS: '1',
    TESSERA_TLS_CERT: '', TESSERA_TLS_KEY: '', TESSERA_MTLS_PORT: '', TESSERA_MTLS_CA: '', TESSERA_MTLS_PUBLIC_URL: '',
    // development defaults: quiet logs, no rate limits in the way of test suites, hashing at normal priority
    TESSERA_LOG_LEVEL: dflt('TESSERA_LOG_LEVEL', 'warn'),
    TESSERA_RATE_LIMIT_AUTH: dflt('TESSERA_RATE_LIMIT_AUTH', 'off'), TESSERA_RATE_LIMIT_MANAGEMENT: dflt('TESSERA_RATE_LIMIT_MANAGEMENT', 'off'),
    TESSERA_PASSWORD_NICE: dflt('TESSERA_PASSWORD_NICE', '0'), TESSERA_LOG_STREAMS_ALLOW_PRIVATE: dflt('TESSERA_LOG_STREAMS_ALLOW_PRIVATE', 'on'),
  };
  for (const w of unknownVariableWarnings(env)) process.stderr.write(`tessera: warning: ${w}\n`);
  let config: Config;
  try {
    config = loadConfig(effective);
  } catch (e) {
    if (e instanceof ConfigError) throw new DevFailure(`invalid configuration: ${e.message}`, 78);
    throw e;
  }
  // no Strict-Transport-Security: a browser would apply it to every port of localhost, other projects included
  return { ...config, tls: c.tls && { cert: c.tls.cert, key: c.tls.key }, hstsMaxAge: undefined, dev: { signingKey: c.signingKey, signingKeyMade: c.signingKeyMade, keysMadeAhead: c.keysMadeAhead } };
}

/** The variables an Auth0 SDK (and the Management client) needs to talk to this tenant. */
function sdkEnv(t: Tessera, admin: Admin, tls: DevTls | undefined): Array<[string, string]> {
  return [
    ['AUTH0_DOMAIN', new URL(t.config.publicUrl).host],
    ['AUTH0_CLIENT_ID', admin.clientId],
    ['AUTH0_CLIENT_SECRET', admin.clientSecret],
    ['AUTH0_AUDIENCE', t.config.managementAudience],
    ['AUTH0_ISSUER_BASE_URL', t.config.issuer],
    ...(tls ? [['NODE_EXTRA_CA_CERTS', tls.caFile] as [string, string]] : []),
  ];
}

const summary = (r: SeedResult) => `${r.created} created, ${r.updated} updated, ${r.deleted} deleted from ${r.sources} source(s)`;

/** The banner, on stderr (stdout carries only log lines), marked as development mode. */
function announce(t: Tessera, a: { admin: Admin; tls?: DevTls; data?: string; seeded?: SeedResult; ready: number; signingKey: boolean }): void {
  const c = t.config;
  const lines = [
    `Tessera listening on ${c.publicUrl} (DEVELOPMENT MODE: a local tenant for development and tests, not for production)`,
    `  domain:               ${new URL(c.publicUrl).host}`,
    `  issuer:               ${c.issuer}`,
    `  Management API:       ${c.managementAudience}`,
    `  admin client_id:      ${a.admin.clientId}`,
    `  admin client_secret:  ${a.admin.clientSecret}`,
    `  database:             ${a.data === undefined ? 'temporary, deleted on exit (--data <dir> keeps it)' : `${a.data} (kept)`}`,
    `  listening on:         ${c.host === 'localhost' ? 'this machine only (127.0.0.1, ::1)' : `${c.host} (reachable from other machines if that address is)`}`,
    `  signing key:          ${a.signingKey ? `fixed (kid ${t.services.keys.currentKid() ?? '?'})` : 'generated for this tenant'}`,
    ...(a.seeded ? [`  seeded:               ${summary(a.seeded)}`] : []),
    ...(a.tls?.created ? [`  local CA:             created ${a.tls.caFile} (kept for later runs)`] : []),
    `  ready in:             ${a.ready} ms`,
    '',
    `For Auth0 SDKs${a.tls ? ' (NODE_EXTRA_CA_CERTS must be set before node starts)' : ''}:`,
    ...sdkEnv(t, a.admin, a.tls).map(([k, v]) => `  export ${k}=${v}`),
  ];
  process.stderr.write(lines.join('\n') + '\n');
}
