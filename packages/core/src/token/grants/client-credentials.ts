import { AccessDenied, TooManyRequestsOAuth } from '../../errors';
import { effective, type Client, type ClientGrant, type Organization, type ResourceServer } from '../../model';
import type { Directory } from '../../services/directory';
import type { KeyManager } from '../../services/key-manager';
import type { TokenQuotas } from '../m2m/quota';
import { TokenReuseCache } from '../m2m/reuse';
import type { TokenUsage } from '../m2m/usage';
import { clientCredentialsOrganization, type OrganizationDirectory } from '../../services/organizations';
import { bindingFor, popOf } from '../binding';
import type { AccessTokenMinter } from '../mint';
import type { GrantHandler, TokenContext, TokenResponse } from '../types';

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

  constructor(private readonly deps: { directory: Directory; minter: AccessTokenMinter; organizations: OrganizationDirectory; m2m?: M2mEconomy }) {}

  async handle(ctx: TokenContext & { client: Client }): Promise<TokenResponse> {
    const m2m = this.deps.m2m;
    const generation = m2m?.reuse.generation ?? 0; // before any configuration is read
    const api = await this.resolveAudience(ctx);
    checkClientPolicy(ctx.client, api);
    const grant = await this.findGrant(ctx.client, api);
    const scopes = resolveScopes(ctx.request.params.scope, grant, api);
    const orgId = await clientCredentialsOrganization(this.deps.organizations, ctx.request.params.organization, grant, ctx.client);
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
    const { token, expiresIn, claims } = await this.deps.minter.mint(api, {
      sub: `${ctx.client.client_id}@clients`, clientId: ctx.client.client_id, scopes, gty: 'client-credentials', orgId,
      extra: binding.cnf && { cnf: binding.cnf },
    });
    const res: TokenResponse = { access_token: token, expires_in: expiresIn, token_type: binding.tokenType, subject: { audience: api.identifier } };
    if (scopes.length > 0) res.scope = scopes.join(' ');
    if (m2m) {
      m2m.usage.record('issued', ctx.client.client_id, api.identifier, orgId);
      if (reuseKey) m2m.reuse.put(reuseKey, generation, res, claims.exp as number, expiresIn);
      if (quota) { res.quotaHeaders = quota.headers; if (quota.warnings.length > 0) res.quotaWarnings = quota.warnings; }
    }
    return res;
  }

  private async consumeQuota(m2m: M2mEconomy, client: Client, api: ResourceServer, org: Organization | undefined) {
    try {
      return await m2m.quotas.consume(client, org);
    } catch (e) {
      if (e instanceof TooManyRequestsOAuth) m2m.usage.record('refused', client.client_id, api.identifier, org?.id);
      throw e;
    }
  }

  private async resolveAudience(ctx: TokenContext): Promise<ResourceServer> {
    const audience = ctx.request.params.audience ?? ctx.request.params.resource;
    if (!audience) throw new AccessDenied('No audience parameter was provided, and no default audience has been configured');
    const api = await this.deps.directory.resourceServer(audience);
    if (!api) throw new AccessDenied(`Service not enabled within domain: ${audience}`);
    return api;
  }

  private async findGrant(client: Client, api: ResourceServer): Promise<ClientGrant> {
    const grant = (await this.deps.directory.grant(client.client_id, api.identifier, 'client'))
      ?? (client.is_first_party ? undefined : await this.deps.directory.defaultGrant(api.identifier, 'client'));
    if (!grant) {
      throw new AccessDenied(`Client "${client.client_id}" is not authorized to access resource server "${api.identifier}". You need to create a "client-grant" associated to this API.`);
    }
    return grant;
  }
}

function checkClientPolicy(client: Client, api: ResourceServer): void {
  if (effective.clientPolicy(api) === 'deny_all') {
    throw new AccessDenied(`Client "${client.client_id}" is not authorized to access resource server "${api.identifier}". The API does not allow machine-to-machine access.`);
  }
}

/**
 * No scope requested (absent, empty or only spaces) → all granted scopes that the API still defines;
 * otherwise every requested scope must be granted, and exactly the requested ones are issued.
 */
function resolveScopes(requested: string | undefined, grant: ClientGrant, api: ResourceServer): string[] {
  const defined = effective.scopeValues(api);
  const granted = grant.allow_all_scopes ? defined : (grant.scope ?? []).filter((s) => defined.includes(s));
  const wanted = [...new Set((requested ?? '').split(' ').filter(Boolean))];
  if (wanted.length === 0) return granted;
  const missing = wanted.filter((s) => !granted.includes(s));
  if (missing.length > 0) throw new AccessDenied(`Client has not been granted scopes: ${missing.join(' ')}`);
  return wanted;
}
