import { AccessDenied, BadRequest, InvalidGrant, NotFound, OAuthError } from '../errors';
import { acceptsLogins, effective, type Client, type Organization, type User } from '../model';
import type { RefreshTokenRecord, Store } from '../ports';
import { checkAuthorizeAudience, type AuthorizeService } from '../authorize/service';
import { checkOrganizationUsage } from '../authorize/request';
import type { Directory } from '../services/directory';
import { splitScope, type ScopeDecision, type UserTokenService } from '../services/user-tokens';
import { checkGrantTypeAllowed } from './endpoint';
import { clientCredentialsClaims, type ClientCredentialsGrant } from './grants/client-credentials';
import { admitUser, PASSWORD_REALM, type PasswordGrant } from './grants/password';
import { MFA_OTP, MFA_RECOVERY_CODE } from './grants/mfa';
import { checkRefreshScope, type RefreshTokenGrant } from './grants/refresh-token';
import { rotates, type RefreshTokenService } from './refresh-tokens';
import type { AccessTokenMinter } from './mint';
import { ScopeTrace, type ScopeRule, type ScopeVerdict } from './scope-trace';
import { AssumedDirectory, assumedStore, type DirectoryReads, type ExplainAssumptions } from './explain-assume';

/** The configuration one explanation reads: the stored one, or with assumptions laid over it. */
interface View {
  directory: DirectoryReads; clientCredentials: ClientCredentialsGrant; userTokens: UserTokenService;
  password: PasswordGrant; passwordRealm: PasswordGrant; refresh: RefreshTokenGrant;
}

/**
 * The grant types explain answers for: every grant of /oauth/token that decides scopes of its own. The client's own
 * tokens; a user's through a password (with or without a realm) or a login at /authorize; a refresh. The MFA grants
 * finish a password grant and decide as it does (explained with it: `mfa`). Tessera has no token exchange grant.
 */
export const EXPLAIN_GRANT_TYPES = ['client_credentials', 'password', PASSWORD_REALM, 'authorization_code', 'refresh_token'] as const;
export type ExplainGrantType = typeof EXPLAIN_GRANT_TYPES[number];

/** What a token request would carry (the credentials aside: explain decides, it does not authenticate). */
export interface ExplainRequest {
  client_id: string;
  /** The user (password grants, authorization_code); a refresh token names its own. */
  user_id?: string;
  audience?: string;
  scope?: string;
  organization?: string;
  /** password-realm: the connection the request names. */
  realm?: string;
  /** refresh_token: the refresh token's id as the Management API shows it (`/users/{id}/refresh-tokens`); its current token is explained. */
  refresh_token_id?: string;
  /** Default: refresh_token with a refresh_token_id, password-realm with a realm, authorization_code with a user, client_credentials otherwise. */
  grant_type?: ExplainGrantType;
}

/** refresh_token: the token explained (the current token of the family), as storage holds it. */
export interface ExplainedRefreshToken {
  id: string;
  /** The client it was issued to (another client's token is refused). */
  client_id: string;
  /** The scope it was issued with (a refresh may narrow it, never widen it). */
  scope: string;
  audience?: string;
  organization_id?: string;
  /** Its client's `refresh_token.rotation_type` is `rotating`. */
  rotating: boolean;
  expires_at?: string;
  idle_expires_at?: string;
  revoked_at?: string;
  /** Under rotation: when it was exchanged (a rotated token used again after `leeway` revokes its family). */
  used_at?: string;
  /** Bound to a DPoP key or a client certificate: the exchange needs that proof (explain assumes it is presented). */
  bound_to?: 'dpop' | 'client_certificate';
}

/** Which fields each grant type reads; any other field sent is refused, so no field is ever silently ignored. */
const FIELDS: Record<ExplainGrantType, { required: Array<keyof ExplainRequest>; optional: Array<keyof ExplainRequest> }> = {
  client_credentials: { required: [], optional: ['audience', 'scope', 'organization'] },
  password: { required: ['user_id'], optional: ['audience', 'scope'] },
  [PASSWORD_REALM]: { required: ['user_id', 'realm'], optional: ['audience', 'scope'] },
  authorization_code: { required: ['user_id'], optional: ['audience', 'scope', 'organization'] },
  refresh_token: { required: ['refresh_token_id'], optional: ['scope'] },
};
const REQUEST_FIELDS = ['user_id', 'audience', 'scope', 'organization', 'realm', 'refresh_token_id'] as const;

/** The grant type a request names or implies, with its fields checked (400 for a missing or unused one). */
function grantTypeOf(r: ExplainRequest): ExplainGrantType {
  const grantType = r.grant_type
    ?? (r.refresh_token_id !== undefined ? 'refresh_token' : r.realm !== undefined ? PASSWORD_REALM : r.user_id !== undefined ? 'authorization_code' : 'client_credentials');
  const { required, optional } = FIELDS[grantType];
  for (const f of REQUEST_FIELDS) {
    if (r[f] === undefined && required.includes(f)) throw new BadRequest(`${f} is required for ${grantType}`, 'invalid_body');
    if (r[f] !== undefined && !required.includes(f) && !optional.includes(f)) throw new BadRequest(`${f} is not used by ${grantType}`, 'invalid_body');
  }
  return grantType;
}

export type ConsentState = 'remembered' | 'required' | 'skipped';

export interface ExplainAnswer {
  grant_type: ExplainGrantType;
  client_id: string;
  user_id?: string;
  audience?: string;
  /** Whether the token endpoint would issue a token. */
  issued: boolean;
  /** The token's `scope`, as the token endpoint would answer it (issued only). */
  scope?: string;
  /** The refusal (not issued): the OAuth error, its description and the rule that decided. */
  error?: string;
  error_description?: string;
  rule?: ScopeRule;
  client_grant_id?: string;
  policy?: string;
  /** Every scope the API defines, and any other scope the request or the client grant names. */
  scopes: ScopeVerdict[];
  /** refresh_token: why the token is refused, beyond the public description (`revoked`, `expired`, `other client`, …). */
  reason?: string;
  /** authorization_code: whether the user would see the consent page (`required`; prompt=none fails with consent_required). */
  consent?: ConsentState;
  /**
   * password grants: `required` when the user has a second factor (or one to enrol): the token endpoint first answers
   * mfa_required with an mfa_token, and the token explained is the one the MFA grants then issue (`amr: ["mfa"]`).
   */
  mfa?: 'required';
  /** refresh_token: the token explained. */
  refresh_token?: ExplainedRefreshToken;
  /** The access token's claims as they would be minted, unsigned (issued only). */
  claims?: Record<string, unknown>;
}

/**
 * POST /api/v2/tessera/explain: for one client (and user), which scopes a token would get and the rule behind each.
 * It runs the token pipeline's own decisions (ClientCredentialsGrant.decide, UserTokenService.decide, the grant-type
 * check, the /authorize organization and consent rules) with a ScopeTrace, and mints the claims without signing.
 * Explain reads configuration only; it never authenticates a client or a password, and writes nothing.
 */
export class TokenExplainer {
  constructor(private readonly deps: {
    store: Store; directory: Directory; minter: AccessTokenMinter;
    clientCredentials: ClientCredentialsGrant; userTokens: UserTokenService; authorize: AuthorizeService;
    password: PasswordGrant; passwordRealm: PasswordGrant; refresh: RefreshTokenGrant; refreshTokens: RefreshTokenService;
  }) {}

  /** `assume`: explain over the stored configuration with these changes laid over it (nothing is written). */
  async explain(r: ExplainRequest, assume?: ExplainAssumptions): Promise<ExplainAnswer> {
    const grantType = grantTypeOf(r);
    const v = this.view(assume);
    const client = (await v.directory.client(r.client_id))?.client;
    if (!client) throw new NotFound('The client does not exist', 'inexistent_client');
    const refresh = r.refresh_token_id === undefined ? undefined : await this.deps.refreshTokens.current(r.refresh_token_id);
    if (r.refresh_token_id !== undefined && !refresh) throw new NotFound('The refresh token does not exist.', 'inexistent_refresh_token');
    const user = r.user_id === undefined ? undefined : await this.deps.store.users.findById(r.user_id);
    if (r.user_id !== undefined && !user) throw new NotFound('The user does not exist.', 'inexistent_user');
    const trace = new ScopeTrace();
    const answer: ExplainAnswer = { grant_type: grantType, client_id: client.client_id, ...(user && { user_id: user.user_id }), issued: false, scopes: [] };
    if (refresh) {
      const owner = refresh.grant.clientId === client.client_id ? client : (await v.directory.client(refresh.grant.clientId))?.client;
      Object.assign(answer, { user_id: refresh.grant.userId, audience: refresh.grant.audience, refresh_token: describeRefreshToken(owner, refresh) });
    }
    try {
      checkGrantAllowed(client, grantType, trace);
      const issued = refresh ? await this.forRefresh(v, client, refresh, r, trace)
        : user ? await this.forUser(v, client, user, r, grantType, trace, answer) : await this.forClient(v, client, r, trace);
      Object.assign(answer, {
        issued: true, audience: issued.audience, ...(issued.scopes.length > 0 && { scope: issued.scopes.join(' ') }),
        ...(issued.consent !== undefined && { consent: issued.consent }), claims: issued.claims,
      });
    } catch (e) {
      if (!(e instanceof OAuthError)) throw e;
      Object.assign(answer, { error: e.code, error_description: e.message, ...trace.refusal });
    }
    answer.audience ??= r.audience || undefined;
    answer.scopes = await verdicts(v.directory, answer, trace);
    if (!answer.issued) for (const verdict of answer.scopes) verdict.granted = false;
    return answer;
  }

  private view(assume: ExplainAssumptions | undefined): View {
    const { directory, store, clientCredentials, userTokens, password, passwordRealm, refresh } = this.deps;
    if (!assume) return { directory, clientCredentials, userTokens, password, passwordRealm, refresh };
    const assumed = new AssumedDirectory(directory, assume);
    const over = { userTokens: userTokens.over({ store: assumedStore(store, assume), directory: assumed }) };
    return {
      directory: assumed, clientCredentials: clientCredentials.over(assumed), ...over,
      password: password.over(over), passwordRealm: passwordRealm.over(over), refresh: refresh.over(over),
    };
  }

  private async forClient(v: View, client: Client, r: ExplainRequest, trace: ScopeTrace) {
    const params: Record<string, string> = {};
    if (r.audience !== undefined) params.audience = r.audience;
    if (r.scope !== undefined) params.scope = r.scope;
    if (r.organization !== undefined) params.organization = r.organization;
    const { api, scopes, orgId } = await v.clientCredentials.decide(client, params, trace);
    return { audience: api.identifier, scopes, claims: this.deps.minter.claims(api, clientCredentialsClaims(client, scopes, orgId)), consent: undefined };
  }

  private async forUser(v: View, client: Client, user: User, r: ExplainRequest, grantType: ExplainGrantType, trace: ScopeTrace, answer: ExplainAnswer) {
    if (grantType === 'password' || grantType === PASSWORD_REALM) return this.forPassword(v, client, user, r, grantType, trace, answer);
    if (user.blocked) {
      trace.refuse('user_blocked');
      throw new OAuthError('unauthorized', 401, 'user is blocked');
    }
    const audience = r.audience || undefined;
    // /authorize's order: the client's organization_usage, the audience, then the user's organization
    await refusing(trace, 'organization_usage', async () => checkOrganizationUsage(client, { organization: r.organization }));
    await refusing(trace, 'audience', () => checkAuthorizeAudience(v.directory, v.userTokens.userinfoAudience, audience));
    const organization: Organization | undefined = await refusing(trace, 'organization_usage', () => this.deps.authorize.organization(r.organization, user, client, false));
    const decision = await v.userTokens.decide({
      client, userId: user.user_id, audience, requested: splitScope(r.scope), organizationId: organization?.id,
      // /authorize decides first, with its wording
      unknownAudience: (aud) => new AccessDenied(`Service not found: ${aud}`),
    }, trace);
    const consent = await this.traceConsent(client, user, decision, trace);
    const claims = v.userTokens.accessTokenClaims({ client, user, decision, flow: 'code', orgId: organization?.id });
    return { audience: decision.userinfoOnly ? v.userTokens.userinfoAudience : decision.api.identifier, scopes: decision.scopes, claims, consent };
  }

  /**
   * password and password-realm, in PasswordGrant's order once the password matched: the realm, a blocked user, a
   * second factor (noted as `mfa`, then explained as the MFA grants would finish it: the client needs `mfa-otp` or
   * `mfa-recovery-code`), the scopes. No organization.
   */
  private async forPassword(v: View, client: Client, user: User, r: ExplainRequest, grantType: ExplainGrantType, trace: ScopeTrace, answer: ExplainAnswer) {
    const grant = grantType === PASSWORD_REALM ? v.passwordRealm : v.password;
    const params: Record<string, string> = { ...(r.realm !== undefined && { realm: r.realm }), ...(r.audience !== undefined && { audience: r.audience }), ...(r.scope !== undefined && { scope: r.scope }) };
    // an unknown realm finds no user: the same answer as a wrong password
    if (!acceptsLogins(grant.connection(params))) {
      trace.refuse('realm');
      throw new InvalidGrant('Wrong email or password.');
    }
    admitUser(user, trace);
    const mfa = await grant.secondFactorRequired(user);
    if (mfa) {
      answer.mfa = 'required';
      // the token then comes from an MFA grant, which the client must be allowed to use
      if (!client.grant_types.includes(MFA_RECOVERY_CODE)) checkGrantAllowed(client, MFA_OTP, trace);
    }
    const decision = await grant.decide(client, user, params, trace);
    const claims = v.userTokens.accessTokenClaims({ client, user, decision, flow: 'password', ...(mfa && { amr: ['mfa'] }) });
    return { audience: decision.userinfoOnly ? v.userTokens.userinfoAudience : decision.api.identifier, scopes: decision.scopes, claims, consent: undefined };
  }

  /**
   * refresh_token, in RefreshTokenGrant's order: the token's state (client, revocation, expiry), the requested scope
   * within the token's, reuse under rotation, then its user and the scopes decided again. A bound token's proof is
   * assumed presented.
   */
  private async forRefresh(v: View, client: Client, rec: RefreshTokenRecord, r: ExplainRequest, trace: ScopeTrace) {
    const requested = splitScope(r.scope);
    const refusal = this.deps.refreshTokens.inspect(client, rec, (g) => checkRefreshScope(requested, g, trace));
    if (refusal) {
      trace.refuse('refresh_token', typeof refusal.privateCause === 'string' ? { reason: refusal.privateCause } : {});
      throw refusal;
    }
    const { user, decision } = await v.refresh.decide(client, rec.grant, requested, trace);
    const authorizationDetails = await v.userTokens.allowedDetails(client, decision, rec.grant.authorizationDetails);
    const claims = v.userTokens.accessTokenClaims({ client, user, decision, flow: 'refresh', orgId: rec.grant.orgId, amr: rec.grant.amr, authorizationDetails });
    return { audience: decision.userinfoOnly ? v.userTokens.userinfoAudience : decision.api.identifier, scopes: decision.scopes, claims, consent: undefined };
  }

  /**
   * /authorize (no prompt, the client's first callback): whether the user would be asked to consent, and for each
   * granted scope whether the user already consented to it, would be asked, or is not asked.
   */
  private async traceConsent(client: Client, user: User, d: ScopeDecision, trace: ScopeTrace): Promise<ConsentState> {
    const request = { prompt: [], redirectUri: client.callbacks?.[0] ?? '', authorizationDetails: undefined };
    const needed = await this.deps.authorize.consentNeeded(request, client, user, d);
    const known = (await this.deps.store.consents.find(user.user_id, client.client_id, d.api.identifier))?.scopes ?? [];
    const state = (s: string): ConsentState => (known.includes(s) ? 'remembered' : needed ? 'required' : 'skipped');
    for (const s of d.apiScopes) if (trace.get(s)?.granted) trace.annotate(s, { consent: state(s) });
    return needed ? 'required' : d.scopes.length > 0 && d.scopes.every((s) => known.includes(s)) ? 'remembered' : 'skipped';
  }
}

/** The answer's scope list: the API's scopes in its order, then the others the trace saw. */
async function verdicts(directory: DirectoryReads, answer: ExplainAnswer, trace: ScopeTrace): Promise<ScopeVerdict[]> {
  const api = answer.audience === undefined ? undefined : await directory.resourceServer(answer.audience);
  const defined = api ? effective.scopeValues(api) : [];
  const fallback = (value: string): ScopeVerdict => ({ value, granted: false, rule: answer.rule ?? 'not_requested' });
  const listed = defined.map((s) => ({ ...(trace.get(s) ?? fallback(s)) }));
  const others = trace.verdicts().filter((v) => !defined.includes(v.value)).map((v) => ({ ...v }));
  return [...listed, ...others];
}

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

function describeRefreshToken(owner: Client | undefined, rec: RefreshTokenRecord): ExplainedRefreshToken {
  const g = rec.grant;
  const d: ExplainedRefreshToken = {
    id: rec.familyId, client_id: g.clientId, scope: g.scopes.join(' '), ...(g.audience !== undefined && { audience: g.audience }), ...(g.orgId !== undefined && { organization_id: g.orgId }),
    rotating: owner !== undefined && rotates(owner), expires_at: iso(rec.expiresAt), idle_expires_at: iso(rec.idleExpiresAt), revoked_at: iso(rec.revokedAt), used_at: iso(rec.usedAt),
    ...(rec.jkt !== undefined ? { bound_to: 'dpop' as const } : rec.x5t !== undefined ? { bound_to: 'client_certificate' as const } : {}),
  };
  for (const k of Object.keys(d) as Array<keyof ExplainedRefreshToken>) if (d[k] === undefined) delete d[k];
  return d;
}

function checkGrantAllowed(client: Client, grantType: string, trace: ScopeTrace): void {
  try {
    checkGrantTypeAllowed(client, grantType);
  } catch (e) {
    trace.refuse('grant_type');
    throw e;
  }
}

/** Runs one check of the pipeline; its refusal is recorded under `rule`. */
async function refusing<T>(trace: ScopeTrace, rule: ScopeRule, check: () => Promise<T>): Promise<T> {
  try {
    return await check();
  } catch (e) {
    trace.refuse(rule);
    throw e;
  }
}
