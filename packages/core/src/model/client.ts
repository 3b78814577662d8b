import type { TokenQuota } from './token-quota';
export const GRANT_TYPES = [
  'authorization_code', 'implicit', 'refresh_token', 'client_credentials', 'password',
  'http://auth0.com/oauth/grant-type/password-realm',
  'http://auth0.com/oauth/grant-type/mfa-oob', 'http://auth0.com/oauth/grant-type/mfa-otp',
  'http://auth0.com/oauth/grant-type/mfa-recovery-code', 'urn:openid:params:grant-type:ciba',
  'urn:ietf:params:oauth:grant-type:device_code',
  'urn:auth0:params:oauth:grant-type:token-exchange:federated-connection-access-token',
] as const;

export const APP_TYPES = [
  'native', 'spa', 'regular_web', 'non_interactive', 'resource_server', 'express_configuration', 'rms', 'box',
  'cloudbees', 'concur', 'dropbox', 'mscrm', 'echosign', 'egnyte', 'newrelic', 'office365', 'salesforce', 'sentry',
  'sharepoint', 'slack', 'springcm', 'zendesk', 'zoom', 'sso_integration', 'oag',
] as const;

export type TokenEndpointAuthMethod = 'none' | 'client_secret_post' | 'client_secret_basic';

/** RFC 8705 §2.1.2: the subject alternative name forms a tls_client_auth credential may name instead of a subject DN. */
export const SAN_FIELDS = {
  tls_client_auth_san_dns: 'dns', tls_client_auth_san_uri: 'uri', tls_client_auth_san_ip: 'ip', tls_client_auth_san_email: 'email',
} as const;
export type SanField = keyof typeof SAN_FIELDS;
export type SanType = (typeof SAN_FIELDS)[SanField];

/** Which credential type each client authentication method takes (Auth0's `client_authentication_methods`). */
export const CREDENTIAL_METHODS = { private_key_jwt: 'public_key', self_signed_tls_client_auth: 'x509_cert', tls_client_auth: 'cert_subject_dn' } as const;
export type CredentialMethod = keyof typeof CREDENTIAL_METHODS;

/**
 * A client credential (Auth0's `/api/v2/clients/{id}/credentials`): a public key for private_key_jwt
 * (`public_key`), a certificate for self_signed_tls_client_auth (`x509_cert`, RFC 8705 §2.2; `thumbprint_sha256`
 * is its x5t#S256), or what a CA-issued certificate must carry for tls_client_auth (`cert_subject_dn`, RFC 8705
 * §2.1: exactly one of a subject DN, given or read from `pem`, or one subject alternative name). A credential is
 * used only while a method of `client_authentication_methods` refers to it and it has not expired.
 */
export interface ClientCredential {
  id: string;
  name?: string;
  credential_type: 'public_key' | 'x509_cert' | 'cert_subject_dn';
  /** The PEM registered (public key or certificate); never returned by the API. Absent for DN and SAN credentials. */
  pem?: string;
  subject_dn?: string;
  tls_client_auth_san_dns?: string;
  tls_client_auth_san_uri?: string;
  tls_client_auth_san_ip?: string;
  tls_client_auth_san_email?: string;
  alg?: 'RS256' | 'RS384' | 'PS256';
  kid?: string;
  thumbprint_sha256?: string;
  created_at: string;
  updated_at: string;
  expires_at?: string;
}

/**
 * An application in Auth0's wire vocabulary. Everything except the secret is kept as the stored
 * document; `client_secret` lives encrypted in its own column.
 */
export interface Client {
  client_id: string;
  name: string;
  client_secret?: string;
  description?: string;
  app_type?: string;
  grant_types: string[];
  token_endpoint_auth_method?: TokenEndpointAuthMethod;
  is_first_party: boolean;
  oidc_conformant: boolean;
  is_token_endpoint_ip_header_trusted: boolean;
  sso_disabled: boolean;
  cross_origin_authentication: boolean;
  custom_login_page_on: boolean;
  jwt_configuration: { lifetime_in_seconds?: number; secret_encoded?: boolean; scopes?: Record<string, unknown>; alg?: string; [k: string]: unknown };
  refresh_token: Record<string, unknown>;
  client_metadata?: Record<string, string>;
  callbacks?: string[];
  allowed_origins?: string[];
  web_origins?: string[];
  allowed_logout_urls?: string[];
  initiate_login_uri?: string;
  logo_uri?: string;
  organization_usage?: 'deny' | 'allow' | 'require';
  organization_require_behavior?: string;
  default_organization?: { organization_id: string; flows: string[] } ;
  client_authentication_methods?: {
    private_key_jwt?: { credentials: Array<{ id: string }> };
    self_signed_tls_client_auth?: { credentials: Array<{ id: string }> };
    tls_client_auth?: { credentials: Array<{ id: string }> };
  };
  require_proof_of_possession?: boolean;
  /** RFC 9126 §5: /authorize accepts this client's requests only through /oauth/par (a request_uri). */
  require_pushed_authorization_requests?: boolean;
  sso?: boolean;
  global?: boolean;
  /** Stored and returned: Tessera has no token exchange grant. */
  token_exchange?: { allow_any_profile_of_type?: string[] };
  /** Stored and returned: Tessera shows no confirmation prompt for unverifiable callback URIs. */
  skip_non_verifiable_callback_uri_confirmation_prompt?: boolean;
  /** The API this client represents (app_type resource_server); fixed at creation, fills the API's client_id. */
  resource_server_identifier?: string;
  /** Auth0's fine-grained M2M token quota of this application. */
  token_quota?: TokenQuota;
  /**
   * Tessera extension: return a still-valid client_credentials token instead of minting a new one (token/m2m/reuse.ts).
   * Absent: the tenant default (TESSERA_TOKEN_REUSE).
   */
  tessera_token_reuse?: boolean;
  /** Every credential of the client, enabled or not (loaded from their own table; exposed through the credentials API). */
  credentials?: ClientCredential[];
}

export const DEFAULT_GRANT_TYPES = ['authorization_code', 'implicit', 'refresh_token', 'client_credentials'];
/** The flags a client created without them gets (Auth0's create response); also the documented defaults. */
export const CLIENT_DEFAULTS = {
  is_first_party: true,
  is_token_endpoint_ip_header_trusted: false,
  oidc_conformant: false,
  sso_disabled: false,
  cross_origin_authentication: false,
  custom_login_page_on: true,
} as const;
export const CONFIDENTIAL_APP_TYPES = new Set(['regular_web', 'non_interactive', 'resource_server']);
