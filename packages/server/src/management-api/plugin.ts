import { InsufficientScope, type ManagementPrincipal } from '@tessera/core';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { managementBodies } from '../http/validation';
import type { Services } from '../services';
import { clientGrantRoutes } from './client-grants';
import { clientRoutes } from './clients';
import { grantRoutes } from './grants';
import { keysSigningRoutes } from './keys-signing';
import { organizationRoutes } from './organizations';
import { resourceServerRoutes } from './resource-servers';
import { roleRoutes } from './roles';
import { userRoutes } from './users';

declare module 'fastify' {
  interface FastifyContextConfig { scopes?: readonly string[] }
  interface FastifyRequest { principal?: ManagementPrincipal }
}

/** The scopes of the verified caller, for routes that vary what they return by scope. */
export const principalOf = (req: FastifyRequest): ManagementPrincipal => {
  if (!req.principal) throw new Error('management route without principal');
  return req.principal;
};

/**
 * /api/v2: every route declares the scopes it needs (any of) next to its definition; the Bearer token is
 * verified before the body is even parsed.
 */
export async function managementApi(app: FastifyInstance, opts: { services: Services }): Promise<void> {
  const { services } = opts;
  app.decorateRequest('principal', undefined);
  managementBodies(app);
  app.addHook('onRequest', async (req) => {
    const required = req.routeOptions.config.scopes;
    if (!required) return; // 404s and the like: rendered without authentication
    const principal = await services.managementAuth.verify(req.headers.authorization);
    if (!required.some((s) => principal.scopes.has(s))) throw new InsufficientScope(`Insufficient scope, expected any of: ${required.join(',')}`);
    req.principal = principal;
  });
  await app.register(resourceServerRoutes, { services });
  await app.register(clientRoutes, { services });
  await app.register(clientGrantRoutes, { services });
  await app.register(grantRoutes, { services });
  await app.register(keysSigningRoutes, { services });
  await app.register(userRoutes, { services });
  await app.register(roleRoutes, { services });
  await app.register(organizationRoutes, { services });
}
