import { decodeProtectedHeader, jwtVerify, type JWTPayload } from 'jose';
import { OAuthError, Unauthorized } from '../errors';
import type { Clock, Store } from '../ports';
import type { AsymmetricAlg, KeyManager } from '../services/key-manager';
import { proofUrls, type DpopVerifier, type EndpointUrls } from '../token/dpop';
import { certificateThumbprint, type ClientCertificate } from '../token/mtls';
import { profileClaims } from '../token/id-token';
import { accessTokenTimeOptions, issuedInTheFuture } from '../token/time-claims';

const ALGS: readonly string[] = ['RS256', 'RS512', 'PS256'];
const invalid = (cause?: unknown) => new Unauthorized('Unauthorized', 'invalid_token', cause);
const invalidProof = (cause?: unknown) => new Unauthorized('Unauthorized', 'invalid_dpop_proof', cause);

/** What /userinfo reads from the request. */
export interface UserinfoRequest {
  authorization?: string;
  /** Every value of the DPoP header fields. */
  dpop: readonly string[];
  method: string;
  /** The connection's client certificate (RFC 8705), for certificate-bound tokens. */
  clientCertificate?: ClientCertificate;
  /** The request arrived on the separate mTLS listener (the `mtls_endpoint_aliases` target). */
  viaMtlsListener?: boolean;
}

/**
 * GET /userinfo (OIDC Core §5.3): a Bearer access token signed by a tenant key, from this issuer, whose `aud`
 * includes `${PUBLIC_URL}/userinfo` (so `openid` was granted), with `exp` and `iat` (RFC 9068 §2.2), unexpired and
 * not issued in the future (60 s leeway), for a user that still exists. A DPoP-bound token (`cnf.jkt`) comes
 * as `Authorization: DPoP <token>` with a proof from the same key carrying `ath` (RFC 9449 §7); sent as Bearer it is
 * refused. A certificate-bound token (`cnf["x5t#S256"]`) needs the same client certificate on the connection. Claims follow the token's scopes: `sub` always, then profile and email claims.
 */
export class UserinfoService {
  constructor(private readonly deps: { keys: KeyManager; clock: Clock; issuer: string; audience: string; store: Store; dpop: DpopVerifier; urls: EndpointUrls }) {}

  async claims(req: UserinfoRequest): Promise<Record<string, unknown>> {
    return (await this.answer(req)).claims;
  }

  /** The claims, and the client the verified token was issued to (its `azp`/`client_id`). */
  async answer(req: UserinfoRequest): Promise<{ claims: Record<string, unknown>; clientId?: string }> {
    const m = /^(Bearer|DPoP)\s+(\S+)\s*$/i.exec(req.authorization ?? '');
    if (!m) throw invalid('missing bearer token');
    const token = m[2];
    const payload = await this.verifyToken(token);
    const jkt = (payload.cnf as { jkt?: unknown } | undefined)?.jkt;
    if (m[1].toLowerCase() === 'dpop') {
      if (typeof jkt !== 'string') throw invalid('DPoP scheme with a token that is not DPoP-bound');
      await this.checkProof(req, token, jkt);
    } else if (typeof (payload.cnf as Record<string, unknown> | undefined)?.['x5t#S256'] === 'string') {
      // RFC 8705 §3: a certificate-bound token comes as Bearer over a connection with the same certificate
      const cert = req.clientCertificate;
      if (!cert || certificateThumbprint(cert) !== (payload.cnf as Record<string, string>)['x5t#S256']) throw invalid('certificate-bound token without its certificate');
    } else if (payload.cnf !== undefined) {
      throw new Unauthorized('Unauthorized', 'use_dpop', 'DPoP-bound token presented as Bearer');
    }
    const user = typeof payload.sub === 'string' ? await this.deps.store.users.findById(payload.sub) : undefined;
    if (!user || user.blocked) throw invalid('user gone');
    const scopes = typeof payload.scope === 'string' ? payload.scope.split(' ') : [];
    const clientId = typeof payload.azp === 'string' ? payload.azp : typeof payload.client_id === 'string' ? payload.client_id : undefined;
    return { claims: { sub: user.user_id, ...profileClaims(user, scopes) }, clientId };
  }

  /** A tenant-signed access token for this service's audience: signature, issuer, audience, `exp` and `iat`. */
  async verifyToken(token: string): Promise<JWTPayload> {
    let header;
    try { header = decodeProtectedHeader(token); } catch (e) { throw invalid(e); }
    // a nested JWE (an API with token_encryption) is readable only with that API's private key, which Tessera never holds
    if (header.enc !== undefined) throw invalid('encrypted access token (JWE): only the API it was issued for can decrypt it');
    if (!header.kid || !header.alg || !ALGS.includes(header.alg)) throw invalid('unsupported token');
    const key = await this.deps.keys.verifier(header.kid, header.alg as AsymmetricAlg);
    if (!key) throw invalid('unknown kid');
    let payload;
    try {
      ({ payload } = await jwtVerify(token, key, {
        algorithms: [header.alg], issuer: this.deps.issuer, audience: this.deps.audience, ...accessTokenTimeOptions(this.deps.clock.now()),
      }));
    } catch (e) { throw invalid(e); }
    if (issuedInTheFuture(payload, this.deps.clock.now())) throw invalid('iat in the future');
    return payload;
  }

  private async checkProof(req: UserinfoRequest, token: string, jkt: string): Promise<void> {
    try {
      const proof = await this.deps.dpop.verify({ proofs: req.dpop, htm: req.method, ...proofUrls(this.deps.urls, req.viaMtlsListener === true), nonceRequired: false, accessToken: token });
      if (proof.jkt !== jkt) throw invalidProof('proof key is not the key the token is bound to');
      await proof.fresh;
    } catch (e) {
      throw e instanceof OAuthError ? invalidProof(e.message) : e;
    }
  }
}
