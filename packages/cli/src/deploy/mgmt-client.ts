import type { Target } from './target';
import { DeployError, type Json } from './types';

/** A failed Management API call, carrying Auth0's error envelope. */
export class ApiCallError extends DeployError {
  constructor(readonly method: string, readonly path: string, readonly status: number, readonly body: unknown) {
    super(`${method} ${path} failed: ${status} ${describe(body)}`);
  }
}

function describe(body: unknown): string {
  if (body && typeof body === 'object') {
    const b = body as Json;
    if (typeof b.message === 'string') return `${b.error ?? ''}: ${b.message}${b.errorCode ? ` (${b.errorCode})` : ''}`.replace(/^: /, '');
    if (typeof b.error === 'string') return `${b.error}${b.error_description ? `: ${b.error_description}` : ''}`;
  }
  return typeof body === 'string' && body ? body.slice(0, 200) : '(no body)';
}

const RETRIES = 3;

/**
 * The few Management API calls deployment needs, over fetch, with Auth0's client-credentials token flow
 * (`POST https://{domain}/oauth/token`, form-encoded, secret in the body, as the Node SDKs do).
 */
export class ManagementClient {
  private token?: { value: string; expiresAt: number };

  constructor(readonly target: Target, private readonly fetchImpl: typeof fetch = fetch) {}

  private async accessToken(): Promise<string> {
    if (this.token && this.token.expiresAt > Date.now() + 10_000) return this.token.value;
    const body = new URLSearchParams({ grant_type: 'client_credentials', client_id: this.target.clientId, client_secret: this.target.clientSecret, audience: this.target.audience });
    const res = await this.send(`${this.target.origin}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
    const json = await parse(res);
    if (!res.ok || typeof (json as Json)?.access_token !== 'string') {
      throw new DeployError(`could not get a Management API token from ${this.target.origin}/oauth/token (audience ${this.target.audience}): ${res.status} ${describe(json)}`);
    }
    const j = json as { access_token: string; expires_in?: number };
    this.token = { value: j.access_token, expiresAt: Date.now() + (j.expires_in ?? 3600) * 1000 };
    return j.access_token;
  }

  private async send(url: string, init: RequestInit): Promise<Response> {
    for (let attempt = 0; ; attempt++) {
      let res: Response;
      try {
        res = await this.fetchImpl(url, init);
      } catch (e) {
        const cause = (e as { cause?: { code?: string; message?: string } }).cause;
        throw new DeployError(`cannot reach ${new URL(url).origin}: ${cause?.code ?? ''} ${cause?.message ?? (e as Error).message}`.replace(/\s+/g, ' ').trim());
      }
      if (res.status !== 429 || attempt >= RETRIES) return res;
      const wait = Math.min(Number(res.headers.get('retry-after')) || 2 ** attempt, 10);
      await new Promise((r) => setTimeout(r, wait * 1000));
    }
  }

  /** One call to `/api/v2{path}`; resolves to the parsed body, throws ApiCallError on a non-2xx answer. */
  async request<T = Json>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { authorization: `Bearer ${await this.accessToken()}`, accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await this.send(`${this.target.origin}/api/v2${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const json = await parse(res);
    if (!res.ok) throw new ApiCallError(method, path, res.status, json);
    return json as T;
  }

  /** Offset paging (`page`, `per_page=100`, `include_totals=true`) until `total` items or an empty page. */
  async listAll(path: string, collection: string, query: Record<string, string> = {}): Promise<Json[]> {
    const items: Json[] = [];
    for (let page = 0; ; page++) {
      const qs = new URLSearchParams({ ...query, page: String(page), per_page: '100', include_totals: 'true' });
      const body = await this.request<Json | Json[]>('GET', `${path}?${qs}`);
      const got = Array.isArray(body) ? body : ((body[collection] as Json[] | undefined) ?? []);
      items.push(...got);
      const total = Array.isArray(body) ? undefined : (body.total as number | undefined);
      if (got.length === 0 || (total !== undefined && items.length >= total) || (total === undefined && got.length < 100)) return items;
    }
  }

  /** Checkpoint paging (`take=100`, follow `next`), what Auth0 offers for client grants. */
  async listCheckpoint(path: string, collection: string): Promise<Json[]> {
    const items: Json[] = [];
    let from: string | undefined;
    do {
      const qs = new URLSearchParams({ take: '100', ...(from && { from }) });
      const body = await this.request<Json>('GET', `${path}?${qs}`);
      items.push(...((body[collection] as Json[] | undefined) ?? []));
      from = typeof body.next === 'string' && body.next ? body.next : undefined;
    } while (from);
    return items;
  }
}

async function parse(res: Response): Promise<unknown> {
  const text = await res.text();
  if (!text) return undefined;
  try { return JSON.parse(text); } catch { return text; }
}

export const enc = encodeURIComponent;
