import { sql, type Selectable } from 'kysely';
import type {
  CheckpointPage, OffsetWindow, Page, PermissionHolder, PermissionRef, PermissionRepo, PermissionSourceRow, PermissionView, Role, RoleQuery, RoleRepo, User,
} from '@tessera/core';
import type { Db, RoleRow } from '../db';
import { mapConstraint, nowIso } from './errors';
import { checkpointPage, offsetPage } from './paging';
import { userFromRow } from './users';

export function roleFromRow(row: Selectable<RoleRow>): Role {
  const doc = JSON.parse(row.doc) as { description?: string };
  const base = { id: row.id, name: row.name, ...(doc.description !== undefined && { description: doc.description }) };
  return row.owner_id ? { ...base, type: 'organization', owner_id: row.owner_id } : { ...base, type: 'tenant' };
}

export class SqlRoleRepo implements RoleRepo {
  constructor(private readonly db: Db) {}

  private toRow(r: Role) {
    return { id: r.id, name: r.name, doc: JSON.stringify(r.description === undefined ? {} : { description: r.description }), owner_id: r.owner_id ?? null };
  }

  async insert(r: Role): Promise<void> {
    await mapConstraint(() => this.db.insertInto('roles').values({ ...this.toRow(r), created_at: nowIso() }).execute());
  }

  async replace(r: Role): Promise<void> {
    const { id, ...row } = this.toRow(r);
    await mapConstraint(() => this.db.updateTable('roles').set(row).where('id', '=', id).execute());
  }

  async delete(id: string): Promise<boolean> {
    const r = await this.db.deleteFrom('roles').where('id', '=', id).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  async findById(id: string): Promise<Role | undefined> {
    const row = await this.db.selectFrom('roles').selectAll().where('id', '=', id).executeTakeFirst();
    return row && roleFromRow(row);
  }

  async existing(ids: string[]): Promise<string[]> {
    if (ids.length === 0) return [];
    return (await this.db.selectFrom('roles').select('id').where('id', 'in', ids).execute()).map((r) => r.id);
  }

  /** `nameFilter`: case-insensitive substring of the name. */
  list(q: RoleQuery): Promise<Page<Role>> {
    let base = this.db.selectFrom('roles');
    if (q.type === 'tenant') base = base.where('owner_id', 'is', null);
    if (q.type === 'organization') base = base.where('owner_id', 'is not', null);
    if (q.ownerId !== undefined) base = base.where('owner_id', '=', q.ownerId);
    if (q.nameFilter) {
      const pattern = `%${q.nameFilter.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      base = base.where(sql<boolean>`lower(name) LIKE ${pattern} ESCAPE '\\'`);
    }
    return offsetPage(base, q, roleFromRow);
  }

  async addUsers(roleId: string, userIds: string[]): Promise<void> {
    if (userIds.length === 0) return;
    await mapConstraint(() => this.db.insertInto('user_roles').values(userIds.map((user_id) => ({ user_id, role_id: roleId })))
      .onConflict((oc) => oc.doNothing()).execute());
  }

  async removeUsers(roleId: string, userIds: string[]): Promise<void> {
    if (userIds.length === 0) return;
    await this.db.deleteFrom('user_roles').where('role_id', '=', roleId).where('user_id', 'in', userIds).execute();
  }

  private holders(roleId: string) {
    return this.db.selectFrom('users').where('user_id', 'in', this.db.selectFrom('user_roles').select('user_id').where('role_id', '=', roleId));
  }

  users(roleId: string, w: OffsetWindow): Promise<Page<User>> {
    return offsetPage(this.holders(roleId), w, userFromRow);
  }

  usersFrom(roleId: string, from: string | undefined, take: number): Promise<CheckpointPage<User>> {
    return checkpointPage(this.holders(roleId), from, take, userFromRow);
  }

  rolesOfUser(userId: string, w: OffsetWindow): Promise<Page<Role>> {
    const base = this.db.selectFrom('roles').where('id', 'in', this.db.selectFrom('user_roles').select('role_id').where('user_id', '=', userId));
    return offsetPage(base, w, roleFromRow);
  }
}

/** Both permission tables have the same shape; only the holder column differs. */
function target(h: PermissionHolder) {
  return 'roleId' in h
    ? { table: 'role_permissions' as const, column: 'role_id' as const, id: h.roleId }
    : { table: 'user_permissions' as 'role_permissions', column: 'user_id' as 'role_id', id: h.userId };
}

type ApiInfo = { name?: string; scopes: Map<string, string | undefined> };

export class SqlPermissionRepo implements PermissionRepo {
  constructor(private readonly db: Db) {}

  async add(holder: PermissionHolder, perms: PermissionRef[]): Promise<void> {
    if (perms.length === 0) return;
    const t = target(holder);
    const rows = perms.map((p) => ({ [t.column]: t.id, resource_server_identifier: p.resource_server_identifier, permission_name: p.permission_name }));
    await mapConstraint(() => this.db.insertInto(t.table).values(rows as never).onConflict((oc) => oc.doNothing()).execute());
  }

  async remove(holder: PermissionHolder, perms: PermissionRef[]): Promise<void> {
    const t = target(holder);
    for (const p of perms) {
      await this.db.deleteFrom(t.table).where(t.column, '=', t.id)
        .where('resource_server_identifier', '=', p.resource_server_identifier).where('permission_name', '=', p.permission_name).execute();
    }
  }

  async list(holder: PermissionHolder, w: OffsetWindow): Promise<Page<PermissionView>> {
    const t = target(holder);
    const page = await offsetPage(this.db.selectFrom(t.table).where(t.column, '=', t.id), w,
      (r) => ({ resource_server_identifier: r.resource_server_identifier, permission_name: r.permission_name }));
    return { items: await this.describe(page.items), total: page.total };
  }

  async ofUser(userId: string): Promise<Array<PermissionView & { roleId?: string; roleName?: string }>> {
    const direct = await this.db.selectFrom('user_permissions').select(['resource_server_identifier', 'permission_name'])
      .where('user_id', '=', userId).orderBy('seq').execute();
    const viaRoles = await this.db.selectFrom('user_roles')
      .innerJoin('roles', 'roles.id', 'user_roles.role_id')
      .innerJoin('role_permissions', 'role_permissions.role_id', 'user_roles.role_id')
      .select(['roles.id as roleId', 'roles.name as roleName', 'role_permissions.resource_server_identifier', 'role_permissions.permission_name'])
      .where('user_roles.user_id', '=', userId).orderBy('user_roles.seq').orderBy('role_permissions.seq').execute();
    return this.describe<PermissionRef & { roleId?: string; roleName?: string }>([...direct, ...viaRoles]);
  }

  async effective(userId: string, audience: string, organizationId?: string): Promise<string[]> {
    return [...new Set((await this.sources(userId, audience, organizationId)).map((p) => p.permission_name))].sort();
  }

  async sources(userId: string, audience: string, organizationId?: string): Promise<PermissionSourceRow[]> {
    const direct = await this.db.selectFrom('user_permissions').select('permission_name')
      .where('user_id', '=', userId).where('resource_server_identifier', '=', audience).orderBy('seq').execute();
    const viaRoles = await this.db.selectFrom('role_permissions')
      .innerJoin('user_roles', 'user_roles.role_id', 'role_permissions.role_id')
      .innerJoin('roles', 'roles.id', 'role_permissions.role_id')
      .select(['role_permissions.permission_name', 'roles.id as role_id', 'roles.name as role_name'])
      .where('user_roles.user_id', '=', userId).where('role_permissions.resource_server_identifier', '=', audience)
      .orderBy('roles.name').orderBy('roles.id').execute();
    const viaMembership = organizationId === undefined ? [] : await this.db.selectFrom('role_permissions')
      .innerJoin('organization_member_roles as m', 'm.role_id', 'role_permissions.role_id')
      .innerJoin('roles', 'roles.id', 'role_permissions.role_id')
      .select(['role_permissions.permission_name', 'roles.id as role_id', 'roles.name as role_name', 'm.organization_id'])
      .where('m.organization_id', '=', organizationId).where('m.user_id', '=', userId).where('role_permissions.resource_server_identifier', '=', audience)
      .orderBy('roles.name').orderBy('roles.id').execute();
    return [...direct, ...viaRoles, ...viaMembership];
  }

  async pruneScopes(audience: string, keep: string[]): Promise<void> {
    for (const table of ['role_permissions', 'user_permissions'] as const) {
      let q = this.db.deleteFrom(table as 'role_permissions').where('resource_server_identifier', '=', audience);
      if (keep.length > 0) q = q.where('permission_name', 'not in', keep);
      await q.execute();
    }
  }

  /** Adds the scope description and API name, in Auth0's key order. */
  private async describe<T extends PermissionRef>(rows: T[]): Promise<Array<T & PermissionView>> {
    const identifiers = [...new Set(rows.map((r) => r.resource_server_identifier))];
    const apis = identifiers.length === 0 ? [] : await this.db.selectFrom('resource_servers').select(['identifier', 'doc']).where('identifier', 'in', identifiers).execute();
    const info = new Map<string, ApiInfo>(apis.map((a) => {
      const doc = JSON.parse(a.doc) as { name?: string; scopes?: Array<{ value: string; description?: string }> };
      return [a.identifier, { name: doc.name, scopes: new Map((doc.scopes ?? []).map((s) => [s.value, s.description])) }];
    }));
    return rows.map((r) => {
      const { resource_server_identifier, permission_name, ...extra } = r as PermissionRef & Record<string, unknown>;
      const api = info.get(resource_server_identifier);
      const description = api?.scopes.get(permission_name);
      return {
        permission_name,
        ...(description !== undefined && { description }),
        ...(api?.name !== undefined && { resource_server_name: api.name }),
        resource_server_identifier,
        ...extra,
      } as unknown as T & PermissionView;
    });
  }
}
