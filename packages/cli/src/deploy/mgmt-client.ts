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

  constructor(public target: Target, private readonly fetchImpl: typeof fetch = fetch) {}

  private async accessToken(): Promise<string> {
    if (this.token && this.token.expiresAt > Date.now() + 10_000) return this.token.value;
    let audience = this.target.audience;
    let { res, json } = await this.requestToken(audience);
    let issuerAudience: string | undefined;
    if (!res.ok && res.status !== 401) {
      // the default audience (https://{domain}/api/v2/) is not this server's when its public URL names another host
      // (--domain 127.0.0.1:3000 against issuer http://localhost:3000/): its discovery says which one it is
      issuerAudience = await this.discoveredAudience();
      if (issuerAudience && issuerAudience !== audience && !this.target.audienceGiven) {
        audience = issuerAudience;
        ({ res, json } = await this.requestToken(audience));
        if (res.ok) {
          process.stderr.write(`tessera: note: ${this.target.origin} has issuer ${audience.replace(/api\/v2\/$/, '')}: using the Management API audience ${audience} (pass --audience, or a --domain matching the issuer, to say so)\n`);
          this.target = { ...this.target, audience };
        }
      }
    }
    if (!res.ok || typeof (json as Json)?.access_token !== 'string') {
      throw new DeployError(`could not get a Management API token from ${this.target.origin}/oauth/token (audience ${audience}): ${res.status} ${describe(json)}${issuerAudience && issuerAudience !== audience ? this.passInstead(issuerAudience) : ''}`);
    }
    const j = json as { access_token: string; expires_in?: number };
    this.token = { value: j.access_token, expiresAt: Date.now() + (j.expires_in ?? 3600) * 1000 };
    return j.access_token;
  }

  /** Which flags name the target as its discovery does (said when the given audience was refused). */
  private passInstead(issuerAudience: string): string {
    const issuer = new URL(issuerAudience);
    const domain = issuer.host !== this.target.domain ? ` (or --domain ${issuer.host}${issuer.protocol === 'http:' ? ' --insecure-http' : ''} without --audience)` : '';
    return `\nthe server's issuer is ${issuer.origin}/: pass --audience ${issuerAudience}${domain}`;
  }

  private async requestToken(audience: string): Promise<{ res: Response; json: unknown }> {
    const body = new URLSearchParams({ grant_type: 'client_credentials', client_id: this.target.clientId, client_secret: this.target.clientSecret, audience });
    const res = await this.send(`${this.target.origin}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
    return { res, json: await parse(res) };
  }

  /** `${issuer}api/v2/` from the target's OpenID discovery document, when it has one. */
  private async discoveredAudience(): Promise<string | undefined> {
    try {
      const res = await this.send(`${this.target.origin}/.well-known/openid-configuration`, { headers: { accept: 'application/json' } });
      const issuer = res.ok ? ((await parse(res)) as Json)?.issuer : undefined;
      return typeof issuer === 'string' && /^https?:\/\/[^/]+\/$/.test(issuer) ? `${issuer}api/v2/` : undefined;
    } catch {
      return undefined;
    }
  }

  private async send(url: string, init: RequestInit): Promise<Response> {
    for (let attempt = 0; ; attempt++) {
      let res: Response;
      try {
        res = await this.fetchImpl(url, init);
      } catch (e) {
        const cause = (e as { cause?: { code?: string; message?: string } }).cause;
        if (url.startsWith('https:') && /WRONG_VERSION_NUMBER|PACKET_LENGTH_TOO_LONG|HTTP_REQUEST/i.test(`${cause?.code} ${cause?.message}`)) {
          throw new DeployError(`cannot reach ${new URL(url).origin}: the server speaks plain HTTP: add --insecure-http (loopback hosts only) or serve TLS (TESSERA_TLS_CERT/TESSERA_TLS_KEY)`);
        }
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
