import { MANAGEMENT_SCOPES } from '@tessera/core';
import type { Services } from './services';

export const MANAGEMENT_API_NAME = 'Auth0 Management API';
const ADMIN_META = 'bootstrap.admin_client_id';

export interface BootstrapResult { adminClientId: string; generatedSecret?: string }

/**
 * First start (and every start, idempotently): signing keys, the system "Auth0 Management API" resource
 * server, and the admin M2M client with a grant for every Management scope.
 */
export async function bootstrap(services: Services, cfg: { managementAudience: string; adminClientId?: string; adminClientSecret?: string }): Promise<BootstrapResult> {
  await services.signingKeys.ensureKeys();
  await services.resourceServers.ensureSystem(cfg.managementAudience, MANAGEMENT_API_NAME, [...MANAGEMENT_SCOPES]);
  const { store } = services;
  let adminClientId = cfg.adminClientId ?? (await store.meta.get(ADMIN_META));
  let generatedSecret: string | undefined;
  const existing = adminClientId ? await store.clients.findById(adminClientId) : undefined;
  if (!existing) {
    const created = await services.clients.create(
      { name: 'Tessera Admin (bootstrap)', app_type: 'non_interactive', grant_types: ['client_credentials'], token_endpoint_auth_method: 'client_secret_post' },
      { client_id: cfg.adminClientId, client_secret: cfg.adminClientSecret },
    );
    adminClientId = created.client_id;
    if (!cfg.adminClientSecret) generatedSecret = created.client_secret;
  } else if (cfg.adminClientSecret && existing.client_secret !== cfg.adminClientSecret) {
    await services.clients.update(existing.client_id, { client_secret: cfg.adminClientSecret });
  }
  await store.write((tx) => tx.meta.set(ADMIN_META, adminClientId as string));
  if (!(await store.clientGrants.findFor(adminClientId as string, cfg.managementAudience, 'client'))) {
    await services.clientGrants.create({ client_id: adminClientId as string, audience: cfg.managementAudience, allow_all_scopes: true });
  }
  return { adminClientId: adminClientId as string, generatedSecret };
}
