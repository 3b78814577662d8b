import type { Selectable } from 'kysely';
import type { CheckpointPage, ClientGrant, OffsetWindow, Organization, OrganizationRepo, Page, Role, User } from '@tessera/core';
import type { Db, OrganizationRow } from '../db';
import { SqlClientGrantRepo } from './client-grants';
import { mapConstraint, nowIso } from './errors';
import { checkpointPage, offsetPage } from './paging';
import { roleFromRow } from './roles';
import { userFromRow } from './users';

function fromRow(row: Selectable<OrganizationRow>): Organization {
  return { id: row.id, name: row.name, ...(JSON.parse(row.doc) as Omit<Organization, 'id' | 'name'>) };
}

export class SqlOrganizationRepo implements OrganizationRepo {
  private readonly grants: SqlClientGrantRepo;

  constructor(private readonly db: Db) {
    this.grants = new SqlClientGrantRepo(db);
  }

  private toRow(o: Organization) {
    const { id, name, ...doc } = o;
    return { id, name, doc: JSON.stringify(doc) };
  }

  async insert(o: Organization): Promise<void> {
    const now = nowIso();
    await mapConstraint(() => this.db.insertInto('organizations').values({ ...this.toRow(o), created_at: now, updated_at: now }).execute());
  }

  async replace(o: Organization): Promise<void> {
    const { id, ...row } = this.toRow(o);
    await mapConstraint(() => this.db.updateTable('organizations').set({ ...row, updated_at: nowIso() }).where('id', '=', id).execute());
  }

  async delete(id: string): Promise<boolean> {
    const r = await this.db.deleteFrom('organizations').where('id', '=', id).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  async findById(id: string): Promise<Organization | undefined> {
    const row = await this.db.selectFrom('organizations').selectAll().where('id', '=', id).executeTakeFirst();
    return row && fromRow(row);
  }

  async findByName(name: string): Promise<Organization | undefined> {
    const row = await this.db.selectFrom('organizations').selectAll().where('name', '=', name).executeTakeFirst();
    return row && fromRow(row);
  }

  list(w: OffsetWindow): Promise<Page<Organization>> { return offsetPage(this.db.selectFrom('organizations'), w, fromRow); }
  listFrom(from: string | undefined, take: number): Promise<CheckpointPage<Organization>> {
    return checkpointPage(this.db.selectFrom('organizations'), from, take, fromRow);
  }

  async addMembers(orgId: string, userIds: string[]): Promise<void> {
    if (userIds.length === 0) return;
    await mapConstraint(() => this.db.insertInto('organization_members').values(userIds.map((user_id) => ({ organization_id: orgId, user_id })))
      .onConflict((oc) => oc.doNothing()).execute());
  }

  async removeMembers(orgId: string, userIds: string[]): Promise<void> {
    if (userIds.length === 0) return;
    await this.db.deleteFrom('organization_members').where('organization_id', '=', orgId).where('user_id', 'in', userIds).execute();
  }

  async isMember(orgId: string, userId: string): Promise<boolean> {
    return !!(await this.db.selectFrom('organization_members').select('seq').where('organization_id', '=', orgId).where('user_id', '=', userId).executeTakeFirst());
  }

  private memberUsers(orgId: string) {
    return this.db.selectFrom('users').where('user_id', 'in', this.db.selectFrom('organization_members').select('user_id').where('organization_id', '=', orgId));
  }

  members(orgId: string, w: OffsetWindow): Promise<Page<User>> { return offsetPage(this.memberUsers(orgId), w, userFromRow); }
  membersFrom(orgId: string, from: string | undefined, take: number): Promise<CheckpointPage<User>> {
    return checkpointPage(this.memberUsers(orgId), from, take, userFromRow);
  }

  async addMemberRoles(orgId: string, userId: string, roleIds: string[]): Promise<void> {
    if (roleIds.length === 0) return;
    await mapConstraint(() => this.db.insertInto('organization_member_roles')
      .values(roleIds.map((role_id) => ({ organization_id: orgId, user_id: userId, role_id }))).onConflict((oc) => oc.doNothing()).execute());
  }

  async removeMemberRoles(orgId: string, userId: string, roleIds: string[]): Promise<void> {
    if (roleIds.length === 0) return;
    await this.db.deleteFrom('organization_member_roles').where('organization_id', '=', orgId).where('user_id', '=', userId).where('role_id', 'in', roleIds).execute();
  }

  memberRoles(orgId: string, userId: string, w: OffsetWindow): Promise<Page<Role>> {
    const base = this.db.selectFrom('roles').where('id', 'in', this.db.selectFrom('organization_member_roles').select('role_id')
      .where('organization_id', '=', orgId).where('user_id', '=', userId));
    return offsetPage(base, w, roleFromRow);
  }

  async memberRolesOf(orgId: string, userIds: string[]): Promise<Map<string, Array<{ id: string; name: string }>>> {
    const out = new Map<string, Array<{ id: string; name: string }>>();
    if (userIds.length === 0) return out;
    const rows = await this.db.selectFrom('organization_member_roles as m').innerJoin('roles as r', 'r.id', 'm.role_id')
      .select(['m.user_id', 'r.id', 'r.name']).where('m.organization_id', '=', orgId).where('m.user_id', 'in', userIds)
      .orderBy('r.seq').execute();
    for (const row of rows) {
      const list = out.get(row.user_id) ?? [];
      list.push({ id: row.id, name: row.name });
      out.set(row.user_id, list);
    }
    return out;
  }

  async addClientGrant(orgId: string, grantId: string): Promise<void> {
    await mapConstraint(() => this.db.insertInto('organization_client_grants').values({ organization_id: orgId, grant_id: grantId }).execute());
  }

  async removeClientGrant(orgId: string, grantId: string): Promise<boolean> {
    const r = await this.db.deleteFrom('organization_client_grants').where('organization_id', '=', orgId).where('grant_id', '=', grantId).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  async hasClientGrant(orgId: string, grantId: string): Promise<boolean> {
    return !!(await this.db.selectFrom('organization_client_grants').select('seq').where('organization_id', '=', orgId).where('grant_id', '=', grantId).executeTakeFirst());
  }

  async clientGrants(orgId: string, w: OffsetWindow & { audience?: string; clientId?: string }): Promise<Page<ClientGrant>> {
    const grantIds = this.db.selectFrom('organization_client_grants').select('grant_id').where('organization_id', '=', orgId);
    let base = this.db.selectFrom('client_grants').where('id', 'in', grantIds);
    if (w.audience !== undefined) base = base.where('audience', '=', w.audience);
    if (w.clientId !== undefined) base = base.where('client_id', '=', w.clientId);
    return offsetPage(base, w, (r) => this.grants.fromRow(r));
  }

  private grantOrganizations(grantId: string) {
    return this.db.selectFrom('organizations').where('id', 'in', this.db.selectFrom('organization_client_grants').select('organization_id').where('grant_id', '=', grantId));
  }

  ofClientGrant(grantId: string, w: OffsetWindow): Promise<Page<Organization>> { return offsetPage(this.grantOrganizations(grantId), w, fromRow); }
  ofClientGrantFrom(grantId: string, from: string | undefined, take: number): Promise<CheckpointPage<Organization>> {
    return checkpointPage(this.grantOrganizations(grantId), from, take, fromRow);
  }
}
