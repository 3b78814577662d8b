import type { IncomingMessage } from 'node:http';
import { InvalidRequestError } from './errors';
import { certificateGetter } from './certificate';
import { isValidHost, RequestVerifier, type RequestLike } from './request';
import type { AuthOptions, AuthResult, ClientCertificate } from './options';

/** A WHATWG `Request` (Hono, undici, Deno-style handlers) or anything with `method`, `url` and a `Headers` object. */
interface WebRequestLike { method: string; url: string; headers: { get(name: string): string | null; forEach(cb: (v: string, k: string) => void): void } }

export interface Verifier {
  /**
   * Verifies the access token of a request: a `RequestLike`, a Node `IncomingMessage` (its URL is rebuilt from
   * the Host header and the socket; the TLS client certificate is read from the socket) or a WHATWG `Request`.
   * Resolves to `{ header, payload, token }`; rejects with the error classes (status, code, headers).
   */
  verify(request: RequestLike | IncomingMessage | WebRequestLike, extra?: { clientCertificate?: ClientCertificate }): Promise<AuthResult>;
  /** Headers to add to a successful response (`DPoP-Nonce` when nonces are on). */
  successHeaders(): Record<string, string>;
}

const isWeb = (r: unknown): r is WebRequestLike => typeof (r as WebRequestLike).headers?.get === 'function';
const isNode = (r: unknown): r is IncomingMessage => typeof (r as IncomingMessage).socket === 'object' && (r as IncomingMessage).socket !== null && !isWeb(r);

/** The framework-free verifier: one per API, built once, used for every request. */
export function createVerifier(opts: AuthOptions): Verifier {
  const rv = new RequestVerifier(opts);
  const nodeCertificate = certificateGetter(opts.mtls);
  return {
    verify(request, extra = {}) {
      let req: RequestLike;
      if (isWeb(request)) {
        const headers: Record<string, string> = {};
        request.headers.forEach((v, k) => { headers[k.toLowerCase()] = v; });
        const u = new URL(request.url);
        const query: Record<string, string> = {};
        u.searchParams.forEach((v, k) => { query[k] = v; });
        req = { method: request.method, url: request.url, headers, query, clientCertificate: extra.clientCertificate };
      } else if (isNode(request)) {
        const host = request.headers.host;
        if (!isValidHost(host)) return Promise.reject(new InvalidRequestError('Invalid Host header'));
        const path = request.url ?? '/';
        const proto = (request.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http';
        const qi = path.indexOf('?');
        const query = qi === -1 ? undefined : Object.fromEntries(new URLSearchParams(path.slice(qi + 1)));
        req = { method: request.method ?? '', url: `${proto}://${host}${path}`, headers: request.headers, query, clientCertificate: extra.clientCertificate ?? nodeCertificate(request) };
      } else {
        req = { ...(request as RequestLike) };
        const h: Record<string, string | string[] | undefined> = {};
        for (const [k, v] of Object.entries(req.headers ?? {})) h[k.toLowerCase()] = v;
        req.headers = h;
        if (extra.clientCertificate !== undefined) req.clientCertificate = extra.clientCertificate;
      }
      return rv.verify(req);
    },
    successHeaders: (): Record<string, string> => (rv.nonce ? { 'DPoP-Nonce': rv.nonce.current() } : {}),
  };
}
