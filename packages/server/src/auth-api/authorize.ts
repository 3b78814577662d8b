import { AuthorizeRedirect } from '@tessera/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Services } from '../services';
import { continueAuthorization, currentSession, page, sendAuthorizeResponse, silentAuthEvent } from './browser';

/**
 * GET /authorize (RFC 6749 §3.1, OIDC Core §3.1.2): validates the request, reuses the login session unless
 * prompt=login or max_age say otherwise, and either answers at once or sends the browser to the login page.
 */
export async function authorizeRoutes(app: FastifyInstance, { services }: { services: Services }): Promise<void> {
  const handler = (req: FastifyRequest, reply: FastifyReply) => page(reply, async () => {
    const { authorize } = services.userFlows;
    const params = (req.method === 'POST' ? req.body : req.query) as Record<string, unknown>;
    const flat: Record<string, string | undefined> = {};
    for (const [k, v] of Object.entries(params ?? {})) if (typeof v === 'string') flat[k] = v;
    let request;
    try {
      request = await authorize.parse(flat);
    } catch (e) {
      if (e instanceof AuthorizeRedirect) return sendAuthorizeResponse(reply, authorize.errorResponse({ redirectUri: e.target.redirectUri, responseMode: e.target.mode, state: e.target.state }, e.error));
      throw e;
    }
    const session = await currentSession(req, services);
    if (session && authorize.sessionUsable(request, session.authTime)) return continueAuthorization(reply, services, request, session);
    if (request.prompt.includes('none')) {
      silentAuthEvent(req, services, request.clientId, 'fsa', 'Login required');
      return sendAuthorizeResponse(reply, authorize.loginRequired(request));
    }
    return reply.code(302).header('cache-control', 'no-store').header('location', `/u/login?state=${encodeURIComponent(authorize.seal(request))}`).send();
  });
  app.get('/authorize', { schema: { summary: 'Authorization endpoint: starts a login (hosted pages) for a user', tags: ['authentication'] } }, handler);
  app.post('/authorize', { schema: { summary: 'Authorization endpoint (form-encoded parameters)', tags: ['authentication'] } }, handler);
}
