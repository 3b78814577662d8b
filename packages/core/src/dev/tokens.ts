import { AccessDenied, BadRequest, NotFound } from '../errors';
import { DATABASE_CONNECTION, type Client, type User } from '../model';
import type { Clock, Store } from '../ports';
import type { Directory } from '../services/directory';
import { splitScope, type UserTokenService } from '../services/user-tokens';
import type { RefreshTokenService } from '../token/refresh-tokens';
import type { GrantHandler, TokenResponse } from '../token/types';
import { userTokenResponse } from '../token/user-response';

export interface DevClientTokenRequest { clientId: string; audience?: string; scope?: string; organization?: string }
export interface DevUserTokenRequest {
  clientId: string;
  /** The user, by id or by the email address of the database connection. */
  userId?: string;
  email?: string;
  audience?: string;
  /** Default `openid profile email` (what Auth0's SDKs ask for). */
  scope?: string;
  organization?: string;
}

/** The body of a token response, without the fields only the token endpoint uses. */
export type MintedTokens = Pick<TokenResponse, 'access_token' | 'refresh_token' | 'id_token' | 'scope' | 'expires_in' | 'token_type'>;

const body = (r: TokenResponse): MintedTokens => ({
  access_token: r.access_token, token_type: r.token_type, expires_in: r.expires_in,
  ...(r.scope !== undefined && { scope: r.scope }), ...(r.id_token !== undefined && { id_token: r.id_token }),
  ...(r.refresh_token !== undefined && { refresh_token: r.refresh_token }),
});

/**
 * Development mode's token minting without a browser or a client secret: the client_credentials grant itself for a
 * client, and for a user the same scope decision (API scopes, RBAC, client grants, organizations) and token response
 * (access, ID and refresh tokens) as an authorization code exchange. Only the proof of who is asking is skipped.
 */
export class DevTokens {
  constructor(private readonly deps: {
    store: Store; directory: Directory; clock: Clock; userTokens: UserTokenService; refreshTokens: RefreshTokenService;
    clientCredentials: GrantHandler;
  }) {}

  async forClient(r: DevClientTokenRequest): Promise<MintedTokens> {
    const client = await this.client(r.clientId);
    if (!client.grant_types.includes('client_credentials')) {
      throw new BadRequest(`The client ${client.client_id} does not have the client_credentials grant type.`, 'invalid_grant_type');
    }
    const params: Record<string, string> = {
      ...(r.audience !== undefined && { audience: r.audience }), ...(r.scope !== undefined && { scope: r.scope }),
      ...(r.organization !== undefined && { organization: r.organization }),
    };
    return body(await this.deps.clientCredentials.handle({ request: { params }, grantType: 'client_credentials', client, authMethod: 'client_secret_post' }));
  }

  async forUser(r: DevUserTokenRequest): Promise<MintedTokens> {
    const client = await this.client(r.clientId);
    const user = await this.user(r);
    const orgId = r.organization === undefined ? undefined : await this.membership(r.organization, user);
    const decision = await this.deps.userTokens.decide({
      client, userId: user.user_id, audience: r.audience, requested: splitScope(r.scope ?? 'openid profile email'), organizationId: orgId,
      unknownAudience: (aud) => new AccessDenied(`Service not enabled within domain: ${aud}`),
    });
    const { familyId: _f, ...res } = await userTokenResponse(this.deps, {
      client, user, decision, flow: 'code', authTime: this.deps.clock.now(), orgId, origin: 'authorization_code',
      pop: { client, publicClient: client.token_endpoint_auth_method === 'none' },
    });
    return body(res);
  }

  /** A user by id, or by email on the database connection; blocked users get nothing, as at the login page. */
  async user(r: { userId?: string; email?: string }): Promise<User> {
    if (r.userId === undefined && r.email === undefined) throw new BadRequest('Give user_id or email.', 'invalid_body');
    const user = r.userId !== undefined ? await this.deps.store.users.findById(r.userId) : await this.deps.store.users.findByEmail(DATABASE_CONNECTION, (r.email as string).toLowerCase());
    if (!user) throw new NotFound('The user does not exist.', 'inexistent_user');
    if (user.blocked) throw new BadRequest(`The user ${user.user_id} is blocked.`, 'user_blocked');
    return user;
  }

  private async client(clientId: string): Promise<Client> {
    const found = await this.deps.directory.client(clientId);
    if (!found) throw new NotFound('The client does not exist', 'inexistent_client');
    return found.client;
  }

  /** The organization (id or name) the user must be a member of, as at /authorize with `organization`. */
  private async membership(idOrName: string, user: User): Promise<string> {
    const orgs = this.deps.store.organizations;
    const org = (await orgs.findById(idOrName)) ?? (await orgs.findByName(idOrName));
    if (!org) throw new NotFound(`No organization found for ${idOrName}.`, 'inexistent_organization');
    if (!(await orgs.isMember(org.id, user.user_id))) throw new BadRequest(`The user ${user.user_id} is not part of the ${org.id} organization.`, 'not_a_member');
    return org.id;
  }
}
