import type { IncomingMessage } from 'node:http';
import { InvalidRequestError } from './errors';
import { certificateGetter } from './certificate';
import * as checks from './checks';
import { isValidHost, RequestVerifier } from './request';
import type { AuthOptions, AuthResult, ClientCertificate } from './options';

/** The part of Express's request the middleware reads (Express 4 and 5). */
interface ExpressRequest extends IncomingMessage {
  protocol: string; originalUrl?: string; query: Record<string, unknown>; body?: unknown;
  app?: { get?(name: string): unknown }; get(name: string): string | undefined; is(type: string): string | false | null;
  auth?: AuthResult;
}
interface ExpressResponse { setHeader(name: string, value: string): unknown }
type Next = (err?: unknown) => void;
export type Handler = (req: any, res: any, next: Next) => void;
export type GetCertificate = (req: any) => ClientCertificate | undefined;

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request { auth?: AuthResult }
  }
}

/** The request's host as express-oauth2-jwt-bearer finds it: `X-Forwarded-Host` only from a trusted proxy. */
function resolveHost(req: ExpressRequest): string {
  const trust = req.app?.get?.('trust proxy fn') as ((addr: string | undefined, i: number) => boolean) | undefined;
  let host = req.get('X-Forwarded-Host');
  if (!host || !(typeof trust === 'function' && trust(req.socket?.remoteAddress, 0))) host = req.get('Host');
  else {
    const i = host.indexOf(',');
    if (i !== -1) host = host.substring(0, i).trimEnd();
  }
  if (!isValidHost(host)) throw new InvalidRequestError('Invalid Host header');
  return host;
}

/**
 * Express middleware with express-oauth2-jwt-bearer's options and behaviour: `req.auth = { header, payload, token }`
 * on success, `next(err)` with its error classes otherwise (or `next()` with `authRequired: false`).
 */
export function auth(opts: AuthOptions & { getCertificate?: GetCertificate } = {}): Handler {
  const verifier = new RequestVerifier(opts);
  const getCertificate: GetCertificate = opts.getCertificate ?? certificateGetter(opts.mtls);
  const optional = opts.authRequired === false;
  return (req: ExpressRequest, res: ExpressResponse, next: Next) => {
    let url: string;
    const path = req.originalUrl ?? req.url ?? '';
    try {
      url = `${req.protocol}://${resolveHost(req)}${path}`;
    } catch (e) {
      return optional ? next() : next(e);
    }
    let clientCertificate: ClientCertificate | undefined;
    try { clientCertificate = getCertificate(req); } catch { clientCertificate = undefined; }
    const body = req.body as { access_token?: unknown } | undefined;
    const isUrlEncoded = typeof body?.access_token === 'string' && !!req.is('urlencoded');
    // Express 5 parses the query string at every read of req.query: read it only when there is one
    const query = path.includes('?') ? req.query : undefined;
    verifier.verify({ method: req.method as string, url, headers: req.headers, query, body, isUrlEncoded, clientCertificate }).then((result) => {
      req.auth = result;
      if (verifier.nonce) res.setHeader('DPoP-Nonce', verifier.nonce.current());
      next();
    }, (e) => {
      if (optional) next();
      else next(e);
    });
  };
}

const toHandler = (fn: checks.ClaimChecker<any>): Handler => (req, _res, next) => {
  try {
    fn(req.auth?.payload, req);
    next();
  } catch (e) {
    next(e);
  }
};

export const claimCheck = (...a: Parameters<typeof checks.claimCheck>): Handler => toHandler(checks.claimCheck(...a));
export const claimEquals = (...a: Parameters<typeof checks.claimEquals>): Handler => toHandler(checks.claimEquals(...a));
export const claimIncludes = (...a: Parameters<typeof checks.claimIncludes>): Handler => toHandler(checks.claimIncludes(...a));
export const requiredScopes = (...a: Parameters<typeof checks.requiredScopes>): Handler => toHandler(checks.requiredScopes(...a));
export const scopeIncludesAny = (...a: Parameters<typeof checks.scopeIncludesAny>): Handler => toHandler(checks.scopeIncludesAny(...a));
export const requiredPermissions = (...a: Parameters<typeof checks.requiredPermissions>): Handler => toHandler(checks.requiredPermissions(...a));
export const permissionsIncludeAny = (...a: Parameters<typeof checks.permissionsIncludeAny>): Handler => toHandler(checks.permissionsIncludeAny(...a));
export const requiredOrganization = (expected: string | string[] | ((req: any) => string | string[] | undefined)): Handler => toHandler(checks.requiredOrganization(expected));
