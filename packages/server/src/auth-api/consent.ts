import type { AuthorizeRequest, LoginState, Outcome } from '@tessera/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Services } from '../services';
import { continueAuthorization, csrfToken, csrfValid, currentSession, field, freshMfa, page, sendAuthorizeResponse, toMfa } from './browser';
import { consentPage, errorPage } from './pages/pages';

type ConsentOutcome = Extract<Outcome, { kind: 'consent' }>;

/**
 * The consent page: the requested scopes with their descriptions and any authorization details (RFC 9396); the
 * answer is remembered per user, client and API for scopes, never for authorization details.
 * A transactional consent (consent_policy `transactional-authorization-with-mfa` with authorization_details) is
 * asked every time, never remembered, and approved only with a second factor passed for this transaction: the one
 * of its login or enrollment, or a code typed on this page; a user without a second factor enrolls first.
 */
export async function consentRoutes(app: FastifyInstance, { services }: { services: Services }): Promise<void> {
  const { authorize, mfa, sessions } = services.userFlows;
  const toLogin = (reply: FastifyReply, state: string) =>
    reply.code(302).header('cache-control', 'no-store').header('location', `/u/login?state=${encodeURIComponent(state)}`).send();

  const render = (req: FastifyRequest, reply: FastifyReply, state: string, tx: AuthorizeRequest, login: LoginState, outcome: ConsentOutcome, o: { mfaCode: boolean; error?: string }, status = 200) => {
    const { client, decision } = outcome;
    const described = new Map((decision.api.scopes ?? []).map((s) => [s.value, s.description]));
    return consentPage(reply, {
      state, csrf: csrfToken(req, reply, services, state), clientName: client.name,
      apiName: decision.userinfoOnly ? 'profile' : decision.api.name ?? decision.api.identifier, userEmail: login.user.email,
      redirectUri: tx.redirectUri, scopes: decision.scopes.map((value) => ({ value, description: described.get(value) })),
      details: tx.authorizationDetails, mfaCode: o.mfaCode, error: o.error,
    }, status);
  };

  app.get('/u/consent', { schema: { summary: 'Consent page', tags: ['authentication'] } }, (req, reply) => page(reply, async () => {
    const state = (req.query as Record<string, unknown>).state as string | undefined;
    const { req: tx, extras } = authorize.openTx(state);
    const login = await currentSession(req, services);
    if (!login) return toLogin(reply, state as string);
    const fresh = freshMfa(extras, login);
    const outcome = await authorize.proceed(tx, login, false, fresh);
    if (outcome.kind === 'respond') return sendAuthorizeResponse(reply, outcome.response);
    let mfaCode = false;
    if (outcome.transactional && !authorize.mfaFresh(fresh)) {
      if ((await mfa.state(login.user.user_id)) !== 'enrolled') return toMfa(reply, authorize.seal(tx));
      mfaCode = true;
    }
    return render(req, reply, state as string, tx, login, outcome, { mfaCode });
  }));

  app.post('/u/consent', { schema: { summary: 'Consent form submission', tags: ['authentication'] } }, (req: FastifyRequest, reply) => page(reply, async () => {
    const state = field(req.body, 'state');
    const { req: tx, extras } = authorize.openTx(state);
    if (!csrfValid(req, services, state as string, field(req.body, 'csrf'))) {
      return errorPage(reply, 403, 'invalid_request', 'The form has expired or was not submitted from this site. Go back and try again.');
    }
    const login = await currentSession(req, services);
    if (!login) return toLogin(reply, state as string);
    const action = field(req.body, 'action');
    if (action === 'deny') return sendAuthorizeResponse(reply, authorize.denied(tx));
    if (action !== 'accept') return errorPage(reply, 400, 'invalid_request', 'Choose Accept or Decline.');
    let fresh = freshMfa(extras, login);
    const code = field(req.body, 'code');
    if (!authorize.mfaFresh(fresh) && code !== undefined && code !== '') {
      const outcome = await authorize.proceed(tx, login, false, fresh);
      if (outcome.kind === 'consent' && outcome.transactional) {
        const verdict = await mfa.verifyOtp(login.user.user_id, code);
        if (!verdict.ok) {
          const error = verdict.reason === 'locked' ? 'Too many failed attempts. Try again later.' : 'That code is not valid. Wait for a new code and try again.';
          return render(req, reply, state as string, tx, login, outcome, { mfaCode: true, error }, verdict.reason === 'locked' ? 429 : 401);
        }
        fresh = services.clock.now();
        if (login.sessionId) await sessions.markMfa(login.sessionId, fresh);
      }
    }
    const extrasNow = fresh !== undefined ? { mfa: { userId: login.user.user_id, at: fresh } } : {};
    return continueAuthorization(reply, services, tx, fresh !== undefined ? { ...login, mfaAt: fresh } : login, true, extrasNow);
  }));
}
