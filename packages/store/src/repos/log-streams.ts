import type { DeliveryState, LogStream, LogStreamRepo, SecretBox, StoredLogStream } from '@tessera/core';
import { sql, type Kysely } from 'kysely';
import type { Db } from '../db';

interface LogStreamRow {
  seq: number; id: string; doc: string; http_authorization: string | null; cursor: number; failures: number; next_attempt_at: number;
  last_error: string | null; last_attempt_at: number | null; last_delivered_at: number | null; delivered: number;
  lease_owner: string | null; lease_until: number; created_at: string; updated_at: string;
}
type StreamDb = Kysely<{ log_streams: LogStreamRow }>;

const aad = (id: string) => `log_stream:${id}:httpAuthorization`;

/** Log streams: the document, the sink's authorization sealed in its own column, the delivery state as columns. */
export class SqlLogStreamRepo implements LogStreamRepo {
  private readonly db: StreamDb;
  constructor(db: Db, private readonly box: SecretBox) { this.db = db as unknown as StreamDb; }

  private split(s: LogStream): { doc: string; http_authorization: string | null } {
    const { httpAuthorization, ...sink } = s.sink;
    return { doc: JSON.stringify({ ...s, sink }), http_authorization: httpAuthorization ? this.box.seal(httpAuthorization, aad(s.id)) : null };
  }

  private toStored(row: LogStreamRow): StoredLogStream {
    const stream = JSON.parse(row.doc) as LogStream;
    if (row.http_authorization) stream.sink.httpAuthorization = this.box.openString(row.http_authorization, aad(row.id));
    const state: DeliveryState = { cursor: Number(row.cursor), failures: Number(row.failures), nextAttemptAt: Number(row.next_attempt_at), delivered: Number(row.delivered) };
    if (row.last_error !== null) state.lastError = row.last_error;
    if (row.last_attempt_at !== null) state.lastAttemptAt = Number(row.last_attempt_at);
    if (row.last_delivered_at !== null) state.lastDeliveredAt = Number(row.last_delivered_at);
    return { stream, state };
  }

  async insert(s: LogStream, cursor: number, now: string): Promise<void> {
    await this.db.insertInto('log_streams').values({ id: s.id, ...this.split(s), cursor, created_at: now, updated_at: now } as never).execute();
  }

  async replace(s: LogStream, now: string, resetFailures: boolean): Promise<void> {
    await this.db.updateTable('log_streams').set({
      ...this.split(s), updated_at: now, ...(resetFailures && { failures: 0, next_attempt_at: 0 }),
    } as never).where('id', '=', s.id).execute();
  }

  async delete(id: string): Promise<boolean> {
    const r = await this.db.deleteFrom('log_streams').where('id', '=', id).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  async findById(id: string): Promise<StoredLogStream | undefined> {
    const row = await this.db.selectFrom('log_streams').selectAll().where('id', '=', id).executeTakeFirst();
    return row && this.toStored(row as LogStreamRow);
  }

  async list(): Promise<StoredLogStream[]> {
    const rows = await this.db.selectFrom('log_streams').selectAll().orderBy('seq').execute();
    return (rows as LogStreamRow[]).map((r) => this.toStored(r));
  }

  /** One conditional UPDATE: the lease is free (expired) or already ours. */
  async lease(id: string, owner: string, now: number, until: number): Promise<boolean> {
    const r = await this.db.updateTable('log_streams').set({ lease_owner: owner, lease_until: until } as never)
      .where('id', '=', id).where((eb) => eb.or([eb('lease_until', '<', now), eb('lease_owner', '=', owner)])).executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  async advanced(id: string, owner: string, cursor: number, count: number, now: number): Promise<void> {
    await this.db.updateTable('log_streams').set({
      cursor, failures: 0, next_attempt_at: 0, lease_until: 0, lease_owner: null, last_attempt_at: now,
      ...(count > 0 && { last_delivered_at: now, delivered: sql`delivered + ${count}` }),
    } as never).where('id', '=', id).where('lease_owner', '=', owner).execute();
  }

  async failed(id: string, owner: string, failures: number, nextAttemptAt: number, error: string, now: number, suspend: boolean): Promise<void> {
    await this.db.updateTable('log_streams').set({
      failures, next_attempt_at: nextAttemptAt, last_error: error, last_attempt_at: now, lease_until: 0, lease_owner: null,
    } as never).where('id', '=', id).where('lease_owner', '=', owner).execute();
    if (suspend) {
      const found = await this.findById(id);
      if (found) await this.replace({ ...found.stream, status: 'suspended' }, new Date(now).toISOString(), false);
    }
  }
}
