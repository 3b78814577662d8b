import { strict as assert } from 'node:assert';
import { InvalidProofError, InvalidRequestError, InvalidTokenError, UnauthorizedError } from './errors';
import { ASYMMETRIC_ALGS, knownAlg } from './jws';
import { createJwtVerifier } from './jwt';
import { checkProof, MemoryReplayStore } from './dpop';
import { checkCertificateBinding } from './mtls';
import type { AuthOptions, AuthResult, ClientCertificate, JWTPayload, NonceSource, ReplayStore } from './options';

type HeaderBag = Record<string, string | string[] | undefined>;

/** What the verifier needs from an HTTP request; each framework adapter fills it. */
export interface RequestLike {
  method: string;
  /** The absolute URL the client addressed (scheme, host, path), for DPoP `htu`. */
  url: string;
  /** Lower-case header names (Node's `IncomingMessage.headers` already are). */
  headers: HeaderBag;
  query?: Record<string, unknown>;
  body?: unknown;
  isUrlEncoded?: boolean;
  clientCertificate?: ClientCertificate;
}

const UNRESERVED = /[A-Za-z0-9\-._~]/;
const HOST_RE = /^(?:[A-Za-z0-9._~-]+|\[[0-9A-Fa-f:.]+\])(?::(?:[0-9]{1,4}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]))?$/;
const PROTOCOL_IN_PATH_RE = /^\/[a-z][a-z0-9+.-]*:\/\//i;
const TOKEN_RE = /^(Bearer|DPoP) (.+)$/i;

export const isValidHost = (host: unknown): host is string => typeof host === 'string' && host.length > 0 && HOST_RE.test(host);

/** RFC 9449 §4.3: scheme, host and path, without query and fragment, percent-encodings normalised (RFC 3986 §6.2.2). */
function normalizeUrl(input: string, source: 'request' | 'proof'): string {
  const fail = (m: string) => (source === 'request' ? new InvalidRequestError(m) : new InvalidProofError(m.replace('request URL', 'htu claim URL')));
  let url: URL;
  try { url = new URL(input); } catch { throw fail('Invalid request URL'); }
  if (!isValidHost(url.host)) throw fail('Invalid request URL: Host contains illegal characters or format');
  if (source === 'request') {
    if (url.pathname.startsWith('//')) throw fail('Invalid request URL: Path must not start with "//"');
    if (PROTOCOL_IN_PATH_RE.test(url.pathname)) throw fail('Invalid request URL: Path must not contain an absolute URL');
  }
  const path = url.pathname.replace(/%[0-9a-fA-F]{2}/g, (m) => {
    const ch = String.fromCharCode(parseInt(m.slice(1), 16));
    return UNRESERVED.test(ch) ? ch : `%${m.slice(1).toUpperCase()}`;
  });
  return url.origin + path;
}
const normalizeHtu = (htu: string) => normalizeUrl(htu, 'proof');

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isDPoPBound = (c: JWTPayload) => isObject(c.cnf) && 'jkt' in c.cnf;
const isMtlsBound = (c: JWTPayload) => isObject(c.cnf) && 'x5t#S256' in c.cnf;

function assertOptions(o: AuthOptions): void {
  const { dpop, mtls } = o;
  if (dpop !== undefined) {
    assert(isObject(dpop), 'Invalid DPoP configuration: "dpop" must be an object');
    for (const f of ['enabled', 'required'] as const) if (dpop[f] !== undefined) assert(typeof dpop[f] === 'boolean', `Invalid DPoP option: "${f}" must be a boolean`);
    for (const f of ['iatOffset', 'iatLeeway'] as const) {
      if (dpop[f] !== undefined) {
        assert(typeof dpop[f] === 'number', `Invalid DPoP option: "${f}" must be a number`);
        assert((dpop[f] as number) >= 0, `Invalid DPoP option: "${f}" must be a non-negative number`);
      }
    }
    assert(!(dpop.enabled === false && dpop.required === true), 'Invalid DPoP configuration: cannot set "required" to true when "enabled" is false');
    if (dpop.algorithms !== undefined) assert(Array.isArray(dpop.algorithms) && dpop.algorithms.length > 0 && dpop.algorithms.every((a) => knownAlg(a) && ASYMMETRIC_ALGS.includes(a)), 'Invalid DPoP option: "algorithms" must list asymmetric JWS algorithms');
  }
  if (mtls !== undefined) {
    assert(isObject(mtls), 'Invalid mTLS configuration: "mtls" must be an object');
    for (const f of ['enabled', 'required'] as const) if (mtls[f] !== undefined) assert(typeof mtls[f] === 'boolean', `Invalid mTLS option: "${f}" must be a boolean`);
    assert(!(mtls.required === true && mtls.enabled === false), 'Invalid mTLS configuration: "required" can only be set to true when "enabled" is also true');
    assert(!mtls.proxyHeader || (Array.isArray(mtls.trustedProxies) && mtls.trustedProxies.length > 0), 'Invalid mTLS configuration: "proxyHeader" needs "trustedProxies"');
  }
}

/**
 * The request-level checks of express-oauth2-jwt-bearer 1.10 (where the token may be, which scheme, DPoP or
 * certificate binding, the RFC 6750 / RFC 9449 challenges), on one verifier built once per API. Differences,
 * all refusals: a DPoP proof's `jti` is accepted once; a server nonce can be required; a token bound to a key
 * or a certificate is refused when the matching check is turned off instead of passing as a Bearer token.
 */
export class RequestVerifier {
  readonly authRequired: boolean;
  readonly dpopEnabled: boolean;
  readonly dpopRequired: boolean;
  readonly mtlsEnabled: boolean;
  readonly mtlsRequired: boolean;
  readonly nonce?: NonceSource;
  private readonly replay?: ReplayStore;
  private readonly iatOffset: number;
  private readonly iatLeeway: number;
  private readonly proofAlgs: string[];
  private readonly algsParam: string;
  private readonly verifyJwt: (t: string) => Promise<AuthResult>;

  constructor(readonly options: AuthOptions) {
    assertOptions(options);
    this.verifyJwt = createJwtVerifier(options).verifyJwt;
    const d = options.dpop ?? {};
    this.authRequired = options.authRequired !== false;
    this.dpopEnabled = d.enabled !== false;
    this.dpopRequired = d.required === true;
    this.iatOffset = d.iatOffset ?? 300;
    this.iatLeeway = d.iatLeeway ?? 30;
    this.proofAlgs = d.algorithms ?? ASYMMETRIC_ALGS;
    this.algsParam = this.proofAlgs.join(' ');
    this.replay = d.replay === false ? undefined : d.replay ?? new MemoryReplayStore();
    this.nonce = d.nonce;
    this.mtlsEnabled = options.mtls?.enabled !== false;
    this.mtlsRequired = options.mtls?.required === true;
  }

  /** Verifies the request's access token; failures carry status, code and `WWW-Authenticate` (and `DPoP-Nonce`). */
  async verify(req: RequestLike): Promise<AuthResult> {
    const headers = req.headers;
    const authorization = headers.authorization;
    let scheme: string | undefined;
    if (typeof authorization === 'string') {
      const sp = authorization.indexOf(' ');
      if (sp > 0 && authorization.indexOf(' ', sp + 1) === -1) scheme = authorization.slice(0, sp).toLowerCase();
    }
    const state = { scheme, nonHeader: false };
    try {
      return await this.check(req, headers, authorization, state);
    } catch (e) {
      throw this.challenge(e, state.scheme, state.nonHeader);
    }
  }

  private async check(req: RequestLike, headers: HeaderBag, authorization: unknown, state: { scheme?: string; nonHeader: boolean }): Promise<AuthResult> {
    const { scheme } = state;
    if (typeof req.method !== 'string' || req.method.length === 0) throw new InvalidRequestError('Invalid HTTP method received in request');
    const hasDpopHeader = headers.dpop !== undefined;
    if (this.dpopEnabled && hasDpopHeader && authorization === undefined) throw new InvalidRequestError('', false);
    const { jwt, location } = this.token(req, authorization, hasDpopHeader);
    state.nonHeader = location !== 'header';
    if (!this.dpopEnabled) {
      if (scheme && scheme !== 'bearer') throw new InvalidRequestError('', false);
    } else if (this.dpopRequired) {
      this.assertDpopRequest(headers, authorization);
    } else {
      if (scheme === 'dpop' && typeof headers.dpop !== 'string') throw new InvalidRequestError('', false);
      if (scheme && scheme !== 'dpop' && scheme !== 'bearer') throw new UnauthorizedError();
    }
    const result = await this.verifyJwt(jwt);
    const claims = result.payload;
    const dpopBound = isDPoPBound(claims);
    if (dpopBound && !this.dpopEnabled) throw new InvalidTokenError('DPoP-bound token requires DPoP support, which is disabled');
    if (scheme === 'bearer' && dpopBound && !this.dpopRequired) throw new InvalidTokenError('DPoP-bound token requires the DPoP authentication scheme, not Bearer.');
    if (this.dpopEnabled && (this.dpopRequired || scheme === 'dpop' || dpopBound || hasDpopHeader)) {
      this.assertDpopRequest(headers, authorization);
      this.assertJkt(claims);
      await checkProof({
        proof: headers.dpop as string, token: jwt, claims, method: req.method, url: normalizeUrl(req.url, 'request'),
        iatOffset: this.iatOffset, iatLeeway: this.iatLeeway, algorithms: this.proofAlgs, replay: this.replay, nonce: this.nonce,
      }, normalizeHtu);
    }
    if (isMtlsBound(claims)) {
      if (!this.mtlsEnabled) throw new InvalidTokenError('Certificate-bound token requires mTLS, which is disabled');
      checkCertificateBinding(claims, req.clientCertificate);
    } else if (this.mtlsRequired && !dpopBound) {
      checkCertificateBinding(claims, req.clientCertificate);
    }
    return result;
  }

  private token(req: RequestLike, auth: unknown, hasDpopHeader: boolean): { jwt: string; location: 'header' | 'query' | 'body' } {
    let fromHeader: string | undefined;
    if (typeof auth === 'string') {
      if (auth.split(' ').length !== 2) throw new InvalidRequestError('', false);
      const m = TOKEN_RE.exec(auth);
      if (m) fromHeader = m[2];
    }
    const q = req.query?.access_token;
    const b = isObject(req.body) ? req.body.access_token : undefined;
    const fromQuery = typeof q === 'string' ? q : undefined;
    const fromBody = typeof b === 'string' && req.isUrlEncoded ? b : undefined;
    const count = (fromHeader ? 1 : 0) + (fromQuery !== undefined ? 1 : 0) + (fromBody !== undefined ? 1 : 0);
    if (count === 0) {
      if (typeof b === 'string' && !req.isUrlEncoded) throw new InvalidRequestError('', false);
      if (this.dpopEnabled && hasDpopHeader) throw new InvalidRequestError('', false);
      if (typeof auth === 'string') throw new InvalidRequestError('', false);
      throw new UnauthorizedError();
    }
    if (count > 1) throw new InvalidRequestError('More than one method used for authentication');
    if (fromHeader) return { jwt: fromHeader, location: 'header' };
    return fromQuery !== undefined ? { jwt: fromQuery, location: 'query' } : { jwt: fromBody as string, location: 'body' };
  }

  private assertDpopRequest(headers: HeaderBag, authorization: unknown): void {
    if (typeof authorization !== 'string') throw new InvalidRequestError('', false);
    if (!authorization.toLowerCase().startsWith('dpop ')) {
      if (headers.dpop !== undefined) throw new InvalidRequestError('DPoP proof requires the DPoP authentication scheme, not Bearer');
      throw new InvalidRequestError('', false);
    }
    const proof = headers.dpop;
    if (typeof proof !== 'string' || !proof.length) throw new InvalidRequestError('', false);
    if (proof.includes(',')) throw new InvalidProofError('Multiple DPoP proofs are not allowed');
  }

  private assertJkt(claims: JWTPayload): void {
    const cnf = claims.cnf;
    if (!cnf) throw new InvalidTokenError('JWT Access Token has no jkt confirmation claim');
    if (!isObject(cnf)) throw new InvalidTokenError('Invalid "cnf" confirmation claim structure');
    if (!('jkt' in cnf)) throw new InvalidTokenError('JWT Access Token has no jkt confirmation claim');
    if (typeof cnf.jkt !== 'string') throw new InvalidTokenError('Malformed "jkt" confirmation claim');
    if (!cnf.jkt.length) throw new InvalidTokenError('Invalid "jkt" confirmation claim');
  }

  /** RFC 6750 §3 and RFC 9449 §7.1: a Bearer and a DPoP challenge; the error goes in the scheme the client used. */
  private challenge(error: unknown, scheme: string | undefined, nonHeader: boolean): unknown {
    if (!this.dpopEnabled || !(error instanceof UnauthorizedError)) return error;
    const code = error.code;
    const hasCode = typeof code === 'string' && code.length > 0;
    const desc = error.message.replace(/"/g, "'");
    const dpop = (withError: boolean) => (withError ? `DPoP error="${code}", error_description="${desc}", algs="${this.algsParam}"` : `DPoP algs="${this.algsParam}"`);
    const bearer = (withError: boolean) => (withError ? `Bearer realm="api", error="${code}", error_description="${desc}"` : 'Bearer realm="api"');
    let value: string;
    if (this.dpopRequired) value = dpop(hasCode);
    else if (scheme === 'bearer') value = `${bearer(hasCode)}, ${dpop(false)}`;
    else if (scheme === 'dpop') value = `${bearer(false)}, ${dpop(hasCode)}`;
    else value = `${bearer(nonHeader ? hasCode : false)}, ${dpop(false)}`;
    const nonce = error.headers['DPoP-Nonce'];
    error.headers = nonce ? { 'WWW-Authenticate': value, 'DPoP-Nonce': nonce } : { 'WWW-Authenticate': value };
    return error;
  }
}
