import type { Selectable } from 'kysely';
import type { CheckpointPage, ClientGrant, ClientGrantQuery, ClientGrantRepo, OffsetWindow, Page, SubjectType } from '@tessera/core';
import type { ClientGrantRow, Db } from '../db';
import { bool, mapConstraint, nowIso } from './errors';
import { checkpointPage, offsetPage } from './paging';

export class SqlClientGrantRepo implements ClientGrantRepo {
  constructor(private readonly db: Db) {}

  private toRow(g: ClientGrant) {
    const { id, client_id, audience, subject_type, default_for, ...doc } = g;
    return {
      id, client_id: client_id ?? null, audience, subject_type, default_for: default_for ?? null,
      allow_any_organization: bool(g.allow_any_organization), doc: JSON.stringify(doc),
    };
  }

  fromRow(row: Selectable<ClientGrantRow>): ClientGrant {
    const g: ClientGrant = { id: row.id, audience: row.audience, subject_type: row.subject_type as SubjectType };
    if (row.client_id !== null) g.client_id = row.client_id;
    if (row.default_for !== null) g.default_for = row.default_for as ClientGrant['default_for'];
    return { ...g, ...(JSON.parse(row.doc) as Partial<ClientGrant>) };
  }

  async insert(g: ClientGrant): Promise<void> {
    await mapConstraint(() => this.db.insertInto('client_grants').values({ ...this.toRow(g), created_at: nowIso() }).execute());
  }

  async replace(g: ClientGrant): Promise<void> {
    const { id, ...row } = this.toRow(g);
    await mapConstraint(() => this.db.updateTable('client_grants').set(row).where('id', '=', id).execute());
  }

  async delete(id: string): Promise<boolean> {
    const r = await this.db.deleteFrom('client_grants').where('id', '=', id).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  async findById(id: string): Promise<ClientGrant | undefined> {
    const row = await this.db.selectFrom('client_grants').selectAll().where('id', '=', id).executeTakeFirst();
    return row && this.fromRow(row);
  }

  async findFor(clientId: string, audience: string, subjectType: SubjectType): Promise<ClientGrant | undefined> {
    const row = await this.db.selectFrom('client_grants').selectAll()
      .where('client_id', '=', clientId).where('audience', '=', audience).where('subject_type', '=', subjectType)
      .executeTakeFirst();
    return row && this.fromRow(row);
  }

  async findDefault(audience: string, subjectType: SubjectType): Promise<ClientGrant | undefined> {
    const row = await this.db.selectFrom('client_grants').selectAll()
      .where('default_for', '=', 'third_party_clients').where('audience', '=', audience).where('subject_type', '=', subjectType)
      .executeTakeFirst();
    return row && this.fromRow(row);
  }

  private filtered(q: ClientGrantQuery) {
    let base = this.db.selectFrom('client_grants');
    if (q.audience !== undefined) base = base.where('audience', '=', q.audience);
    if (q.clientId !== undefined) base = base.where('client_id', '=', q.clientId);
    if (q.subjectType !== undefined) base = base.where('subject_type', '=', q.subjectType);
    if (q.allowAnyOrganization !== undefined) base = base.where('allow_any_organization', '=', bool(q.allowAnyOrganization));
    if (q.defaultFor !== undefined) base = base.where('default_for', '=', q.defaultFor);
    return base;
  }

  list(q: ClientGrantQuery & OffsetWindow): Promise<Page<ClientGrant>> {
    return offsetPage(this.filtered(q), q, (r) => this.fromRow(r));
  }

  listFrom(q: ClientGrantQuery & { from?: string; take: number }): Promise<CheckpointPage<ClientGrant>> {
    return checkpointPage(this.filtered(q), q.from, q.take, (r) => this.fromRow(r));
  }
}
