import type { Selectable } from 'kysely';
import type { Client, ClientQuery, ClientRepo, Page, SecretBox } from '@tessera/core';
import type { ClientRow, Db } from '../db';
import { bool, mapConstraint, nowIso } from './errors';
import { offsetPage } from './paging';

const aad = (id: string) => `client_secret:${id}`;

export class SqlClientRepo implements ClientRepo {
  constructor(private readonly db: Db, private readonly box: SecretBox) {}

  private toRow(c: Client) {
    const { client_id, client_secret, ...doc } = c;
    return {
      client_id, name: c.name, is_global: bool(c.global), is_first_party: bool(c.is_first_party), app_type: c.app_type ?? null,
      doc: JSON.stringify(doc), client_secret: client_secret ? this.box.seal(client_secret, aad(client_id)) : null,
    };
  }

  private fromRow(row: Selectable<ClientRow>): Client {
    const c = { client_id: row.client_id, ...(JSON.parse(row.doc) as Omit<Client, 'client_id'>) } as Client;
    if (row.client_secret) c.client_secret = this.box.openString(row.client_secret, aad(row.client_id));
    return c;
  }

  async insert(c: Client): Promise<void> {
    const now = nowIso();
    await mapConstraint(() => this.db.insertInto('clients').values({ ...this.toRow(c), created_at: now, updated_at: now }).execute());
  }

  async replace(c: Client): Promise<void> {
    const { client_id, ...row } = this.toRow(c);
    await mapConstraint(() => this.db.updateTable('clients').set({ ...row, updated_at: nowIso() }).where('client_id', '=', client_id).execute());
  }

  async delete(clientId: string): Promise<boolean> {
    const r = await this.db.deleteFrom('clients').where('client_id', '=', clientId).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  async findById(clientId: string): Promise<Client | undefined> {
    const row = await this.db.selectFrom('clients').selectAll().where('client_id', '=', clientId).executeTakeFirst();
    return row && this.fromRow(row);
  }

  async list(q: ClientQuery): Promise<Page<Client>> {
    let base = this.db.selectFrom('clients');
    if (q.isGlobal !== undefined) base = base.where('is_global', '=', bool(q.isGlobal));
    if (q.isFirstParty !== undefined) base = base.where('is_first_party', '=', bool(q.isFirstParty));
    if (q.appTypes && q.appTypes.length > 0) base = base.where('app_type', 'in', q.appTypes);
    return offsetPage(base, q, (r) => this.fromRow(r));
  }
}
