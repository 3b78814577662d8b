import { decodeProtectedHeader, jwtVerify } from 'jose';
import { Unauthorized } from '../errors';
import type { Clock, Store } from '../ports';
import type { AsymmetricAlg, KeyManager } from '../services/key-manager';
import { profileClaims } from '../token/id-token';
import { accessTokenTimeOptions, issuedInTheFuture } from '../token/time-claims';

const ALGS: readonly string[] = ['RS256', 'RS512', 'PS256'];
const invalid = (cause?: unknown) => new Unauthorized('Unauthorized', 'invalid_token', cause);

/**
 * GET /userinfo (OIDC Core §5.3): a Bearer access token signed by a tenant key, from this issuer, whose `aud`
 * includes `${PUBLIC_URL}/userinfo` (so `openid` was granted), with `exp` and `iat` (RFC 9068 §2.2), unexpired and
 * not issued in the future (60 s leeway), for a user that still exists.
 * Claims follow the token's scopes: `sub` always, then profile and email claims.
 */
export class UserinfoService {
  constructor(private readonly deps: { keys: KeyManager; clock: Clock; issuer: string; audience: string; store: Store }) {}

  async claims(authorization: string | undefined): Promise<Record<string, unknown>> {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    if (!m) throw invalid('missing bearer token');
    let header;
    try { header = decodeProtectedHeader(m[1]); } catch (e) { throw invalid(e); }
    if (!header.kid || !header.alg || !ALGS.includes(header.alg)) throw invalid('unsupported token');
    const key = await this.deps.keys.verifier(header.kid, header.alg as AsymmetricAlg);
    if (!key) throw invalid('unknown kid');
    let payload;
    try {
      ({ payload } = await jwtVerify(m[1], key, {
        algorithms: [header.alg], issuer: this.deps.issuer, audience: this.deps.audience, ...accessTokenTimeOptions(this.deps.clock.now()),
      }));
    } catch (e) { throw invalid(e); }
    if (issuedInTheFuture(payload, this.deps.clock.now())) throw invalid('iat in the future');
    const user = typeof payload.sub === 'string' ? await this.deps.store.users.findById(payload.sub) : undefined;
    if (!user || user.blocked) throw invalid('user gone');
    const scopes = typeof payload.scope === 'string' ? payload.scope.split(' ') : [];
    return { sub: user.user_id, ...profileClaims(user, scopes) };
  }
}
