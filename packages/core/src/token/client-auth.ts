import { createPublicKey, type KeyObject } from 'node:crypto';
import { decodeProtectedHeader, jwtVerify } from 'jose';
import { secretMatches } from '../crypto/compare';
import { InvalidClient, InvalidRequest } from '../errors';
import { SAN_FIELDS, type Client, type ClientCredential, type CredentialMethod, type SanField } from '../model';
import type { Clock, UsedAssertionRepo } from '../ports';
import type { Directory } from '../services/directory';
import type { ClientAuthGuard } from '../abuse/client-guard';
import { certificateSans, certificateSubject, certificateThumbprint, normalizeDn, normalizeSan } from './mtls';
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
  private enabledCache = new WeakMap<Client, Partial<Record<CredentialMethod, ClientCredential[]>>>();
  private claims = 0;

  constructor(private readonly deps: { directory: Directory; clock: Clock; audiences: string[]; usedAssertions: UsedAssertionRepo; guard?: ClientAuthGuard }) {}

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
    const ip = ctx.request.clientIp ?? 'unknown';
    await this.deps.guard?.check(clientId, ip);
    if (!cached.secretDigest || !secretMatches(secret, cached.secretDigest)) {
      await this.deps.guard?.failed(clientId, ip);
      throw new InvalidClient('wrong client secret');
    }
    ctx.authMethod = basic ? 'client_secret_basic' : 'client_secret_post';
    return this.done(ctx, cached);
  }

  /**
   * RFC 8705 §2: self_signed_tls_client_auth matches the connection's certificate by x5t#S256 against an enabled
   * credential; tls_client_auth matches its subject DN or one subject alternative name (§2.1.2), and only for a chain
   * verified against the operator's CAs (TESSERA_MTLS_CA). Expired credentials are skipped.
   */
  private certificate(ctx: TokenContext, cached: NonNullable<TokenContext['cached']>): Client {
    const cert = ctx.request.clientCertificate;
    if (!cert) throw new InvalidClient('client certificate required');
    const now = this.deps.clock.now();
    const x5t = certificateThumbprint(cert);
    if (this.enabled(cached.client, 'self_signed_tls_client_auth', now).some((c) => c.thumbprint_sha256 === x5t)) {
      ctx.authMethod = 'self_signed_tls_client_auth';
      return this.done(ctx, cached);
    }
    const byCa = cert.trusted ? this.enabled(cached.client, 'tls_client_auth', now) : [];
    if (byCa.length > 0) {
      const subject = certificateSubject(cert);
      const dn = subject === undefined ? undefined : normalizeDn(subject);
      let sans: Set<string> | undefined;
      const matches = (c: ClientCredential): boolean => {
        if (c.subject_dn !== undefined) return dn !== undefined && normalizeDn(c.subject_dn) === dn;
        const field = (Object.keys(SAN_FIELDS) as SanField[]).find((f) => c[f] !== undefined);
        if (!field) return false;
        const want = normalizeSan(SAN_FIELDS[field], c[field]!);
        sans ??= certificateSans(cert);
        return want !== undefined && sans.has(`${SAN_FIELDS[field]}\u0000${want}`);
      };
      if (byCa.some(matches)) {
        ctx.authMethod = 'tls_client_auth';
        return this.done(ctx, cached);
      }
    }
    throw new InvalidClient(cert.trusted ? 'client certificate not registered' : 'client certificate not registered or not from a trusted CA');
  }

  /** The client's credentials that `client_authentication_methods[method]` enables and that have not expired. */
  private enabled(client: Client, method: CredentialMethod, now: number): ClientCredential[] {
    let byMethod = this.enabledCache.get(client);
    if (!byMethod) { byMethod = enabledByMethod(client); this.enabledCache.set(client, byMethod); }
    return (byMethod[method] ?? []).filter((c) => c.expires_at === undefined || Date.parse(c.expires_at) >= now);
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
    if (!cached) throw new InvalidClient('unknown client');
    const creds = this.enabled(cached.client, 'private_key_jwt', Number.NEGATIVE_INFINITY);
    if (creds.length === 0) throw new InvalidClient('client has no enabled public keys');
    const ip = ctx.request.clientIp ?? 'unknown';
    await this.deps.guard?.check(clientId, ip);
    try {
      return await this.verifyAssertion(ctx, assertion, clientId, cached, creds);
    } catch (e) {
      if (e instanceof InvalidClient) await this.deps.guard?.failed(clientId, ip);
      throw e;
    }
  }

  private async verifyAssertion(ctx: TokenContext, assertion: string, clientId: string, cached: NonNullable<TokenContext['cached']>, creds: ClientCredential[]): Promise<Client> {
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

/** The enabled credentials of each method: those `client_authentication_methods` refers to, of the method's type. */
function enabledByMethod(client: Client): Partial<Record<CredentialMethod, ClientCredential[]>> {
  const out: Partial<Record<CredentialMethod, ClientCredential[]>> = {};
  const types = { private_key_jwt: 'public_key', self_signed_tls_client_auth: 'x509_cert', tls_client_auth: 'cert_subject_dn' } as const;
  for (const method of Object.keys(types) as CredentialMethod[]) {
    const ids = client.client_authentication_methods?.[method]?.credentials ?? [];
    out[method] = ids.map((r) => client.credentials?.find((c) => c.id === r.id && c.credential_type === types[method]))
      .filter((c): c is ClientCredential => c !== undefined);
  }
  return out;
}

/**
 * A client with `client_authentication_methods` and no token_endpoint_auth_method authenticates with its credentials
 * only (Auth0 treats the two as alternatives): its secret is never a fallback.
 */
function usesPrivateKeyJwt(client: Client): boolean {
  return client.client_authentication_methods !== undefined && !client.token_endpoint_auth_method;
}

/** A client with a certificate method that refers to a credential authenticates with a certificate. */
const usesCertificate = (client: Client): boolean =>
  (client.client_authentication_methods?.self_signed_tls_client_auth?.credentials.length ?? 0) > 0
  || (client.client_authentication_methods?.tls_client_auth?.credentials.length ?? 0) > 0;
