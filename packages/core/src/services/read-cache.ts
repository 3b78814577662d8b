/**
 * A read-through cache of promises: concurrent misses share one storage read, a load that raced a
 * `clear()` is not kept, a failed load is forgotten, and the size is bounded so lookups of unknown keys
 * (random client ids, organization names) cannot grow it without limit.
 */
export class ReadCache<T> {
  private generation = 0;
  private entries = new Map<string, Promise<T>>();

  constructor(private readonly limit = 100_000) {}

  get(key: string, load: () => Promise<T>): Promise<T> {
    const hit = this.entries.get(key);
    if (hit) return hit;
    if (this.entries.size >= this.limit) this.entries.clear();
    const gen = this.generation;
    const p = load();
    this.entries.set(key, p);
    p.then(
      () => { if (gen !== this.generation && this.entries.get(key) === p) this.entries.delete(key); },
      () => { if (this.entries.get(key) === p) this.entries.delete(key); },
    );
    return p;
  }

  clear(): void {
    this.generation++;
    this.entries.clear();
  }
}
