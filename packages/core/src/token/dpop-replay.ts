/** One proof `jti` (hashed with its key), remembered until the proof could no longer pass the `iat` check. */
export interface ReplayEntry { key: string; expiresAt: number }

/** Storage side of the shared replay cache: a table with a unique key, so every worker and instance agrees. */
export interface DpopReplayRepo {
  /** Inserts the entries; returns the keys that were already present (another request used them first). */
  claim(entries: ReplayEntry[]): Promise<Set<string>>;
  /** Deletes entries that expired before `now` (ms). */
  purge(now: number): Promise<void>;
  /**
   * Decides a claim at once, without I/O, while this process is the only one using the store (SQLite, one
   * process: see SqlDpopProofRepo); `undefined` when the shared table must decide. Called after the caller's own
   * memory accepted the key, so it only has to know the keys earlier processes claimed.
   */
  claimAlone?(entry: ReplayEntry, now: number): boolean | undefined;
}

/**
 * The replay cache port: `claim` answers whether this `jti` is seen for the first time. The answer may be
 * synchronous (this process alone) or a promise (confirmed by every instance on the database).
 */
export interface DpopReplayCache {
  claim(entry: ReplayEntry): boolean | Promise<boolean>;
}

/** Single-process adapter: a map swept of expired entries as it grows. */
export class MemoryReplayCache implements DpopReplayCache {
  private readonly seen = new Map<string, number>();
  private sweepAt = 1024;

  constructor(private readonly now: () => number) {}

  claim({ key, expiresAt }: ReplayEntry): boolean {
    const now = this.now();
    const until = this.seen.get(key);
    if (until !== undefined && until > now) return false;
    this.seen.set(key, expiresAt);
    if (this.seen.size >= this.sweepAt) this.sweep(now);
    return true;
  }

  private sweep(now: number): void {
    for (const [k, until] of this.seen) if (until <= now) this.seen.delete(k);
    this.sweepAt = Math.max(1024, this.seen.size * 2);
  }
}

/**
 * Multi-instance adapter: the in-memory check first (a replay to the same process is refused at once, without
 * I/O). A process the store knows to be its only user (`claimAlone`) stops there. Otherwise the shared table, whose unique key makes a second worker's or instance's claim of the same `jti`
 * fail: the entries of one event-loop turn are written together at its end (setImmediate), in one INSERT. On
 * SQLite that write is a synchronous in-process call (no round trip; see SqlDpopProofRepo); on PostgreSQL it is
 * one round trip per turn for every request of that turn. Either way the token endpoint runs the grant and the
 * signing meanwhile and awaits the verdict before answering, so a proof is accepted once across workers and
 * instances and nothing is added in series on a single instance. Expired rows are purged once a minute.
 */
export class SharedReplayCache implements DpopReplayCache {
  private readonly local: MemoryReplayCache;
  private batch: Array<ReplayEntry & { done: (fresh: boolean) => void; fail: (e: unknown) => void }> = [];
  private scheduled = false;
  private purgedAt = 0;

  constructor(private readonly deps: { repo: DpopReplayRepo; now: () => number }) {
    this.local = new MemoryReplayCache(deps.now);
  }

  claim(entry: ReplayEntry): boolean | Promise<boolean> {
    if (!this.local.claim(entry)) return false;
    const alone = this.deps.repo.claimAlone?.(entry, this.deps.now());
    if (alone !== undefined) return alone;
    return new Promise((done, fail) => {
      this.batch.push({ ...entry, done, fail });
      if (!this.scheduled) { this.scheduled = true; setImmediate(() => void this.flush()); }
    });
  }

  private async flush(): Promise<void> {
    const batch = this.batch;
    this.batch = [];
    this.scheduled = false;
    try {
      const taken = await this.deps.repo.claim(batch.map(({ key, expiresAt }) => ({ key, expiresAt })));
      for (const b of batch) b.done(!taken.has(b.key));
    } catch (e) {
      for (const b of batch) b.fail(e);
    }
    this.purgeSometimes();
  }

  private purgeSometimes(): void {
    const now = this.deps.now();
    if (now - this.purgedAt > 60_000) {
      this.purgedAt = now;
      this.deps.repo.purge(now).catch(() => undefined);
    }
  }
}
