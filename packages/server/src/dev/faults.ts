import { ApiError, OAuthError, TooManyRequests, TooManyRequestsOAuth } from '@tessera/core';
import type { FastifyInstance } from 'fastify';
import { STATUS_CODES } from 'node:http';
import { RATE_LIMITED } from '../http/rate-limit';
import { isManagementPath, renderManagement, renderOAuth } from '../http/errors';

export const FAULT_STATUSES = [429, 500, 502, 503, 504] as const;

export interface FaultSpec {
  /** A request path without the query (`/api/v2/users`), or a prefix ending in `*` (`/api/v2/*`). */
  path: string;
  /** Only this method (any when absent). */
  method?: string;
  /** Answer with this status instead of running the route (absent: latency only). */
  status?: (typeof FAULT_STATUSES)[number];
  /** How many matching requests the fault affects. */
  count: number;
  /** Added before the request runs (or before the fault's answer). */
  delayMs: number;
}

export interface Fault extends FaultSpec { id: number; remaining: number }

const RETRY_AFTER_SECONDS = 1;

/**
 * Development mode's fault injection: the next N requests matching a path (and method) wait `delayMs`, then answer
 * the status given instead of reaching their route: Auth0's 429 (its X-RateLimit-* and Retry-After headers and its
 * body, in the Management or the OAuth form by path) or a 5xx in the same two forms. The controls themselves are
 * never affected.
 */
export class FaultInjector {
  private faults: Fault[] = [];
  private nextId = 1;

  add(spec: FaultSpec): Fault {
    const fault = { ...spec, method: spec.method?.toUpperCase(), id: this.nextId++, remaining: spec.count };
    this.faults.push(fault);
    return { ...fault };
  }

  list(): Fault[] { return this.faults.map((f) => ({ ...f })); }

  clear(): void { this.faults = []; }

  /** Takes one use of the first fault matching the request, if any. */
  take(method: string, path: string): Fault | undefined {
    const fault = this.faults.find((f) => (f.method === undefined || f.method === method)
      && (f.path.endsWith('*') ? path.startsWith(f.path.slice(0, -1)) : path === f.path || path === `${f.path}/`));
    if (!fault) return undefined;
    fault.remaining -= 1;
    if (fault.remaining <= 0) this.faults = this.faults.filter((f) => f !== fault);
    return fault;
  }

  /** The onRequest hook, on the root so it sees every route and unknown paths alike. */
  register(app: FastifyInstance, devPrefix: string): void {
    app.addHook('onRequest', async (req, reply) => {
      const path = req.url.split('?')[0];
      if (path.startsWith(devPrefix) || this.faults.length === 0) return;
      const fault = this.take(req.method, path);
      if (!fault) return;
      if (fault.delayMs > 0) await new Promise((r) => setTimeout(r, fault.delayMs));
      if (fault.status === undefined) return;
      const management = isManagementPath(path);
      let e: ApiError | OAuthError;
      if (fault.status === 429) {
        reply.header('x-ratelimit-limit', 1).header('x-ratelimit-remaining', 0).header('x-ratelimit-reset', Math.ceil(Date.now() / 1000) + RETRY_AFTER_SECONDS);
        e = management ? new TooManyRequests(RETRY_AFTER_SECONDS) : new TooManyRequestsOAuth(RATE_LIMITED, RETRY_AFTER_SECONDS);
      } else {
        const message = `${STATUS_CODES[fault.status]} (injected by development mode)`;
        e = management
          ? new ApiError(fault.status, message, fault.status === 503 ? 'temporarily_unavailable' : 'internal_error')
          : new OAuthError(fault.status === 503 ? 'temporarily_unavailable' : 'server_error', fault.status, message);
      }
      // answered here, not thrown: an injected failure is not logged as the server's own
      return management ? renderManagement(reply, e) : renderOAuth(reply, e);
    });
  }
}
