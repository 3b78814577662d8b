import { InvalidClient, originOf, type Client } from '@tessera/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Services } from '../services';

/** Request headers a browser application may send to the OAuth endpoints (auth0-spa-js sends Auth0-Client). */
const ALLOWED_HEADERS = 'Authorization, Content-Type, DPoP, Auth0-Client';
/** Response headers a browser application may read. */
const EXPOSED_HEADERS = 'DPoP-Nonce, WWW-Authenticate';
const PREFLIGHT_MAX_AGE = '86400';

/**
 * Whether a client lets a page at `origin` call the token, revocation and userinfo endpoints: the origin is in its
 * `web_origins` (Auth0's "Allowed Web Origins") or `allowed_origins` ("Allowed Origins (CORS)"), compared as origins.
 */
export function originAllowed(client: Client, origin: string): boolean {
  for (const list of [client.web_origins, client.allowed_origins]) {
    for (const o of list ?? []) if (originOf(o) === origin) return true;
  }
  return false;
}

/** The Origin header of a cross-origin request (undefined when absent, or when it is Tessera's own origin). */
export function crossOrigin(req: FastifyRequest, selfOrigin: string): string | undefined {
  const origin = req.headers.origin;
  return typeof origin === 'string' && origin !== selfOrigin ? origin : undefined;
}

/** Lets the page at `origin` read this response. Never with credentials: these endpoints take no cookies. */
export function allowOrigin(reply: FastifyReply, origin: string): void {
  reply.header('access-control-allow-origin', origin).header('access-control-expose-headers', EXPOSED_HEADERS).header('vary', 'Origin');
}

/**
 * A browser calling /oauth/token or /oauth/revoke from another origin: the client named by the request must list
 * that origin, otherwise the request is refused like a failed client authentication (Auth0: 401 access_denied
 * "Unauthorized") and carries no CORS headers. A request whose client cannot be told (no client_id) gets no CORS
 * headers and is handled as usual; the browser withholds the answer from the page.
 */
export async function checkBrowserOrigin(req: FastifyRequest, reply: FastifyReply, services: Services, selfOrigin: string, clientId: string | undefined): Promise<void> {
  const origin = crossOrigin(req, selfOrigin);
  if (origin === undefined || clientId === undefined) return;
  const client = (await services.directory.client(clientId))?.client;
  if (!client) return;
  if (!originAllowed(client, origin)) throw new InvalidClient(`origin ${origin} is not in web_origins or allowed_origins of ${clientId}`);
  allowOrigin(reply, origin);
}

/**
 * CORS preflights (OPTIONS) for the endpoints a browser application calls. The preflight carries no client_id, so it
 * is answered for any origin; the actual request is then checked against the client's origins. The discovery
 * documents and the key set are public: any origin may read them (`*`, never with credentials).
 */
export async function corsRoutes(app: FastifyInstance): Promise<void> {
  const preflight = (methods: string) => async (req: FastifyRequest, reply: FastifyReply) => {
    const origin = req.headers.origin;
    reply.code(204).header('allow', `${methods}, OPTIONS`);
    if (typeof origin === 'string' && origin !== 'null') {
      reply.header('access-control-allow-origin', origin).header('access-control-allow-methods', methods)
        .header('access-control-allow-headers', ALLOWED_HEADERS).header('access-control-max-age', PREFLIGHT_MAX_AGE).header('vary', 'Origin');
    }
    return reply.send();
  };
  const hide = { schema: { hide: true } };
  app.options('/oauth/token', hide, preflight('POST'));
  app.options('/oauth/revoke', hide, preflight('POST'));
  app.options('/userinfo', hide, preflight('GET, POST'));
  app.options('/.well-known/*', hide, async (_req, reply) => reply.code(204).header('allow', 'GET, OPTIONS')
    .header('access-control-allow-origin', '*').header('access-control-allow-methods', 'GET')
    .header('access-control-max-age', PREFLIGHT_MAX_AGE).send());
}
