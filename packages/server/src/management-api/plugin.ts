import {
  bodyScopeMessage, InsufficientScope, missingBodyScopes, requirementMessage, satisfies,
  type BodyScopeRule, type ManagementPrincipal, type ScopeRequirement,
} from '@tessera/core';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { managementBodies } from '../http/validation';
import type { Services } from '../services';
import { clientCredentialRoutes } from './client-credentials';
import type { Limiter } from '../http/rate-limit';
import { clientGrantRoutes } from './client-grants';
import { clientRoutes } from './clients';
import { grantRoutes } from './grants';
import { keysSigningRoutes } from './keys-signing';
import { organizationRoutes } from './organizations';
import { organizationConnectionRoutes } from './organization-connections';
import { connectionRoutes } from './connections';
import { resourceServerRoutes } from './resource-servers';
import { roleRoutes } from './roles';
import { userRoutes } from './users';
import { usersByEmailRoutes } from './users-by-email';
import { authenticationMethodRoutes } from './authentication-methods';
import { userBlockRoutes } from './user-blocks';
import { tesseraUsageRoutes } from './tessera-usage';
import { tenantSettingsRoutes } from './tenant-settings';
import { tesseraExplainRoutes } from './tessera-explain';
import { logRoutes } from './logs';
import { refreshTokenRoutes } from './refresh-tokens';
import { sessionRoutes } from './sessions';
import { logStreamRoutes } from './log-streams';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Any one of these; an array entry needs all of its scopes. */
    scopes?: ScopeRequirement;
    /** Which scopes may send which body fields (checked once the body is parsed, before it is validated). */
    bodyScopes?: BodyScopeRule;
    /** A POST that only reads (a question in a body): not an operation for the tenant log. */
    readOnly?: boolean;
  }
  interface FastifyRequest { principal?: ManagementPrincipal }
}

/** The scopes of the verified caller, for routes that vary what they return by scope. */
export const principalOf = (req: FastifyRequest): ManagementPrincipal => {
  if (!req.principal) throw new Error('management route without principal');
  return req.principal;
};

/**
 * /api/v2: every route declares the scopes it needs next to its definition (`scopes`, and `bodyScopes` for
 * field-level rules); the Bearer token is verified before the body is even parsed, and a body with a field
 * the caller may not change is refused whole before anything runs.
 */
export async function managementApi(app: FastifyInstance, opts: { services: Services; limiter?: Limiter }): Promise<void> {
  const { services } = opts;
  app.decorateRequest('principal', undefined);
  managementBodies(app);
  app.addHook('onRequest', async (req, reply) => {
    const required = req.routeOptions.config.scopes;
    if (!required) return; // 404s and the like: rendered without authentication
    const principal = await services.managementAuth.verify(req.headers.authorization);
    // per client token, as Auth0 limits the Management API; counted before the scope check so refused calls count too
    await opts.limiter?.(req, reply, `m:${principal.clientId ?? principal.sub}`);
    if (!satisfies(principal.scopes, required)) throw new InsufficientScope(requirementMessage(required));
    req.principal = principal;
  });
  app.addHook('preValidation', async (req) => {
    const rule = req.routeOptions.config.bodyScopes;
    if (!rule || !req.principal) return;
    const missing = missingBodyScopes(req.body, rule, req.principal.scopes);
    if (missing.length > 0) throw new InsufficientScope(bodyScopeMessage(missing));
  });
  auditOperations(app, services);
  await app.register(resourceServerRoutes, { services });
  await app.register(clientRoutes, { services });
  await app.register(clientCredentialRoutes, { services });
  await app.register(clientGrantRoutes, { services });
  await app.register(grantRoutes, { services });
  await app.register(keysSigningRoutes, { services });
  await app.register(userRoutes, { services });
  await app.register(usersByEmailRoutes, { services });
  await app.register(userBlockRoutes, { services });
  await app.register(sessionRoutes, { services });
  await app.register(refreshTokenRoutes, { services });
  await app.register(tesseraUsageRoutes, { services });
  await app.register(tenantSettingsRoutes, { services });
  await app.register(tesseraExplainRoutes, { services });
  await app.register(roleRoutes, { services });
  await app.register(organizationRoutes, { services });
  await app.register(organizationConnectionRoutes, { services });
  await app.register(connectionRoutes, { services });
  await app.register(authenticationMethodRoutes, { services });
  await app.register(logRoutes, { services });
  await app.register(logStreamRoutes, { services });
}

/** The id a create answered with (the resource id of its sapi event). */
function createdIdOf(payload: unknown): string | undefined {
  if (typeof payload !== 'string' || payload.length > 1_000_000) return undefined;
  try {
    const body = JSON.parse(payload) as Record<string, unknown>;
    const id = body.id ?? body.client_id ?? body.user_id ?? body.kid;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}

/**
 * sapi / fapi: every Management operation that changes something (any method but GET/HEAD), once answered, with the
 * operation (the route's summary), the resource id and the status; reads are not logged, as at Auth0. Never the body.
 */
function auditOperations(app: FastifyInstance, services: Services): void {
  // onSend: the status is final and the created id is in the payload; recording only queues the event
  app.addHook('onSend', async (req, reply, payload) => {
    if (req.method === 'GET' || req.method === 'HEAD' || !req.routeOptions.config.scopes || req.routeOptions.config.readOnly) return payload;
    const params = (req.params ?? {}) as Record<string, string>;
    const id = params.id ?? params.client_id ?? params.user_id ?? params.kid ?? (req.method === 'POST' && reply.statusCode === 201 ? createdIdOf(payload) : undefined);
    const ok = reply.statusCode < 400;
    const clientId = req.principal?.clientId;
    const client = clientId ? await services.directory.client(clientId).catch(() => undefined) : undefined;
    services.events.record({
      type: ok ? 'sapi' : 'fapi',
      description: req.routeOptions.schema?.summary,
      client_id: clientId, client_name: client?.client.name, ip: req.ip, user_agent: req.headers['user-agent']?.slice(0, 512),
      details: {
        request: { method: req.method, path: req.routeOptions.url, ...(id !== undefined && { id }) },
        response: { statusCode: reply.statusCode },
      },
    });
    return payload;
  });
}
