import type { LogEvent, LogFilter, LogRepo, LogSearch, Page, Sequenced } from '@tessera/core';
import type { Kysely, SelectQueryBuilder } from 'kysely';
import type { Db } from '../db';

interface LogRow { seq: number; log_id: string; date: string; type: string; client_id: string | null; user_id: string | null; doc: string }
type LogDb = Kysely<{ tenant_logs: LogRow }>;
type Q = SelectQueryBuilder<{ tenant_logs: LogRow }, 'tenant_logs', object>;

const toEvent = (row: { doc: string }): LogEvent => JSON.parse(row.doc) as LogEvent;

function applyFilter(q: Q, f: LogFilter): Q {
  if (f.field === 'date') {
    if (f.from !== undefined) q = q.where('date', f.fromExclusive ? '>' : '>=', f.from);
    if (f.to !== undefined) q = q.where('date', f.toExclusive ? '<' : '<=', f.to);
    return q;
  }
  return f.values.length === 1 ? q.where(f.field, '=', f.values[0]) : q.where(f.field, 'in', f.values);
}

/** Tenant logs: one row per event (the whole event as JSON, the searchable fields as columns). */
export class SqlLogRepo implements LogRepo {
  private readonly db: LogDb;
  constructor(db: Db) { this.db = db as unknown as LogDb; }

  async append(events: LogEvent[]): Promise<void> {
    if (events.length === 0) return;
    await this.db.insertInto('tenant_logs').values(events.map((e) => ({
      log_id: e.log_id, date: e.date, type: e.type, client_id: e.client_id ?? null, user_id: e.user_id ?? null, doc: JSON.stringify(e),
    })) as never).execute();
  }

  async findById(logId: string): Promise<LogEvent | undefined> {
    const row = await this.db.selectFrom('tenant_logs').select('doc').where('log_id', '=', logId).executeTakeFirst();
    return row && toEvent(row);
  }

  async search(s: LogSearch): Promise<Page<LogEvent>> {
    let base = this.db.selectFrom('tenant_logs') as Q;
    for (const f of s.filters) base = applyFilter(base, f);
    const dir = s.order === 1 ? 'asc' : 'desc';
    const rows = base.select('doc').orderBy('date', dir).orderBy('seq', dir).limit(s.limit).offset(s.offset).execute();
    const count = s.totals ? base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow() : undefined;
    const items = (await rows).map(toEvent);
    return { items, total: count ? Number((await count).n) : items.length };
  }

  async checkpoint(from: string | undefined, take: number): Promise<LogEvent[]> {
    if (from === undefined) {
      const rows = await this.db.selectFrom('tenant_logs').select('doc').orderBy('seq', 'desc').limit(take).execute();
      return rows.reverse().map(toEvent);
    }
    const at = await this.db.selectFrom('tenant_logs').select('seq').where('log_id', '=', from).executeTakeFirst();
    // a checkpoint no longer retained: continue at the first event whose id sorts after it
    const after = at ? Number(at.seq)
      : Number((await this.db.selectFrom('tenant_logs').select('seq').where('log_id', '>', from).orderBy('log_id').limit(1).executeTakeFirst())?.seq ?? Infinity) - 1;
    if (!Number.isFinite(after)) return [];
    const rows = await this.db.selectFrom('tenant_logs').select('doc').where('seq', '>', after).orderBy('seq').limit(take).execute();
    return rows.map(toEvent);
  }

  async after(seq: number, limit: number): Promise<Sequenced[]> {
    const rows = await this.db.selectFrom('tenant_logs').select(['seq', 'doc']).where('seq', '>', seq).orderBy('seq').limit(limit).execute();
    return rows.map((r) => ({ seq: Number(r.seq), event: toEvent(r) }));
  }

  async lastSeq(): Promise<number> {
    const row = await this.db.selectFrom('tenant_logs').select((eb) => eb.fn.max('seq').as('m')).executeTakeFirst();
    return Number(row?.m ?? 0);
  }

  async prune(before: string, keepRows: number): Promise<number> {
    const old = await this.db.deleteFrom('tenant_logs').where('date', '<', before).executeTakeFirst();
    let n = Number(old.numDeletedRows);
    const cut = await this.db.selectFrom('tenant_logs').select('seq').orderBy('seq', 'desc').offset(keepRows).limit(1).executeTakeFirst();
    if (cut) n += Number((await this.db.deleteFrom('tenant_logs').where('seq', '<=', Number(cut.seq)).executeTakeFirst()).numDeletedRows);
    return n;
  }
}
