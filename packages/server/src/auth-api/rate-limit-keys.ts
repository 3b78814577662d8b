import { parseBasicAuth } from '@tessera/core';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Limiter } from '../http/rate-limit';
import type { Services } from '../services';

/** The Authentication API routes that are rate limited (Auth0 limits these per client or address). */
const LIMITED = new Set(['/oauth/token', '/oauth/par', '/oauth/revoke', '/authorize', '/u/login', '/u/consent', '/userinfo']);

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 && v.length <= 256 ? v : undefined);

/** The client a request names, before it is authenticated: body or query `client_id`, Basic user, or the login transaction's client. */
function namedClient(req: FastifyRequest, services: Services): string | undefined {
  const body = req.body as Record<string, unknown> | undefined;
  const query = req.query as Record<string, unknown> | undefined;
  const basic = parseBasicAuth(req.headers.authorization);
  const direct = (typeof basic === 'object' ? basic.clientId : undefined) ?? str(body?.client_id) ?? str(query?.client_id);
  if (direct) return direct;
  const state = str(body?.state) ?? str(query?.state);
  if (state && req.url.startsWith('/u/')) {
    try { return services.userFlows.authorize.open(state).clientId; } catch { return undefined; }
  }
  return undefined;
}

/**
 * Keys each Authentication API request by the client it names when that client exists (one bucket per
 * application, as Auth0 does), otherwise by the caller's address, so invented client_ids cannot buy fresh buckets.
 * Runs once the body is parsed and before it is validated.
 */
export function limitAuthenticationApi(app: FastifyInstance, services: Services, limiter: Limiter): void {
  app.addHook('preValidation', async (req, reply) => {
    if (!LIMITED.has(req.routeOptions.url ?? '')) return;
    const clientId = namedClient(req, services);
    const known = clientId !== undefined && (await services.directory.client(clientId)) !== undefined;
    await limiter(req, reply, known ? `a:c:${clientId}` : `a:ip:${req.ip}`);
  });
}
