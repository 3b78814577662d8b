import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Services } from '../services';
import { continueAuthorization, csrfToken, csrfValid, currentSession, field, page, sendAuthorizeResponse } from './browser';
import { consentPage, errorPage } from './pages/pages';

/** The consent page: the requested scopes with their descriptions; the answer is remembered per user, client and API. */
export async function consentRoutes(app: FastifyInstance, { services }: { services: Services }): Promise<void> {
  const { authorize } = services.userFlows;
  const toLogin = (reply: FastifyReply, state: string) =>
    reply.code(302).header('cache-control', 'no-store').header('location', `/u/login?state=${encodeURIComponent(state)}`).send();

  app.get('/u/consent', { schema: { summary: 'Consent page', tags: ['authentication'] } }, (req, reply) => page(reply, async () => {
    const state = (req.query as Record<string, unknown>).state as string | undefined;
    const tx = authorize.open(state);
    const login = await currentSession(req, services);
    if (!login) return toLogin(reply, state as string);
    const outcome = await authorize.proceed(tx, login);
    if (outcome.kind === 'respond') return sendAuthorizeResponse(reply, outcome.response);
    const { client, decision } = outcome;
    const described = new Map((decision.api.scopes ?? []).map((s) => [s.value, s.description]));
    return consentPage(reply, {
      state: state as string, csrf: csrfToken(req, reply, services, state as string), clientName: client.name,
      apiName: decision.userinfoOnly ? 'profile' : decision.api.name ?? decision.api.identifier, userEmail: login.user.email,
      redirectUri: tx.redirectUri, scopes: decision.scopes.map((value) => ({ value, description: described.get(value) })),
    });
  }));

  app.post('/u/consent', { schema: { summary: 'Consent form submission', tags: ['authentication'] } }, (req: FastifyRequest, reply) => page(reply, async () => {
    const state = field(req.body, 'state');
    const tx = authorize.open(state);
    if (!csrfValid(req, services, state as string, field(req.body, 'csrf'))) {
      return errorPage(reply, 403, 'invalid_request', 'The form has expired or was not submitted from this site. Go back and try again.');
    }
    const login = await currentSession(req, services);
    if (!login) return toLogin(reply, state as string);
    const action = field(req.body, 'action');
    if (action === 'deny') return sendAuthorizeResponse(reply, authorize.denied(tx));
    if (action !== 'accept') return errorPage(reply, 400, 'invalid_request', 'Choose Accept or Decline.');
    return continueAuthorization(reply, services, tx, login, true);
  }));
}
