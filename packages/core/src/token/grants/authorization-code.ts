import { createHash } from 'node:crypto';
import { InvalidClient, InvalidDpopProof, InvalidGrant, InvalidRequest } from '../../errors';
import type { Client } from '../../model';
import type { Clock, CodeGrant, Store } from '../../ports';
import type { UserTokenService } from '../../services/user-tokens';
import { hashSecret, type RefreshTokenService } from '../refresh-tokens';
import type { GrantHandler, TokenContext, TokenResponse } from '../types';
import { userTokenResponse } from '../user-response';
import { popOf } from '../binding';
import { narrowAuthorizationDetails, parseAuthorizationDetails } from '../../authorize/authorization-details';

const invalidCode = (cause: string) => new InvalidGrant('Invalid authorization code', cause);
const badVerifier = () => new InvalidGrant('Failed to verify code verifier');

/** RFC 9449 §10: a code issued with `dpop_jkt` is exchanged only with a proof from that key. */
function checkCodeBinding(grant: CodeGrant, jkt: string | undefined): void {
  if (grant.dpopJkt === undefined) return;
  if (jkt === undefined) throw new InvalidRequest('DPoP proof required: the authorization code is bound to a DPoP key (dpop_jkt)');
  if (jkt !== grant.dpopJkt) throw new InvalidDpopProof('Invalid DPoP proof: the key is not the one the authorization code is bound to (dpop_jkt)');
}

/** RFC 7636 §4.6: S256 compares BASE64URL(SHA256(verifier)); plain compares the verifier itself. */
function verifierMatches(grant: CodeGrant, verifier: string): boolean {
  if (!/^[A-Za-z0-9._~-]{43,128}$/.test(verifier)) return false;
  const derived = grant.codeChallengeMethod === 'S256' ? createHash('sha256').update(verifier, 'ascii').digest('base64url') : verifier;
  return derived === grant.codeChallenge;
}

/**
 * RFC 6749 §4.1.3 Access Token Request with RFC 7636 PKCE. A code is single use and short-lived; a replayed
 * code revokes the refresh tokens minted from it (§4.1.2). Public clients must have used PKCE.
 */
export class AuthorizationCodeGrant implements GrantHandler {
  readonly grantType = 'authorization_code';
  readonly required = ['code'] as const;
  readonly allowsPublicClients = true;
  readonly acceptsAuthorizationDetails = true;

  constructor(private readonly deps: { store: Store; clock: Clock; userTokens: UserTokenService; refreshTokens: RefreshTokenService }) {}

  async handle(ctx: TokenContext & { client: Client }): Promise<TokenResponse> {
    const { store, clock } = this.deps;
    const p = ctx.request.params;
    const codeHash = hashSecret(p.code);
    const rec = await store.authorizationCodes.find(codeHash);
    if (!rec || rec.grant.clientId !== ctx.client.client_id) throw invalidCode('unknown code or other client');
    if (rec.expiresAt <= clock.now()) throw invalidCode('expired');
    const g = rec.grant;
    if (rec.consumedAt !== undefined) {
      if (rec.familyId) await this.deps.refreshTokens.revokeFamily(rec.familyId);
      throw invalidCode('replayed');
    }
    if ((g.redirectUriGiven || p.redirect_uri !== undefined) && p.redirect_uri !== g.redirectUri) throw invalidCode('redirect_uri mismatch');
    if (g.codeChallenge === undefined) {
      if (ctx.authMethod === 'none') throw new InvalidClient('public client without PKCE');
      if (p.code_verifier !== undefined) throw badVerifier();
    } else if (p.code_verifier === undefined || !verifierMatches(g, p.code_verifier)) {
      throw badVerifier();
    }
    checkCodeBinding(g, ctx.dpop?.jkt);
    // RFC 9396 §6.1: the request may narrow the approved details; checked before the code is spent
    const narrowed = parseAuthorizationDetails(p.authorization_details);
    if (narrowed) narrowAuthorizationDetails(narrowed, g.authorizationDetails);
    if (!(await store.authorizationCodes.consume(codeHash, clock.now()))) throw invalidCode('replayed concurrently');
    const user = await store.users.findById(g.userId);
    if (!user || user.blocked) throw invalidCode('user gone or blocked');
    const decision = await this.deps.userTokens.decide({
      client: ctx.client, userId: user.user_id, audience: g.audience, requested: g.scopes, organizationId: g.orgId,
      unknownAudience: () => invalidCode('API deleted'),
    });
    const granted = await this.deps.userTokens.allowedDetails(ctx.client, decision, g.authorizationDetails);
    const { familyId, ...res } = await userTokenResponse(this.deps, {
      client: ctx.client, user, decision, flow: 'code', authTime: g.authTime, nonce: g.nonce, orgId: g.orgId, amr: g.amr, origin: this.grantType, pop: popOf(ctx),
      authorizationDetails: narrowed && granted ? narrowAuthorizationDetails(narrowed, granted) : granted, grantedAuthorizationDetails: granted,
    });
    if (familyId) await store.authorizationCodes.setFamily(codeHash, familyId);
    return res;
  }
}
