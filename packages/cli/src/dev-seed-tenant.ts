import { createClientWithFixedId, MANAGEMENT_API_NAME, type Tessera } from '@tessera/server';
import type { A0Tenant } from './dev-a0deploy';
import { enc, type ManagementClient } from './deploy/mgmt-client';
import { DeployError, type Json } from './deploy/types';

/** Read-only fields of exports that the Management API refuses on writes (as a0deploy strips them). */
const RS_READ_ONLY = ['id', 'is_system', 'client_id'];
const CLIENT_READ_ONLY = ['client_id', 'client_secret', 'tenant', 'global', 'callback_url_template', 'signing_keys', 'config_route', 'owners', 'credentials', 'external_metadata_type', 'external_metadata_created_by', 'jwks_uri'];
const GRANT_READ_ONLY = ['id', 'is_system', 'default_for'];
const ORG_NESTED = ['id', 'connections', 'client_grants', 'discovery_domains'];

export const omit = (o: Json, keys: string[]): Json => Object.fromEntries(Object.entries(o).filter(([k]) => !keys.includes(k)));
const str = (v: unknown, what: string): string => {
  if (typeof v !== 'string' || v === '') throw new DeployError(`${what} must be a non-empty string`);
  return v;
};

/** Counts of what one seeding run wrote. */
export interface Written { created: number; updated: number }

/** The kinds of item a seed holds, in the order they are deleted (dependants first). */
export const SEED_ITEM_KINDS = ['users', 'organizations', 'roles', 'clientGrants', 'clients', 'resourceServers'] as const;
export type SeedItemKind = typeof SEED_ITEM_KINDS[number];
/** The server ids of the items one seeding run declared (created, updated or found unchanged), by kind. */
export type Touched = Record<SeedItemKind, Set<string>>;
export const noneTouched = (): Touched => Object.fromEntries(SEED_ITEM_KINDS.map((k) => [k, new Set<string>()])) as Touched;

/**
 * Applies an auth0-deploy-cli tenant the way `a0deploy import` does without AUTH0_ALLOW_DELETE: everything it
 * declares is created or updated (matched by identifier or name, clients by a fixed client_id first), nothing else
 * is written here, and the id of each declared item is added to `touched` (the Seeder deletes what an earlier run
 * declared and this one does not). Grants and organizations name clients by name, as a0deploy's exports do.
 * Clients may fix their `client_id` and `client_secret`: a seed then keeps a `.env` valid across restarts.
 */
export async function applyTenant(api: ManagementClient, t: Tessera, tenant: A0Tenant, adminClientId: string, touched: Touched): Promise<Written> {
  const w: Written = { created: 0, updated: 0 };
  const rsLive = await api.listAll('/resource-servers', 'resource_servers');
  for (const r of tenant.resourceServers) {
    if (r.name === MANAGEMENT_API_NAME || r.is_system === true) continue; // the system API is Tessera's own
    const identifier = str(r.identifier, 'resourceServers[].identifier');
    const live = rsLive.find((x) => x.identifier === identifier);
    if (live) await api.request('PATCH', `/resource-servers/${enc(String(live.id))}`, omit(r, [...RS_READ_ONLY, 'identifier']));
    const id = live ? String(live.id) : String((await api.request('POST', '/resource-servers', omit(r, RS_READ_ONLY))).id);
    touched.resourceServers.add(id);
    w[live ? 'updated' : 'created']++;
  }

  const clientsLive = (await api.listAll('/clients', 'clients', { is_global: 'false' })).filter((c) => c.client_id !== adminClientId);
  const ids = new Map<string, string>(clientsLive.map((c) => [String(c.name), String(c.client_id)]));
  for (const c of tenant.clients) {
    const name = str(c.name, 'clients[].name');
    const fixedId = c.client_id === undefined ? undefined : str(c.client_id, `client ${name}: client_id`);
    const secret = c.client_secret === undefined ? undefined : str(c.client_secret, `client ${name}: client_secret`);
    const live = fixedId !== undefined ? clientsLive.find((x) => x.client_id === fixedId) : clientsLive.find((x) => x.name === name);
    const body = omit(c, CLIENT_READ_ONLY);
    let id: string;
    if (live) {
      id = String(live.client_id);
      await api.request('PATCH', `/clients/${enc(id)}`, { ...omit(body, ['resource_server_identifier']), ...(secret !== undefined && { client_secret: secret }) });
    } else if (fixedId !== undefined) {
      id = (await createClientWithFixedId(t.services, body, { client_id: fixedId, client_secret: secret })).client_id;
    } else {
      id = String((await api.request('POST', '/clients', body)).client_id);
      if (secret !== undefined) await api.request('PATCH', `/clients/${enc(id)}`, { client_secret: secret });
    }
    ids.set(name, id);
    touched.clients.add(id);
    w[live ? 'updated' : 'created']++;
  }
  const clientId = (ref: unknown, what: string) => ids.get(str(ref, what)) ?? String(ref);

  const grantsLive = await api.listCheckpoint('/client-grants', 'client_grants');
  const grantIds = new Map<string, string>();
  for (const g of tenant.clientGrants) {
    const client = clientId(g.client_id, 'clientGrants[].client_id');
    const audience = str(g.audience, 'clientGrants[].audience');
    const subject = (g.subject_type as string | undefined) ?? 'client';
    const live = grantsLive.find((x) => x.client_id === client && x.audience === audience && ((x.subject_type as string | undefined) ?? 'client') === subject);
    const body = omit(g, GRANT_READ_ONLY);
    const id = live
      ? (await api.request('PATCH', `/client-grants/${enc(String(live.id))}`, omit(body, ['client_id', 'audience', 'subject_type'])), String(live.id))
      : String((await api.request('POST', '/client-grants', { ...body, client_id: client })).id);
    grantIds.set(`${client} ${audience}`, id);
    touched.clientGrants.add(id);
    w[live ? 'updated' : 'created']++;
  }

  const rolesLive = await api.listAll('/roles', 'roles');
  for (const r of tenant.roles) {
    const name = str(r.name, 'roles[].name');
    const live = rolesLive.find((x) => x.name === name);
    const id = live ? String(live.id) : String((await api.request('POST', '/roles', omit(r, ['id', 'permissions']))).id);
    if (live && r.description !== undefined && r.description !== live.description) await api.request('PATCH', `/roles/${enc(id)}`, { description: r.description });
    await setPermissions(api, `/roles/${enc(id)}/permissions`, (r.permissions as Json[] | undefined) ?? []);
    touched.roles.add(id);
    w[live ? 'updated' : 'created']++;
  }

  const orgsLive = await api.listAll('/organizations', 'organizations');
  const connections = await api.listAll('/connections', 'connections');
  for (const o of tenant.organizations) {
    const name = str(o.name, 'organizations[].name');
    const live = orgsLive.find((x) => x.name === name);
    const body = omit(o, ORG_NESTED);
    const id = live
      ? (await api.request('PATCH', `/organizations/${enc(String(live.id))}`, body), String(live.id))
      : String((await api.request('POST', '/organizations', body)).id);
    touched.organizations.add(id);
    for (const c of (o.connections as Json[] | undefined) ?? []) {
      const conn = connections.find((x) => x.name === c.name || x.id === c.connection_id);
      if (!conn) throw new DeployError(`organization ${name}: no connection named ${String(c.name ?? c.connection_id)} (Tessera has ${connections.map((x) => x.name).join(', ')})`);
      const settings = omit(c, ['name', 'connection_id', 'connection']);
      const enabled = await api.listAll(`/organizations/${enc(id)}/enabled_connections`, 'enabled_connections');
      if (enabled.some((e) => e.connection_id === conn.id)) await api.request('PATCH', `/organizations/${enc(id)}/enabled_connections/${enc(String(conn.id))}`, settings);
      else await api.request('POST', `/organizations/${enc(id)}/enabled_connections`, { connection_id: conn.id, ...settings });
    }
    const orgGrants = (o.client_grants as Json[] | undefined) ?? [];
    if (orgGrants.length) {
      const have = await api.listAll(`/organizations/${enc(id)}/client-grants`, 'client_grants');
      for (const g of orgGrants) {
        const key = `${clientId(g.client_id, `organization ${name}: client_grants[].client_id`)} ${str(g.audience, `organization ${name}: client_grants[].audience`)}`;
        const grant = grantIds.get(key) ?? grantsLive.find((x) => `${String(x.client_id)} ${String(x.audience)}` === key)?.id;
        if (grant === undefined) throw new DeployError(`organization ${name}: no client grant ${key.replace(' ', ' → ')}`);
        if (!have.some((h) => h.grant_id === grant || h.id === grant)) await api.request('POST', `/organizations/${enc(id)}/client-grants`, { grant_id: grant });
      }
    }
    w[live ? 'updated' : 'created']++;
  }
  return w;
}

/** Makes a permission list (roles, users) exactly the given one: adds what is missing, removes the rest. */
export async function setPermissions(api: ManagementClient, path: string, want: Json[]): Promise<void> {
  const key = (p: Json) => `${String(p.resource_server_identifier)} ${String(p.permission_name)}`;
  const have = await api.listAll(path, 'permissions');
  const pick = (p: Json) => ({ resource_server_identifier: p.resource_server_identifier, permission_name: p.permission_name });
  const remove = have.filter((h) => !want.some((x) => key(x) === key(h))).map(pick);
  const add = want.filter((x) => !have.some((h) => key(h) === key(x))).map(pick);
  if (remove.length) await api.request('DELETE', path, { permissions: remove });
  if (add.length) await api.request('POST', path, { permissions: add });
}
