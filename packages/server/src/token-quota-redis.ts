import type { QuotaBucket, QuotaCounterStore } from '@tessera/core';
import type { Logger } from 'pino';

/**
 * All buckets of one request in one script (atomic in Redis): when an enforced bucket is already at its limit nothing
 * is counted; otherwise every bucket is incremented and expires with its window.
 * KEYS: the buckets; ARGV: per bucket limit, enforce (1/0), expiry (ms since the epoch).
 */
const CONSUME = `
local counts = {}
local refused = 0
for i, key in ipairs(KEYS) do
  local c = tonumber(redis.call('GET', key) or '0')
  counts[i] = c
  if ARGV[(i - 1) * 3 + 2] == '1' and c >= tonumber(ARGV[(i - 1) * 3 + 1]) then refused = 1 end
end
if refused == 0 then
  for i, key in ipairs(KEYS) do
    counts[i] = redis.call('INCR', key)
    if counts[i] == 1 then redis.call('PEXPIREAT', key, ARGV[(i - 1) * 3 + 3]) end
  end
end
table.insert(counts, 1, refused)
return counts
`;

export interface RedisQuotaCounters { counters: QuotaCounterStore; close(): Promise<void> }

/**
 * Token quota counters in Redis (TESSERA_REDIS_URL), shared by every worker and instance like the rate limits. While
 * Redis does not answer, tokens are issued uncounted (logged): its outage must not stop every M2M client.
 */
export async function createRedisQuotaCounters(url: string, log: Logger): Promise<RedisQuotaCounters> {
  const { Redis } = await import('ioredis'); // loaded only when TESSERA_REDIS_URL is set
  const redis = new Redis(url, { maxRetriesPerRequest: 1, connectTimeout: 2000 });
  redis.on('error', (e) => log.warn({ err: e }, 'redis: token quota counters unavailable'));
  return {
    counters: {
      async consume(buckets: readonly QuotaBucket[]) {
        try {
          const args = buckets.flatMap((b) => [String(b.limit), b.enforce ? '1' : '0', String(b.expiresAt)]);
          const r = await redis.eval(CONSUME, buckets.length, ...buckets.map((b) => `tessera-tq:${b.key}`), ...args) as number[];
          return { admitted: Number(r[0]) === 0, counts: r.slice(1).map(Number) };
        } catch (e) {
          log.warn({ err: e }, 'token quota not counted: redis unavailable');
          return { admitted: true, counts: buckets.map(() => 0) };
        }
      },
    },
    async close() { await redis.quit().catch(() => redis.disconnect()); },
  };
}
