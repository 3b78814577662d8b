import type { Client, ClientGrant, PermissionRef, ResourceServer, SubjectType } from '../model';
import type { PermissionSourceRow, Store } from '../ports';
import type { CachedClient, Directory } from '../services/directory';

/** What explain may assume instead of the stored configuration (`tessera plan`: the manifests' planned state). */
export interface ExplainAssumptions {
  /** APIs as planned: the decision fields replace the stored ones; a new identifier is a new API; `deleted` removes it. */
  resource_servers?: Array<Partial<Pick<ResourceServer,
    'scopes' | 'enforce_policies' | 'token_dialect' | 'subject_type_authorization' | 'allow_offline_access' | 'skip_consent_for_verifiable_first_party_clients' | 'token_lifetime' | 'token_lifetime_for_web'
  >> & { identifier: string; deleted?: boolean }>;
  clients?: Array<Partial<Pick<Client, 'is_first_party' | 'grant_types'>> & { client_id: string }>;
  /** Grants as planned, found by client, audience and subject type: fields replace the stored grant's; `deleted` removes it. */
  client_grants?: Array<Partial<Pick<ClientGrant, 'scope' | 'allow_all_scopes' | 'organization_usage' | 'allow_any_organization'>> & {
    client_id: string; audience: string; subject_type?: SubjectType; deleted?: boolean;
  }>;
  /** Roles with their complete planned permission set. */
  roles?: Array<{ id: string; permissions: PermissionRef[] }>;
}

/** The reads the scope decisions make, for the stored configuration or one with assumptions laid over it. */
export type DirectoryReads = Pick<Directory, 'client' | 'resourceServer' | 'grant' | 'defaultGrant'>;

const NEW_API: Omit<ResourceServer, 'id' | 'identifier'> = {
  signing_alg: 'RS256', allow_offline_access: false, skip_consent_for_verifiable_first_party_clients: true,
  subject_type_authorization: {}, token_lifetime: 86400, token_lifetime_for_web: 7200,
};

/** The directory with the assumptions laid over it (nothing is written; the stored configuration is the base). */
export class AssumedDirectory implements DirectoryReads {
  constructor(private readonly base: DirectoryReads, private readonly a: ExplainAssumptions) {}

  async client(clientId: string): Promise<CachedClient | undefined> {
    const cached = await this.base.client(clientId);
    const over = this.a.clients?.find((c) => c.client_id === clientId);
    if (!cached || !over) return cached;
    const { client_id: _id, ...fields } = over;
    return { ...cached, client: { ...cached.client, ...definedOnly(fields) } };
  }

  async resourceServer(identifier: string): Promise<ResourceServer | undefined> {
    const over = this.a.resource_servers?.find((r) => r.identifier === identifier);
    const stored = await this.base.resourceServer(identifier);
    if (!over) return stored;
    if (over.deleted || stored?.is_system) return over.deleted ? undefined : stored;
    const { deleted: _d, ...fields } = over;
    return { ...(stored ?? { ...NEW_API, id: `assumed:${identifier}` }), ...definedOnly(fields) } as ResourceServer;
  }

  async grant(clientId: string, audience: string, subjectType: SubjectType): Promise<ClientGrant | undefined> {
    const over = this.a.client_grants?.find((g) => g.client_id === clientId && g.audience === audience && (g.subject_type ?? 'client') === subjectType);
    const stored = await this.base.grant(clientId, audience, subjectType);
    if (!over) return stored;
    if (over.deleted) return undefined;
    const { deleted: _d, ...fields } = over;
    const next: ClientGrant = { ...(stored ?? { id: `assumed:${clientId}:${audience}` }), ...definedOnly(fields), client_id: clientId, audience, subject_type: subjectType };
    if (next.allow_all_scopes) delete next.scope;
    return next;
  }

  defaultGrant(audience: string, subjectType: SubjectType): Promise<ClientGrant | undefined> {
    return this.base.defaultGrant(audience, subjectType);
  }
}

/**
 * The store as the scope decisions read it, with assumed role permissions: a role's stored permissions are replaced
 * by its planned set for every user who holds the role (directly, or as a member role of the organization).
 */
export function assumedStore(store: Store, a: ExplainAssumptions): Store {
  const roles = a.roles ?? [];
  if (roles.length === 0) return store;
  const permissions = Object.create(store.permissions) as Store['permissions'];
  permissions.sources = async (userId, audience, organizationId) => {
    const changed = new Set(roles.map((r) => r.id));
    const rows = (await store.permissions.sources(userId, audience, organizationId)).filter((p) => p.role_id === undefined || !changed.has(p.role_id));
    const held = (await store.roles.rolesOfUser(userId, { offset: 0, limit: 1000 })).items;
    const members = organizationId === undefined ? [] : (await store.organizations.memberRoles(organizationId, userId, { offset: 0, limit: 1000 })).items;
    const add = (r: { id: string; name: string }, organization_id?: string): PermissionSourceRow[] => (roles.find((x) => x.id === r.id)?.permissions ?? [])
      .filter((p) => p.resource_server_identifier === audience)
      .map((p) => ({ permission_name: p.permission_name, role_id: r.id, role_name: r.name, ...(organization_id !== undefined && { organization_id }) }));
    for (const r of held) if (changed.has(r.id)) rows.push(...add(r));
    for (const r of members) if (changed.has(r.id)) rows.push(...add(r, organizationId));
    return rows;
  };
  return Object.assign(Object.create(store) as Store, { permissions });
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
