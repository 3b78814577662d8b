/** The Management API error envelope ({statusCode, error, message, errorCode}) or an OAuth error ({error, error_description}). */
export class ApiError extends Error {
  constructor(readonly statusCode: number, message: string, readonly errorCode?: string, readonly error?: string) { super(message); }

  /** The whole property path a validation message names (`… on property default_token_quota.clients.client_credentials.per_hour (…).`), if any. */
  get path(): string | undefined {
    return / on property ([A-Za-z0-9_.[\]]+?)\.?(?: \(|$)/.exec(this.message)?.[1];
  }

  /** The top-level body field a validation message names (`… on property token_lifetime_for_web.`), if any. */
  get field(): string | undefined {
    const m = / on property ([A-Za-z0-9_]+)/.exec(this.message) ?? /^Payload validation error: '[^']*?\b(identifier|name|signing_secret|scopes)\b/.exec(this.message);
    return m?.[1];
  }
}

/** The signed-in user's access token; `fresh` asks the server for a new one instead of the cached one. */
export type TokenGetter = (fresh?: boolean) => Promise<string>;

export interface Api {
  get<T = any>(path: string): Promise<T>;
  post<T = any>(path: string, body?: unknown): Promise<T>;
  patch<T = any>(path: string, body: unknown): Promise<T>;
  put<T = any>(path: string, body?: unknown): Promise<T>;
  del<T = any>(path: string, body?: unknown): Promise<T>;
}

async function parse(res: Response): Promise<any> {
  const text = await res.text();
  if (!text) return undefined;
  try { return JSON.parse(text); } catch { return text; }
}

/**
 * Calls Tessera's public Management API (/api/v2) with the signed-in user's access token. A 401 (the token's signing
 * key was revoked, or it expired early) is retried once with a fresh token from the hosted login's session: a 401 is
 * answered before the route runs, so nothing was done twice.
 */
export function managementApi(token: TokenGetter): Api {
  const call = async (method: string, path: string, body?: unknown) => {
    const send = async (fresh: boolean) => {
      const headers: Record<string, string> = { authorization: `Bearer ${await token(fresh)}` };
      if (body !== undefined) headers['content-type'] = 'application/json';
      return fetch(`/api/v2${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    };
    let res = await send(false);
    if (res.status === 401) res = await send(true);
    const data = await parse(res);
    if (!res.ok) {
      throw new ApiError(res.status, typeof data === 'object' && data?.message ? data.message : `${res.status} ${res.statusText}`, data?.errorCode, data?.error);
    }
    return data;
  };
  return {
    get: (p) => call('GET', p), post: (p, b) => call('POST', p, b ?? {}), patch: (p, b) => call('PATCH', p, b),
    put: (p, b) => call('PUT', p, b), del: (p, b) => call('DELETE', p, b),
  };
}

/** POST /oauth/token (client credentials), as the Test tab does: answers the token response or Auth0's OAuth error. */
export async function clientCredentialsToken(params: Record<string, string>): Promise<{ ok: true; body: any } | { ok: false; status: number; body: any }> {
  const res = await fetch('/oauth/token', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(params) });
  const body = await parse(res);
  return res.ok ? { ok: true, body } : { ok: false, status: res.status, body };
}

/** A number field as typed: a whole number is sent as a number, anything else as typed (the server says what is wrong). */
export const numberOrText = (s: string): unknown => (/^-?\d+$/.test(s.trim()) ? Number(s) : s);

/** Decodes a JWS's header and payload for display (verification is the API's job, with the JWKS). */
export function decodeJwt(token: string): { header: unknown; payload: Record<string, unknown> } | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  const json = (s: string) => JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0))));
  try { return { header: json(parts[0]), payload: json(parts[1]) }; } catch { return undefined; }
}

/** A random secret (base64url, 48 bytes) for HS256 signing secrets. */
export function randomSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(48));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}
