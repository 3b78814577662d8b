import { ApiCallError, enc, type ManagementClient } from './mgmt-client';
import type { Json, LiveRole, LiveState } from './types';

/** Reads what the planner compares against: APIs, clients (not the global one), grants, roles with permissions. */
export async function readLive(api: ManagementClient): Promise<LiveState> {
  const resourceServers = await api.listAll('/resource-servers', 'resource_servers');
  const clients = (await api.listAll('/clients', 'clients', { is_global: 'false' })).filter((c) => c.global !== true);
  const grants = await api.listCheckpoint('/client-grants', 'client_grants');
  const roles = await readRoles(api);
  return { resourceServers, clients, grants, roles, selfClientId: api.target.clientId };
}

/** A target without /roles (404 or 501, as a0deploy treats it) has no roles. */
async function readRoles(api: ManagementClient): Promise<LiveRole[] | undefined> {
  let roles: Json[];
  try {
    roles = await api.listAll('/roles', 'roles');
  } catch (e) {
    if (e instanceof ApiCallError && (e.status === 404 || e.status === 501)) return undefined;
    throw e;
  }
  const out: LiveRole[] = [];
  for (const r of roles) {
    const perms = await api.listAll(`/roles/${enc(String(r.id))}/permissions`, 'permissions');
    out.push({
      id: String(r.id), name: String(r.name), ...(typeof r.description === 'string' && { description: r.description }),
      permissions: perms.map((p) => ({ resource_server_identifier: String(p.resource_server_identifier), permission_name: String(p.permission_name) })),
    });
  }
  return out;
}
