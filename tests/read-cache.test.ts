import { describe, expect, it } from 'vitest';
import { ReadCache } from '@tessera/core';

describe('ReadCache (the token path caches)', () => {
  it('shares one load between concurrent misses', async () => {
    const c = new ReadCache<number>();
    let loads = 0;
    const load = async () => { loads++; return 7; };
    expect(await Promise.all([c.get('k', load), c.get('k', load)])).toEqual([7, 7]);
    expect(loads).toBe(1);
  });

  it('does not keep a load that raced a clear()', async () => {
    const c = new ReadCache<string>();
    let release!: (v: string) => void;
    const stale = c.get('k', () => new Promise((r) => { release = r; }));
    c.clear();
    release('old');
    expect(await stale).toBe('old');
    expect(await c.get('k', async () => 'new')).toBe('new');
  });

  it('forgets a failed load', async () => {
    const c = new ReadCache<string>();
    await expect(c.get('k', async () => { throw new Error('db down'); })).rejects.toThrow('db down');
    expect(await c.get('k', async () => 'ok')).toBe('ok');
  });

  it('stays bounded under lookups of unknown keys', async () => {
    const c = new ReadCache<undefined>(3);
    let loads = 0;
    for (const k of ['a', 'b', 'c', 'd']) await c.get(k, async () => { loads++; return undefined; });
    await c.get('a', async () => { loads++; return undefined; }); // evicted when the fourth key arrived
    expect(loads).toBe(5);
  });
});
