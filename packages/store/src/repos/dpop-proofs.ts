import type SqliteDatabase from 'better-sqlite3';
import type { DpopReplayRepo, ReplayEntry } from '@tessera/core';
import type { Db } from '../db';
import { flowDb, type FlowDb } from './flow-db';

/**
 * The shared DPoP replay cache: one INSERT … ON CONFLICT DO NOTHING per batch (the caller batches one event-loop
 * turn); a key that comes back was new, a key that does not was already stored by another request, worker or
 * instance. Both dialects support it.
 *
 * On SQLite the database lives in this process (better-sqlite3 is synchronous): the batch is written with a
 * prepared statement in one transaction, without Kysely's query building and without any await in between, so
 * the verdict is final when the call returns. A statement per request cost about 100 µs of event-loop time (a
 * commit each, and more WAL checkpoints); one commit per batch spreads that over every request of the turn.
 */
export class SqlDpopProofRepo implements DpopReplayRepo {
  private readonly db: FlowDb;
  private insertNow?: (entries: ReplayEntry[]) => Set<string>;

  constructor(db: Db, private readonly sqlite?: SqliteDatabase.Database) {
    this.db = flowDb(db);
  }

  /** Keys within one batch are distinct: the process's in-memory check runs before an entry joins a batch. */
  async claim(entries: ReplayEntry[]): Promise<Set<string>> {
    if (entries.length === 0) return new Set();
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

  async purge(now: number): Promise<void> {
    await this.db.deleteFrom('dpop_proofs').where('expires_at', '<', now).execute();
  }
}
