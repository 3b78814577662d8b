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

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Any one of these; an array entry needs all of its scopes. */
    scopes?: ScopeRequirement;
    /** Which scopes may send which body fields (checked once the body is parsed, before it is validated). */
    bodyScopes?: BodyScopeRule;
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
  await app.register(resourceServerRoutes, { services });
  await app.register(clientRoutes, { services });
  await app.register(clientCredentialRoutes, { services });
  await app.register(clientGrantRoutes, { services });
  await app.register(grantRoutes, { services });
  await app.register(keysSigningRoutes, { services });
  await app.register(userRoutes, { services });
  await app.register(usersByEmailRoutes, { services });
  await app.register(userBlockRoutes, { services });
  await app.register(tesseraUsageRoutes, { services });
  await app.register(roleRoutes, { services });
  await app.register(organizationRoutes, { services });
  await app.register(organizationConnectionRoutes, { services });
  await app.register(connectionRoutes, { services });
  await app.register(authenticationMethodRoutes, { services });
}
