import type { Client, User } from '../model';
import type { UserTokenService, ScopeDecision, Flow } from '../services/user-tokens';
import { bindingFor, type BindingInput } from './binding';
import type { RefreshTokenService } from './refresh-tokens';
import type { TokenResponse } from './types';
import type { AuthorizationDetail } from '../authorize/authorization-details';

export interface UserResponseInput {
  client: Client;
  user: User;
  decision: ScopeDecision;
  flow: Flow;
  authTime: number;
  nonce?: string;
  orgId?: string;
  /** `["mfa"]` when a second factor was passed; recorded on a new refresh-token family too. */
  amr?: string[];
  /** Grant type recorded on a new refresh-token family. */
  origin: string;
  /** A refresh token to hand back instead of minting one (rotation's successor), or false for none. */
  refreshToken?: string | false;
  /** Client, client type and DPoP key: what the access token and a new refresh token are bound to. */
  pop: BindingInput;
  /** RFC 9396: the authorization details this access token carries (possibly narrowed by the token request). */
  authorizationDetails?: AuthorizationDetail[];
  /** What a new refresh token remembers as granted (default: `authorizationDetails`). */
  grantedAuthorizationDetails?: AuthorizationDetail[];
}

/**
 * The token endpoint's answer for a user: access token, a refresh token when offline access was granted
 * (offline_access requested, the API allows it, the client has the grant), an ID token with `openid`.
 */
export async function userTokenResponse(
  deps: { userTokens: UserTokenService; refreshTokens: RefreshTokenService }, i: UserResponseInput,
): Promise<TokenResponse & { familyId?: string }> {
  const binding = bindingFor(i.pop, i.decision.userinfoOnly ? 'userinfo' : i.decision.api);
  const access = await deps.userTokens.accessToken({ client: i.client, user: i.user, decision: i.decision, flow: i.flow, orgId: i.orgId, cnf: binding.cnf, amr: i.amr, authorizationDetails: i.authorizationDetails });
  const res: TokenResponse & { familyId?: string } = {
    access_token: access.token, expires_in: access.expiresIn, token_type: binding.tokenType,
    subject: { user_id: i.user.user_id, user_name: i.user.email, audience: i.decision.userinfoOnly ? undefined : i.decision.api.identifier },
  };
  const { scopes } = i.decision;
  if (i.refreshToken) res.refresh_token = i.refreshToken;
  else if (i.refreshToken === undefined && i.decision.offline) {
    const { token, familyId } = await deps.refreshTokens.issue(i.client, {
      clientId: i.client.client_id, userId: i.user.user_id, audience: i.decision.userinfoOnly ? undefined : i.decision.api.identifier,
      scopes, authTime: i.authTime, orgId: i.orgId, origin: i.origin, ...(i.amr && { amr: i.amr }),
      ...((i.grantedAuthorizationDetails ?? i.authorizationDetails) && { authorizationDetails: i.grantedAuthorizationDetails ?? i.authorizationDetails }),
    }, undefined, i.pop.publicClient ? i.pop.jkt : undefined, i.pop.publicClient && binding.cnf && 'x5t#S256' in binding.cnf ? binding.cnf['x5t#S256'] : undefined);
    res.refresh_token = token;
    res.familyId = familyId;
  }
  if (scopes.includes('openid')) {
    res.id_token = await deps.userTokens.idToken({ client: i.client, user: i.user, scopes, authTime: i.authTime, nonce: i.nonce, orgId: i.orgId, amr: i.amr });
  }
  if (scopes.length > 0) res.scope = scopes.join(' ');
  if (i.authorizationDetails) res.authorization_details = i.authorizationDetails;
  return res;
}
