import { ids, MANAGEMENT_SCOPES } from '@tessera/core';
import type { Logger } from 'pino';
import type { DevSettings } from './config';
import type { Services } from './services';
import { ensureDashboardClient, firstAdminLink } from './dashboard/setup';

export const MANAGEMENT_API_NAME = 'Auth0 Management API';
/** Meta key recording the bootstrap admin client; its presence means the tenant was bootstrapped once. */
const ADMIN_META = 'bootstrap.admin_client_id';
const ADMIN_NAME = 'Tessera Admin (bootstrap)';

export interface BootstrapResult {
  adminClientId: string; generatedSecret?: string;
  /** The dashboard's SPA client (undefined when it was deleted). */
  dashboardClientId?: string;
  /** Until a first administrator exists: a one-time link to sign up as the first dashboard administrator. */
  setupUrl?: string;
}

export interface BootstrapConfig { managementAudience: string; publicUrl: string; adminClientId?: string; adminClientSecret?: string; dashboard?: boolean; dev?: Pick<DevSettings, 'keysMadeAhead'> }

/**
 * Every start: signing keys and the system "Auth0 Management API" resource server (its scopes follow the
 * current vocabulary); the dashboard's client unless it was created once already; until a first dashboard
 * administrator exists, a one-time sign-up link. First start only: the admin M2M client (`TESSERA_ADMIN_CLIENT_ID/SECRET`, or generated)
 * with a grant for every Management scope. Afterwards the admin client and its grant belong to the operator:
 * a rotated secret, a narrowed or deleted grant, a deleted client stay so across restarts. Recovery is
 * explicit: `tessera admin reset-credentials` ({@link resetAdminCredentials}).
 */
export async function bootstrap(services: Services, cfg: BootstrapConfig, logger?: Logger): Promise<BootstrapResult> {
  await services.signingKeys.ensureKeys(cfg.dev?.keysMadeAhead);
  await services.resourceServers.ensureSystem(cfg.managementAudience, MANAGEMENT_API_NAME, [...MANAGEMENT_SCOPES]);
  const dashboardClientId = cfg.dashboard === false ? undefined : await ensureDashboardClient(services, cfg);
  const setupUrl = cfg.dashboard === false ? undefined : await firstAdminLink(services, cfg);
  const recorded = await services.store.meta.get(ADMIN_META);
  if (recorded !== undefined) {
    await warnAboutIgnoredSettings(services, cfg, recorded, logger);
    return { adminClientId: recorded, dashboardClientId, setupUrl };
  }
  const existing = cfg.adminClientId ? await services.store.clients.findById(cfg.adminClientId) : undefined;
  let adminClientId = existing?.client_id;
  let generatedSecret: string | undefined;
  if (!adminClientId) {
    const created = await createAdminClient(services, cfg.adminClientId, cfg.adminClientSecret);
    adminClientId = created.client_id;
    if (!cfg.adminClientSecret) generatedSecret = created.client_secret;
  }
  await ensureAllScopesGrant(services, adminClientId, cfg.managementAudience);
  await services.store.write((tx) => tx.meta.set(ADMIN_META, adminClientId));
  return { adminClientId, generatedSecret, dashboardClientId, setupUrl };
}

/** The environment no longer decides the admin client after the first start: say so when it disagrees. */
async function warnAboutIgnoredSettings(services: Services, cfg: BootstrapConfig, recorded: string, logger?: Logger): Promise<void> {
  if (!logger) return;
  const hint = 'run `tessera admin reset-credentials` to restore the admin client';
  if (cfg.adminClientId !== undefined && cfg.adminClientId !== recorded) {
    logger.warn({ admin_client_id: recorded }, `TESSERA_ADMIN_CLIENT_ID is not the bootstrap admin client and is ignored; ${hint}`);
    return;
  }
  const client = await services.store.clients.findById(recorded);
  if (!client) {
    logger.warn({ admin_client_id: recorded }, `the bootstrap admin client was deleted and is not recreated; ${hint}`);
  } else if (cfg.adminClientSecret !== undefined && client.client_secret !== cfg.adminClientSecret) {
    logger.warn({ admin_client_id: recorded }, `TESSERA_ADMIN_CLIENT_SECRET differs from the admin client's secret (changed through the API) and is ignored; ${hint}`);
  }
}

function createAdminClient(services: Services, clientId: string | undefined, secret: string | undefined) {
  return services.clients.create(
    { name: ADMIN_NAME, app_type: 'non_interactive', grant_types: ['client_credentials'], token_endpoint_auth_method: 'client_secret_post' },
    { client_id: clientId, client_secret: secret },
  );
}

/** Creates the admin's grant on the Management API, or widens the existing one to every scope. */
async function ensureAllScopesGrant(services: Services, clientId: string, audience: string): Promise<'created' | 'restored' | 'unchanged'> {
  const grant = await services.store.clientGrants.findFor(clientId, audience, 'client');
  if (!grant) {
    await services.clientGrants.create({ client_id: clientId, audience, allow_all_scopes: true });
    return 'created';
  }
  if (grant.allow_all_scopes && grant.scope === undefined) return 'unchanged';
  await services.clientGrants.update(grant.id, { allow_all_scopes: true });
  return 'restored';
}

export interface ResetOptions {
  managementAudience: string;
  /** Make this client the admin (default: the recorded admin client, else TESSERA_ADMIN_CLIENT_ID, else a new id). */
  clientId?: string;
  /** TESSERA_ADMIN_CLIENT_ID, checked against the recorded admin client. */
  configuredClientId?: string;
  /** Use this secret instead of generating one. */
  secret?: string;
}

export interface ResetResult { client_id: string; client_secret?: string; client: 'created' | 'reset'; grant: 'created' | 'restored' | 'unchanged' }

export class ResetRefused extends Error {}

/**
 * Operator recovery (`tessera admin reset-credentials`, needs the database and the master key): recreates the
 * bootstrap admin client or gives it a new secret, makes it usable with client_credentials and a secret again,
 * restores its every-scope grant on the Management API and records it as the admin. Logged as a warning; the
 * write advances the change generation, so running servers drop the old secret within their poll interval.
 * `client_secret` is returned only when generated.
 */
export async function resetAdminCredentials(services: Services, opts: ResetOptions, logger: Logger): Promise<ResetResult> {
  const recorded = await services.store.meta.get(ADMIN_META);
  if (opts.clientId === undefined && recorded !== undefined && opts.configuredClientId !== undefined && opts.configuredClientId !== recorded) {
    throw new ResetRefused(`TESSERA_ADMIN_CLIENT_ID (${opts.configuredClientId}) is not the bootstrap admin client (${recorded}); pass --client-id to choose which client becomes the admin`);
  }
  const clientId = opts.clientId ?? recorded ?? opts.configuredClientId ?? ids.client();
  const secret = opts.secret ?? ids.clientSecret();
  const existing = await services.store.clients.findById(clientId);
  if (existing?.global) throw new ResetRefused('the global client cannot become the admin client');
  if (existing) {
    const grantTypes = existing.grant_types.includes('client_credentials') ? existing.grant_types : [...existing.grant_types, 'client_credentials'];
    await services.clients.update(clientId, { client_secret: secret, grant_types: grantTypes, token_endpoint_auth_method: 'client_secret_post' });
  } else {
    await createAdminClient(services, clientId, secret);
  }
  const grant = await ensureAllScopesGrant(services, clientId, opts.managementAudience);
  await services.store.write((tx) => tx.meta.set(ADMIN_META, clientId));
  const result: ResetResult = { client_id: clientId, client: existing ? 'reset' : 'created', grant };
  logger.warn(
    { admin_client_id: clientId, client: result.client, grant, secret: opts.secret === undefined ? 'generated' : 'from TESSERA_ADMIN_CLIENT_SECRET', previous_admin_client_id: recorded ?? null },
    `admin credentials reset: client ${clientId} ${result.client} with a new secret, Management API grant ${grant === 'unchanged' ? 'already had every scope' : `${grant} with every scope`}`,
  );
  return opts.secret === undefined ? { ...result, client_secret: secret } : result;
}
