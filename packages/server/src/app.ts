import Fastify, { LogController, type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import type { Logger } from 'pino';
import { ApiError, OAuthError } from '@tessera/core';
import { discoveryRoutes } from './auth-api/discovery';
import { tokenRoutes } from './auth-api/token';
import { parRoutes } from './auth-api/par';
import { authorizeRoutes } from './auth-api/authorize';
import { consentRoutes } from './auth-api/consent';
import { loginRoutes } from './auth-api/login';
import { revokeRoutes } from './auth-api/revoke';
import { mfaRoutes } from './auth-api/mfa';
import { mfaPageRoutes } from './auth-api/mfa-pages';
import { userinfoRoutes } from './auth-api/userinfo';
import { logoutRoutes } from './auth-api/logout';
import { corsRoutes } from './http/cors';
import { errorHandler, notFoundHandler } from './http/errors';
import { registerFormParser } from './http/form';
import { registerHostileInputChecks } from './http/hostile-input';
import { lazyChildLogger } from './logger';
import { validatorCompiler } from './http/validation';
import { deferredSchemas } from './http/deferred-compile';
import { managementApi } from './management-api/plugin';
import { opsRoutes } from './ops/health';
import type { MtlsProxy } from './mtls-proxy';
import type { Services } from './services';
import { registerRateLimits, type RateLimitSettings } from './http/rate-limit';
import { limitAuthenticationApi } from './auth-api/rate-limit-keys';
import { dashboardRoutes } from './dashboard/routes';
import { docsRoutes } from './docs/routes';
import { openapiOptions } from './openapi';
import type { DevControls } from './dev/controls';
import { DEV_PREFIX, devRoutes } from './dev/routes';

export interface AppOptions {
  services: Services;
  publicUrl: string;
  logger: Logger;
  tls?: { cert: Buffer; key: Buffer; ca?: Buffer };
  mtlsProxy?: MtlsProxy;
  /** Advertised as discovery's mtls_endpoint_aliases (the same listener under another name, or the mTLS port). */
  mtlsPublicUrl?: string;
  /** A separate mTLS listener asks for client certificates (TESSERA_MTLS_PORT); this one then does not. */
  separateMtlsListener?: boolean;
  /** Strict-Transport-Security max-age sent on every response (HTTPS deployments); undefined sends none. */
  hstsMaxAge?: number;
  bodyLimit?: number;
  /** Auth0-style rate limits (TESSERA_RATE_LIMIT_*); absent = none. */
  rateLimits?: RateLimitSettings;
  /** Reverse proxies whose X-Forwarded-For names the client address. */
  trustedProxies?: string[];
  /** TESSERA_DASHBOARD: serve /dashboard (and redirect / there). */
  dashboard?: boolean;
  /** The dashboard's SPA client, handed to the dashboard in /dashboard/config.json. */
  dashboardClientId?: string;
  /** Development mode: the test controls under /tessera/dev and fault injection. Never set by `tessera serve`. */
  dev?: DevControls;
}

/** TLS options of a listener that asks for (never demands) a client certificate, CAs from TESSERA_MTLS_CA. */
export function mtlsServerOptions(tls: { cert: Buffer; key: Buffer; ca?: Buffer }) {
  return { cert: tls.cert, key: tls.key, requestCert: true, rejectUnauthorized: false, ...(tls.ca && { ca: tls.ca }) };
}

declare module 'fastify' {
  interface FastifyRequest { failure?: Error }
}

/**
 * The process log: one line per answered request (route, status, latency, client, and for the Management API the
 * resource id). `/oauth/token` writes its successes at `debug` (the hot path logs nothing at `info`) and its failures
 * at `info` with the OAuth error and the description of the check that refused.
 */
function processLog(app: FastifyInstance, logger: Logger): void {
  app.decorateRequest('failure', undefined);
  app.addHook('onError', async (req, _reply, err) => { req.failure = err; });
  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url;
    const status = reply.statusCode;
    const token = route === '/oauth/token';
    const level = token && status < 400 ? 'debug' : 'info';
    if (!logger.isLevelEnabled(level)) return;
    const line: Record<string, unknown> = {
      reqId: req.id, req: { method: req.method, route: route ?? null }, res: { statusCode: status }, responseTime: Math.round(reply.elapsedTime * 100) / 100,
    };
    const body = req.body as Record<string, unknown> | undefined;
    const clientId = req.principal?.clientId ?? (token && typeof body?.client_id === 'string' ? body.client_id : undefined);
    if (clientId !== undefined) line.client_id = clientId;
    if (route?.startsWith('/api/v2/')) {
      const params = (req.params ?? {}) as Record<string, string>;
      const id = params.id ?? params.client_id ?? params.user_id ?? params.kid;
      if (id !== undefined) line.resource_id = id;
    }
    const f = req.failure as (Error & { code?: string; status?: number }) | undefined;
    if (f instanceof OAuthError) { line.error = f.code; line.error_description = f.message; }
    else if (f instanceof ApiError) { line.error = f.errorCode; line.error_description = f.message; }
    logger[level](line, 'request completed');
  });
}

/** The HTTP application: routes, the two error renderers, schemas in and out. No listening here. */
export async function buildApp(opts: AppOptions): Promise<FastifyInstance> {
  const hsts = opts.hstsMaxAge === undefined ? undefined : `max-age=${opts.hstsMaxAge}`;
  // validators and response serializers are compiled on each route's first use, not at start (http/deferred-compile.ts)
  const schemas = deferredSchemas(validatorCompiler);
  const app = Fastify({
    schemaController: schemas.schemaController,
    loggerInstance: opts.logger,
    childLoggerFactory: lazyChildLogger as never, // per-request loggers built only when they write
    bodyLimit: opts.bodyLimit ?? 1024 * 1024,
    // RFC 8705: ask for (never demand) a client certificate; any certificate is accepted at the handshake and
    // only matters where a token is bound to it or a client authenticates with it
    ...(opts.tls ? { https: opts.separateMtlsListener ? { cert: opts.tls.cert, key: opts.tls.key } : mtlsServerOptions(opts.tls) } : {}),
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    routerOptions: { maxParamLength: 2048, ignoreTrailingSlash: true },
    requestIdHeader: false,
    logController: new LogController({ disableRequestLogging: true }), // one line per request, written by the onResponse hook below
    ...(opts.trustedProxies ? { trustProxy: opts.trustedProxies } : {}),
    ajv: { customOptions: { strict: false } },
    // bad percent-encoding and over-long path parameters are rendered by the two renderers too
    // (they bypass the hooks, so Strict-Transport-Security is added here as well)
    frameworkErrors: (err, req, reply) => { if (hsts) reply.header('strict-transport-security', hsts); return errorHandler(err, req, reply); },
  }) as unknown as FastifyInstance;
  schemas.register(app);
  app.setValidatorCompiler(schemas.validatorCompiler);
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler(notFoundHandler);
  registerFormParser(app);
  if (hsts) {
    // onSend runs for every reply, errors and 404s included
    app.addHook('onSend', async (_req, reply, payload) => { reply.header('strict-transport-security', hsts); return payload; });
  }
  registerHostileInputChecks(app);
  processLog(app, opts.logger);
  opts.dev?.faults.register(app, DEV_PREFIX);
  await app.register(swagger, openapiOptions(opts.publicUrl, opts.dev !== undefined));
  const { services } = opts;
  const limits = opts.rateLimits ? await registerRateLimits(app, opts.rateLimits, services.store.abuse, opts.logger) : {};
  if (limits.auth) limitAuthenticationApi(app, services, limits.auth);
  await app.register(opsRoutes, { services });
  await app.register(discoveryRoutes, { services, publicUrl: opts.publicUrl, mtls: opts.tls !== undefined || opts.mtlsProxy !== undefined, trustedCa: opts.tls?.ca !== undefined, mtlsPublicUrl: opts.mtlsPublicUrl });
  const certificates = { trustedCa: opts.tls?.ca !== undefined, proxy: opts.mtlsProxy };
  const selfOrigin = new URL(opts.publicUrl).origin;
  await app.register(tokenRoutes, { services, certificates, selfOrigin });
  await app.register(parRoutes, { services, certificates });
  await app.register(userinfoRoutes, { services, certificates, selfOrigin });
  await app.register(revokeRoutes, { services, selfOrigin });
  await app.register(corsRoutes);
  for (const routes of [authorizeRoutes, loginRoutes, consentRoutes, logoutRoutes, mfaRoutes, mfaPageRoutes]) await app.register(routes, { services });
  if (opts.dashboard !== false) await app.register(dashboardRoutes, { services, publicUrl: opts.publicUrl, dashboardClientId: opts.dashboardClientId });
  await app.register(managementApi, { services, prefix: '/api/v2', limiter: limits.management });
  if (opts.dev) await app.register(devRoutes, { services, controls: opts.dev, publicUrl: opts.publicUrl, prefix: DEV_PREFIX });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  await app.register(docsRoutes);
  return app;
}
