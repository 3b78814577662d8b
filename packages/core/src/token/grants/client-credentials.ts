import { AccessDenied, TooManyRequestsOAuth } from '../../errors';
import { effective, type Client, type ClientGrant, type Organization, type ResourceServer } from '../../model';
import type { DirectoryReads } from '../explain-assume';
import type { KeyManager } from '../../services/key-manager';
import type { TokenQuotas } from '../m2m/quota';
import { TokenReuseCache } from '../m2m/reuse';
import type { TokenUsage } from '../m2m/usage';
import { clientCredentialsOrganization, type OrganizationDirectory } from '../../services/organizations';
import { bindingFor, popOf } from '../binding';
import type { AccessTokenClaims, AccessTokenMinter } from '../mint';
import type { GrantHandler, TokenContext, TokenResponse } from '../types';
import type { ScopeTrace } from '../scope-trace';

/** Token reuse, quotas and usage counting of client_credentials (token/m2m/). */
export interface M2mEconomy { reuse: TokenReuseCache; quotas: TokenQuotas; usage: TokenUsage; keys: KeyManager }

/**
 * RFC 6749 §4.4 Client Credentials Grant, with Auth0's rules: the audience must be a registered API,
 * the API's `subject_type_authorization.client.policy` must allow M2M access, the client needs a client
 * grant (subject_type "client") for the audience, and requested scopes must be a subset of the grant.
 */
export class ClientCredentialsGrant implements GrantHandler {
  readonly grantType = 'client_credentials';
  readonly required = [] as const;
  readonly allowsPublicClients = false;

  constructor(private readonly deps: { directory: DirectoryReads; minter: AccessTokenMinter; organizations: OrganizationDirectory; m2m?: M2mEconomy }) {}

  /** The same decisions over another view of the configuration (explain's assumptions); it issues nothing. */
  over(directory: DirectoryReads): ClientCredentialsGrant {
    return new ClientCredentialsGrant({ ...this.deps, directory, m2m: undefined });
  }

  async handle(ctx: TokenContext & { client: Client }): Promise<TokenResponse> {
    const m2m = this.deps.m2m;
    const generation = m2m?.reuse.generation ?? 0; // before any configuration is read
    const { api, scopes, orgId } = await this.decide(ctx.client, ctx.request.params);
    const binding = bindingFor(popOf(ctx), api);
    let org: Organization | undefined;
    let reuseKey: string | undefined;
    if (m2m) {
      org = orgId === undefined ? undefined : await this.deps.organizations.organization(orgId);
      // every check above ran (all from cached configuration): reuse skips only the signing
      if (m2m.reuse.enabledFor(ctx.client) && !api.token_encryption) {
        const cnf = binding.cnf as Record<string, string> | undefined;
        reuseKey = TokenReuseCache.key({
          clientId: ctx.client.client_id, audience: api.identifier, scopes, orgId,
          binding: cnf && (cnf.jkt ? `jkt:${cnf.jkt}` : `x5t:${cnf['x5t#S256']}`),
          kid: api.signing_alg === 'HS256' ? 'HS256' : m2m.keys.currentKid(),
        });
        const reused = m2m.reuse.take(reuseKey);
        if (reused) {
          m2m.usage.record('reused', ctx.client.client_id, api.identifier, orgId);
          reused.reused = true;
          reused.quotaHeaders = await m2m.quotas.peek(ctx.client, org);
          return reused;
        }
      }
    }
    const quota = m2m && await this.consumeQuota(m2m, ctx.client, api, org);
    const { token, expiresIn, claims } = await this.deps.minter.mint(api, { ...clientCredentialsClaims(ctx.client, scopes, orgId), extra: binding.cnf && { cnf: binding.cnf } });
    const res: TokenResponse = { access_token: token, expires_in: expiresIn, token_type: binding.tokenType, subject: { audience: api.identifier } };
    if (scopes.length > 0) res.scope = scopes.join(' ');
    if (m2m) {
      m2m.usage.record('issued', ctx.client.client_id, api.identifier, orgId);
      if (reuseKey) m2m.reuse.put(reuseKey, generation, res, claims.exp as number, expiresIn);
      if (quota) { res.quotaHeaders = quota.headers; if (quota.warnings.length > 0) res.quotaWarnings = quota.warnings; }
    }
    return res;
  }

  /**
   * Which API, scopes and organization a client_credentials request gets, or the AccessDenied that refuses it.
   * `trace` (explain) records the rule behind each scope and behind a refusal; the token endpoint passes none.
   */
  async decide(client: Client, params: Readonly<Record<string, string>>, trace?: ScopeTrace): Promise<{ api: ResourceServer; grant: ClientGrant; scopes: string[]; orgId?: string }> {
    const api = await this.resolveAudience(params, trace);
    checkClientPolicy(client, api, trace);
    const grant = await this.findGrant(client, api, trace);
    const scopes = resolveScopes(params.scope, grant, api, trace);
    try {
      const orgId = await clientCredentialsOrganization(this.deps.organizations, params.organization, grant, client);
      return { api, grant, scopes, orgId };
    } catch (e) {
      trace?.refuse('organization_usage', { client_grant_id: grant.id });
      throw e;
    }
  }

  private async consumeQuota(m2m: M2mEconomy, client: Client, api: ResourceServer, org: Organization | undefined) {
    try {
      return await m2m.quotas.consume(client, org);
    } catch (e) {
      if (e instanceof TooManyRequestsOAuth) m2m.usage.record('refused', client.client_id, api.identifier, org?.id);
      throw e;
    }
  }

  private async resolveAudience(params: Readonly<Record<string, string>>, trace?: ScopeTrace): Promise<ResourceServer> {
    const audience = params.audience ?? params.resource;
    const api = audience ? await this.deps.directory.resourceServer(audience) : undefined;
    if (!api) trace?.refuse('audience');
    if (!audience) throw new AccessDenied('No audience parameter was provided, and no default audience has been configured');
    if (!api) throw new AccessDenied(`Service not enabled within domain: ${audience}`);
    return api;
  }

  private async findGrant(client: Client, api: ResourceServer, trace?: ScopeTrace): Promise<ClientGrant> {
    const grant = (await this.deps.directory.grant(client.client_id, api.identifier, 'client'))
      ?? (client.is_first_party ? undefined : await this.deps.directory.defaultGrant(api.identifier, 'client'));
    if (!grant) {
      trace?.refuse('no_client_grant');
      throw new AccessDenied(`Client "${client.client_id}" is not authorized to access resource server "${api.identifier}". You need to create a "client-grant" associated to this API.`);
    }
    return grant;
  }
}

/** What a client_credentials access token says (the binding's `cnf` aside). */
export function clientCredentialsClaims(client: Client, scopes: string[], orgId: string | undefined): AccessTokenClaims {
  return { sub: `${client.client_id}@clients`, clientId: client.client_id, scopes, gty: 'client-credentials', orgId };
}

function checkClientPolicy(client: Client, api: ResourceServer, trace?: ScopeTrace): void {
  if (effective.clientPolicy(api) === 'deny_all') {
    trace?.refuse('subject_type_policy', { policy: 'deny_all' });
    throw new AccessDenied(`Client "${client.client_id}" is not authorized to access resource server "${api.identifier}". The API does not allow machine-to-machine access.`);
  }
}

/**
 * No scope requested (absent, empty or only spaces) → all granted scopes that the API still defines;
 * otherwise every requested scope must be granted, and exactly the requested ones are issued.
 */
function resolveScopes(requested: string | undefined, grant: ClientGrant, api: ResourceServer, trace?: ScopeTrace): string[] {
  const defined = effective.scopeValues(api);
  const granted = grant.allow_all_scopes ? defined : (grant.scope ?? []).filter((s) => defined.includes(s));
  const wanted = [...new Set((requested ?? '').split(' ').filter(Boolean))];
  if (trace) traceGrantScopes(trace, grant, defined, granted, wanted);
  if (wanted.length === 0) return granted;
  const missing = wanted.filter((s) => !granted.includes(s));
  if (missing.length > 0) {
    trace?.refuse('not_in_client_grant', { client_grant_id: grant.id });
    throw new AccessDenied(`Client has not been granted scopes: ${missing.join(' ')}`);
  }
  return wanted;
}

/** Explain: each scope's verdict under the client grant (scopes the API no longer defines are removed scopes). */
function traceGrantScopes(trace: ScopeTrace, grant: ClientGrant, defined: string[], granted: string[], wanted: string[]): void {
  const extra = { client_grant_id: grant.id };
  for (const s of defined) {
    if (!granted.includes(s)) trace.set(s, false, 'not_in_client_grant', extra);
    else if (wanted.length > 0 && !wanted.includes(s)) trace.set(s, false, 'not_requested', extra);
    else trace.set(s, true, grant.allow_all_scopes ? 'allow_all_scopes' : 'client_grant', extra);
  }
  for (const s of [...(grant.scope ?? []), ...wanted]) if (!defined.includes(s)) trace.set(s, false, 'removed_scope', extra);
}
