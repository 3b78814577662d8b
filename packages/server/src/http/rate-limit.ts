import rateLimit from '@fastify/rate-limit';
import { TooManyRequests, TooManyRequestsOAuth, type AbuseRepo } from '@tessera/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Rate } from '../config';

export interface RateLimitSettings { auth: Rate; management: Rate; store: 'memory' | 'database' | 'redis'; redisUrl?: string }

/** Checks one request against one limit: sets Auth0's X-RateLimit-* headers, throws the surface's 429 when it is over. */
export type Limiter = (req: FastifyRequest, reply: FastifyReply, key: string) => Promise<void>;

export const RATE_LIMITED = 'Too many requests. Check the X-RateLimit-Limit, X-RateLimit-Remaining and X-RateLimit-Reset headers.';
const KEY = Symbol('tessera.rateLimitKey');
type Keyed = FastifyRequest & { [KEY]?: string };
type Callback = (err: Error | null, res?: { current: number; ttl: number }) => void;

/**
 * Counters in the database (TESSERA_RATE_LIMIT_STORE=database): one fixed window per key, aligned to the epoch so
 * every process and instance counts the same window; one upsert per request.
 */
function databaseStore(repo: AbuseRepo, log: Logger) {
  let hits = 0;
  return class DatabaseStore {
    constructor(private readonly params: { timeWindow?: unknown } = {}) {}
    incr(key: string, cb: Callback, timeWindow: number): void {
      const now = Date.now();
      const start = Math.floor(now / timeWindow) * timeWindow;
      if (++hits % 5000 === 0) repo.purge(now).catch((e) => log.warn({ err: e }, 'rate-limit purge failed'));
      repo.hit(key, start, start + timeWindow).then((current) => cb(null, { current, ttl: start + timeWindow - now }), (e) => cb(e as Error));
    }
    child(params: { timeWindow?: unknown }) { return new DatabaseStore(params); }
  };
}

/**
 * Auth0-style rate limits with @fastify/rate-limit: its counting and stores (in memory, Redis, or the database
 * store above), Tessera's keys, headers and error bodies. `X-RateLimit-Reset` is Unix seconds, as Auth0 sends it.
 * When a shared store fails the request goes through (logged): an outage of Redis must not become a 5xx storm.
 */
export async function registerRateLimits(app: FastifyInstance, s: RateLimitSettings, repo: AbuseRepo, log: Logger): Promise<{ auth?: Limiter; management?: Limiter }> {
  let redis: Redis | undefined;
  if (s.store === 'redis' && s.redisUrl) {
    const { Redis: RedisClient } = await import('ioredis'); // loaded only when the counters live in Redis
    redis = new RedisClient(s.redisUrl, { maxRetriesPerRequest: 1, connectTimeout: 2000, lazyConnect: false });
    redis.on('error', (e) => log.warn({ err: e }, 'redis: rate-limit counters unavailable'));
    app.addHook('onClose', async () => { await redis?.quit().catch(() => redis?.disconnect()); });
  }
  await app.register(rateLimit, {
    global: false,
    skipOnError: true,
    keyGenerator: (req) => (req as Keyed)[KEY] ?? req.ip,
    ...(redis ? { redis, nameSpace: 'tessera-rl:' } : s.store === 'database' ? { store: databaseStore(repo, log) as never } : { cache: 50_000 }),
  });
  const make = (r: Rate, management: boolean): Limiter | undefined => {
    if (r.max === 0) return undefined;
    const check = app.createRateLimit({ max: r.max, timeWindow: r.windowMs });
    return async (req, reply, key) => {
      (req as Keyed)[KEY] = key;
      const res = await check(req);
      if (res.isAllowed || res.max === undefined) return;
      const reset = Math.ceil((Date.now() + (res.ttl ?? 0)) / 1000);
      reply.header('x-ratelimit-limit', res.max).header('x-ratelimit-remaining', res.remaining).header('x-ratelimit-reset', reset);
      if (!res.isExceeded) return;
      const after = Math.max(1, res.ttlInSeconds ?? 1);
      throw management ? new TooManyRequests(after) : new TooManyRequestsOAuth(RATE_LIMITED, after);
    };
  };
  return { auth: make(s.auth, false), management: make(s.management, true) };
}
