import { Type } from '@sinclair/typebox';
import {
  AccessDenied, InvalidRequest, OAuthError, Unauthorized, type MfaTokenRecord, type TokenContext, type User,
} from '@tessera/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Services } from '../services';
import { tokenRequestFrom } from './token';

const tags = ['authentication'];
const Authenticator = Type.Object({ id: Type.String(), authenticator_type: Type.String(), active: Type.Boolean() });
const AssociateResponse = Type.Object({
  authenticator_type: Type.String(), secret: Type.String(), barcode_uri: Type.String(), recovery_codes: Type.Optional(Type.Array(Type.String())),
});

/** Who calls the MFA API: an mfa_token (Auth0: `Authorization: Bearer <mfa_token>`), or an access token for `${issuer}mfa/`. */
type Caller = { user: User; mfaToken?: MfaTokenRecord; scopes: string[]; amr: string[] };

const noStore = (reply: FastifyReply) => reply.header('cache-control', 'no-store').header('pragma', 'no-cache');

/**
 * Auth0's MFA API for clients without a browser: `/mfa/associate` (enroll a TOTP authenticator), `/mfa/authenticators`
 * (list, delete), `/mfa/challenge`. The code itself goes to /oauth/token with grant type `mfa-otp` or `mfa-recovery-code`.
 */
export async function mfaRoutes(app: FastifyInstance, { services }: { services: Services }): Promise<void> {
  const { mfa, mfaApiTokens } = services.userFlows;

  const caller = async (req: FastifyRequest, needScope: string, allowMfaToken: boolean): Promise<Caller> => {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    if (!m) throw new Unauthorized('Unauthorized', 'missing_authentication');
    const presented = m[1];
    if (!presented.includes('.')) {
      // an mfa_token: opaque, bound to its client, which the mfa-otp grant checks again
      if (!allowMfaToken) throw new Unauthorized('Unauthorized', 'invalid_token', 'mfa_token not accepted here');
      let rec: MfaTokenRecord;
      try { rec = await mfa.resolveToken(presented, undefined); } catch (e) { throw new Unauthorized('Unauthorized', 'invalid_token', e); }
      const user = await services.store.users.findById(rec.userId);
      if (!user || user.blocked) throw new Unauthorized('Unauthorized', 'invalid_token', 'user gone');
      return { user, mfaToken: rec, scopes: ['enroll', 'read:authenticators'], amr: [] };
    }
    const payload = await mfaApiTokens.verifyToken(presented);
    if (payload.cnf !== undefined) throw new Unauthorized('Unauthorized', 'invalid_token', 'sender-constrained tokens are not accepted by the MFA API');
    const user = typeof payload.sub === 'string' ? await services.store.users.findById(payload.sub) : undefined;
    if (!user || user.blocked) throw new Unauthorized('Unauthorized', 'invalid_token', 'user gone');
    const scopes = typeof payload.scope === 'string' ? payload.scope.split(' ') : [];
    if (!scopes.includes(needScope)) throw new OAuthError('insufficient_scope', 403, `Insufficient scope, expected: ${needScope}`);
    return { user, scopes, amr: Array.isArray(payload.amr) ? payload.amr.map(String) : [] };
  };

  /** An enrolled user's authenticators change only with a token that passed the second factor. */
  const requireMfaIfEnrolled = async (c: Caller) => {
    if (c.mfaToken || c.amr.includes('mfa')) return;
    if ((await mfa.state(c.user.user_id)) === 'enrolled') throw new AccessDenied('A second factor is required to manage the authenticators of an enrolled user.');
  };

  app.post('/mfa/associate', { schema: { summary: 'Associate a TOTP authenticator (Auth0 MFA API)', tags, response: { 200: AssociateResponse } } }, async (req, reply) => {
    const c = await caller(req, 'enroll', true);
    const body = (req.body ?? {}) as Record<string, unknown>;
    const types = typeof body.authenticator_types === 'string' ? [body.authenticator_types] : body.authenticator_types;
    if (!Array.isArray(types) || types.length === 0 || !types.every((t) => typeof t === 'string')) {
      throw new InvalidRequest('authenticator_types is required: an array of authenticator types, e.g. ["otp"]');
    }
    if (!types.includes('otp')) throw new OAuthError('unsupported_challenge_type', 400, `Unsupported authenticator types: ${types.join(', ')}; Tessera supports otp`);
    await requireMfaIfEnrolled(c);
    const e = await mfa.beginEnrollment(c.user, { reuse: false, recovery: true });
    return noStore(reply).send({ authenticator_type: 'otp', secret: e.secret, barcode_uri: e.uri, recovery_codes: e.recoveryCode ? [e.recoveryCode] : undefined });
  });

  app.get('/mfa/authenticators', { schema: { summary: "List the user's authenticators (Auth0 MFA API)", tags, response: { 200: Type.Array(Authenticator) } } }, async (req, reply) => {
    const c = await caller(req, 'read:authenticators', true);
    const list = await mfa.authenticators(c.user.user_id);
    return noStore(reply).send(list.map((a) => ({ id: a.id, authenticator_type: a.type === 'totp' ? 'otp' : 'recovery-code', active: a.confirmed })));
  });

  app.delete('/mfa/authenticators/:id', {
    schema: { summary: 'Delete an authenticator (Auth0 MFA API)', tags, params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 200 }) }) },
  }, async (req, reply) => {
    const c = await caller(req, 'remove:authenticators', false);
    await requireMfaIfEnrolled(c);
    if (!(await mfa.remove(c.user.user_id, (req.params as { id: string }).id))) throw new OAuthError('not_found', 404, 'Authenticator not found');
    return reply.code(204).send();
  });

  app.post('/mfa/challenge', { schema: { summary: 'Challenge an authenticator (Auth0 MFA API)', tags } }, async (req, reply) => {
    const request = tokenRequestFrom(req);
    const ctx: TokenContext = { request, grantType: 'mfa-challenge' };
    const client = await services.clientAuth.authenticate(ctx, true);
    const p = request.params;
    if (!p.mfa_token) throw new InvalidRequest('Missing required parameter: mfa_token');
    const rec = await mfa.resolveToken(p.mfa_token, client.client_id);
    const accepted = (p.challenge_type ?? 'otp').split(' ').filter(Boolean);
    const list = await mfa.authenticators(rec.userId);
    const totp = list.find((a) => a.type === 'totp');
    if (p.authenticator_id !== undefined && !list.some((a) => a.id === p.authenticator_id)) throw new OAuthError('invalid_request', 400, 'The authenticator does not exist.');
    if (!totp || !accepted.includes('otp') || (p.authenticator_id !== undefined && p.authenticator_id !== totp.id && !p.authenticator_id.startsWith('recovery-code|'))) {
      throw new OAuthError('unsupported_challenge_type', 400, 'User is not enrolled with any of the requested challenge types.');
    }
    return noStore(reply).send({ challenge_type: 'otp' });
  });

}
