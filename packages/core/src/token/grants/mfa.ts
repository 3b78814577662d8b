import { OAuthError } from '../../errors';
import type { Client } from '../../model';
import type { Store } from '../../ports';
import { codeRefusal, type MfaService } from '../../mfa/service';
import { splitScope, type UserTokenService } from '../../services/user-tokens';
import type { RefreshTokenService } from '../refresh-tokens';
import type { GrantHandler, TokenContext, TokenResponse } from '../types';
import { userTokenResponse } from '../user-response';
import { popOf } from '../binding';
import type { LoginGuard } from '../../abuse/login-guard';

export const MFA_OTP = 'http://auth0.com/oauth/grant-type/mfa-otp';
export const MFA_RECOVERY_CODE = 'http://auth0.com/oauth/grant-type/mfa-recovery-code';

/**
 * Auth0's MFA grants: the `mfa_token` of an interrupted password grant plus a TOTP code (`mfa-otp`) or the recovery
 * code (`mfa-recovery-code`, which answers with the replacement `recovery_code`). The mfa_token is bound to the
 * client and the user, short-lived and spent by the first success; the tokens then carry `amr: ["mfa"]`. A first
 * good code also confirms a pending enrollment (/mfa/associate).
 */
export class MfaGrant implements GrantHandler {
  readonly required: readonly string[];
  readonly allowsPublicClients = true;

  constructor(
    readonly grantType: typeof MFA_OTP | typeof MFA_RECOVERY_CODE,
    private readonly deps: { store: Store; mfa: MfaService; userTokens: UserTokenService; refreshTokens: RefreshTokenService; guard?: Pick<LoginGuard, 'checkAddress' | 'codeFailed'> },
  ) {
    this.required = grantType === MFA_OTP ? ['mfa_token', 'otp'] : ['mfa_token', 'recovery_code'];
  }

  async handle(ctx: TokenContext & { client: Client }): Promise<TokenResponse> {
    const p = ctx.request.params;
    const { mfa } = this.deps;
    const rec = await mfa.resolveToken(p.mfa_token, ctx.client.client_id);
    const user = await this.deps.store.users.findById(rec.userId);
    if (!user || user.blocked) throw new OAuthError('unauthorized', 401, 'user is blocked');
    const ip = ctx.request.clientIp ?? 'unknown';
    await this.deps.guard?.checkAddress(ip);
    const verdict = this.grantType === MFA_OTP ? await mfa.verifyOtp(user.user_id, p.otp) : await mfa.verifyRecovery(user.user_id, p.recovery_code);
    if (!verdict.ok && verdict.reason === 'invalid') await this.deps.guard?.codeFailed(ip);
    if (!verdict.ok) throw codeRefusal(verdict, this.grantType === MFA_OTP ? 'otp_code' : 'recovery_code');
    await mfa.spendToken(rec);
    const decision = await this.deps.userTokens.decide({
      client: ctx.client, userId: user.user_id, audience: rec.pending.audience, requested: splitScope(rec.pending.scope), defaultAll: true,
      unknownAudience: (aud) => new OAuthError('access_denied', 403, `Service not enabled within domain: ${aud}`),
    });
    const { familyId: _f, ...res } = await userTokenResponse(this.deps, {
      client: ctx.client, user, decision, flow: 'password', authTime: rec.pending.authTime, origin: rec.pending.origin, pop: popOf(ctx), amr: ['mfa'],
    });
    if (this.grantType === MFA_RECOVERY_CODE && verdict.recoveryCode) res.recovery_code = verdict.recoveryCode;
    return res;
  }
}
