import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import {
  ACR_MULTI_FACTOR, AuthorizePageError, SessionService, type TxExtras, type AuthorizeRequest, type AuthorizeResponse, type LoginState,
} from '@tessera/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Services } from '../services';
import { errorPage, formPostPage, webMessagePage } from './pages/pages';

export const SESSION_COOKIE = 'tessera_session';
export const CSRF_COOKIE = 'tessera_csrf';

/** Cookies of a request (RFC 6265 §5.4); the first value wins for a repeated name. */
export function cookiesOf(req: FastifyRequest): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i < 0) continue;
    const name = part.slice(0, i).trim();
    if (!name || name in out) continue;
    try { out[name] = decodeURIComponent(part.slice(i + 1).trim().replace(/^"(.*)"$/, '$1')); } catch { /* skip malformed */ }
  }
  return out;
}

/**
 * Set-Cookie: HttpOnly, Secure when the public URL is https, SameSite=Lax unless `crossSite` asks for None (only
 * with Secure: browsers drop SameSite=None cookies without it, so over plain http it stays Lax).
 */
export function setCookie(reply: FastifyReply, services: Services, name: string, value: string, o: { path: string; maxAge?: number; crossSite?: boolean }): void {
  const sameSite = o.crossSite && services.userFlows.secureCookies ? 'None' : 'Lax';
  const parts = [`${name}=${encodeURIComponent(value)}`, `Path=${o.path}`, 'HttpOnly', `SameSite=${sameSite}`];
  if (o.maxAge !== undefined) parts.push(`Max-Age=${o.maxAge}`);
  if (services.userFlows.secureCookies) parts.push('Secure');
  const prev = reply.getHeader('set-cookie');
  const list = prev === undefined ? [] : Array.isArray(prev) ? prev.map(String) : [String(prev)];
  reply.header('set-cookie', [...list, parts.join('; ')]);
}

/**
 * CSRF protection for the login and consent forms: a random value in an HttpOnly cookie, and in the form an
 * HMAC of that value bound to the transaction. A cross-site page can neither read the cookie nor compute the MAC.
 */
export function csrfToken(req: FastifyRequest, reply: FastifyReply, services: Services, state: string): string {
  let seed = cookiesOf(req)[CSRF_COOKIE];
  if (!seed || seed.length !== 43) {
    seed = randomBytes(32).toString('base64url');
    setCookie(reply, services, CSRF_COOKIE, seed, { path: '/u' });
  }
  return mac(services.userFlows.csrfKeys[0], seed, state);
}

export function csrfValid(req: FastifyRequest, services: Services, state: string, presented: string | undefined): boolean {
  const seed = cookiesOf(req)[CSRF_COOKIE];
  if (!seed || !presented) return false;
  const given = Buffer.from(presented);
  return services.userFlows.csrfKeys.some((k) => {
    const expected = Buffer.from(mac(k, seed, state));
    return expected.length === given.length && timingSafeEqual(expected, given);
  });
}

const mac = (key: Buffer, seed: string, state: string) => createHmac('sha256', key).update(`${seed}\u0000${state}`).digest('base64url');

/** A single-valued string field of a urlencoded form body (repeated or missing → undefined). */
export function field(body: unknown, name: string): string | undefined {
  const v = (body as Record<string, unknown> | undefined)?.[name];
  return typeof v === 'string' ? v : undefined;
}

/** Delivers an authorization response by query, fragment, form post or web message. */
export function sendAuthorizeResponse(reply: FastifyReply, r: AuthorizeResponse): FastifyReply {
  if (r.mode === 'form_post') return formPostPage(reply, r.redirectUri, r.params);
  if (r.mode === 'web_message') return webMessagePage(reply, new URL(r.redirectUri).origin, r.params);
  const encoded = new URLSearchParams(r.params).toString();
  let location: string;
  if (r.mode === 'fragment') location = `${r.redirectUri.split('#')[0]}#${encoded}`;
  else {
    const u = new URL(r.redirectUri);
    for (const [k, v] of Object.entries(r.params)) u.searchParams.set(k, v);
    location = u.toString();
  }
  return reply.code(302).header('cache-control', 'no-store').header('location', location).send();
}

/**
 * With a logged-in user: answer the client, or send the browser to the second-factor or consent page. `extras`
 * (a second factor passed during this transaction) travel on with the transaction.
 */
export async function continueAuthorization(reply: FastifyReply, services: Services, req: AuthorizeRequest, login: LoginState, consented = false, extras: TxExtras = {}): Promise<FastifyReply> {
  const { authorize, mfa } = services.userFlows;
  // a user with a TOTP authenticator (or an enrollment to finish) passes it once per session before anything is issued;
  // acr_values with the multi-factor policy asks for it (and so for an enrollment) from anyone
  if (login.mfaAt === undefined && (req.acrValues?.includes(ACR_MULTI_FACTOR) || (await mfa.state(login.user.user_id)) !== 'none')) {
    return toMfa(reply, authorize.seal(req));
  }
  const outcome = await authorize.proceed(req, login, consented, freshMfa(extras, login));
  if (req.prompt.includes('none')) {
    const error = outcome.kind === 'respond' ? outcome.response.params.error_description : 'Consent required';
    silentAuthEvent(reply.request, services, req.clientId, error === undefined ? 'ssa' : 'fsa', error, login.user);
  }
  if (outcome.kind === 'respond') return sendAuthorizeResponse(reply, outcome.response);
  return reply.code(302).header('cache-control', 'no-store').header('location', `/u/consent?state=${encodeURIComponent(authorize.seal(req, extras.mfa ? { mfa: extras.mfa } : {}))}`).send();
}

/** ssa / fsa: a prompt=none request answered (with a code or tokens) or refused. */
export function silentAuthEvent(req: FastifyRequest, services: Services, clientId: string, type: 'ssa' | 'fsa', description?: string, user?: { user_id: string; email?: string }): void {
  services.events.record({
    type, description, client_id: clientId, ip: req.ip, user_agent: req.headers['user-agent']?.slice(0, 512), user_id: user?.user_id, user_name: user?.email,
  });
}

/** When this user passed a second factor for this transaction (sealed with it), if they did. */
export function freshMfa(extras: TxExtras, login: LoginState): number | undefined {
  return extras.mfa && extras.mfa.userId === login.user.user_id ? extras.mfa.at : undefined;
}

/** The second-factor page (challenge, or enrollment) for a sealed transaction. */
export function toMfa(reply: FastifyReply, state: string): FastifyReply {
  return reply.code(302).header('cache-control', 'no-store').header('location', `/u/mfa?state=${encodeURIComponent(state)}`).send();
}

/** The current login session (cookie), if any. */
export async function currentSession(req: FastifyRequest, services: Services): Promise<LoginState | undefined> {
  const found = await services.userFlows.sessions.find(cookiesOf(req)[SESSION_COOKIE]);
  return found && { user: found.user, authTime: found.record.authTime, sessionId: found.record.idHash, mfaAt: found.record.mfaAt };
}

/**
 * The login session cookie is sent cross-site (SameSite=None over https): silent authentication runs /authorize in a
 * hidden iframe of the application's site, where a Lax cookie is withheld. Requests it authorizes still need a
 * registered redirect_uri (and web_origins for web_message), so a foreign site learns nothing from it.
 */
export function startSession(reply: FastifyReply, services: Services, cookie: string): void {
  setCookie(reply, services, SESSION_COOKIE, cookie, { path: '/', maxAge: SessionService.LIFETIME_MS / 1000, crossSite: true });
}

/** Ends the login session of this browser: the stored session is deleted and the cookie expired. */
export async function endSession(req: FastifyRequest, reply: FastifyReply, services: Services): Promise<void> {
  const cookie = cookiesOf(req)[SESSION_COOKIE];
  if (cookie && cookie.length <= 200) await services.userFlows.sessions.destroy(cookie);
  setCookie(reply, services, SESSION_COOKIE, '', { path: '/', maxAge: 0, crossSite: true });
}

/** Runs a page handler; transaction and request errors become an HTML error page. */
export async function page(reply: FastifyReply, fn: () => Promise<FastifyReply>): Promise<FastifyReply> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof AuthorizePageError) return errorPage(reply, e.status, e.code, e.message);
    throw e;
  }
}
