import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Services } from '../services';
import { currentSession, endSession, page } from './browser';
import { loggedOutPage } from './pages/pages';

/** Single-valued string parameters; a repeated parameter counts as absent (it cannot be trusted either way). */
function paramsOf(source: unknown): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries((source ?? {}) as Record<string, unknown>)) if (typeof v === 'string') out[k] = v;
  return out;
}

/**
 * Logout: Auth0's `GET /v2/logout` and OIDC RP-Initiated Logout `GET|POST /oidc/logout`. The target is checked first;
 * a refused request renders an error page and ends nothing. Otherwise the login session ends (the stored session is
 * deleted and the cookie expired) and the browser goes to the checked URL, or to a "logged out" page.
 */
export async function logoutRoutes(app: FastifyInstance, { services }: { services: Services }): Promise<void> {
  const { logout } = services.userFlows;
  const finish = async (req: FastifyRequest, reply: FastifyReply, redirect: string | undefined, clientId: string | undefined) => {
    const session = await currentSession(req, services);
    await endSession(req, reply, services);
    services.events.record({
      type: 'slo', client_id: clientId, ip: req.ip,
      user_agent: req.headers['user-agent']?.slice(0, 512), user_id: session?.user.user_id, user_name: session?.user.email,
    });
    if (redirect === undefined) return loggedOutPage(reply);
    return reply.code(302).header('cache-control', 'no-store').header('location', redirect).send();
  };
  app.get('/v2/logout', { schema: { summary: 'Logs the user out (Auth0): ends the login session, then redirects to returnTo', tags: ['authentication'] } },
    (req, reply) => page(reply, async () => {
      const p = paramsOf(req.query);
      // `federated` is accepted and has no effect: Tessera has no upstream identity provider to log out of
      const outcome = await logout.auth0({ client_id: p.client_id, returnTo: p.returnTo });
      return finish(req, reply, outcome.redirect, p.client_id);
    }));
  const oidc = (req: FastifyRequest, reply: FastifyReply) => page(reply, async () => {
    const p = paramsOf(req.method === 'POST' ? req.body : req.query);
    const outcome = await logout.oidc({
      id_token_hint: p.id_token_hint, client_id: p.client_id, post_logout_redirect_uri: p.post_logout_redirect_uri, state: p.state, logout_hint: p.logout_hint,
    });
    return finish(req, reply, outcome.redirect, p.client_id);
  });
  app.get('/oidc/logout', { schema: { summary: 'OpenID Connect RP-Initiated Logout: ends the login session', tags: ['authentication'] } }, oidc);
  app.post('/oidc/logout', { schema: { summary: 'OpenID Connect RP-Initiated Logout (form-encoded parameters)', tags: ['authentication'] } }, oidc);
}
