import { ACR_MULTI_FACTOR, DATABASE_CONNECTION, TemporarilyUnavailable, TooManyAttempts } from '@tessera/core';
import type { FastifyInstance } from 'fastify';
import type { Services } from '../services';
import { userAgentOf } from './token';
import { continueAuthorization, csrfToken, csrfValid, field, page, startSession, toMfa } from './browser';
import { errorPage, loginPage } from './pages/pages';

/** The hosted login page: email and password against the database connection, then a session cookie (after the second factor, when the user has one). */
export async function loginRoutes(app: FastifyInstance, { services }: { services: Services }): Promise<void> {
  const { authorize, passwords, sessions, mfa } = services.userFlows;
  const clientName = async (clientId: string) => (await services.directory.client(clientId))?.client.name ?? clientId;

  app.get('/u/login', { schema: { summary: 'Hosted login page', tags: ['authentication'] } }, (req, reply) => page(reply, async () => {
    const state = (req.query as Record<string, unknown>).state as string | undefined;
    const tx = authorize.open(state);
    return loginPage(reply, { state: state as string, csrf: csrfToken(req, reply, services, state as string), clientName: await clientName(tx.clientId), email: tx.loginHint, redirectUri: tx.redirectUri });
  }));

  app.post('/u/login', { schema: { summary: 'Hosted login form submission', tags: ['authentication'] } }, (req, reply) => page(reply, async () => {
    const state = field(req.body, 'state');
    const tx = authorize.open(state);
    if (!csrfValid(req, services, state as string, field(req.body, 'csrf'))) {
      return errorPage(reply, 403, 'invalid_request', 'The form has expired or was not submitted from this site. Go back and try again.');
    }
    const username = field(req.body, 'username') ?? '';
    const again = async (error: string, status: number) => loginPage(reply, {
      state: state as string, csrf: csrfToken(req, reply, services, state as string), clientName: await clientName(tx.clientId),
      email: username, redirectUri: tx.redirectUri, error,
    }, status);
    const meta = { clientId: tx.clientId, clientName: await clientName(tx.clientId), userAgent: userAgentOf(req) };
    let user;
    try {
      user = await passwords.verify(DATABASE_CONNECTION, username, field(req.body, 'password') ?? '', req.ip, meta);
    } catch (e) {
      // brute-force block or throttled address (429), or the password hashing queue is full (503): the same form again, with a message and Retry-After
      if (!(e instanceof TooManyAttempts) && !(e instanceof TemporarilyUnavailable)) throw e;
      reply.headers(e.headers);
      if (e instanceof TooManyAttempts) return again(e.message, 429);
      return again('We are receiving too many sign-in attempts right now. Please wait a moment and try again.', 503);
    }
    const login = (type: 's' | 'f', description?: string) => services.events.record({
      type, description, ip: req.ip, user_agent: meta.userAgent, client_id: meta.clientId, client_name: meta.clientName,
      user_id: user?.user_id, user_name: user?.email, connection: DATABASE_CONNECTION, strategy: 'auth0', strategy_type: 'database',
    });
    if (user?.blocked) login('f', 'user is blocked');
    if (!user || user.blocked) return again(user ? 'Your account is blocked.' : 'Wrong email or password.', 401);
    login('s');
    // with a second factor due, no session exists until it is passed: the checked password travels sealed with the transaction
    if (tx.acrValues?.includes(ACR_MULTI_FACTOR) || (await mfa.state(user.user_id)) !== 'none') return toMfa(reply, authorize.seal(tx, { pending: { userId: user.user_id, authTime: services.clock.now() } }));
    const { cookie, record } = await sessions.create(user);
    startSession(reply, services, cookie);
    return continueAuthorization(reply, services, tx, { user, authTime: record.authTime, sessionId: record.idHash });
  }));
}
