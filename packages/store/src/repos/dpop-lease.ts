import { randomUUID } from 'node:crypto';
import type SqliteDatabase from 'better-sqlite3';
import { sqliteDriver } from '../drivers';

/**
 * - `sole`: this process holds the lease alone; nobody else may claim a DPoP `jti` on this database.
 * - `shared`: every process holding it claims through the shared table.
 * - `waiting`: neither yet (a sole holder was asked to step down); claims wait.
 */
export type LeaseMode = 'sole' | 'shared' | 'waiting';

const STEP_DOWN_KEY = 'dpop_replay_lease_request';

export interface LeaseHooks {
  /** The step-down request written by the last process that found the lease taken. */
  requested(): string | undefined;
  /** Writes a new step-down request (through the ordinary query path). */
  request(value: string): Promise<void>;
  /** Writes what the sole holder decided in memory to the shared table; false when it cannot be done now. */
  flush(): boolean;
  /** Loads the table's live entries into memory when this process becomes the sole holder. */
  becameSole(): void;
}

/**
 * Who decides DPoP replay claims on one SQLite file. A lock file next to the database (`<file>-dpop-lease`) is
 * held with SQLite's own file locks, which the operating system releases when a process ends: an EXCLUSIVE lock
 * makes this process the sole holder (its claims are decided in memory and written behind), a SHARED lock lets
 * several processes hold it at once (their claims go through the table's unique key). The two exclude each other,
 * so a jti can never be accepted in one process's memory while another process consults the table.
 *
 * A process that finds the lease held exclusively asks the holder to step down (a row in `meta`, read every
 * 250 ms by the holder), and waits: the holder writes what it accepted to the table, then trades its EXCLUSIVE
 * lock for a SHARED one. Once shared, a process stays shared until it ends.
 */
export class ReplayLease {
  mode: LeaseMode = 'waiting';
  private readonly conn: SqliteDatabase.Database;
  private timer?: NodeJS.Timeout;
  private seenRequest?: string;
  private waiters: Array<() => void> = [];
  private closed = false;

  constructor(path: string, private readonly hooks: LeaseHooks) {
    this.conn = new (sqliteDriver())(path, { timeout: 0 });
    if (this.trySole()) {
      this.seenRequest = hooks.requested();
      this.mode = 'sole';
      hooks.becameSole();
      this.every(250, () => this.stepDownIfAsked());
    } else if (this.tryShared()) {
      this.mode = 'shared';
    } else {
      this.waitForShared();
    }
  }

  /** Resolves once the mode is no longer `waiting`. */
  ready(): Promise<void> {
    return this.mode !== 'waiting' ? Promise.resolve() : new Promise((resolve) => this.waiters.push(resolve));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    if (this.mode === 'sole') this.hooks.flush();
    this.conn.close();
    for (const w of this.waiters.splice(0)) w();
  }

  private stepDownIfAsked(): void {
    const asked = this.hooks.requested();
    if (asked === undefined || asked === this.seenRequest) return;
    if (!this.hooks.flush()) return; // a transaction is open on the connection: next round
    clearInterval(this.timer);
    this.conn.exec('ROLLBACK');
    if (this.tryShared()) this.settle('shared');
    else this.waitForShared(); // a newcomer took the lease between the two statements
  }

  private waitForShared(): void {
    this.mode = 'waiting';
    clearInterval(this.timer);
    const ask = () => this.hooks.request(randomUUID()).catch(() => undefined);
    void ask();
    let rounds = 0;
    this.every(25, () => {
      if (this.tryShared()) { clearInterval(this.timer); this.settle('shared'); }
      else if (++rounds % 40 === 0) void ask(); // the holder may have missed it (its request was overwritten)
    });
  }

  private settle(mode: LeaseMode): void {
    this.mode = mode;
    for (const w of this.waiters.splice(0)) w();
  }

  private every(ms: number, fn: () => void): void {
    this.timer = setInterval(fn, ms);
    this.timer.unref();
  }

  private trySole(): boolean {
    try { this.conn.exec('BEGIN EXCLUSIVE'); return true; } catch { return false; }
  }

  private tryShared(): boolean {
    try {
      this.conn.exec('BEGIN');
      this.conn.prepare('SELECT count(*) FROM sqlite_master').get();
      return true;
    } catch {
      if (this.conn.inTransaction) this.conn.exec('ROLLBACK');
      return false;
    }
  }
}

export { STEP_DOWN_KEY };
