import { decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from 'jose';
import type { Client } from '../model';
import type { Directory } from '../services/directory';
import type { AsymmetricAlg, KeyManager } from '../services/key-manager';
import { AuthorizePageError } from './request';
import { hasDangerousScheme } from './url-schemes';

/** Where the browser goes once the session has ended; undefined: Tessera's own "logged out" page. */
export interface LogoutOutcome { redirect?: string }

const ID_TOKEN_ALGS: readonly string[] = ['RS256', 'RS512', 'PS256'];
const invalid = (description: string) => new AuthorizePageError('invalid_request', description);

/**
 * The two logout endpoints, free of HTTP. Both only decide where the browser may go; the caller ends the session
 * after a successful decision (a refused request ends nothing).
 *
 * - Auth0's `GET /v2/logout`: `returnTo` must be one of the client's `allowed_logout_urls` (with `client_id`) or of
 *   the tenant's list (without); with `client_id` and no `returnTo` the client's first logout URL is used.
 * - OIDC RP-Initiated Logout 1.0 (`/oidc/logout`): `id_token_hint` must be an ID token this issuer signed (an
 *   expired one is accepted, §2); its `aud` names the client unless `client_id` does (both: they must agree);
 *   `post_logout_redirect_uri` must be one of that client's `allowed_logout_urls`; `state` is passed back.
 */
export class LogoutService {
  constructor(private readonly deps: { directory: Directory; keys: KeyManager; issuer: string; tenantLogoutUrls: readonly string[] }) {}

  async auth0(p: { client_id?: string; returnTo?: string }): Promise<LogoutOutcome> {
    const client = p.client_id === undefined ? undefined : await this.client(p.client_id);
    if (p.returnTo === undefined) {
      const first = client?.allowed_logout_urls?.[0];
      return first !== undefined && safe(first) ? { redirect: first } : {};
    }
    const allowed = client ? client.allowed_logout_urls ?? [] : this.deps.tenantLogoutUrls;
    if (!allowed.includes(p.returnTo) || !safe(p.returnTo)) {
      throw invalid(`The "returnTo" querystring parameter "${p.returnTo}" is not defined as a valid URL in "Allowed Logout URLs".`);
    }
    return { redirect: p.returnTo };
  }

  async oidc(p: { id_token_hint?: string; client_id?: string; post_logout_redirect_uri?: string; state?: string; logout_hint?: string }): Promise<LogoutOutcome> {
    let clientId = p.client_id;
    if (p.id_token_hint !== undefined) {
      const hint = await this.verifyHint(p.id_token_hint);
      const aud = typeof hint.aud === 'string' ? [hint.aud] : hint.aud ?? [];
      if (clientId !== undefined && !aud.includes(clientId)) throw invalid('The client_id does not match the audience of id_token_hint.');
      clientId ??= typeof hint.azp === 'string' ? hint.azp : aud[0];
    }
    const client = clientId === undefined ? undefined : await this.client(clientId);
    const target = p.post_logout_redirect_uri;
    if (target === undefined) return {};
    if (!client) throw invalid('post_logout_redirect_uri needs client_id or id_token_hint to name the application.');
    if (!(client.allowed_logout_urls ?? []).includes(target) || !safe(target)) {
      throw invalid(`The "post_logout_redirect_uri" parameter "${target}" is not defined as a valid URL in "Allowed Logout URLs".`);
    }
    if (p.state === undefined) return { redirect: target };
    const u = new URL(target);
    u.searchParams.set('state', p.state);
    return { redirect: u.toString() };
  }

  private async client(clientId: string): Promise<Client> {
    const client = (await this.deps.directory.client(clientId))?.client;
    if (!client) throw invalid(`Unknown client: ${clientId}`);
    return client;
  }

  /** An ID token signed by a tenant key for this issuer; only its lifetime is not checked (OIDC RP-Initiated Logout §2). */
  private async verifyHint(token: string): Promise<JWTPayload> {
    const bad = invalid('The id_token_hint is not a valid ID token issued by this server.');
    let header;
    try { header = decodeProtectedHeader(token); } catch { throw bad; }
    if (!header.kid || !header.alg || !ID_TOKEN_ALGS.includes(header.alg)) throw bad;
    const key = await this.deps.keys.verifier(header.kid, header.alg as AsymmetricAlg);
    if (!key) throw bad;
    try {
      return (await jwtVerify(token, key, { algorithms: [header.alg], issuer: this.deps.issuer })).payload;
    } catch (e) {
      // the signature was checked before the claims: an expired hint still names its user and client
      if (e instanceof errors.JWTExpired) return e.payload;
      throw bad;
    }
  }
}

/** An absolute URL without a script scheme (lists were checked at registration; checked again before sending a browser there). */
function safe(uri: string): boolean {
  return !hasDangerousScheme(uri) && URL.canParse(uri);
}
