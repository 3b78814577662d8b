import { InvalidDpopProof, InvalidRequest, InvalidScope } from '../../errors';
import type { Client, User } from '../../model';
import type { RefreshGrant, Store } from '../../ports';
import { splitScope, type ScopeDecision, type UserTokenService } from '../../services/user-tokens';
import type { ScopeTrace } from '../scope-trace';
import { invalidRefreshToken, type RefreshTokenService } from '../refresh-tokens';
import type { GrantHandler, TokenContext, TokenResponse } from '../types';
import { userTokenResponse } from '../user-response';
import { popOf } from '../binding';
import { narrowAuthorizationDetails, parseAuthorizationDetails } from '../../authorize/authorization-details';

/**
 * RFC 6749 §6 Refreshing an Access Token. `scope` may narrow the original grant (omitted: the original
 * scopes); RBAC and the API's policies are applied again, so revoked permissions drop out. Under rotation the
 * response carries the successor refresh token.
 */
export class RefreshTokenGrant implements GrantHandler {
  readonly grantType = 'refresh_token';
  readonly required = ['refresh_token'] as const;
  readonly allowsPublicClients = true;
  readonly acceptsAuthorizationDetails = true;

  constructor(private readonly deps: { store: Store; userTokens: UserTokenService; refreshTokens: RefreshTokenService }) {}

  /** The same decisions over another view of the configuration (explain's assumptions). */
  over(view: { userTokens: UserTokenService }): RefreshTokenGrant {
    return new RefreshTokenGrant({ ...this.deps, ...view });
  }

  async handle(ctx: TokenContext & { client: Client }): Promise<TokenResponse> {
    const requested = splitScope(ctx.request.params.scope);
    const narrowed = parseAuthorizationDetails(ctx.request.params.authorization_details);
    const { grant, next } = await this.deps.refreshTokens.exchange(ctx.client, ctx.request.params.refresh_token, (g, jkt, x5t) => {
      checkKeyBinding(jkt, ctx.dpop?.jkt);
      checkCertificateBinding(x5t, ctx.x5t);
      checkRefreshScope(requested, g);
      if (narrowed) narrowAuthorizationDetails(narrowed, g.authorizationDetails); // RFC 9396 §6.2
    });
    const { user, decision } = await this.decide(ctx.client, grant, requested);
    const granted = await this.deps.userTokens.allowedDetails(ctx.client, decision, grant.authorizationDetails);
    const { familyId: _f, ...res } = await userTokenResponse(this.deps, {
      client: ctx.client, user, decision, flow: 'refresh', authTime: grant.authTime, orgId: grant.orgId, origin: grant.origin, amr: grant.amr,
      refreshToken: next ?? false, pop: popOf(ctx),
      authorizationDetails: narrowed && granted ? narrowAuthorizationDetails(narrowed, granted) : granted,
    });
    return res;
  }

  /**
   * Once the token passed: its user (gone or blocked refuses), then the scopes (the requested narrowing, or the token's
   * own), with RBAC and the API's policies applied again. `trace` (explain) records the rules; the endpoint passes none.
   */
  async decide(client: Client, grant: RefreshGrant, requested: string[] | undefined, trace?: ScopeTrace): Promise<{ user: User; decision: ScopeDecision }> {
    const user = await this.deps.store.users.findById(grant.userId);
    if (!user || user.blocked) {
      trace?.refuse('user_blocked');
      throw invalidRefreshToken('user gone or blocked');
    }
    const decision = await this.deps.userTokens.decide({
      client, userId: user.user_id, audience: grant.audience,
      requested: requested && requested.length > 0 ? requested : grant.scopes, organizationId: grant.orgId,
      unknownAudience: () => invalidRefreshToken('API deleted'),
    }, trace);
    return { user, decision };
  }
}

/**
 * RFC 6749 §6: a refresh may narrow the scope the token was issued with, never widen it. `trace` (explain) marks
 * each scope beyond the token's as refused by `refresh_scope`.
 */
export function checkRefreshScope(requested: string[] | undefined, grant: RefreshGrant, trace?: ScopeTrace): void {
  const extra = (requested ?? []).filter((s) => !grant.scopes.includes(s));
  if (extra.length === 0) return;
  for (const s of extra) trace?.set(s, false, 'refresh_scope');
  trace?.refuse('refresh_scope');
  throw new InvalidScope(`The requested scope exceeds the scope granted by the resource owner: ${extra.join(' ')}`);
}

/** RFC 9449 §5: a refresh token bound to a DPoP key is only exchanged with a proof from that key. */
function checkKeyBinding(bound: string | undefined, presented: string | undefined): void {
  if (bound === undefined) return;
  if (presented === undefined) throw new InvalidRequest('DPoP proof required: the refresh token is bound to a DPoP key');
  if (presented !== bound) throw new InvalidDpopProof('Invalid DPoP proof: the key is not the one the refresh token is bound to');
}

/** RFC 8705 §4: a refresh token bound to a client certificate is only exchanged over a connection with that certificate. */
function checkCertificateBinding(bound: string | undefined, presented: string | undefined): void {
  if (bound === undefined) return;
  if (presented === undefined) throw new InvalidRequest('Client certificate required: the refresh token is bound to a client certificate');
  if (presented !== bound) throw invalidRefreshToken('refresh token bound to another client certificate');
}
