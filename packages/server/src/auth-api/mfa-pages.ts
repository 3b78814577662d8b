import { newTotpSecret, totpUri, type AuthorizeRequest, type LoginState, type TxExtras, type User } from '@tessera/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Services } from '../services';
import { continueAuthorization, csrfToken, csrfValid, currentSession, field, page, startSession } from './browser';
import { errorPage, mfaPage, recoveryCodePage } from './pages/pages';

const CSRF_FAILED = 'The form has expired or was not submitted from this site. Go back and try again.';

/**
 * The hosted second-factor pages: `/u/mfa` shows the TOTP challenge to an enrolled user and the enrollment (QR code
 * rendered here as an SVG data URL, and the key) to anyone else who needs one; `/u/mfa/continue` leaves the
 * recovery-code page. The user is either the one whose password was just checked (sealed in the transaction; no
 * session exists yet) or the session's user (a session from before the enrollment steps up here).
 */
export async function mfaPageRoutes(app: FastifyInstance, { services }: { services: Services }): Promise<void> {
  const { authorize, mfa, sessions, passwords } = services.userFlows;
  const issuerName = new URL(services.userFlows.userTokens.mfaAudience).host;
  const clientName = async (clientId: string) => (await services.directory.client(clientId))?.client.name ?? clientId;
  const toLogin = (reply: FastifyReply, req: AuthorizeRequest) =>
    reply.code(302).header('cache-control', 'no-store').header('location', `/u/login?state=${encodeURIComponent(authorize.seal(req))}`).send();

  /** Who is taking the second factor: the checked password of this transaction, or the session. */
  const subject = async (req: FastifyRequest, extras: TxExtras): Promise<{ user: User; login?: LoginState; authTime: number } | undefined> => {
    if (extras.pending) {
      const user = await services.store.users.findById(extras.pending.userId);
      return user && !user.blocked ? { user, authTime: extras.pending.authTime } : undefined;
    }
    const login = await currentSession(req, services);
    return login && { user: login.user, login, authTime: login.authTime };
  };

  /**
   * The challenge for an enrolled user; otherwise the enrollment: a pending one (started through the MFA API) shows its
   * stored secret, else a new secret travels sealed in the form's transaction and nothing is stored before a first code.
   */
  const render = async (req: FastifyRequest, reply: FastifyReply, tx: AuthorizeRequest, extras: TxExtras, user: User, error?: string, status = 200) => {
    const state = await mfa.state(user.user_id);
    const next: TxExtras = { ...extras };
    let secret: string | undefined;
    let uri: string | undefined;
    if (state === 'pending') {
      const e = await mfa.beginEnrollment(user, { reuse: true, recovery: false });
      ({ secret, uri } = e);
      delete next.enroll;
    } else if (state === 'none') {
      secret = extras.enroll?.userId === user.user_id ? extras.enroll.secret : await newTotpSecret();
      uri = await totpUri(secret, issuerName, user.email);
      next.enroll = { userId: user.user_id, secret };
    }
    const formState = authorize.seal(tx, next);
    const common = { state: formState, csrf: csrfToken(req, reply, services, formState), clientName: await clientName(tx.clientId), email: user.email, redirectUri: tx.redirectUri, error };
    if (state === 'enrolled' || !secret || !uri) return mfaPage(reply, common, status);
    const { default: QRCode } = await import('qrcode'); // loaded with the first enrollment page
    const qr = `data:image/svg+xml;base64,${Buffer.from(await QRCode.toString(uri, { type: 'svg', margin: 1, errorCorrectionLevel: 'M' })).toString('base64')}`;
    return mfaPage(reply, { ...common, enroll: { qr, secret } }, status);
  };

  app.get('/u/mfa', { schema: { summary: 'Second-factor page (TOTP challenge or enrollment)', tags: ['authentication'] } }, (req, reply) => page(reply, async () => {
    const state = (req.query as Record<string, unknown>).state as string | undefined;
    const { req: tx, extras } = authorize.openTx(state);
    const who = await subject(req, extras);
    if (!who) return toLogin(reply, tx);
    return render(req, reply, tx, extras, who.user);
  }));

  app.post('/u/mfa', { schema: { summary: 'Second-factor form submission', tags: ['authentication'] } }, (req, reply) => page(reply, async () => {
    const state = field(req.body, 'state');
    const { req: tx, extras } = authorize.openTx(state);
    if (!csrfValid(req, services, state as string, field(req.body, 'csrf'))) return errorPage(reply, 403, 'invalid_request', CSRF_FAILED);
    const who = await subject(req, extras);
    if (!who) return toLogin(reply, tx);
    const action = field(req.body, 'action');
    if (action !== 'otp' && action !== 'recovery') return errorPage(reply, 400, 'invalid_request', 'Enter a code.');
    try { await passwords.checkAddress(req.ip); } catch { return render(req, reply, tx, extras, who.user, 'Too many failed attempts. Try again later.', 429); }
    const code = field(req.body, 'code') ?? '';
    const enrolling = extras.enroll?.userId === who.user.user_id && (await mfa.state(who.user.user_id)) === 'none' ? extras.enroll : undefined;
    const verdict = action === 'recovery' ? await mfa.verifyRecovery(who.user.user_id, field(req.body, 'recovery_code') ?? '')
      : enrolling ? await mfa.enrollWithCode(who.user, enrolling.secret, code) : await mfa.verifyOtp(who.user.user_id, code);
    if (!verdict.ok) {
      if (verdict.reason === 'invalid') await passwords.codeFailed(req.ip);
      const message = verdict.reason === 'locked' ? 'Too many failed attempts. Try again later.'
        : action === 'otp' ? 'That code is not valid. Wait for a new code and try again.' : 'That recovery code is not valid.';
      return render(req, reply, tx, extras, who.user, message, verdict.reason === 'locked' ? 429 : 401);
    }
    const now = services.clock.now();
    let login: LoginState;
    if (who.login?.sessionId) {
      await sessions.markMfa(who.login.sessionId, now);
      login = { ...who.login, mfaAt: now };
    } else {
      const { cookie, record } = await sessions.create(who.user, { authTime: who.authTime, mfaAt: now });
      startSession(reply, services, cookie);
      login = { user: who.user, authTime: record.authTime, sessionId: record.idHash, mfaAt: now };
    }
    const next = authorize.seal(tx, { mfa: { userId: who.user.user_id, at: now } }); // the enrollment secret does not travel on
    if (verdict.recoveryCode) return recoveryCodePage(reply, { state: next, csrf: csrfToken(req, reply, services, next), code: verdict.recoveryCode, redirectUri: tx.redirectUri });
    return continueAuthorization(reply, services, tx, login, false, { mfa: { userId: who.user.user_id, at: now } });
  }));

  app.post('/u/mfa/continue', { schema: { summary: 'Leave the recovery-code page', tags: ['authentication'] } }, (req, reply) => page(reply, async () => {
    const state = field(req.body, 'state');
    const { req: tx, extras } = authorize.openTx(state);
    if (!csrfValid(req, services, state as string, field(req.body, 'csrf'))) return errorPage(reply, 403, 'invalid_request', CSRF_FAILED);
    const login = await currentSession(req, services);
    if (!login) return toLogin(reply, tx);
    return continueAuthorization(reply, services, tx, login, false, extras);
  }));
}
