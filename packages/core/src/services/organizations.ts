import { AccessDenied, BadRequest, Conflict, NotFound, UniqueViolation } from '../errors';
import { randomAlnum } from '../crypto/random';
import {
  DATABASE_CONNECTION_ID,
  type Client, type ClientGrant, type Organization, type OrganizationClientGrantView, type OrganizationConnection, type OrganizationConnectionInput,
  type OrganizationCreate, type OrganizationPatch, type Role, type User,
} from '../model';
import type { CheckpointPage, OffsetWindow, Page, Repos, Store } from '../ports';
import type { ChangeFeed } from './changes';
import { GRANT_NOT_FOUND } from './client-grants';
import { ORG_ROLE_OUTSIDE, type RoleService } from './roles';
import { ReadCache } from './read-cache';

export const ORG_NOT_FOUND = () => new NotFound('No organization found by that id or name', 'inexistent_organization');
const NOT_A_MEMBER = () => new NotFound('The user is not a member of the organization.', 'inexistent_organization_member');
const USERS_MISSING = () => new NotFound('One or more of the users do not exist.', 'inexistent_user');
export const CONNECTION_NOT_FOUND = () => new NotFound('The connection does not exist', 'inexistent_connection');
const ORG_CONNECTION_NOT_FOUND = () => new NotFound('The connection is not enabled for this organization.', 'inexistent_organization_connection');
const CONNECTION_CONFLICT = () => new Conflict('The connection is already enabled for this organization.', 'organization_connection_conflict');
/** Auth0's defaults for an enabled connection: no membership on login, shown as a button, no signup. */
const newConnection = (connectionId: string): OrganizationConnection => ({
  connection_id: connectionId, assign_membership_on_login: false, show_as_button: true, is_signup_enabled: false, is_enabled: true,
});

/** Organizations, their members and member roles, and the client grants they may be used with. */
export class OrganizationService {
  constructor(private readonly deps: { store: Store; changes: ChangeFeed; roles: RoleService }) {}

  list(w: OffsetWindow): Promise<Page<Organization>> { return this.deps.store.organizations.list(w); }
  listFrom(from: string | undefined, take: number): Promise<CheckpointPage<Organization>> { return this.deps.store.organizations.listFrom(from, take); }

  async get(id: string): Promise<Organization> {
    const o = await this.deps.store.organizations.findById(id);
    if (!o) throw ORG_NOT_FOUND();
    return o;
  }

  async getByName(name: string): Promise<Organization> {
    const o = await this.deps.store.organizations.findByName(name);
    if (!o) throw ORG_NOT_FOUND();
    return o;
  }

  /** Creates the organization, with the connections `enabled_connections` names enabled in the same write. */
  async create(input: OrganizationCreate): Promise<Organization> {
    const org: Organization = { id: `org_${randomAlnum(16)}`, name: input.name };
    applyPatch(org, {
      display_name: input.display_name, branding: input.branding, metadata: input.metadata, is_app_entitlement_active: input.is_app_entitlement_active,
      token_quota: input.token_quota, third_party_client_access: input.third_party_client_access,
    });
    const connections: OrganizationConnection[] = [];
    for (const c of input.enabled_connections ?? []) {
      if (c.connection_id !== DATABASE_CONNECTION_ID) throw CONNECTION_NOT_FOUND();
      if (connections.some((x) => x.connection_id === c.connection_id)) throw CONNECTION_CONFLICT();
      const entry = newConnection(c.connection_id);
      applyConnection(entry, c);
      connections.push(entry);
    }
    if (connections.length > 0) org.connections = connections;
    await this.write((tx) => tx.organizations.insert(org));
    return org;
  }

  async update(id: string, patch: OrganizationPatch): Promise<Organization> {
    const next = structuredClone(await this.get(id));
    applyPatch(next, patch);
    await this.write((tx) => tx.organizations.replace(next));
    return next;
  }

  /** Removes the organization with its memberships, member roles and client-grant associations. */
  async delete(id: string): Promise<void> {
    if (!(await this.write((tx) => tx.organizations.delete(id)))) throw ORG_NOT_FOUND();
  }

  /** The organization's connection settings; `enabledOnly` leaves out connections explicitly disabled (`is_enabled: false`). */
  async connections(id: string, enabledOnly: boolean): Promise<OrganizationConnection[]> {
    const list = (await this.get(id)).connections ?? [];
    return enabledOnly ? list.filter((c) => c.is_enabled) : list;
  }

  async connection(id: string, connectionId: string, enabledOnly: boolean): Promise<OrganizationConnection> {
    const found = (await this.connections(id, enabledOnly)).find((c) => c.connection_id === connectionId);
    if (!found) throw ORG_CONNECTION_NOT_FOUND();
    return found;
  }

  /** Enables a connection for the organization (Auth0's defaults: no membership on login, shown as a button, no signup). */
  async addConnection(id: string, connectionId: string, input: OrganizationConnectionInput): Promise<OrganizationConnection> {
    if (connectionId !== DATABASE_CONNECTION_ID) throw CONNECTION_NOT_FOUND();
    return this.editConnections(id, (list) => {
      if (list.some((c) => c.connection_id === connectionId)) throw CONNECTION_CONFLICT();
      const entry = newConnection(connectionId);
      applyConnection(entry, input);
      list.push(entry);
      return entry;
    });
  }

  async updateConnection(id: string, connectionId: string, input: OrganizationConnectionInput, enabledOnly: boolean): Promise<OrganizationConnection> {
    return this.editConnections(id, (list) => {
      const entry = list.find((c) => c.connection_id === connectionId && (!enabledOnly || c.is_enabled));
      if (!entry) throw ORG_CONNECTION_NOT_FOUND();
      applyConnection(entry, input);
      return entry;
    });
  }

  async removeConnection(id: string, connectionId: string, enabledOnly: boolean): Promise<void> {
    await this.editConnections(id, (list) => {
      const at = list.findIndex((c) => c.connection_id === connectionId && (!enabledOnly || c.is_enabled));
      if (at < 0) throw ORG_CONNECTION_NOT_FOUND();
      list.splice(at, 1);
    });
  }

  /** Read, change and write the organization's connection list in one transaction. */
  private async editConnections<T>(id: string, edit: (list: OrganizationConnection[]) => T): Promise<T> {
    return this.write(async (tx) => {
      const org = await tx.organizations.findById(id);
      if (!org) throw ORG_NOT_FOUND();
      const list = structuredClone(org.connections ?? []);
      const result = edit(list);
      const next: Organization = { ...org, connections: list };
      if (list.length === 0) delete next.connections;
      await tx.organizations.replace(next);
      return structuredClone(result);
    });
  }

  async members(id: string, w: OffsetWindow): Promise<Page<User>> {
    await this.get(id);
    return this.deps.store.organizations.members(id, w);
  }

  async membersFrom(id: string, from: string | undefined, take: number): Promise<CheckpointPage<User>> {
    await this.get(id);
    return this.deps.store.organizations.membersFrom(id, from, take);
  }

  /** The roles of each of `userIds` in the organization (`fields=roles` on the member list); `[]` for a member without any. */
  async rolesOfMembers(id: string, userIds: string[]): Promise<Map<string, Array<{ id: string; name: string }>>> {
    const found = await this.deps.store.organizations.memberRolesOf(id, userIds);
    return new Map(userIds.map((u) => [u, found.get(u) ?? []]));
  }

  async addMembers(id: string, userIds: string[]): Promise<void> {
    await this.get(id);
    const unique = [...new Set(userIds)];
    if ((await this.deps.store.users.existing(unique)).length !== unique.length) throw USERS_MISSING();
    await this.write((tx) => tx.organizations.addMembers(id, unique));
  }

  async removeMembers(id: string, userIds: string[]): Promise<void> {
    await this.get(id);
    await this.write((tx) => tx.organizations.removeMembers(id, [...new Set(userIds)]));
  }

  async memberRoles(id: string, userId: string, w: OffsetWindow): Promise<Page<Role>> {
    await this.requireMember(id, userId);
    return this.deps.store.organizations.memberRoles(id, userId, w);
  }

  async assignMemberRoles(id: string, userId: string, roleIds: string[]): Promise<void> {
    await this.requireMember(id, userId);
    const unique = await this.deps.roles.requireRoles(roleIds);
    for (const roleId of unique) {
      const role = await this.deps.roles.get(roleId);
      if (role.owner_id !== undefined && role.owner_id !== id) throw ORG_ROLE_OUTSIDE(role);
    }
    await this.write((tx) => tx.organizations.addMemberRoles(id, userId, unique));
  }

  async removeMemberRoles(id: string, userId: string, roleIds: string[]): Promise<void> {
    await this.requireMember(id, userId);
    await this.write((tx) => tx.organizations.removeMemberRoles(id, userId, [...new Set(roleIds)]));
  }

  async clientGrants(id: string, w: OffsetWindow & { audience?: string; clientId?: string }): Promise<Page<ClientGrant>> {
    await this.get(id);
    return this.deps.store.organizations.clientGrants(id, w);
  }

  async addClientGrant(id: string, grantId: string): Promise<OrganizationClientGrantView> {
    await this.get(id);
    const grant = await this.deps.store.clientGrants.findById(grantId);
    if (!grant) throw GRANT_NOT_FOUND();
    if (grant.subject_type !== 'client') throw new BadRequest('Only client grants with subject_type "client" can be associated with an organization.');
    try {
      await this.deps.store.write((tx) => tx.organizations.addClientGrant(id, grantId));
    } catch (e) {
      if (e instanceof UniqueViolation) throw new Conflict('The client grant is already associated with this organization.', 'organization_client_grant_conflict', e);
      throw e;
    }
    this.deps.changes.notify();
    const view: OrganizationClientGrantView = { grant_id: grant.id, audience: grant.audience };
    if (grant.client_id !== undefined) view.client_id = grant.client_id;
    if (grant.scope !== undefined) view.scope = grant.scope;
    if (grant.organization_usage !== undefined) view.organization_usage = grant.organization_usage;
    if (grant.allow_any_organization !== undefined) view.allow_any_organization = grant.allow_any_organization;
    return view;
  }

  async removeClientGrant(id: string, grantId: string): Promise<void> {
    await this.get(id);
    if (!(await this.write((tx) => tx.organizations.removeClientGrant(id, grantId)))) throw GRANT_NOT_FOUND();
  }

  async ofClientGrant(grantId: string, w: OffsetWindow): Promise<Page<Organization>> {
    await this.requireGrant(grantId);
    return this.deps.store.organizations.ofClientGrant(grantId, w);
  }

  async ofClientGrantFrom(grantId: string, from: string | undefined, take: number): Promise<CheckpointPage<Organization>> {
    await this.requireGrant(grantId);
    return this.deps.store.organizations.ofClientGrantFrom(grantId, from, take);
  }

  private async requireGrant(grantId: string): Promise<void> {
    if (!(await this.deps.store.clientGrants.findById(grantId))) throw GRANT_NOT_FOUND();
  }

  private async requireMember(id: string, userId: string): Promise<void> {
    await this.get(id);
    if (!(await this.deps.store.organizations.isMember(id, userId))) throw NOT_A_MEMBER();
  }

  private async write<T>(fn: (tx: Repos) => Promise<T>): Promise<T> {
    try {
      const result = await this.deps.store.write(fn);
      this.deps.changes.notify();
      return result;
    } catch (e) {
      if (e instanceof UniqueViolation) throw new Conflict('An organization with this name already exists.', 'organization_conflict', e);
      throw e;
    }
  }
}

function applyConnection(entry: OrganizationConnection, input: OrganizationConnectionInput): void {
  for (const key of ['assign_membership_on_login', 'show_as_button', 'is_signup_enabled'] as const) {
    if (input[key] !== undefined) entry[key] = input[key];
  }
  // a null is_enabled (PATCH) puts back the default
  if (input.is_enabled !== undefined) entry.is_enabled = input.is_enabled ?? true;
  if (input.organization_connection_name === null) delete entry.organization_connection_name;
  else if (input.organization_connection_name !== undefined) entry.organization_connection_name = input.organization_connection_name;
  if (input.organization_access_level === null) delete entry.organization_access_level;
  else if (input.organization_access_level !== undefined) entry.organization_access_level = input.organization_access_level;
}

/** Merge semantics: null removes a field; metadata merges key by key (a null value removes the key). */
function applyPatch(org: Organization, patch: OrganizationPatch): void {
  if (patch.name !== undefined) org.name = patch.name;
  if (patch.is_app_entitlement_active !== undefined) org.is_app_entitlement_active = patch.is_app_entitlement_active;
  if (patch.third_party_client_access !== undefined) org.third_party_client_access = patch.third_party_client_access;
  if (patch.display_name === null) delete org.display_name;
  else if (patch.display_name !== undefined) org.display_name = patch.display_name;
  if (patch.branding === null) delete org.branding;
  else if (patch.branding !== undefined) org.branding = structuredClone(patch.branding);
  if (patch.token_quota === null) delete org.token_quota;
  else if (patch.token_quota !== undefined) org.token_quota = structuredClone(patch.token_quota);
  if (patch.metadata === null) delete org.metadata;
  else if (patch.metadata !== undefined) {
    const next: Record<string, string> = { ...org.metadata };
    for (const [k, v] of Object.entries(patch.metadata)) {
      if (v === null) delete next[k];
      else next[k] = v;
    }
    if (Object.keys(next).length > 25) throw new BadRequest("Payload validation error: 'Too many properties defined (" + Object.keys(next).length + "), maximum 25' on property metadata.");
    if (Object.keys(next).length > 0) org.metadata = next;
    else delete org.metadata;
  }
}

/**
 * Read-through cache for the token endpoint: organizations by id or name and grant associations. Like
 * Directory, entries are shared promises cleared on every store change, so warm requests read no storage.
 */
export class OrganizationDirectory {
  private orgs = new ReadCache<Organization | undefined>(10_000);
  private links = new ReadCache<boolean>(10_000);

  constructor(private readonly store: Store, changes: ChangeFeed) {
    changes.subscribe(() => this.clear());
  }

  clear(): void {
    this.orgs.clear();
    this.links.clear();
  }

  /** By id (`org_…`) or by name, as the `organization` token parameter allows. */
  organization(idOrName: string): Promise<Organization | undefined> {
    return this.orgs.get(idOrName, async () =>
      (await this.store.organizations.findById(idOrName)) ?? (await this.store.organizations.findByName(idOrName)));
  }

  associated(orgId: string, grantId: string): Promise<boolean> {
    return this.links.get(`${orgId}\u0000${grantId}`, () => this.store.organizations.hasClientGrant(orgId, grantId));
  }
}

/**
 * Auth0's organization rules for client_credentials: the grant's `organization_usage` (deny by default,
 * allow, require); with require and no `organization`, the client's `default_organization` for the
 * client_credentials flow applies; the organization must be associated with the grant unless the grant
 * has `allow_any_organization` (first-party clients only). Returns the organization id for `org_id`.
 */
export async function clientCredentialsOrganization(
  orgs: OrganizationDirectory, requested: string | undefined, grant: ClientGrant, client: Client,
): Promise<string | undefined> {
  const usage = grant.organization_usage ?? 'deny';
  let value = requested || undefined;
  if (value === undefined && usage === 'require') {
    const fallback = client.default_organization;
    if (!fallback?.flows.includes('client_credentials')) throw new AccessDenied('An organization is required for this client grant, but none was provided.');
    value = fallback.organization_id;
  }
  if (value === undefined) return undefined;
  if (usage === 'deny') throw new AccessDenied('The client grant does not allow the use of organizations.');
  const org = await orgs.organization(value);
  if (!org) throw new AccessDenied(`Organization ${value} does not exist.`);
  const anyOrganization = grant.allow_any_organization === true && client.is_first_party;
  if (!anyOrganization && !(await orgs.associated(org.id, grant.id))) {
    throw new AccessDenied(`Organization ${value} is not associated with this client grant.`);
  }
  return org.id;
}
