import { AccessDenied, type OAuthError } from '../errors';
import { effective, type Client, type ResourceServer, type User } from '../model';
import type { PermissionSourceRow, Store } from '../ports';
import type { ScopeSource, ScopeTrace } from '../token/scope-trace';
import type { AccessTokenClaims, AccessTokenMinter } from '../token/mint';
import type { IdTokenMinter } from '../token/id-token';
import type { DirectoryReads } from '../token/explain-assume';
import type { Cnf } from '../token/binding';
import { registeredTypes, type AuthorizationDetail } from '../authorize/authorization-details';

/** OIDC scopes: they pass through to the ID token and /userinfo and are never API permissions. */
export const OIDC_SCOPES: ReadonlySet<string> = new Set(['openid', 'profile', 'email', 'address', 'phone', 'offline_access']);

export const splitScope = (s: string | undefined): string[] | undefined =>
  s === undefined ? undefined : [...new Set(s.split(' ').filter(Boolean))];

export interface ScopeRequest {
  client: Client;
  userId: string;
  audience?: string;
  /** Requested scopes (undefined: none sent). */
  requested?: string[];
  organizationId?: string;
  /** Password grants: no scope sent means every scope of the API ("implied trust"). */
  defaultAll?: boolean;
  /** The error for an audience that is not a registered API (differs between /authorize and /oauth/token). */
  unknownAudience: (audience: string) => OAuthError;
}

export interface ScopeDecision {
  api: ResourceServer;
  /** True for the built-in `${PUBLIC_URL}/userinfo` audience (no API requested). */
  userinfoOnly: boolean;
  /** Issued scopes, in request order: the kept OIDC scopes and API scopes. */
  scopes: string[];
  /** The API scopes alone (what consent lists and remembers besides OIDC scopes). */
  apiScopes: string[];
  /** All of the user's permissions on the API (for `*_authz` dialects). */
  permissions?: string[];
  /** offline_access requested and allowed: a refresh token is issued. */
  offline: boolean;
}

export type Flow = 'code' | 'web' | 'password' | 'refresh';

export interface UserTokenInput {
  client: Client;
  user: User;
  decision: ScopeDecision;
  flow: Flow;
  orgId?: string;
  /** RFC 9449 §6 / RFC 8705 §3.1: the DPoP key or client certificate the token is bound to. */
  cnf?: Cnf;
  /** Authentication methods references: `["mfa"]` after a second factor. */
  amr?: string[];
  /** RFC 9396 §9.1: the granted authorization details, carried in the access token. */
  authorizationDetails?: AuthorizationDetail[];
}

/** Explain: the scopes the request asks for (or implies) before the grant and RBAC look at them. */
function traceRequested(trace: ScopeTrace, policy: string, defined: string[], requested: string[], asked: string[]): void {
  for (const s of defined) trace.set(s, asked.includes(s), asked.includes(s) ? 'subject_type_policy' : 'not_requested', asked.includes(s) ? { policy } : {});
  for (const s of requested) if (!defined.includes(s) && !OIDC_SCOPES.has(s)) trace.set(s, false, 'removed_scope');
}

/** Explain: RBAC's verdict on each scope still in play, with every way the user holds the permission. */
function traceRbac(trace: ScopeTrace, scopes: string[], held: PermissionSourceRow[]): void {
  for (const s of scopes) {
    const sources: ScopeSource[] = held.filter((p) => p.permission_name === s).map((p) => p.role_id === undefined
      ? { type: 'direct' }
      : { type: 'role', role_id: p.role_id, role_name: p.role_name, ...(p.organization_id !== undefined && { organization_id: p.organization_id }) });
    const rule = sources.length === 0 ? 'enforce_policies' : sources.some((x) => x.type === 'direct') ? 'direct_permission' : 'rbac_role';
    trace.set(s, sources.length > 0, rule, sources.length > 0 ? { sources } : {});
  }
}

const notAuthorized = (client: Client, api: ResourceServer, reason: string) =>
  new AccessDenied(`Client "${client.client_id}" is not authorized to access resource server "${api.identifier}". ${reason}`);

/**
 * Scope computation and access-token minting for tokens issued on behalf of a user (contract §7.4–7.7):
 * requested ∩ API scopes ∩ RBAC (enforce_policies) ∩ user client grant (require_client_grant or
 * third-party) — consent is applied by the caller. Lifetimes, dialect, algorithm, `aud`, `gty` follow the API.
 */
export class UserTokenService {
  readonly userinfoAudience: string;
  /** Auth0's MFA API audience (`${issuer}mfa/`): tokens with `enroll`, `read:authenticators`, `remove:authenticators`. */
  readonly mfaAudience: string;
  private readonly userinfoApi: ResourceServer;
  private readonly mfaApi: ResourceServer;

  constructor(private readonly deps: { store: Store; directory: DirectoryReads; minter: AccessTokenMinter; idTokens: IdTokenMinter; publicUrl: string }) {
    this.userinfoAudience = `${deps.publicUrl}/userinfo`;
    this.userinfoApi = {
      id: 'userinfo', identifier: this.userinfoAudience, signing_alg: 'RS256', allow_offline_access: true,
      skip_consent_for_verifiable_first_party_clients: true, subject_type_authorization: {}, token_lifetime: 86400, token_lifetime_for_web: 7200,
    };
    this.mfaAudience = `${deps.publicUrl}/mfa/`;
    this.mfaApi = {
      id: 'mfa', identifier: this.mfaAudience, name: 'MFA API', signing_alg: 'RS256', allow_offline_access: false,
      skip_consent_for_verifiable_first_party_clients: true, subject_type_authorization: {}, token_lifetime: 600, token_lifetime_for_web: 600,
      scopes: ['enroll', 'read:authenticators', 'remove:authenticators'].map((value) => ({ value, description: value })),
    };
  }

  /** The same decisions over another view of the configuration (explain's assumptions). */
  over(view: { store: Store; directory: DirectoryReads }): UserTokenService {
    return new UserTokenService({ ...this.deps, ...view });
  }

  /**
   * `trace` (explain) records the rule behind each API scope and behind a refusal; the token flows pass none.
   * Each step narrows the scopes and overrides the verdict of the scopes it looks at, so the last filter decides.
   */
  async decide(r: ScopeRequest, trace?: ScopeTrace): Promise<ScopeDecision> {
    const { client } = r;
    const requested = r.requested ?? [];
    const userinfoOnly = r.audience === undefined || r.audience === this.userinfoAudience;
    const api = userinfoOnly ? this.userinfoApi : r.audience === this.mfaAudience ? this.mfaApi : await this.deps.directory.resourceServer(r.audience as string);
    if (!api) {
      trace?.refuse('audience');
      throw r.unknownAudience(r.audience as string);
    }
    let apiScopes: string[] = [];
    let permissions: string[] | undefined;
    if (!userinfoOnly) {
      // the Management API on behalf of a user (the dashboard): only through a client grant for users, and only
      // the Management permissions the user holds through roles (RBAC is always on for it)
      const policy = api.is_system ? 'require_client_grant' : effective.userPolicy(api);
      if (policy === 'deny_all') {
        trace?.refuse('subject_type_policy', { policy });
        throw notAuthorized(client, api, 'The API does not allow access on behalf of users.');
      }
      const defined = effective.scopeValues(api);
      apiScopes = r.defaultAll && requested.length === 0 ? defined : requested.filter((s) => defined.includes(s) && !OIDC_SCOPES.has(s));
      if (trace) traceRequested(trace, policy, defined, requested, apiScopes);
      if (!client.is_first_party || policy === 'require_client_grant') {
        const grant = (await this.deps.directory.grant(client.client_id, api.identifier, 'user'))
          ?? (client.is_first_party ? undefined : await this.deps.directory.defaultGrant(api.identifier, 'user'));
        if (!grant) {
          trace?.refuse('no_client_grant');
          throw notAuthorized(client, api, 'You need to create a "client-grant" associated to this API.');
        }
        const cap = grant.allow_all_scopes ? defined : grant.scope ?? [];
        for (const s of trace ? apiScopes : []) {
          trace?.set(s, cap.includes(s), !cap.includes(s) ? 'not_in_client_grant' : grant.allow_all_scopes ? 'allow_all_scopes' : 'client_grant', { client_grant_id: grant.id });
        }
        apiScopes = apiScopes.filter((s) => cap.includes(s));
      }
      if (api.enforce_policies || api.is_system) {
        const held = await this.deps.store.permissions.sources(r.userId, api.identifier, r.organizationId);
        permissions = [...new Set(held.map((p) => p.permission_name))].sort();
        if (trace) traceRbac(trace, apiScopes, held);
        apiScopes = apiScopes.filter((s) => permissions?.includes(s));
      }
    }
    const offlineAllowed = api.allow_offline_access && client.grant_types.includes('refresh_token');
    const oidc = requested.filter((s) => OIDC_SCOPES.has(s) && (s !== 'offline_access' || offlineAllowed));
    const keep = new Set([...oidc, ...apiScopes]);
    const ordered = [...requested.filter((s) => keep.has(s)), ...apiScopes.filter((s) => !requested.includes(s))];
    return { api, userinfoOnly, scopes: ordered, apiScopes, permissions, offline: oidc.includes('offline_access') };
  }

  /** The access token: `sub` = user, `aud` adds /userinfo with openid (asymmetric APIs), lifetime per flow. */
  async accessToken(i: UserTokenInput): Promise<{ token: string; expiresIn: number }> {
    const { api, claims, lifetime } = this.accessClaims(i);
    const { token, expiresIn } = await this.deps.minter.mint(api, claims, lifetime);
    return { token, expiresIn };
  }

  /** The access token's claims unsigned, as `accessToken` would mint them (explain). */
  accessTokenClaims(i: UserTokenInput): Record<string, unknown> {
    const { api, claims, lifetime } = this.accessClaims(i);
    return this.deps.minter.claims(api, claims, lifetime);
  }

  private accessClaims(i: UserTokenInput): { api: ResourceServer; claims: AccessTokenClaims; lifetime: number } {
    const { api, scopes, userinfoOnly } = i.decision;
    const lifetime = i.flow === 'web' ? api.token_lifetime_for_web : api.token_lifetime;
    // /userinfo can read neither an HS256 token (the API's secret) nor an encrypted one (the API's private key)
    const withUserinfo = !userinfoOnly && scopes.includes('openid') && api.signing_alg !== 'HS256' && !api.token_encryption;
    const gty = i.flow === 'password' ? 'password' : i.flow === 'refresh' ? 'refresh_token' : undefined;
    const claims: AccessTokenClaims = {
      sub: i.user.user_id, clientId: i.client.client_id, scopes, gty,
      permissions: i.decision.permissions ?? [],
      extraAudience: withUserinfo ? this.userinfoAudience : undefined,
      orgId: i.orgId,
      extra: i.cnf || i.amr || i.authorizationDetails ? { ...(i.cnf && { cnf: i.cnf }), ...(i.amr && { amr: i.amr }), ...(i.authorizationDetails && { authorization_details: i.authorizationDetails }) } : undefined,
    };
    return { api, claims, lifetime };
  }

  /**
   * RFC 9396 at the token endpoint: of the details granted earlier, those whose type the API still registers and
   * the client's user grant still allows (a type withdrawn since drops out, like a removed scope).
   */
  async allowedDetails(client: Client, d: ScopeDecision, details: AuthorizationDetail[] | undefined): Promise<AuthorizationDetail[] | undefined> {
    if (!details || d.userinfoOnly) return undefined;
    const grant = (await this.deps.directory.grant(client.client_id, d.api.identifier, 'user'))
      ?? (client.is_first_party ? undefined : await this.deps.directory.defaultGrant(d.api.identifier, 'user'));
    const registered = new Set(registeredTypes(d.api));
    const allowed = new Set(grant?.authorization_details_types ?? []);
    const kept = details.filter((x) => registered.has(x.type) && allowed.has(x.type));
    return kept.length > 0 ? kept : undefined;
  }

  idToken(...args: Parameters<IdTokenMinter['mint']>): Promise<string> {
    return this.deps.idTokens.mint(...args);
  }
}
