/**
 * The reasons behind a token's scopes. The token pipeline's own scope decisions (client_credentials in
 * grants/client-credentials.ts, user tokens in services/user-tokens.ts) write into a `ScopeTrace` when they are
 * given one; the token endpoint gives none, `/api/v2/tessera/explain` gives one and reads it (token/explain.ts).
 */

/**
 * The rules that grant or refuse a scope, or refuse the whole request (each with what it means, in the order the
 * pipeline consults them). The explain route's schema lists these values.
 */
export const SCOPE_RULES = [
  /** the client's grant lists the scope */
  'client_grant',
  /** the client's grant has allow_all_scopes */
  'allow_all_scopes',
  /** the client's grant does not list the scope */
  'not_in_client_grant',
  /** the client has no grant for the API (and none by default) */
  'no_client_grant',
  /** the API's subject_type_authorization policy: deny_all refuses, allow_all admits a first-party client without a grant */
  'subject_type_policy',
  /** RBAC (enforce_policies): the user holds the permission through a role */
  'rbac_role',
  /** RBAC (enforce_policies): the user holds the permission directly */
  'direct_permission',
  /** RBAC (enforce_policies): the user does not hold the permission */
  'enforce_policies',
  /** the client grant's organization_usage (or the organization's association with it) refuses the request */
  'organization_usage',
  /** the scope is asked for or granted, but the API no longer defines it */
  'removed_scope',
  /** the request names a scope list without this scope */
  'not_requested',
  /** the client may not use the grant type */
  'grant_type',
  /** the audience is not an API, or none was given */
  'audience',
  /** the user is blocked (or, for a refresh token, no longer exists) */
  'user_blocked',
  /** password-realm: the realm is not a connection the user can log in with */
  'realm',
  /** refresh_token: the refresh token is another client's, revoked, expired, or a rotated token used again after leeway */
  'refresh_token',
  /** refresh_token: the request asks for a scope the refresh token was not issued with (a refresh cannot widen) */
  'refresh_scope',
] as const;

/** The rule that granted or refused a scope, or refused the whole request. */
export type ScopeRule = typeof SCOPE_RULES[number];

/** Who holds a permission that RBAC let through. */
export interface ScopeSource { type: 'role' | 'direct'; role_id?: string; role_name?: string; organization_id?: string }

export interface ScopeVerdict {
  value: string;
  granted: boolean;
  rule: ScopeRule;
  /** The client grant that decided (client_grant, allow_all_scopes, not_in_client_grant). */
  client_grant_id?: string;
  /** RBAC: every way the user holds the permission. */
  sources?: ScopeSource[];
  /** Flows through /authorize: whether the user has consented to the scope, would be asked, or is not asked. */
  consent?: 'remembered' | 'required' | 'skipped';
  /** subject_type_policy: the policy that decided. */
  policy?: string;
}

/** A refusal of the whole request (no token at all), with the rule that decided. */
export interface TraceRefusal {
  rule: ScopeRule; client_grant_id?: string; policy?: string;
  /** refresh_token: why the token is refused beyond the public description (`revoked`, `expired`, …). */
  reason?: string;
}

export class ScopeTrace {
  private readonly byScope = new Map<string, ScopeVerdict>();
  refusal?: TraceRefusal;

  /**
   * Records a scope's verdict; a later step of the pipeline overrides an earlier one (the last filter decides). The
   * client grant an earlier step consulted stays named.
   */
  set(value: string, granted: boolean, rule: ScopeRule, extra: Omit<ScopeVerdict, 'value' | 'granted' | 'rule'> = {}): void {
    const grantId = this.byScope.get(value)?.client_grant_id;
    this.byScope.set(value, { value, granted, rule, ...(grantId !== undefined && { client_grant_id: grantId }), ...extra });
  }

  /** Adds to a scope's verdict without changing it (consent). */
  annotate(value: string, extra: Omit<ScopeVerdict, 'value' | 'granted' | 'rule'>): void {
    const v = this.byScope.get(value);
    if (v) Object.assign(v, extra);
  }

  get(value: string): ScopeVerdict | undefined { return this.byScope.get(value); }

  refuse(rule: ScopeRule, extra: Omit<TraceRefusal, 'rule'> = {}): void {
    this.refusal ??= { rule, ...extra };
  }

  verdicts(): ScopeVerdict[] { return [...this.byScope.values()]; }
}
