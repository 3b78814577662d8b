import type { Client } from '../model';
import type { CachedClient } from '../services/directory';
import type { DpopProof } from './dpop';
import type { ClientCertificate } from './mtls';
import type { AuthorizationDetail } from '../authorize/authorization-details';

/** A parsed token request: single-valued parameters plus what the transport saw. */
export interface TokenRequest {
  params: Readonly<Record<string, string>>;
  /** Client credentials from an HTTP Basic header, already URL-decoded. */
  basic?: { clientId: string; clientSecret: string };
  /** Every value of the DPoP header fields (RFC 9449); absent or empty when none was sent. */
  dpop?: readonly string[];
  /** The client certificate of the TLS connection (RFC 8705), when Tessera serves TLS and the client sent one. */
  clientCertificate?: ClientCertificate;
  /** The request arrived on the separate mTLS listener (TESSERA_MTLS_PORT), the `mtls_endpoint_aliases` target. */
  viaMtlsListener?: boolean;
  /** The client's address (the socket's, or from X-Forwarded-For set by a trusted proxy): brute-force and failure throttles key on it. */
  clientIp?: string;
  /** The User-Agent header (the tenant log). */
  userAgent?: string;
}

export interface TokenResponse {
  access_token: string;
  refresh_token?: string;
  id_token?: string;
  scope?: string;
  expires_in: number;
  token_type: 'Bearer' | 'DPoP';
  /** mfa-recovery-code grant: the replacement recovery code (shown once). */
  recovery_code?: string;
  /** RFC 9396 §7: the authorization details the access token carries. */
  authorization_details?: AuthorizationDetail[];
  /** Not part of the body: a fresh server nonce for the DPoP-Nonce response header. */
  dpopNonce?: string;
  /** Not part of the body: a token handed out again (token/m2m/reuse.ts). */
  reused?: boolean;
  /** Not part of the body: Auth0's token quota headers (token/m2m/quota.ts). */
  quotaHeaders?: Record<string, string>;
  /** Not part of the body: quotas exceeded without enforcement (issued; to be logged). */
  quotaWarnings?: Array<{ subject: string; id: string; period: string; limit: number; count: number }>;
  /** Not part of the body: whom and what the token was for (the tenant log). */
  subject?: { user_id?: string; user_name?: string; audience?: string };
}

export interface TokenContext {
  readonly request: TokenRequest;
  readonly grantType: string;
  /** Set by the client-authentication check. */
  client?: Client;
  cached?: CachedClient;
  /** How the client authenticated. */
  authMethod?: 'client_secret_post' | 'client_secret_basic' | 'private_key_jwt' | 'self_signed_tls_client_auth' | 'tls_client_auth' | 'none';
  /** Set by the DPoP check when the request carried a valid proof. */
  dpop?: DpopProof;
  /** Set by the certificate step: `x5t#S256` of the connection's client certificate (RFC 8705 §3.1). */
  x5t?: string;
}

/** One grant type as a plug-in: the parameters it needs and how it turns a request into tokens. */
export interface GrantHandler {
  readonly grantType: string;
  /** Parameters that must be present (checked before the handler runs). */
  readonly required: readonly string[];
  /** Whether a public client (no secret) may use this grant. */
  readonly allowsPublicClients: boolean;
  /** RFC 9396 §6: whether the grant takes `authorization_details` (refused with invalid_authorization_details otherwise). */
  readonly acceptsAuthorizationDetails?: boolean;
  handle(ctx: TokenContext & { client: Client }): Promise<TokenResponse>;
}
