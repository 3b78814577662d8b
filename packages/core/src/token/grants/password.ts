import { AccessDenied, InvalidGrant, MfaRequired, OAuthError } from '../../errors';
import { DATABASE_CONNECTION, type Client, type User } from '../../model';
import type { Clock } from '../../ports';
import type { MfaService } from '../../mfa/service';
import type { LoginGuard } from '../../abuse/login-guard';
import { splitScope, type ScopeDecision, type UserTokenService } from '../../services/user-tokens';
import type { ScopeTrace } from '../scope-trace';
import type { RefreshTokenService } from '../refresh-tokens';
import type { GrantHandler, TokenContext, TokenResponse } from '../types';
import { userTokenResponse } from '../user-response';
import { popOf } from '../binding';

export const PASSWORD_REALM = 'http://auth0.com/oauth/grant-type/password-realm';

/**
 * RFC 6749 §4.3 Resource Owner Password Credentials, and Auth0's password-realm variant (`realm` names the
 * connection). A wrong password, an unknown user and an unknown realm all answer "Wrong email or password."; brute-force
 * protection (LoginGuard) counts each failure and refuses blocked identifiers and addresses before any check.
 * No `scope` means every scope of the API (Auth0's "implied trust"), still narrowed by RBAC and grants. A user with
 * a TOTP authenticator gets 403 `mfa_required` with an `mfa_token` instead of tokens (see grants/mfa.ts).
 */
export class PasswordGrant implements GrantHandler {
  readonly required: readonly string[];
  readonly allowsPublicClients = true;

  constructor(
    readonly grantType: 'password' | typeof PASSWORD_REALM,
    private readonly deps: { users: Pick<LoginGuard, 'verify'>; clock: Clock; userTokens: UserTokenService; refreshTokens: RefreshTokenService; mfa: MfaService },
  ) {
    this.required = grantType === PASSWORD_REALM ? ['username', 'password', 'realm'] : ['username', 'password'];
  }

  /** The same decisions over another view of the configuration (explain's assumptions). */
  over(view: { userTokens: UserTokenService }): PasswordGrant {
    return new PasswordGrant(this.grantType, { ...this.deps, ...view });
  }

  /** The connection the request logs in to: password-realm's `realm`, the database connection for `password`. */
  connection(params: Readonly<Record<string, string>>): string {
    return this.grantType === PASSWORD_REALM ? params.realm : DATABASE_CONNECTION;
  }

  async handle(ctx: TokenContext & { client: Client }): Promise<TokenResponse> {
    const p = ctx.request.params;
    const user = await this.deps.users.verify(this.connection(p), p.username, p.password, ctx.request.clientIp ?? 'unknown', { clientId: ctx.client.client_id, clientName: ctx.client.name, userAgent: ctx.request.userAgent });
    if (!user) throw new InvalidGrant('Wrong email or password.');
    admitUser(user);
    // a user with a second factor (or an enrollment to finish) continues through the MFA API with an mfa_token
    if (await this.secondFactorRequired(user)) {
      const pending = { audience: p.audience || undefined, scope: p.scope, origin: this.grantType, authTime: this.deps.clock.now() };
      throw new MfaRequired(await this.deps.mfa.issueToken(ctx.client.client_id, user.user_id, pending));
    }
    const decision = await this.decide(ctx.client, user, p);
    const { familyId: _f, ...res } = await userTokenResponse(this.deps, {
      client: ctx.client, user, decision, flow: 'password', authTime: this.deps.clock.now(), origin: this.grantType, pop: popOf(ctx),
    });
    return res;
  }

  /** A user with a TOTP authenticator, confirmed or pending, is asked for the second factor before any token. */
  async secondFactorRequired(user: User): Promise<boolean> {
    return (await this.deps.mfa.state(user.user_id)) !== 'none';
  }

  /**
   * The scopes of a user whose password matched: no `scope` means every scope of the API (the MFA grants decide the
   * same way after the second factor). `trace` (explain) records the rules; the endpoint passes none.
   */
  decide(client: Client, user: User, p: Readonly<Record<string, string>>, trace?: ScopeTrace): Promise<ScopeDecision> {
    return this.deps.userTokens.decide({
      client, userId: user.user_id, audience: p.audience || undefined, requested: splitScope(p.scope), defaultAll: true,
      unknownAudience: (aud) => new AccessDenied(`Service not enabled within domain: ${aud}`),
    }, trace);
  }
}

/** A blocked user gets no token from a password grant (after the password check, so blocking reveals nothing). */
export function admitUser(user: User, trace?: ScopeTrace): void {
  if (!user.blocked) return;
  trace?.refuse('user_blocked');
  throw new OAuthError('unauthorized', 401, 'user is blocked');
}
