import { AccessDenied, BadRequest, NotFound, OAuthError } from '../errors';
import { effective, type Client, type Organization, type User } from '../model';
import type { Store } from '../ports';
import { checkAuthorizeAudience, type AuthorizeService } from '../authorize/service';
import { checkOrganizationUsage } from '../authorize/request';
import type { Directory } from '../services/directory';
import { splitScope, type ScopeDecision, type UserTokenService } from '../services/user-tokens';
import { checkGrantTypeAllowed } from './endpoint';
import { clientCredentialsClaims, type ClientCredentialsGrant } from './grants/client-credentials';
import type { AccessTokenMinter } from './mint';
import { ScopeTrace, type ScopeRule, type ScopeVerdict } from './scope-trace';
import { AssumedDirectory, assumedStore, type DirectoryReads, type ExplainAssumptions } from './explain-assume';

/** The configuration one explanation reads: the stored one, or with assumptions laid over it. */
interface View { directory: DirectoryReads; clientCredentials: ClientCredentialsGrant; userTokens: UserTokenService }

/** The grant types explain answers for: the client's own tokens, and a user's through a password or a login at /authorize. */
export const EXPLAIN_GRANT_TYPES = ['client_credentials', 'password', 'authorization_code'] as const;
export type ExplainGrantType = typeof EXPLAIN_GRANT_TYPES[number];

/** What a token request would carry (the credentials aside: explain decides, it does not authenticate). */
export interface ExplainRequest {
  client_id: string;
  user_id?: string;
  audience?: string;
  scope?: string;
  organization?: string;
  /** Default: client_credentials without a user, authorization_code with one. */
  grant_type?: ExplainGrantType;
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
  /** authorization_code: whether the user would see the consent page (`required`; prompt=none fails with consent_required). */
  consent?: ConsentState;
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
  }) {}

  /** `assume`: explain over the stored configuration with these changes laid over it (nothing is written). */
  async explain(r: ExplainRequest, assume?: ExplainAssumptions): Promise<ExplainAnswer> {
    const v = this.view(assume);
    const client = (await v.directory.client(r.client_id))?.client;
    if (!client) throw new NotFound('The client does not exist', 'inexistent_client');
    const grantType = r.grant_type ?? (r.user_id === undefined ? 'client_credentials' : 'authorization_code');
    if (grantType === 'client_credentials' && r.user_id !== undefined) throw new BadRequest('user_id is not used by client_credentials', 'invalid_body');
    if (grantType !== 'client_credentials' && r.user_id === undefined) throw new BadRequest(`user_id is required for ${grantType}`, 'invalid_body');
    const user = r.user_id === undefined ? undefined : await this.deps.store.users.findById(r.user_id);
    if (r.user_id !== undefined && !user) throw new NotFound('The user does not exist.', 'inexistent_user');
    const trace = new ScopeTrace();
    const answer: ExplainAnswer = { grant_type: grantType, client_id: client.client_id, ...(user && { user_id: user.user_id }), issued: false, scopes: [] };
    try {
      checkGrantAllowed(client, grantType, trace);
      const issued = user ? await this.forUser(v, client, user, r, grantType, trace) : await this.forClient(v, client, r, trace);
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
    const { directory, store, clientCredentials, userTokens } = this.deps;
    if (!assume) return { directory, clientCredentials, userTokens };
    const assumed = new AssumedDirectory(directory, assume);
    return { directory: assumed, clientCredentials: clientCredentials.over(assumed), userTokens: userTokens.over({ store: assumedStore(store, assume), directory: assumed }) };
  }

  private async forClient(v: View, client: Client, r: ExplainRequest, trace: ScopeTrace) {
    const params: Record<string, string> = {};
    if (r.audience !== undefined) params.audience = r.audience;
    if (r.scope !== undefined) params.scope = r.scope;
    if (r.organization !== undefined) params.organization = r.organization;
    const { api, scopes, orgId } = await v.clientCredentials.decide(client, params, trace);
    return { audience: api.identifier, scopes, claims: this.deps.minter.claims(api, clientCredentialsClaims(client, scopes, orgId)), consent: undefined };
  }

  private async forUser(v: View, client: Client, user: User, r: ExplainRequest, grantType: ExplainGrantType, trace: ScopeTrace) {
    if (user.blocked) {
      trace.refuse('user_blocked');
      throw new OAuthError('unauthorized', 401, 'user is blocked');
    }
    const audience = r.audience || undefined;
    let organization: Organization | undefined;
    if (grantType === 'authorization_code') {
      // /authorize's order: the client's organization_usage, the audience, then the user's organization
      await refusing(trace, 'organization_usage', async () => checkOrganizationUsage(client, { organization: r.organization }));
      await refusing(trace, 'audience', () => checkAuthorizeAudience(v.directory, v.userTokens.userinfoAudience, audience));
      organization = await refusing(trace, 'organization_usage', () => this.deps.authorize.organization(r.organization, user, client, false));
    }
    // the password grant takes no organization (as at /oauth/token); a login at /authorize may go through one
    const decision = await v.userTokens.decide({
      client, userId: user.user_id, audience, requested: splitScope(r.scope), organizationId: organization?.id, defaultAll: grantType === 'password',
      // the wording of the endpoint that decides first: /oauth/token for a password, /authorize for a login
      unknownAudience: (aud) => new AccessDenied(grantType === 'password' ? `Service not enabled within domain: ${aud}` : `Service not found: ${aud}`),
    }, trace);
    const consent = grantType === 'authorization_code' ? await this.traceConsent(client, user, decision, trace) : undefined;
    const claims = v.userTokens.accessTokenClaims({ client, user, decision, flow: grantType === 'password' ? 'password' : 'code', orgId: organization?.id });
    return { audience: decision.userinfoOnly ? v.userTokens.userinfoAudience : decision.api.identifier, scopes: decision.scopes, claims, consent };
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

function checkGrantAllowed(client: Client, grantType: ExplainGrantType, trace: ScopeTrace): void {
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
