import type { ChangeSubscription, Store } from '../ports';

export type ChangeListener = () => void;

export interface ChangeFeedOptions {
  /** Poll interval while no push channel is up (SQLite, or PostgreSQL after a lost LISTEN connection). */
  pollMs?: number;
  /** Poll interval while the push channel is up: a safety net against a connection that died silently. */
  pushedPollMs?: number;
}

/**
 * Tells in-process caches that the store changed. Local writes notify at once. Writes made by other processes or
 * instances arrive pushed by the store when it can (PostgreSQL LISTEN/NOTIFY: delivered at commit, milliseconds);
 * otherwise, and whenever that connection is lost, they are noticed by polling the store's change generation (a
 * cheap read of one row, off the request path) every `pollMs`. While the push channel is up the poll slows to
 * `pushedPollMs`, and a reconnect polls once at once, so changes made while the channel was down are not missed.
 */
export class ChangeFeed {
  private listeners = new Set<ChangeListener>();
  private known = -1;
  private timer?: NodeJS.Timeout;
  private subscription?: ChangeSubscription;
  private stopped = false;
  private up = false;
  private readonly pollMs: number;
  private readonly pushedPollMs: number;

  constructor(private readonly store: Store, opts: ChangeFeedOptions = {}) {
    this.pollMs = opts.pollMs ?? 250;
    this.pushedPollMs = opts.pushedPollMs ?? 2000;
  }

  /** Whether changes currently arrive pushed (false: polling every `pollMs`). */
  get pushed(): boolean { return this.up; }

  subscribe(fn: ChangeListener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Called after a local write committed. */
  notify(): void {
    for (const fn of this.listeners) fn();
  }

  async start(): Promise<void> {
    this.stopped = false;
    this.known = await this.store.generation();
    if (this.store.listen) {
      this.subscription = await this.store.listen({
        changed: (generation) => this.seen(generation),
        state: (up) => {
          const reconnected = up && !this.up;
          this.up = up;
          if (reconnected) void this.poll(); // whatever committed while the channel was down
          this.schedule();
        },
      });
    }
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => { void this.poll().finally(() => this.schedule()); }, this.up ? this.pushedPollMs : this.pollMs);
    this.timer.unref();
  }

  /** Generations only grow; an older one (a poll that read before a pushed change arrived) is nothing new. */
  private seen(generation: number): void {
    if (generation <= this.known) return;
    this.known = generation;
    this.notify();
  }

  async poll(): Promise<void> {
    try {
      this.seen(await this.store.generation());
    } catch {
      // storage hiccup: keep the old caches, try again next tick
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    const sub = this.subscription;
    this.subscription = undefined;
    this.up = false;
    await sub?.close();
  }
}
