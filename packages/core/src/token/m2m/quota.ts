import { TooManyRequestsOAuth } from '../../errors';
import type { Client, ClientCredentialsQuota, Organization } from '../../model';
import type { Clock } from '../../ports';

/** The tenant defaults (Auth0's `default_token_quota`): applied to clients and organizations that have none. */
export interface TokenQuotaDefaults { clients?: ClientCredentialsQuota; organizations?: ClientCredentialsQuota }

export type QuotaPeriod = 'per_hour' | 'per_day';

/** One fixed window of one quota: the key names the subject, the period and the window. */
export interface QuotaBucket { key: string; windowStart: number; expiresAt: number; limit: number; enforce: boolean }

/**
 * Where quota counters live (the database, or Redis): shared by every process and instance, kept across restarts.
 * `consume` counts one issued token in every bucket in one atomic step; when an enforced bucket is already full it
 * counts nothing and answers `admitted: false`. `counts` are the buckets' counts afterwards (or as they stand).
 */
export interface QuotaCounterStore {
  consume(buckets: readonly QuotaBucket[]): Promise<{ admitted: boolean; counts: number[] }>;
}

const HOUR = 3_600_000;
const DAY = 86_400_000;

export type QuotaSubject = 'client' | 'organization';
/** The response headers Auth0 sends: `b=per_hour;q=10;r=7;t=3540,b=per_day;q=50;r=47;t=43200`. */
export const QUOTA_HEADERS: Record<QuotaSubject, string> = { client: 'auth0-client-quota-limit', organization: 'auth0-organization-quota-limit' };

interface Planned { subject: QuotaSubject; period: QuotaPeriod; bucket: QuotaBucket }

export interface QuotaOutcome {
  /** Auth0's quota headers for the subjects that have a quota. */
  headers: Record<string, string>;
  /** Quotas exceeded without enforcement (warn-only): issued, to be logged. */
  warnings: Array<{ subject: QuotaSubject; id: string; period: QuotaPeriod; limit: number; count: number }>;
}

/**
 * Auth0's fine-grained M2M token quotas: `token_quota.client_credentials` of the client and, for a token issued for
 * an organization, of the organization (each falling back to the tenant default). Hourly windows reset on the UTC
 * hour, daily ones at 00:00 UTC. Only tokens issued count; a refused request counts nothing. With `enforce: false`
 * the token is issued and the excess reported; the headers are sent either way.
 */
export class TokenQuotas {
  /** The last counts seen per bucket key, for the headers of a reused token (no storage read on that path). */
  private last = new Map<string, number>();

  /** `defaults` answers the tenant defaults as they stand (the tenant settings, cached: no storage read once warm). */
  constructor(private readonly deps: { counters: QuotaCounterStore; clock: Clock; defaults: () => Promise<TokenQuotaDefaults> }) {}

  /** Counts one token to be issued; throws 429 `too_many_requests` when an enforced quota is exhausted. */
  async consume(client: Client, org: Organization | undefined): Promise<QuotaOutcome | undefined> {
    const defaults = await this.deps.defaults();
    const now = this.deps.clock.now();
    const plan = this.plan(client, org, defaults, now);
    if (plan.length === 0) return undefined;
    const { admitted, counts } = await this.deps.counters.consume(plan.map((p) => p.bucket));
    plan.forEach((p, i) => this.remember(p.bucket.key, counts[i]));
    const headers = this.headers(plan, counts, now);
    if (!admitted) {
      const full = plan.filter((p, i) => p.bucket.enforce && counts[i] >= p.bucket.limit);
      const first = full[0] ?? plan[0];
      const resetAt = Math.max(...(full.length > 0 ? full : plan).map((p) => p.bucket.expiresAt));
      const retryAfter = Math.max(1, Math.ceil((resetAt - now) / 1000));
      throw new TooManyRequestsOAuth(`Too Many Requests: the ${first.subject} token quota (${first.period}) has been exceeded.`, retryAfter, headers);
    }
    const warnings = plan.flatMap((p, i) => counts[i] > p.bucket.limit
      ? [{ subject: p.subject, id: p.subject === 'client' ? client.client_id : org!.id, period: p.period, limit: p.bucket.limit, count: counts[i] }]
      : []);
    return { headers, warnings };
  }

  /** The headers as last counted here (a reused token is not counted: nothing is issued). */
  async peek(client: Client, org: Organization | undefined): Promise<Record<string, string> | undefined> {
    const defaults = await this.deps.defaults();
    const now = this.deps.clock.now();
    const plan = this.plan(client, org, defaults, now);
    if (plan.length === 0) return undefined;
    return this.headers(plan, plan.map((p) => this.last.get(p.bucket.key) ?? 0), now);
  }

  private remember(key: string, count: number): void {
    if (this.last.size >= 50_000) this.last.clear();
    this.last.set(key, count);
  }

  private plan(client: Client, org: Organization | undefined, defaults: TokenQuotaDefaults, now: number): Planned[] {
    const out: Planned[] = [];
    const add = (subject: QuotaSubject, id: string, q: ClientCredentialsQuota | undefined) => {
      if (!q) return;
      const enforce = q.enforce ?? true;
      for (const [period, size] of [['per_hour', HOUR], ['per_day', DAY]] as const) {
        const limit = q[period];
        if (limit === undefined) continue;
        const windowStart = Math.floor(now / size) * size;
        out.push({ subject, period, bucket: { key: `${subject}:${id}:${period}:${windowStart}`, windowStart, expiresAt: windowStart + size, limit, enforce } });
      }
    };
    add('client', client.client_id, client.token_quota?.client_credentials ?? defaults.clients);
    if (org) add('organization', org.id, org.token_quota?.client_credentials ?? defaults.organizations);
    return out;
  }

  private headers(plan: Planned[], counts: number[], now: number): Record<string, string> {
    const parts: Partial<Record<QuotaSubject, string[]>> = {};
    plan.forEach((p, i) => {
      const remaining = Math.max(0, p.bucket.limit - counts[i]);
      const reset = Math.max(0, Math.ceil((p.bucket.expiresAt - now) / 1000));
      (parts[p.subject] ??= []).push(`b=${p.period};q=${p.bucket.limit};r=${remaining};t=${reset}`);
    });
    const out: Record<string, string> = {};
    for (const [subject, list] of Object.entries(parts) as Array<[QuotaSubject, string[]]>) out[QUOTA_HEADERS[subject]] = list.join(',');
    return out;
  }
}
