import { BadRequest, NotFound } from '../errors';
import type { PermissionRef, UserPermissionView } from '../model';
import type { OffsetWindow, Page, PermissionHolder, Store } from '../ports';
import type { ChangeFeed } from './changes';
import { USER_NOT_FOUND } from './users';

/**
 * Permissions are scopes of an API, referenced by its identifier. This service validates them, keeps
 * direct user permissions, and answers the question the token flows ask: what may this user do on that API.
 */
export class PermissionService {
  constructor(private readonly deps: { store: Store; changes: ChangeFeed }) {}

  /** Each API must exist and define the scope. */
  async validate(perms: PermissionRef[]): Promise<void> {
    const apis = new Map<string, Set<string>>();
    for (const p of perms) {
      let scopes = apis.get(p.resource_server_identifier);
      if (!scopes) {
        const api = await this.deps.store.resourceServers.findByIdentifier(p.resource_server_identifier);
        if (!api) throw new NotFound(`No resource with identifier ${p.resource_server_identifier}`, 'inexistent_resource_server');
        scopes = new Set((api.scopes ?? []).map((s) => s.value));
        apis.set(p.resource_server_identifier, scopes);
      }
      if (!scopes.has(p.permission_name)) {
        throw new BadRequest(`Payload validation error: 'Permission ${p.permission_name} is not defined on resource server ${p.resource_server_identifier}' on property permissions.`);
      }
    }
  }

  async add(holder: PermissionHolder, perms: PermissionRef[]): Promise<void> {
    await this.validate(perms);
    await this.deps.store.write((tx) => tx.permissions.add(holder, dedupe(perms)));
    this.deps.changes.notify();
  }

  async remove(holder: PermissionHolder, perms: PermissionRef[]): Promise<void> {
    await this.deps.store.write((tx) => tx.permissions.remove(holder, perms));
    this.deps.changes.notify();
  }

  async addToUser(userId: string, perms: PermissionRef[]): Promise<void> {
    await this.requireUser(userId);
    await this.add({ userId }, perms);
  }

  async removeFromUser(userId: string, perms: PermissionRef[]): Promise<void> {
    await this.requireUser(userId);
    await this.remove({ userId }, perms);
  }

  /** Direct and role-derived permissions, each with the sources it comes from (Auth0's `sources`). */
  async ofUser(userId: string, w: OffsetWindow): Promise<Page<UserPermissionView>> {
    await this.requireUser(userId);
    const merged = new Map<string, UserPermissionView>();
    for (const p of await this.deps.store.permissions.ofUser(userId)) {
      const key = `${p.resource_server_identifier}\u0000${p.permission_name}`;
      let view = merged.get(key);
      if (!view) {
        const { roleId: _r, roleName: _n, ...rest } = p;
        view = { ...rest, sources: [] };
        merged.set(key, view);
      }
      view.sources.push(p.roleId
        ? { source_id: p.roleId, source_name: p.roleName ?? '', source_type: 'ROLE' }
        : { source_id: '', source_name: '', source_type: 'DIRECT' });
    }
    const all = [...merged.values()];
    return { items: all.slice(w.offset, w.limit === undefined ? undefined : w.offset + w.limit), total: all.length };
  }

  /**
   * What the token flows use: the permission names a user holds on the API `audience`: direct ∪ roles,
   * plus the roles the user has as a member of `organizationId` when the login is through an organization.
   */
  permissionsFor(userId: string, audience: string, organizationId?: string): Promise<string[]> {
    return this.deps.store.permissions.effective(userId, audience, organizationId);
  }

  private async requireUser(userId: string): Promise<void> {
    if ((await this.deps.store.users.existing([userId])).length === 0) throw USER_NOT_FOUND();
  }
}

export function dedupe(perms: PermissionRef[]): PermissionRef[] {
  const seen = new Map<string, PermissionRef>();
  for (const p of perms) seen.set(`${p.resource_server_identifier}\u0000${p.permission_name}`, { resource_server_identifier: p.resource_server_identifier, permission_name: p.permission_name });
  return [...seen.values()];
}
