import { AdjustableClock, createSecretBox, systemClock, type Clock, type ScryptParams } from '@tessera/core';
import { openStore, type OpenedStore } from '@tessera/store';
import { markMtlsListener } from './http/mtls-listener';
import { createServer, type Server } from 'node:https';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { buildApp, mtlsServerOptions } from './app';
import { bootstrap, type BootstrapResult } from './bootstrap';
import type { Config } from './config';
import { createLogger } from './logger';
import { DevControls, type DevModeOptions } from './dev/controls';
import { createPasswordPool, type PasswordPool } from './password-pool';
import { buildServices, type Services } from './services';
import { createRedisQuotaCounters, type RedisQuotaCounters } from './token-quota-redis';

export interface Tessera {
  app: FastifyInstance;
  services: Services;
  store: OpenedStore;
  config: Config;
  boot: BootstrapResult;
  logger: Logger;
  /** The password hashing pool (worker threads). */
  passwords: PasswordPool;
  /** Development mode's test controls (snapshots, clock, faults, minting); absent otherwise. */
  dev?: DevControls;
  /**
   * Starts the separate mTLS listener (TESSERA_MTLS_PORT, on TESSERA_HOST; `port` overrides it) serving the same app;
   * returns its port, or undefined when none is configured.
   */
  listenMtls(port?: number): Promise<number | undefined>;
  /** Stops accepting, lets in-flight requests finish, closes storage. */
  close(): Promise<void>;
}

export interface TesseraOptions {
  clock?: Clock; logger?: Logger; migrate?: boolean;
  /**
   * Development mode: the test controls under /tessera/dev, a clock they can move forward, and a seed snapshot
   * taken after bootstrap (take it again with `dev.markSeeded()` after seeding). Loopback callers only unless
   * `allowRemote` (default: whether TESSERA_HOST is not a loopback address).
   */
  devMode?: boolean | DevModeOptions;
  /** scrypt cost of new password hashes (default N=2^15): suites that only count logins pass a cheaper one. */
  passwordParams?: ScryptParams;
}

const isLoopbackHost = (host: string) => host === 'localhost' || host === '::1' || /^127\./.test(host);

/** Opens storage, migrates, bootstraps and builds the app (not listening yet). */
export async function createTessera(config: Config, opts: TesseraOptions = {}): Promise<Tessera> {
  const logger = opts.logger ?? createLogger(config.logLevel);
  const store = openStore(config.databaseUrl, createSecretBox(config.masterKeys));
  let services: Services | undefined;
  let passwords: PasswordPool | undefined;
  let quotaRedis: RedisQuotaCounters | undefined;
  try {
    if (opts.migrate !== false) await store.migrate();
    passwords = await createPasswordPool({ ...config.passwordPool, params: opts.passwordParams });
    quotaRedis = config.rateLimits.redisUrl ? await createRedisQuotaCounters(config.rateLimits.redisUrl, logger) : undefined;
    const devClock = opts.devMode ? new AdjustableClock(opts.clock ?? systemClock) : undefined;
    services = buildServices(store, devClock ?? opts.clock ?? systemClock, {
      ...config, passwords: passwords.hasher, quotaCounters: quotaRedis?.counters, tenantLogs: config.tenantLogs,
      onEventLogError: (e) => logger.error({ err: e }, 'tenant log events could not be written'),
      onUsageFlushError: (e) => logger.warn({ err: e }, 'token usage: counts not stored yet (kept for the next flush)'),
    });
    services.events.startRetention();
    const delivery = services.logStreamDelivery;
    services.events.onWritten = () => delivery.wake();
    delivery.start();
    await services.changes.start();
    services.m2m.usage.start();
    if (config.dev?.signingKey !== undefined) await services.signingKeys.useFixed(config.dev.signingKey, config.dev.signingKeyMade); // before bootstrap: no key generated
    const boot = await bootstrap(services, config, logger);
    let dev: DevControls | undefined;
    if (devClock) {
      const devOptions = typeof opts.devMode === 'object' ? opts.devMode : {};
      dev = new DevControls(store, services, devClock, { allowRemote: devOptions.allowRemote ?? !isLoopbackHost(config.host) });
      await dev.markSeeded();
    }
    const app = await buildApp({
      services, publicUrl: config.publicUrl, logger, tls: config.tls, mtlsProxy: config.mtlsProxy, mtlsPublicUrl: config.mtlsPublicUrl,
      hstsMaxAge: config.hstsMaxAge, rateLimits: config.rateLimits, trustedProxies: config.trustedProxies,
      separateMtlsListener: config.mtlsPort !== undefined, dashboard: config.dashboard, dashboardClientId: boot.dashboardClientId, dev,
    });
    let closed = false;
    let mtlsServer: Server | undefined;
    return {
      app, services, store, config, boot, logger, passwords, dev,
      async listenMtls(port = config.mtlsPort) {
        if (config.mtlsPort === undefined || !config.tls || port === undefined) return undefined;
        await app.ready();
        // RFC 8705 §5: the same routes, hooks and renderers, on a port whose handshake asks for a client certificate
        const server = createServer(mtlsServerOptions(config.tls), (req, res) => { markMtlsListener(req); app.routing(req, res); });
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen(port, config.host, () => { server.off('error', reject); resolve(); });
        });
        mtlsServer = server;
        return (server.address() as { port: number }).port;
      },
      async close() {
        if (closed) return;
        closed = true;
        const server = mtlsServer;
        const mtlsClosed = server && new Promise<void>((resolve) => server.close(() => resolve()));
        server?.closeIdleConnections();
        await app.close(); // in-flight requests on either port finish first
        server?.closeAllConnections();
        await mtlsClosed;
        await services!.events.close(); // queued tenant log events are written before storage closes
        await services!.logStreamDelivery.stop();
        await services!.changes.stop();
        await services!.m2m.usage.stop().catch((e) => logger.warn({ err: e }, 'token usage: last counts not stored'));
        await quotaRedis?.close();
        await passwords!.close();
        await store.close();
      },
    };
  } catch (e) {
    await services?.events.close().catch(() => undefined);
    await services?.logStreamDelivery.stop().catch(() => undefined);
    await services?.changes.stop().catch(() => undefined);
    await quotaRedis?.close().catch(() => undefined);
    await passwords?.close().catch(() => undefined);
    await store.close().catch(() => undefined);
    throw e;
  }
}

/** Listens and returns the address; SIGTERM/SIGINT close gracefully when `handleSignals` is set. */
export async function listen(t: Tessera, handleSignals = false): Promise<string> {
  const address = await t.app.listen({ host: t.config.host, port: t.config.port });
  await t.listenMtls();
  if (handleSignals) {
    const stop = (signal: string) => {
      t.logger.info({ signal }, 'shutting down: finishing in-flight requests');
      t.close().then(() => process.exit(0), (e) => { t.logger.error(e); process.exit(1); });
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  }
  return address;
}
