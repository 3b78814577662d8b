import type { Selectable } from 'kysely';
import type { Page, ResourceServer, ResourceServerQuery, ResourceServerRepo, SecretBox } from '@tessera/core';
import type { Db, ResourceServerRow } from '../db';
import { bool, mapConstraint, nowIso } from './errors';
import { offsetPage } from './paging';

const aad = (id: string) => `signing_secret:${id}`;

export class SqlResourceServerRepo implements ResourceServerRepo {
  constructor(private readonly db: Db, private readonly box: SecretBox) {}

  private toRow(rs: ResourceServer) {
    const { id, identifier, signing_secret, ...doc } = rs;
    return {
      id, identifier, is_system: bool(rs.is_system), doc: JSON.stringify(doc),
      signing_secret: signing_secret ? this.box.seal(signing_secret, aad(id)) : null,
    };
  }

  private fromRow(row: Selectable<ResourceServerRow>): ResourceServer {
    const doc = JSON.parse(row.doc) as Omit<ResourceServer, 'id' | 'identifier'>;
    const rs: ResourceServer = { id: row.id, identifier: row.identifier, ...doc };
    if (row.signing_secret) rs.signing_secret = this.box.openString(row.signing_secret, aad(row.id));
    return rs;
  }

  async insert(rs: ResourceServer): Promise<void> {
    const now = nowIso();
    await mapConstraint(() => this.db.insertInto('resource_servers').values({ ...this.toRow(rs), created_at: now, updated_at: now }).execute());
  }

  async replace(rs: ResourceServer): Promise<void> {
    const { id, identifier: _i, ...row } = this.toRow(rs);
    await mapConstraint(() => this.db.updateTable('resource_servers').set({ ...row, updated_at: nowIso() }).where('id', '=', id).execute());
  }

  async delete(id: string): Promise<boolean> {
    const r = await this.db.deleteFrom('resource_servers').where('id', '=', id).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  async findById(id: string): Promise<ResourceServer | undefined> {
    const row = await this.db.selectFrom('resource_servers').selectAll().where('id', '=', id).executeTakeFirst();
    return row && this.fromRow(row);
  }

  async findByIdentifier(identifier: string): Promise<ResourceServer | undefined> {
    const row = await this.db.selectFrom('resource_servers').selectAll().where('identifier', '=', identifier).executeTakeFirst();
    return row && this.fromRow(row);
  }

  async list(q: ResourceServerQuery): Promise<Page<ResourceServer>> {
    let base = this.db.selectFrom('resource_servers');
    if (q.identifiers && q.identifiers.length > 0) base = base.where('identifier', 'in', q.identifiers);
    return offsetPage(base, q, (r) => this.fromRow(r));
  }
}
