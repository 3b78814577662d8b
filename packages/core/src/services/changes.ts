import type { Store } from '../ports';

export type ChangeListener = () => void;

/**
 * Tells in-process caches that the store changed. Local writes notify at once; writes made by other
 * processes or instances are noticed by polling the store's change generation (a cheap read of one
 * row, off the request path), so a change is seen everywhere within `pollMs`.
 */
export class ChangeFeed {
  private listeners = new Set<ChangeListener>();
  private known = -1;
  private timer?: NodeJS.Timeout;

  constructor(private readonly store: Store, private readonly pollMs = 250) {}

  subscribe(fn: ChangeListener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Called after a local write committed. */
  notify(): void {
    for (const fn of this.listeners) fn();
  }

  async start(): Promise<void> {
    this.known = await this.store.generation();
    this.timer = setInterval(() => void this.poll(), this.pollMs);
    this.timer.unref();
  }

  async poll(): Promise<void> {
    try {
      const g = await this.store.generation();
      if (g !== this.known) {
        this.known = g;
        this.notify();
      }
    } catch {
      // storage hiccup: keep the old caches, try again next tick
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
