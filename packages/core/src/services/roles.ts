import { BadRequest, Conflict, NotFound, UniqueViolation } from '../errors';
import { randomAlnum } from '../crypto/random';
import type { PermissionRef, PermissionView, Role, RoleCreate, RolePatch, User } from '../model';
import type { CheckpointPage, OffsetWindow, Page, Repos, RoleQuery, Store } from '../ports';
import type { ChangeFeed } from './changes';
import type { PermissionService } from './permissions';
import { USER_NOT_FOUND } from './users';

export const ROLE_NOT_FOUND = () => new NotFound('Role not found.', 'inexistent_role');
const ROLE_CONFLICT = (e: unknown) => new Conflict('The role already exists.', 'role_conflict', e);
const USERS_MISSING = () => new NotFound('One or more of the users do not exist.', 'inexistent_user');
const ROLES_MISSING = () => new NotFound('One or more of the roles do not exist.', 'inexistent_role');
/** An organization's role is held only as a member role in that organization. */
export const ORG_ROLE_OUTSIDE = (r: Role) => new BadRequest(`The role ${r.id} belongs to the organization ${r.owner_id} and can only be assigned to its members.`, 'invalid_body');

/** Tenant roles, their permissions, and who holds them (from the role's side and from the user's). */
export class RoleService {
  constructor(private readonly deps: { store: Store; changes: ChangeFeed; permissions: PermissionService }) {}

  list(q: RoleQuery): Promise<Page<Role>> { return this.deps.store.roles.list(q); }

  async get(id: string): Promise<Role> {
    const r = await this.deps.store.roles.findById(id);
    if (!r) throw ROLE_NOT_FOUND();
    return r;
  }

  async create(input: RoleCreate): Promise<Role> {
    const type = input.type ?? 'tenant';
    if (type === 'organization' && input.owner_id === undefined) throw new BadRequest("Payload validation error: 'owner_id is required when type is organization' on property owner_id.");
    if (type === 'tenant' && input.owner_id !== undefined) throw new BadRequest("Payload validation error: 'owner_id is only allowed when type is organization' on property owner_id.");
    if (input.owner_id !== undefined && !(await this.deps.store.organizations.findById(input.owner_id))) {
      throw new NotFound('No organization found by that id or name', 'inexistent_organization');
    }
    const role: Role = { id: `rol_${randomAlnum(16)}`, name: input.name, type };
    if (input.description !== undefined) role.description = input.description;
    if (input.owner_id !== undefined) role.owner_id = input.owner_id;
    await this.write((tx) => tx.roles.insert(role));
    return role;
  }

  async update(id: string, patch: RolePatch): Promise<Role> {
    const next = { ...(await this.get(id)) };
    if (patch.name !== undefined) next.name = patch.name;
    if (patch.description === null) delete next.description;
    else if (patch.description !== undefined) next.description = patch.description;
    await this.write((tx) => tx.roles.replace(next));
    return next;
  }

  /** Removes the role and, by cascade, its permissions and every assignment of it. */
  async delete(id: string): Promise<void> {
    if (!(await this.write((tx) => tx.roles.delete(id)))) throw ROLE_NOT_FOUND();
  }

  async permissions(id: string, w: OffsetWindow): Promise<Page<PermissionView>> {
    await this.get(id);
    return this.deps.store.permissions.list({ roleId: id }, w);
  }

  async addPermissions(id: string, perms: PermissionRef[]): Promise<void> {
    await this.get(id);
    await this.deps.permissions.add({ roleId: id }, perms);
  }

  async removePermissions(id: string, perms: PermissionRef[]): Promise<void> {
    await this.get(id);
    await this.deps.permissions.remove({ roleId: id }, perms);
  }

  async users(id: string, w: OffsetWindow): Promise<Page<User>> {
    await this.get(id);
    return this.deps.store.roles.users(id, w);
  }

  async usersFrom(id: string, from: string | undefined, take: number): Promise<CheckpointPage<User>> {
    await this.get(id);
    return this.deps.store.roles.usersFrom(id, from, take);
  }

  async assignUsers(id: string, userIds: string[]): Promise<void> {
    const role = await this.get(id);
    if (role.owner_id !== undefined) throw ORG_ROLE_OUTSIDE(role);
    const unique = [...new Set(userIds)];
    if ((await this.deps.store.users.existing(unique)).length !== unique.length) throw USERS_MISSING();
    await this.write((tx) => tx.roles.addUsers(id, unique));
  }

  async rolesOfUser(userId: string, w: OffsetWindow): Promise<Page<Role>> {
    await this.requireUser(userId);
    return this.deps.store.roles.rolesOfUser(userId, w);
  }

  async assignToUser(userId: string, roleIds: string[]): Promise<void> {
    await this.requireUser(userId);
    const unique = await this.requireRoles(roleIds);
    for (const id of unique) {
      const role = await this.get(id);
      if (role.owner_id !== undefined) throw ORG_ROLE_OUTSIDE(role);
    }
    await this.write(async (tx) => { for (const r of unique) await tx.roles.addUsers(r, [userId]); });
  }

  async removeFromUser(userId: string, roleIds: string[]): Promise<void> {
    await this.requireUser(userId);
    await this.write(async (tx) => { for (const r of new Set(roleIds)) await tx.roles.removeUsers(r, [userId]); });
  }

  /** The distinct ids, after checking every one names an existing role. */
  async requireRoles(roleIds: string[]): Promise<string[]> {
    const unique = [...new Set(roleIds)];
    if ((await this.deps.store.roles.existing(unique)).length !== unique.length) throw ROLES_MISSING();
    return unique;
  }

  private async requireUser(userId: string): Promise<void> {
    if ((await this.deps.store.users.existing([userId])).length === 0) throw USER_NOT_FOUND();
  }

  private async write<T>(fn: (tx: Repos) => Promise<T>): Promise<T> {
    try {
      const result = await this.deps.store.write(fn);
      this.deps.changes.notify();
      return result;
    } catch (e) {
      if (e instanceof UniqueViolation) throw ROLE_CONFLICT(e);
      throw e;
    }
  }
}
