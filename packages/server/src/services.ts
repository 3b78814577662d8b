import {
  AccessTokenMinter, ChangeFeed, TokenExplainer, ClientAuthenticator, ClientCredentialService, ClientCredentialsGrant, ClientGrantService, ClientService, Directory,
  KeyManager, ManagementTokenVerifier, ConnectionService, OrganizationDirectory, OrganizationService, PermissionService, ResourceServerService, RoleService,
  SigningKeyService, TokenEndpoint, UserService, UserBlockService, UserSessionService, ClientAuthGuard, DEFAULT_CLIENT_AUTH_PROTECTION, DEFAULT_LOGIN_PROTECTION,
  TokenQuotas, TokenReuseCache, TokenUsage, DEFAULT_TOKEN_REUSE, TenantSettingsService,
  type QuotaCounterStore, type TenantSettings, type TokenQuotaDefaults, type TokenReuseSettings,
  EventLog, LogService, DEFAULT_EVENT_LOG, LogStreamDelivery, LogStreamService, type EventLogSettings, type DeliverySettings,
  type ClientAuthProtection, type Clock, type DpopNoncePolicy, type LoginProtection, type PasswordHasher, type Store,
} from '@tessera/core';
import { buildDpopVerifier } from './dpop-services';
import { sinkTransport } from './log-stream-transport';
import { buildUserFlowServices } from './user-flow-services';

export interface ServiceConfig {
  issuer: string; publicUrl: string; managementAudience: string; masterKeys?: Buffer[];
  /** Discovery's mtls_endpoint_aliases base URL, and whether a listener of its own serves it (TESSERA_MTLS_PORT). */
  mtlsPublicUrl?: string; mtlsPort?: number;
  /** Which clients must use DPoP server nonces (default public_clients). */
  dpopNonce?: DpopNoncePolicy;
  /** Where password hashes are computed (the worker-thread pool); default: in process. */
  passwords?: PasswordHasher;
  loginProtection?: LoginProtection;
  clientAuthProtection?: ClientAuthProtection;
  /** The tenant's allowed logout URLs (TESSERA_ALLOWED_LOGOUT_URLS): /v2/logout's returnTo without client_id. */
  allowedLogoutUrls?: readonly string[];
  /** client_credentials token reuse (TESSERA_TOKEN_REUSE*). */
  tokenReuse?: TokenReuseSettings;
  /** Tenant default token quotas (TESSERA_TOKEN_QUOTA_*) until /api/v2/tenants/settings is first written. */
  tokenQuotaDefaults?: TokenQuotaDefaults;
  /** Where token quota counters live: the database unless given (Redis with TESSERA_REDIS_URL). */
  quotaCounters?: QuotaCounterStore;
  /** Called when usage counts could not be stored (kept for the next flush). */
  onUsageFlushError?: (e: unknown) => void;
  /** Tenant log recording and retention (TESSERA_TENANT_LOGS, TESSERA_LOG_RETENTION_*). */
  tenantLogs?: Partial<EventLogSettings>;
  /** Where a failed tenant-log write is reported (the process log). */
  onEventLogError?: (e: unknown) => void;
  /** Log streams may reach loopback/private addresses and plain http (TESSERA_LOG_STREAMS_ALLOW_PRIVATE). */
  logStreamsAllowPrivate?: boolean;
  logStreamDelivery?: Partial<DeliverySettings>;
}

/** The composition root: every service wired from one store, one clock and the public URLs. No singletons. */
export function buildServices(store: Store, clock: Clock, cfg: ServiceConfig) {
  const changes = new ChangeFeed(store);
  const events = new EventLog({ repo: store.logs, clock, hostname: new URL(cfg.publicUrl).hostname, settings: { ...DEFAULT_EVENT_LOG, ...cfg.tenantLogs }, onError: cfg.onEventLogError });
  const directory = new Directory(store, changes);
  const keys = new KeyManager(store, changes);
  const minter = new AccessTokenMinter({ keys, clock, issuer: cfg.issuer });
  const clientAuthGuard = new ClientAuthGuard({ store, clock, settings: cfg.clientAuthProtection ?? DEFAULT_CLIENT_AUTH_PROTECTION });
  const mtlsAlias = cfg.mtlsPublicUrl === undefined ? undefined : { url: cfg.mtlsPublicUrl, listener: cfg.mtlsPort === undefined ? 'same' as const : 'separate' as const };
  // RFC 7523 §3: the issuer or the token endpoint, under its public name or its mTLS alias (RFC 8705 §5)
  const audiences = [cfg.issuer, `${cfg.publicUrl}/oauth/token`, `${cfg.publicUrl}/oauth/par`, ...(mtlsAlias ? [`${mtlsAlias.url}/oauth/token`] : [])];
  const clientAuth = new ClientAuthenticator({ directory, clock, audiences, usedAssertions: store.usedAssertions, guard: clientAuthGuard });
  const host = new URL(cfg.publicUrl).host;
  const organizationDirectory = new OrganizationDirectory(store, changes);
  const permissions = new PermissionService({ store, changes });
  const roles = new RoleService({ store, changes, permissions });
  const users = new UserService({ store, changes, clock, passwords: cfg.passwords });
  const dpop = buildDpopVerifier(store, clock, cfg.masterKeys);
  const tenantSettings = new TenantSettingsService({ store, changes, initial: initialSettings(cfg.tokenQuotaDefaults) });
  const m2m = {
    keys,
    reuse: new TokenReuseCache({ changes, clock, settings: cfg.tokenReuse ?? DEFAULT_TOKEN_REUSE }),
    quotas: new TokenQuotas({ counters: cfg.quotaCounters ?? store.tokenQuotas, clock, defaults: () => tenantSettings.quotaDefaults() }),
    usage: new TokenUsage({ repo: store.tokenUsage, clock, onError: cfg.onUsageFlushError }),
  };
  const clientCredentialsGrant = new ClientCredentialsGrant({ directory, minter, organizations: organizationDirectory, m2m });
  const userFlows = buildUserFlowServices({ store, clock, events, users, directory, keys, minter, issuer: cfg.issuer, publicUrl: cfg.publicUrl, masterKeys: cfg.masterKeys, mtlsAlias, dpop, loginProtection: cfg.loginProtection ?? DEFAULT_LOGIN_PROTECTION, allowedLogoutUrls: cfg.allowedLogoutUrls ?? [] });
  return {
    store, clock, changes, directory, keys, minter, clientAuth, userFlows, dpop, m2m, events, tenantSettings, clientCredentialsGrant,
    logs: new LogService({ repo: store.logs }),
    logStreams: new LogStreamService({ store, clock, policy: { allowPrivate: cfg.logStreamsAllowPrivate ?? false } }),
    logStreamDelivery: new LogStreamDelivery({
      store, clock, transport: sinkTransport({ allowPrivate: cfg.logStreamsAllowPrivate ?? false }), settings: cfg.logStreamDelivery, onError: cfg.onEventLogError,
    }),
    resourceServers: new ResourceServerService({
      store, changes,
      reservedIdentifiers: [cfg.managementAudience, `${cfg.publicUrl}/userinfo`, `${cfg.publicUrl}/mfa/`, `${cfg.publicUrl}/me/`],
    }),
    clients: new ClientService({ store, changes, clock }),
    clientCredentials: new ClientCredentialService({ store, changes, clock }),
    clientGrants: new ClientGrantService({ store, changes }),
    signingKeys: new SigningKeyService({ store, keys, changes, clock, subject: host }),
    users,
    userSessions: new UserSessionService({ store, clock }),
    userBlocks: new UserBlockService({ store, clock, enabled: () => (cfg.loginProtection ?? DEFAULT_LOGIN_PROTECTION).bruteForceThreshold > 0 }),
    roles, permissions, organizationDirectory,
    organizations: new OrganizationService({ store, changes, roles }),
    connections: new ConnectionService({ store }),
    explainer: new TokenExplainer({
      store, directory, minter, clientCredentials: clientCredentialsGrant, userTokens: userFlows.userTokens, authorize: userFlows.authorize,
      ...userFlows.explained, refreshTokens: userFlows.refreshTokens,
    }),
    managementAuth: new ManagementTokenVerifier({ keys, clock, issuer: cfg.issuer, audience: cfg.managementAudience }),
    tokenEndpoint: new TokenEndpoint(clientAuth, [clientCredentialsGrant, ...userFlows.userGrants], {
      verifier: dpop, nonces: cfg.dpopNonce ?? 'public_clients',
      urls: { url: `${cfg.publicUrl}/oauth/token`, ...mtlsAlias && { mtlsAlias: `${mtlsAlias.url}/oauth/token`, aliasListener: mtlsAlias.listener } },
    }, events),
  };
}

/** The tenant settings before the first PATCH: the environment's default quotas in Auth0's shape (absent ones left out). */
function initialSettings(defaults: TokenQuotaDefaults | undefined): TenantSettings {
  const entries = Object.entries(defaults ?? {}).filter(([, q]) => q !== undefined).map(([k, q]) => [k, { client_credentials: q }]);
  return entries.length > 0 ? { default_token_quota: Object.fromEntries(entries) } : {};
}

export type Services = ReturnType<typeof buildServices>;
