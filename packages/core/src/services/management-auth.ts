import { decodeProtectedHeader, errors as joseErrors, jwtVerify } from 'jose';
import { Unauthorized } from '../errors';
import type { Clock } from '../ports';
import type { KeyManager } from './key-manager';
import { accessTokenTimeOptions, issuedInTheFuture } from '../token/time-claims';

export interface ManagementPrincipal { sub: string; clientId?: string; scopes: ReadonlySet<string> }

/**
 * Verifies the Bearer tokens sent to /api/v2: RS256 only, signed by one of the tenant's published keys,
 * exact issuer, the Management API audience, `exp` and `iat` present (RFC 9068 §2.2), not expired, not issued
 * in the future (60 s leeway). Messages are Auth0's.
 */
export class ManagementTokenVerifier {
  constructor(private readonly deps: { keys: KeyManager; clock: Clock; issuer: string; audience: string }) {}

  async verify(authorization: string | undefined): Promise<ManagementPrincipal> {
    if (!authorization) throw new Unauthorized('Missing authentication', 'missing_authentication');
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!m) throw new Unauthorized('Bad HTTP authentication header format', 'invalid_authorization_header');
    const token = m[1];
    let kid: string | undefined;
    let alg: string | undefined;
    try { ({ kid, alg } = decodeProtectedHeader(token)); } catch (e) { throw new Unauthorized('Invalid token', 'invalid_token', e); }
    if (alg !== 'RS256' || !kid) throw new Unauthorized('Invalid token', 'invalid_token');
    const key = await this.deps.keys.verifier(kid, 'RS256');
    if (!key) throw new Unauthorized('Invalid token', 'invalid_token');
    try {
      const { payload } = await jwtVerify(token, key, {
        algorithms: ['RS256'], issuer: this.deps.issuer, ...accessTokenTimeOptions(this.deps.clock.now()),
      });
      if (issuedInTheFuture(payload, this.deps.clock.now())) throw new Unauthorized('Invalid token', 'invalid_token', 'iat in the future');
      const aud = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
      if (!aud.includes(this.deps.audience)) throw new Unauthorized(`Bad audience: ${aud.join(' ')}`, 'invalid_token');
      const scopes = new Set(typeof payload.scope === 'string' ? payload.scope.split(' ').filter(Boolean) : []);
      return { sub: String(payload.sub), clientId: (payload.azp ?? payload.client_id) as string | undefined, scopes };
    } catch (e) {
      if (e instanceof Unauthorized) throw e;
      if (e instanceof joseErrors.JWTExpired) throw new Unauthorized('Expired token received for JSON Web Token validation', 'token_expired', e);
      if (e instanceof joseErrors.JWTClaimValidationFailed && e.claim === 'iss' && typeof e.payload.iss === 'string') throw new Unauthorized(`Bad issuer: ${String(e.payload.iss)}`, 'invalid_token', e);
      throw new Unauthorized('Invalid token', 'invalid_token', e);
    }
  }
}
