import type { Page } from '../ports';
import type { LogEvent } from './events';

/** One term of a `q` search: equality on a field, or a date range (ISO strings, either end open). */
export type LogFilter =
  | { field: 'type' | 'client_id' | 'user_id'; values: string[] }
  | { field: 'date'; from?: string; to?: string; fromExclusive?: boolean; toExclusive?: boolean };

export interface LogSearch {
  filters: LogFilter[];
  /** Oldest first (1) or newest first (-1, Auth0's default). */
  order: 1 | -1;
  offset: number;
  limit: number;
  /** Count the matching events (include_totals). */
  totals: boolean;
}

/** A stored event with its position in the log (what a stream's cursor points at). */
export interface Sequenced { seq: number; event: LogEvent }

/** Tenant logs: append-only, written in batches off the request path. */
export interface LogRepo {
  append(events: LogEvent[]): Promise<void>;
  findById(logId: string): Promise<LogEvent | undefined>;
  search(q: LogSearch): Promise<Page<LogEvent>>;
  /** Checkpoint reads in log order: events after `from` (a log_id; the latest `take` when absent). */
  checkpoint(from: string | undefined, take: number): Promise<LogEvent[]>;
  /** Events after a position, in log order (log streams). */
  after(seq: number, limit: number): Promise<Sequenced[]>;
  /** The position of the newest event (0 when the log is empty). */
  lastSeq(): Promise<number>;
  /** Retention: drops events older than `before` (ISO date), then all but the newest `keepRows`; returns how many went. */
  prune(before: string, keepRows: number): Promise<number>;
}
