import type { Tessera } from '@tessera/server';

/**
 * A `fetch` answered by the app of this process (Fastify's inject): development seeding calls the real Management
 * API and token endpoint, with their validation, scopes and errors, without a socket, a port or the local CA.
 */
export function injectFetch(app: Tessera['app']): typeof fetch {
  return (async (input: string | URL | Request, init: RequestInit = {}) => {
    const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
    const headers: Record<string, string> = {};
    new Headers(init.headers).forEach((value, key) => { headers[key] = value; });
    const body = init.body === undefined || init.body === null ? undefined : String(init.body); // strings and URLSearchParams only
    const res = await app.inject({ method: (init.method ?? 'GET') as 'GET', url: url.pathname + url.search, headers, payload: body, remoteAddress: '127.0.0.1' });
    const out = new Headers();
    for (const [k, v] of Object.entries(res.headers)) {
      if (v !== undefined) for (const one of Array.isArray(v) ? v : [v]) out.append(k, String(one));
    }
    const empty = res.statusCode === 204 || res.statusCode === 304;
    return new Response(empty ? null : new Uint8Array(res.rawPayload), { status: res.statusCode, headers: out });
  }) as typeof fetch;
}
