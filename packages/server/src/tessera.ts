import { createSecretBox, systemClock, type Clock } from '@tessera/core';
import { openStore, type OpenedStore } from '@tessera/store';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { buildApp } from './app';
import { bootstrap, type BootstrapResult } from './bootstrap';
import type { Config } from './config';
import { createLogger } from './logger';
import { createPasswordPool, type PasswordPool } from './password-pool';
import { buildServices, type Services } from './services';

export interface Tessera {
  app: FastifyInstance;
  services: Services;
  store: OpenedStore;
  config: Config;
  boot: BootstrapResult;
  logger: Logger;
  /** The password hashing pool (worker threads). */
  passwords: PasswordPool;
  /** Stops accepting, lets in-flight requests finish, closes storage. */
  close(): Promise<void>;
}

export interface TesseraOptions { clock?: Clock; logger?: Logger; migrate?: boolean }

/** Opens storage, migrates, bootstraps and builds the app (not listening yet). */
export async function createTessera(config: Config, opts: TesseraOptions = {}): Promise<Tessera> {
  const logger = opts.logger ?? createLogger(config.logLevel);
  const store = openStore(config.databaseUrl, createSecretBox(config.masterKeys));
  let services: Services | undefined;
  let passwords: PasswordPool | undefined;
  try {
    if (opts.migrate !== false) await store.migrate();
    passwords = await createPasswordPool(config.passwordPool);
    services = buildServices(store, opts.clock ?? systemClock, { ...config, passwords: passwords.hasher });
    await services.changes.start();
    const boot = await bootstrap(services, config, logger);
    const app = await buildApp({ services, publicUrl: config.publicUrl, logger, tls: config.tls, mtlsProxy: config.mtlsProxy, mtlsPublicUrl: config.mtlsPublicUrl, hstsMaxAge: config.hstsMaxAge, rateLimits: config.rateLimits, trustedProxies: config.trustedProxies });
    let closed = false;
    return {
      app, services, store, config, boot, logger, passwords,
      async close() {
        if (closed) return;
        closed = true;
        await app.close();
        await services!.changes.stop();
        await passwords!.close();
        await store.close();
      },
    };
  } catch (e) {
    await services?.changes.stop().catch(() => undefined);
    await passwords?.close().catch(() => undefined);
    await store.close().catch(() => undefined);
    throw e;
  }
}

/** Listens and returns the address; SIGTERM/SIGINT close gracefully when `handleSignals` is set. */
export async function listen(t: Tessera, handleSignals = false): Promise<string> {
  const address = await t.app.listen({ host: t.config.host, port: t.config.port });
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
