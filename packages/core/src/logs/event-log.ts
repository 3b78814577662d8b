import { randomInt } from 'node:crypto';
import type { Clock } from '../ports';
import type { LogEvent, LogEventInput } from './events';
import type { LogRepo } from './ports';

export interface EventLogSettings {
  /** Off: nothing is recorded (TESSERA_TENANT_LOGS=off). */
  enabled: boolean;
  /** Events waiting to be written; beyond it new events are dropped and counted, never waited for. */
  maxQueue: number;
  /** Events per INSERT. */
  batchSize: number;
  /** How long an event may wait for its batch (ms). */
  flushDelayMs: number;
  /** Retention: days kept, and the most rows kept (TESSERA_LOG_RETENTION_DAYS / _ROWS). */
  retentionDays: number;
  retentionRows: number;
}

export const DEFAULT_EVENT_LOG: EventLogSettings = { enabled: true, maxQueue: 10_000, batchSize: 500, flushDelayMs: 100, retentionDays: 30, retentionRows: 1_000_000 };

export interface EventRecorder { record(e: LogEventInput): void }

/**
 * The tenant log's writer. `record` only stamps the event and queues it (no I/O, no await on the request path);
 * a timer writes the queue in batches shortly after. The queue is bounded: when storage cannot keep up, new events
 * are dropped and counted (`dropped`) rather than held in memory without limit or making requests wait.
 */
export class EventLog implements EventRecorder {
  private queue: LogEvent[] = [];
  private timer?: NodeJS.Timeout;
  private flushing?: Promise<void>;
  private counter = 0;
  private readonly prefix = String(randomInt(0, 1_000_000)).padStart(6, '0');
  private pruneTimer?: NodeJS.Timeout;
  /** Events dropped because the queue was full or their batch could not be written. */
  dropped = 0;
  written = 0;
  /** Called after each batch that was written (log streams wake up on it). */
  onWritten?: () => void;

  constructor(private readonly deps: { repo: LogRepo; clock: Clock; hostname: string; settings: EventLogSettings; onError?: (e: unknown) => void }) {}

  get enabled(): boolean { return this.deps.settings.enabled; }

  record(e: LogEventInput): void {
    const s = this.deps.settings;
    if (!s.enabled) return;
    if (this.queue.length >= s.maxQueue) { this.dropped++; return; }
    const now = this.deps.clock.now();
    this.queue.push({ ...e, log_id: this.nextId(now), date: new Date(now).toISOString(), hostname: this.deps.hostname });
    if (!this.timer && !this.flushing) {
      this.timer = setTimeout(() => { this.timer = undefined; void this.flush(); }, s.flushDelayMs);
      this.timer.unref();
    }
  }

  /**
   * Digits only, like Auth0's: the time in ms, this process's random prefix and a counter; unique across processes
   * sharing a database (the unique key has the final word), ordered by time within one process.
   */
  private nextId(now: number): string {
    this.counter = (this.counter + 1) % 1_000_000;
    return `900${String(now).padStart(15, '0')}${this.prefix}${String(this.counter).padStart(6, '0')}`;
  }

  /** Writes everything queued so far (tests, shutdown). */
  async flush(): Promise<void> {
    if (this.timer) { clearTimeout(this.timer); this.timer = undefined; }
    while (this.flushing) await this.flushing;
    if (this.queue.length === 0) return;
    this.flushing = this.drain().finally(() => { this.flushing = undefined; });
    await this.flushing;
  }

  private async drain(): Promise<void> {
    const { repo, settings, onError } = this.deps;
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, settings.batchSize);
      try {
        await repo.append(batch);
        this.written += batch.length;
        this.onWritten?.();
      } catch (e) {
        this.dropped += batch.length;
        onError?.(e);
      }
    }
  }

  /** Retention once now and then every `everyMs` (timer not holding the process open). */
  startRetention(everyMs = 60 * 60 * 1000): void {
    if (!this.deps.settings.enabled) return;
    void this.prune();
    this.pruneTimer = setInterval(() => { void this.prune(); }, everyMs);
    this.pruneTimer.unref();
  }

  async prune(): Promise<number> {
    const { repo, clock, settings, onError } = this.deps;
    try {
      return await repo.prune(new Date(clock.now() - settings.retentionDays * 86_400_000).toISOString(), settings.retentionRows);
    } catch (e) {
      onError?.(e);
      return 0;
    }
  }

  async close(): Promise<void> {
    if (this.pruneTimer) clearInterval(this.pruneTimer);
    await this.flush();
  }
}
