import type { Selectable } from 'kysely';
import type { Client, ClientCredential, ClientQuery, ClientRepo, Page, SecretBox } from '@tessera/core';
import type { ClientRow, Db } from '../db';
import { bool, mapConstraint, nowIso } from './errors';
import { offsetPage } from './paging';

const aad = (id: string) => `client_secret:${id}`;

export class SqlClientRepo implements ClientRepo {
  constructor(private readonly db: Db, private readonly box: SecretBox) {}

  private toRow(c: Client) {
    const { client_id, client_secret, credentials: _kept, ...doc } = c;
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
    if (!row) return undefined;
    const c = this.fromRow(row);
    const creds = await this.db.selectFrom('client_credentials').select('doc').where('client_id', '=', clientId).orderBy('seq').execute();
    c.credentials = creds.map((r) => JSON.parse(r.doc) as ClientCredential);
    return c;
  }

  async insertCredential(clientId: string, c: ClientCredential): Promise<void> {
    await mapConstraint(() => this.db.insertInto('client_credentials').values({
      id: c.id, client_id: clientId, doc: JSON.stringify(c), created_at: c.created_at, updated_at: c.updated_at,
    }).execute());
  }

  async replaceCredential(clientId: string, c: ClientCredential): Promise<void> {
    await this.db.updateTable('client_credentials').set({ doc: JSON.stringify(c), updated_at: c.updated_at })
      .where('client_id', '=', clientId).where('id', '=', c.id).execute();
  }

  async deleteCredential(clientId: string, credentialId: string): Promise<boolean> {
    const r = await this.db.deleteFrom('client_credentials').where('client_id', '=', clientId).where('id', '=', credentialId).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  async list(q: ClientQuery): Promise<Page<Client>> {
    let base = this.db.selectFrom('clients');
    if (q.isGlobal !== undefined) base = base.where('is_global', '=', bool(q.isGlobal));
    if (q.isFirstParty !== undefined) base = base.where('is_first_party', '=', bool(q.isFirstParty));
    if (q.appTypes && q.appTypes.length > 0) base = base.where('app_type', 'in', q.appTypes);
    return offsetPage(base, q, (r) => this.fromRow(r));
  }
}
