import {
  AccessTokenMinter, ChangeFeed, ClientAuthenticator, ClientCredentialService, ClientCredentialsGrant, ClientGrantService, ClientService, Directory,
  KeyManager, ManagementTokenVerifier, ConnectionService, OrganizationDirectory, OrganizationService, PermissionService, ResourceServerService, RoleService,
  SigningKeyService, TokenEndpoint, UserService, UserBlockService, ClientAuthGuard, DEFAULT_CLIENT_AUTH_PROTECTION, DEFAULT_LOGIN_PROTECTION,
  type ClientAuthProtection, type Clock, type DpopNoncePolicy, type LoginProtection, type PasswordHasher, type Store,
} from '@tessera/core';
import { buildDpopVerifier } from './dpop-services';
import { buildUserFlowServices } from './user-flow-services';

export interface ServiceConfig {
  issuer: string; publicUrl: string; managementAudience: string; masterKeys?: Buffer[];
  /** Which clients must use DPoP server nonces (default public_clients). */
  dpopNonce?: DpopNoncePolicy;
  /** Where password hashes are computed (the worker-thread pool); default: in process. */
  passwords?: PasswordHasher;
  loginProtection?: LoginProtection;
  clientAuthProtection?: ClientAuthProtection;
  /** The tenant's allowed logout URLs (TESSERA_ALLOWED_LOGOUT_URLS): /v2/logout's returnTo without client_id. */
  allowedLogoutUrls?: readonly string[];
}

/** The composition root: every service wired from one store, one clock and the public URLs. No singletons. */
export function buildServices(store: Store, clock: Clock, cfg: ServiceConfig) {
  const changes = new ChangeFeed(store);
  const directory = new Directory(store, changes);
  const keys = new KeyManager(store, changes);
  const minter = new AccessTokenMinter({ keys, clock, issuer: cfg.issuer });
  const clientAuthGuard = new ClientAuthGuard({ store, clock, settings: cfg.clientAuthProtection ?? DEFAULT_CLIENT_AUTH_PROTECTION });
  const clientAuth = new ClientAuthenticator({ directory, clock, audiences: [cfg.issuer, `${cfg.publicUrl}/oauth/token`, `${cfg.publicUrl}/oauth/par`], usedAssertions: store.usedAssertions, guard: clientAuthGuard });
  const host = new URL(cfg.publicUrl).host;
  const organizationDirectory = new OrganizationDirectory(store, changes);
  const permissions = new PermissionService({ store, changes });
  const roles = new RoleService({ store, changes, permissions });
  const users = new UserService({ store, changes, clock, passwords: cfg.passwords });
  const dpop = buildDpopVerifier(store, clock, cfg.masterKeys);
  const userFlows = buildUserFlowServices({ store, clock, users, directory, keys, minter, issuer: cfg.issuer, publicUrl: cfg.publicUrl, masterKeys: cfg.masterKeys, dpop, loginProtection: cfg.loginProtection ?? DEFAULT_LOGIN_PROTECTION, allowedLogoutUrls: cfg.allowedLogoutUrls ?? [] });
  return {
    store, clock, changes, directory, keys, minter, clientAuth, userFlows, dpop,
    resourceServers: new ResourceServerService({
      store, changes,
      reservedIdentifiers: [cfg.managementAudience, `${cfg.publicUrl}/userinfo`, `${cfg.publicUrl}/mfa/`, `${cfg.publicUrl}/me/`],
    }),
    clients: new ClientService({ store, changes, clock }),
    clientCredentials: new ClientCredentialService({ store, changes, clock }),
    clientGrants: new ClientGrantService({ store, changes }),
    signingKeys: new SigningKeyService({ store, keys, changes, clock, subject: host }),
    users,
    userBlocks: new UserBlockService({ store, clock, enabled: () => (cfg.loginProtection ?? DEFAULT_LOGIN_PROTECTION).bruteForceThreshold > 0 }),
    roles, permissions, organizationDirectory,
    organizations: new OrganizationService({ store, changes, roles }),
    connections: new ConnectionService({ store }),
    managementAuth: new ManagementTokenVerifier({ keys, clock, issuer: cfg.issuer, audience: cfg.managementAudience }),
    tokenEndpoint: new TokenEndpoint(clientAuth, [new ClientCredentialsGrant({ directory, minter, organizations: organizationDirectory }), ...userFlows.userGrants], {
      verifier: dpop, htu: `${cfg.publicUrl}/oauth/token`, nonces: cfg.dpopNonce ?? 'public_clients',
    }),
  };
}

export type Services = ReturnType<typeof buildServices>;
