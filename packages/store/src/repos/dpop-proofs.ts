import type { DpopReplayRepo, ReplayEntry } from '@tessera/core';
import type { Db } from '../db';
import { flowDb, type FlowDb } from './flow-db';

/**
 * The shared DPoP replay cache: one INSERT … ON CONFLICT DO NOTHING RETURNING per batch; a key that comes back
 * was new, a key that does not was already stored by another request or instance. Both dialects support it.
 */
export class SqlDpopProofRepo implements DpopReplayRepo {
  private readonly db: FlowDb;
  constructor(db: Db) { this.db = flowDb(db); }

  /** Keys within one batch are distinct: the process's in-memory check runs before an entry joins a batch. */
  async claim(entries: ReplayEntry[]): Promise<Set<string>> {
    if (entries.length === 0) return new Set();
    const unique = [...new Map(entries.map((e) => [e.key, e])).values()];
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
}
