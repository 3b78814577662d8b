import * as checks from './checks';
import { certificateGetter } from './certificate';
import { InvalidRequestError } from './errors';
import { isValidHost, RequestVerifier } from './request';
import type { AuthOptions, AuthResult, ClientCertificate } from './options';

declare module 'fastify' {
  interface FastifyRequest { auth?: AuthResult }
}

/** The parts of Fastify's request and reply the plugin uses (Fastify 4 and 5). */
interface FastifyRequestLike {
  method: string; url: string; protocol: 'http' | 'https'; host?: string; hostname: string;
  headers: Record<string, string | string[] | undefined>; query: unknown; raw: import('node:http').IncomingMessage;
  auth?: AuthResult;
}
interface FastifyReplyLike { header(name: string, value: string): unknown }
interface FastifyLike {
  decorateRequest(name: string, value: unknown): unknown;
  addHook(name: 'onRequest', fn: (req: any, reply: any) => Promise<void>): unknown;
}

export interface FastifyAuthOptions extends AuthOptions { getCertificate?: (req: any) => ClientCertificate | undefined }

/**
 * Fastify plugin: verifies every request of the scope it is registered in (an `onRequest` hook, before the body
 * is read, so `access_token` in a form body is not looked at; header and query are) and sets `request.auth`.
 * Errors are thrown with `statusCode` and `headers`, which Fastify's error handling applies.
 *
 *   app.register(fastifyAuth, { issuerBaseURL, audience })
 *   app.get('/orders', { preHandler: requiredScopes('read:orders') }, handler)
 */
export async function fastifyAuth(app: FastifyLike, opts: FastifyAuthOptions): Promise<void> {
  const { getCertificate: custom, ...options } = opts as FastifyAuthOptions & { prefix?: string; logLevel?: string };
  delete (options as { prefix?: string }).prefix;
  delete (options as { logLevel?: string }).logLevel;
  const verifier = new RequestVerifier(options);
  const fromSocket = certificateGetter(options.mtls);
  const getCertificate = custom ?? ((req: FastifyRequestLike) => fromSocket(req.raw));
  const optional = options.authRequired === false;
  app.decorateRequest('auth', undefined);
  app.addHook('onRequest', async (req: FastifyRequestLike, reply: FastifyReplyLike) => {
    const host = req.host ?? req.hostname;
    if (!isValidHost(host)) {
      if (optional) return;
      throw new InvalidRequestError('Invalid Host header');
    }
    let clientCertificate: ClientCertificate | undefined;
    try { clientCertificate = getCertificate(req); } catch { clientCertificate = undefined; }
    try {
      req.auth = await verifier.verify({ method: req.method, url: `${req.protocol}://${host}${req.url}`, headers: req.headers, query: req.query as Record<string, unknown>, clientCertificate });
      if (verifier.nonce) reply.header('DPoP-Nonce', verifier.nonce.current());
    } catch (e) {
      if (!optional) throw e;
    }
  });
}
// Registered in the parent scope (what fastify-plugin does), so the hook covers the routes beside it.
(fastifyAuth as unknown as Record<symbol, boolean>)[Symbol.for('skip-override')] = true;
(fastifyAuth as unknown as Record<symbol, string>)[Symbol.for('fastify.display-name')] = '@tessera/verify';

type Hook = (req: FastifyRequestLike) => Promise<void>;
const toHook = (fn: checks.ClaimChecker<any>): Hook => async (req) => { fn(req.auth?.payload, req); };

export const claimCheck = (...a: Parameters<typeof checks.claimCheck>): Hook => toHook(checks.claimCheck(...a));
export const claimEquals = (...a: Parameters<typeof checks.claimEquals>): Hook => toHook(checks.claimEquals(...a));
export const claimIncludes = (...a: Parameters<typeof checks.claimIncludes>): Hook => toHook(checks.claimIncludes(...a));
export const requiredScopes = (...a: Parameters<typeof checks.requiredScopes>): Hook => toHook(checks.requiredScopes(...a));
export const scopeIncludesAny = (...a: Parameters<typeof checks.scopeIncludesAny>): Hook => toHook(checks.scopeIncludesAny(...a));
export const requiredPermissions = (...a: Parameters<typeof checks.requiredPermissions>): Hook => toHook(checks.requiredPermissions(...a));
export const permissionsIncludeAny = (...a: Parameters<typeof checks.permissionsIncludeAny>): Hook => toHook(checks.permissionsIncludeAny(...a));
export const requiredOrganization = (expected: string | string[] | ((req: any) => string | string[] | undefined)): Hook => toHook(checks.requiredOrganization(expected));
export { InsufficientScopeError, InvalidProofError, InvalidRequestError, InvalidTokenError, UnauthorizedError, UseDpopNonceError } from './errors';
export type { AuthResult } from './options';
