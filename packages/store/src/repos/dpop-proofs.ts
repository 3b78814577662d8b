import type SqliteDatabase from 'better-sqlite3';
import type { DpopReplayRepo, ReplayEntry } from '@tessera/core';
import type { Db } from '../db';
import { flowDb, type FlowDb } from './flow-db';
import { ReplayLease, STEP_DOWN_KEY } from './dpop-lease';

/** How long the sole holder lets accepted keys gather before writing them to the table. */
const WRITE_BEHIND_MS = 100;

/**
 * The shared DPoP replay cache: one INSERT … ON CONFLICT DO NOTHING per batch (the caller batches one event-loop
 * turn); a key that comes back was new, a key that does not was already stored by another request, worker or
 * instance. Both dialects support it.
 *
 * On SQLite the database lives in this process (better-sqlite3 is synchronous), and while this process is the
 * only one using the file (the lease in dpop-lease.ts) it decides claims without touching the database: the
 * caller's memory holds every key this process accepted, this repo the live keys earlier processes left in the
 * table, and accepted keys are written behind every 100 ms (so a restart, or a process that joins later, finds
 * them). When other processes share the file, a batch is written with a prepared statement in one transaction,
 * without Kysely and without any await in between, so the verdict is final when the call returns.
 */
export class SqlDpopProofRepo implements DpopReplayRepo {
  private readonly db: FlowDb;
  private insertNow?: (entries: ReplayEntry[]) => Set<string>;
  private lease?: ReplayLease;
  /** Sole holder: live keys found in the table when it became sole (claims of earlier processes). */
  private readonly earlier = new Map<string, number>();
  private behind: ReplayEntry[] = [];
  private behindTimer?: NodeJS.Timeout;
  private now = 0;
  private purgedAt = 0;

  /** `leasePath`: the lease file of a file-backed SQLite database; `:memory:` is this process's alone. */
  constructor(private readonly raw: Db, private readonly sqlite?: SqliteDatabase.Database, private readonly leasePath?: string | ':memory:') {
    this.db = flowDb(raw);
  }

  claimAlone(entry: ReplayEntry, now: number): boolean | undefined {
    if (!this.sqlite || !this.leasePath) return undefined;
    this.now = now;
    if (!this.soleHere()) return undefined;
    const until = this.earlier.get(entry.key);
    if (until !== undefined && until > now) return false;
    this.behind.push(entry);
    this.behindTimer ??= setTimeout(() => { this.behindTimer = undefined; this.writeBehind(); }, WRITE_BEHIND_MS).unref();
    return true;
  }

  /** Keys within one batch are distinct: the process's in-memory check runs before an entry joins a batch. */
  async claim(entries: ReplayEntry[]): Promise<Set<string>> {
    if (entries.length === 0) return new Set();
    if (this.lease?.mode === 'waiting') await this.lease.ready();
    const unique = [...new Map(entries.map((e) => [e.key, e])).values()];
    // a transaction open on the connection (a write awaiting its next statement) would swallow these inserts and
    // could roll them back: then the batch waits for the connection like any other query
    if (this.sqlite && !this.sqlite.inTransaction) return this.claimInProcess(unique);
    const rows = await this.db.insertInto('dpop_proofs')
      .values(unique.map((e) => ({ key: e.key, expires_at: e.expiresAt })))
      .onConflict((oc) => oc.column('key').doNothing())
      .returning('key').execute();
    const inserted = new Set(rows.map((r) => r.key));
    const taken = new Set(unique.filter((e) => !inserted.has(e.key)).map((e) => e.key));
    return taken;
  }

  async purge(now: number): Promise<void> {
    await this.db.deleteFrom('dpop_proofs').where('expires_at', '<', now).execute();
  }

  /** Writes what is still held in memory and gives the lease up (store close). */
  close(): void {
    clearTimeout(this.behindTimer);
    if (this.lease) this.lease.close();
    else if (this.leasePath === ':memory:') this.writeBehind();
  }

  /** Whether this process decides claims alone; the lease is taken on first use. */
  private soleHere(): boolean {
    if (this.leasePath === ':memory:') return true;
    this.lease ??= new ReplayLease(this.leasePath!, {
      requested: () => (this.sqlite!.prepare('SELECT value FROM meta WHERE key = ?').get(STEP_DOWN_KEY) as { value: string } | undefined)?.value,
      request: async (value) => {
        await this.raw.insertInto('meta').values({ key: STEP_DOWN_KEY, value }).onConflict((oc) => oc.column('key').doUpdateSet({ value })).execute();
      },
      flush: () => this.writeBehind(),
      becameSole: () => {
        const rows = this.sqlite!.prepare('SELECT key, expires_at FROM dpop_proofs WHERE expires_at > ?').all(this.now) as Array<{ key: string; expires_at: number }>;
        for (const r of rows) this.earlier.set(r.key, Number(r.expires_at));
      },
    });
    return this.lease.mode === 'sole';
  }

  /** Sole holder: writes the accepted keys to the table (and purges expired rows once a minute). */
  private writeBehind(): boolean {
    if (this.sqlite!.inTransaction) {
      this.behindTimer ??= setTimeout(() => { this.behindTimer = undefined; this.writeBehind(); }, WRITE_BEHIND_MS).unref();
      return false;
    }
    try {
      if (this.behind.length) this.claimInProcess(this.behind);
      this.behind = [];
      if (this.now - this.purgedAt > 60_000) {
        this.purgedAt = this.now;
        this.sqlite!.prepare('DELETE FROM dpop_proofs WHERE expires_at < ?').run(this.now);
        for (const [k, until] of this.earlier) if (until <= this.now) this.earlier.delete(k);
      }
      return true;
    } catch {
      // the file stayed locked by another writer beyond busy_timeout: the keys stay in memory for the next round
      this.behindTimer ??= setTimeout(() => { this.behindTimer = undefined; this.writeBehind(); }, WRITE_BEHIND_MS).unref();
      return false;
    }
  }

  private claimInProcess(entries: ReplayEntry[]): Set<string> {
    if (!this.insertNow) {
      // prepared on first use: the table exists only once migrations ran
      const sqlite = this.sqlite!;
      const insert = sqlite.prepare<[string, number]>('INSERT INTO dpop_proofs (key, expires_at) VALUES (?, ?) ON CONFLICT (key) DO NOTHING');
      this.insertNow = sqlite.transaction((batch: ReplayEntry[]) => {
        const taken = new Set<string>();
        for (const e of batch) if (insert.run(e.key, e.expiresAt).changes === 0) taken.add(e.key);
        return taken;
      });
    }
    return this.insertNow(entries);
  }
}
