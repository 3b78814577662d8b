import type { Clock } from '../../ports';

export type UsageOutcome = 'issued' | 'reused' | 'refused';

/** Counts of one hour for one client, organization ('' for none) and audience. */
export interface UsageRow {
  hourStart: number; clientId: string; organizationId: string; audience: string;
  issued: number; reused: number; refused: number;
}

export interface UsageQuery { from: number; to: number; clientId?: string; organizationId?: string; audience?: string }

/** Hourly usage counters in storage; `add` adds to what is stored (one upsert per row, no read-then-write). */
export interface TokenUsageRepo {
  add(rows: readonly UsageRow[]): Promise<void>;
  /** Rows whose hour starts in [from, to), oldest first. */
  query(q: UsageQuery): Promise<UsageRow[]>;
}

export type UsageListener = (outcome: UsageOutcome, clientId: string, organizationId: string, audience: string) => void;

const HOUR = 3_600_000;
const DAY = 86_400_000;

/**
 * client_credentials usage per client, organization and audience: tokens issued, reused and refused by a quota.
 * Counted in memory on the token path (no I/O there) and added to storage every `flushMs` and when the server
 * stops, so the counts survive restarts and sum over every instance; a crash loses at most the last interval.
 */
export class TokenUsage {
  private pending = new Map<string, UsageRow>();
  private listeners = new Set<UsageListener>();
  private timer?: NodeJS.Timeout;
  private flushing?: Promise<void>;

  constructor(private readonly deps: { repo: TokenUsageRepo; clock: Clock; flushMs?: number; onError?: (e: unknown) => void }) {}

  subscribe(fn: UsageListener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  record(outcome: UsageOutcome, clientId: string, audience: string, organizationId = ''): void {
    const hourStart = Math.floor(this.deps.clock.now() / HOUR) * HOUR;
    const key = `${hourStart}\u0000${clientId}\u0000${organizationId}\u0000${audience}`;
    let row = this.pending.get(key);
    if (!row) {
      row = { hourStart, clientId, organizationId, audience, issued: 0, reused: 0, refused: 0 };
      this.pending.set(key, row);
    }
    row[outcome]++;
    for (const fn of this.listeners) fn(outcome, clientId, organizationId, audience);
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => { void this.flush(); }, this.deps.flushMs ?? 5000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }

  /** Adds what was counted since the last flush to storage; on failure the counts are kept for the next one. */
  flush(): Promise<void> {
    if (this.flushing) return this.flushing.then(() => this.flush());
    if (this.pending.size === 0) return Promise.resolve();
    const rows = [...this.pending.values()];
    this.pending = new Map();
    this.flushing = this.deps.repo.add(rows).catch((e) => {
      for (const r of rows) {
        const key = `${r.hourStart}\u0000${r.clientId}\u0000${r.organizationId}\u0000${r.audience}`;
        const cur = this.pending.get(key);
        if (cur) { cur.issued += r.issued; cur.reused += r.reused; cur.refused += r.refused; } else this.pending.set(key, r);
      }
      this.deps.onError?.(e);
    }).finally(() => { this.flushing = undefined; });
    return this.flushing;
  }

  /** Counts per hour or per UTC day in [from, to), after adding what this process counted so far. */
  async report(q: UsageQuery & { period: 'hour' | 'day' }): Promise<Array<UsageRow & { start: number }>> {
    await this.flush();
    const size = q.period === 'day' ? DAY : HOUR;
    const rows = await this.deps.repo.query({ ...q, from: Math.floor(q.from / size) * size });
    const out = new Map<string, UsageRow & { start: number }>();
    for (const r of rows) {
      const start = Math.floor(r.hourStart / size) * size;
      const key = `${start}\u0000${r.clientId}\u0000${r.organizationId}\u0000${r.audience}`;
      const cur = out.get(key);
      if (cur) { cur.issued += r.issued; cur.reused += r.reused; cur.refused += r.refused; } else out.set(key, { ...r, start });
    }
    return [...out.values()];
  }
}
