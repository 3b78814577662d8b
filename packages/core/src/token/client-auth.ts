import { createPublicKey, type KeyObject } from 'node:crypto';
import { decodeProtectedHeader, jwtVerify } from 'jose';
import { secretMatches } from '../crypto/compare';
import { InvalidClient, InvalidRequest } from '../errors';
import type { Client, ClientCredential } from '../model';
import type { Clock, UsedAssertionRepo } from '../ports';
import type { Directory } from '../services/directory';
import { certificateSubject, certificateThumbprint, normalizeDn } from './mtls';
import { hashSecret } from './refresh-tokens';
import { issuedInTheFuture } from './time-claims';
import type { TokenContext } from './types';

export const JWT_BEARER_ASSERTION = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** Auth0 accepts client assertions that expire at most 5 minutes ahead; `iat` is optional. */
const MAX_ASSERTION_LIFETIME_S = 300;
const CLOCK_TOLERANCE_S = 30;

/**
 * Client authentication (RFC 6749 §2.3, RFC 7523 §2.2): client_secret_post, client_secret_basic,
 * private_key_jwt, or none for public clients. Exactly one method per request; failures are Auth0's
 * 401 access_denied "Unauthorized" without saying which part was wrong.
 */
export class ClientAuthenticator {
  private assertionKeys = new WeakMap<ClientCredential, KeyObject>();
  private claims = 0;

  constructor(private readonly deps: { directory: Directory; clock: Clock; audiences: string[]; usedAssertions: UsedAssertionRepo }) {}

  async authenticate(ctx: TokenContext, allowPublic: boolean): Promise<Client> {
    const { params, basic } = ctx.request;
    const assertion = params.client_assertion;
    const methods = [basic !== undefined, params.client_secret !== undefined, assertion !== undefined].filter(Boolean).length;
    if (methods > 1) throw new InvalidRequest('Only one client authentication method may be used per request.');
    if (basic && params.client_id !== undefined && params.client_id !== basic.clientId) {
      throw new InvalidRequest('client_id in the body does not match the authenticated client.');
    }
    if (assertion !== undefined) return this.privateKeyJwt(ctx, assertion);
    const clientId = basic?.clientId ?? params.client_id;
    if (!clientId) throw new InvalidRequest('Missing required parameter: client_id');
    const cached = await this.deps.directory.client(clientId);
    if (!cached) throw new InvalidClient('unknown client');
    const secret = basic?.clientSecret ?? params.client_secret;
    if (secret === undefined && usesCertificate(cached.client)) return this.certificate(ctx, cached);
    if (secret === undefined) {
      if (cached.client.token_endpoint_auth_method === 'none' && allowPublic) {
        ctx.authMethod = 'none';
        return this.done(ctx, cached);
      }
      throw new InvalidClient('client secret required');
    }
    if (usesPrivateKeyJwt(cached.client)) throw new InvalidClient('client must authenticate with private_key_jwt');
    if (!cached.secretDigest || !secretMatches(secret, cached.secretDigest)) throw new InvalidClient('wrong client secret');
    ctx.authMethod = basic ? 'client_secret_basic' : 'client_secret_post';
    return this.done(ctx, cached);
  }

  /**
   * RFC 8705 §2: self_signed_tls_client_auth matches the connection's certificate by x5t#S256 against a registered
   * one; tls_client_auth matches its subject DN, and only for a chain verified against the operator's CAs
   * (TESSERA_MTLS_CA). Credentials past a registered expiry are skipped.
   */
  private certificate(ctx: TokenContext, cached: NonNullable<TokenContext['cached']>): Client {
    const cert = ctx.request.clientCertificate;
    if (!cert) throw new InvalidClient('client certificate required');
    const now = this.deps.clock.now();
    const live = (cached.client.credentials ?? []).filter((c) => c.expires_at === undefined || Date.parse(c.expires_at) >= now);
    const x5t = certificateThumbprint(cert);
    if (live.some((c) => c.credential_type === 'x509_cert' && c.thumbprint_sha256 === x5t)) {
      ctx.authMethod = 'self_signed_tls_client_auth';
      return this.done(ctx, cached);
    }
    const subject = cert.trusted ? certificateSubject(cert) : undefined;
    const dn = subject === undefined ? undefined : normalizeDn(subject);
    if (dn !== undefined && live.some((c) => c.credential_type === 'cert_subject_dn' && c.subject_dn !== undefined && normalizeDn(c.subject_dn) === dn)) {
      ctx.authMethod = 'tls_client_auth';
      return this.done(ctx, cached);
    }
    throw new InvalidClient(cert.trusted ? 'client certificate not registered' : 'client certificate not registered or not from a trusted CA');
  }

  private done(ctx: TokenContext, cached: NonNullable<TokenContext['cached']>): Client {
    ctx.cached = cached;
    ctx.client = cached.client;
    return cached.client;
  }

  private async privateKeyJwt(ctx: TokenContext, assertion: string): Promise<Client> {
    if (ctx.request.params.client_assertion_type !== JWT_BEARER_ASSERTION) {
      throw new InvalidRequest(`client_assertion_type must be ${JWT_BEARER_ASSERTION}`);
    }
    let clientId: string | undefined;
    try {
      const payload = JSON.parse(Buffer.from(assertion.split('.')[1] ?? '', 'base64url').toString('utf8')) as { sub?: unknown };
      // an unverified claim about to reach the store: a string without control characters (PostgreSQL refuses NUL)
      clientId = typeof payload.sub === 'string' && !/[\u0000-\u001f]/.test(payload.sub) ? payload.sub : undefined;
    } catch { /* handled below */ }
    if (!clientId) throw new InvalidClient('assertion without sub');
    const bodyClientId = ctx.request.params.client_id;
    if (bodyClientId !== undefined && bodyClientId !== clientId) throw new InvalidClient('client_id does not match the assertion');
    const cached = await this.deps.directory.client(clientId);
    const creds = (cached?.client.credentials ?? []).filter((c) => c.credential_type === 'public_key');
    if (!cached || creds.length === 0) throw new InvalidClient('client has no registered public keys');
    let kid: string | undefined;
    try { kid = decodeProtectedHeader(assertion).kid; } catch { throw new InvalidClient('malformed assertion'); }
    const candidates = kid ? creds.filter((c) => c.kid === kid || c.id === kid) : creds;
    const now = this.deps.clock.now();
    for (const cred of candidates) {
      if (cred.expires_at !== undefined && !(Date.parse(cred.expires_at) >= now)) continue; // expired or unreadable: fail closed
      try {
        const { payload } = await jwtVerify(assertion, this.keyOf(cred), {
          issuer: clientId, subject: clientId, audience: this.deps.audiences,
          algorithms: cred.alg ? [cred.alg] : ['RS256', 'RS384', 'PS256'],
          currentDate: new Date(now), requiredClaims: ['exp', 'jti'], clockTolerance: CLOCK_TOLERANCE_S,
        });
        if (issuedInTheFuture(payload, now, CLOCK_TOLERANCE_S)) throw new InvalidClient('assertion issued in the future');
        const expMs = (payload.exp as number) * 1000;
        if (expMs - now > (MAX_ASSERTION_LIFETIME_S + CLOCK_TOLERANCE_S) * 1000) throw new InvalidClient('assertion lives longer than 5 minutes');
        await this.checkReplay(`${clientId}\u0000${String(payload.jti)}`, expMs + CLOCK_TOLERANCE_S * 1000, now);
        ctx.authMethod = 'private_key_jwt';
        return this.done(ctx, cached);
      } catch (e) {
        if (e instanceof InvalidClient) throw e;
      }
    }
    throw new InvalidClient('assertion did not verify');
  }

  private keyOf(cred: ClientCredential): KeyObject {
    let k = this.assertionKeys.get(cred);
    if (!k) { k = createPublicKey(cred.pem ?? ''); this.assertionKeys.set(cred, k); }
    return k;
  }

  /**
   * A client assertion may be used once (RFC 7523 §3 item 7): its (client, jti) is recorded in the database
   * until it expires, so a replay to another instance or worker is refused too.
   */
  private async checkReplay(jti: string, expMs: number, now: number): Promise<void> {
    const { usedAssertions } = this.deps;
    if (++this.claims % 500 === 0) usedAssertions.deleteExpired(now).catch(() => undefined);
    if (!(await usedAssertions.claim(hashSecret(jti), expMs, now))) throw new InvalidClient('assertion replayed');
  }
}

export function parseBasicAuth(header: string | undefined): { clientId: string; clientSecret: string } | undefined | 'malformed' {
  if (!header) return undefined;
  const m = /^Basic\s+([A-Za-z0-9+/=_-]+)\s*$/i.exec(header);
  if (!m) return header.toLowerCase().startsWith('basic') ? 'malformed' : undefined;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  if (i < 0) return 'malformed';
  try {
    const dec = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '));
    const clientId = dec(decoded.slice(0, i));
    const clientSecret = dec(decoded.slice(i + 1));
    // RFC 7617 §2: user-id and password exclude control characters
    if (/[\u0000-\u001f]/.test(clientId + clientSecret)) return 'malformed';
    return { clientId, clientSecret };
  } catch {
    return 'malformed';
  }
}

/** A client registered for private_key_jwt or a certificate (credentials and no secret method) may not fall back to its secret. */
function usesPrivateKeyJwt(client: Client): boolean {
  return (client.credentials?.length ?? 0) > 0 && !client.token_endpoint_auth_method;
}

/** A client that registered a certificate (self-signed or by subject DN) authenticates with it. */
const usesCertificate = (client: Client): boolean =>
  (client.credentials ?? []).some((c) => c.credential_type === 'x509_cert' || c.credential_type === 'cert_subject_dn');
