import { Type, type TOptional } from '@sinclair/typebox';
import { APP_TYPES, CLIENT_DEFAULTS, DEFAULT_GRANT_TYPES, GRANT_TYPES } from '@tessera/core';
import { Nullable, StringEnum, TokenQuotaBody, TokenQuotaResponse, withDefaults } from './common';

const Url = Type.String({ maxLength: 2048 });
const Pem = Type.String({ minLength: 1, maxLength: 8192, description: 'PEM-formatted public key (SPKI and PKCS1) or X509 certificate. Private keys are refused.' });
const Kid = Type.String({ pattern: '^[0-9a-zA-Z-_]{10,64}$', description: 'Key ID that JWTs signed by this credential carry; generated (RFC 7638 thumbprint) when not given.' });
const ExpiresAt = Type.String({ minLength: 1, description: 'ISO 8601 date after which the credential is refused. Absent: never expires.' });
const CredentialName = Type.String({ maxLength: 128, description: 'Friendly name for a credential.' });
/** RFC 8705 §2.1.2: a tls_client_auth credential may name one subject alternative name instead of a subject DN. */
export const SanFields = {
  tls_client_auth_san_dns: Type.Optional(Type.String({ minLength: 1, maxLength: 253, description: 'A dNSName SAN the certificate must carry (RFC 8705 §2.1.2). Tessera extension.' })),
  tls_client_auth_san_uri: Type.Optional(Type.String({ minLength: 1, maxLength: 2048, description: 'A uniformResourceIdentifier SAN the certificate must carry. Tessera extension.' })),
  tls_client_auth_san_ip: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'An iPAddress SAN (IPv4 or IPv6) the certificate must carry. Tessera extension.' })),
  tls_client_auth_san_email: Type.Optional(Type.String({ minLength: 1, maxLength: 320, description: 'An rfc822Name SAN the certificate must carry. Tessera extension.' })),
};
export const CredentialCreateBody = Type.Object({
  credential_type: StringEnum(['public_key', 'cert_subject_dn', 'x509_cert'] as const, { description: 'The type of credential.' }),
  name: Type.Optional(CredentialName),
  subject_dn: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: 'Subject Distinguished Name. Mutually exclusive with pem. Applies to cert_subject_dn.' })),
  pem: Type.Optional(Pem),
  alg: Type.Optional(StringEnum(['RS256', 'RS384', 'PS256'] as const, { description: 'Algorithm of the credential (public_key); RS256 when not given.' })),
  parse_expiry_from_cert: Type.Optional(Type.Boolean({ description: 'Take expires_at from the certificate in pem (public_key).' })),
  expires_at: Type.Optional(ExpiresAt),
  kid: Type.Optional(Kid),
  ...SanFields,
}, { additionalProperties: false });
export const CredentialPatchBody = Type.Object({
  expires_at: Type.Optional(Nullable(Type.String({ minLength: 1, description: 'ISO 8601 expiry; null removes it.' }))),
}, { additionalProperties: false });
export const CredentialResponse = Type.Object({
  id: Type.String(), name: Type.String(), kid: Type.Optional(Type.String()), alg: Type.Optional(Type.String()),
  credential_type: Type.String(), subject_dn: Type.Optional(Type.String()),
  tls_client_auth_san_dns: Type.Optional(Type.String()), tls_client_auth_san_uri: Type.Optional(Type.String()),
  tls_client_auth_san_ip: Type.Optional(Type.String()), tls_client_auth_san_email: Type.Optional(Type.String()),
  thumbprint_sha256: Type.Optional(Type.String()), created_at: Type.String(), updated_at: Type.String(), expires_at: Type.Optional(Type.String()),
});

const Credential = Type.Union([
  Type.Object({
    credential_type: Type.Literal('public_key'), name: Type.Optional(CredentialName), pem: Pem,
    alg: Type.Optional(StringEnum(['RS256', 'RS384', 'PS256'] as const)), kid: Type.Optional(Kid),
    parse_expiry_from_cert: Type.Optional(Type.Boolean()), expires_at: Type.Optional(ExpiresAt),
  }, { additionalProperties: false }),
  Type.Object({ id: Type.String({ minLength: 1 }) }, { additionalProperties: false }),
]);
/** A tls_client_auth credential: a CA-issued certificate, its subject DN or one SAN (exactly one), or an existing one by id. */
const DnCredential = Type.Union([
  Type.Object({
    credential_type: Type.Literal('cert_subject_dn'), name: Type.Optional(CredentialName),
    pem: Type.Optional(Type.String({ minLength: 1, maxLength: 8192, description: 'PEM-formatted X509 certificate. Mutually exclusive with subject_dn.' })),
    subject_dn: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: 'Subject Distinguished Name. Mutually exclusive with pem.' })),
    expires_at: Type.Optional(ExpiresAt), ...SanFields,
  }, { additionalProperties: false }),
  Type.Object({ id: Type.String({ minLength: 1 }) }, { additionalProperties: false }),
]);
/** A self_signed_tls_client_auth certificate (RFC 8705 §2.2), or an existing one by id. */
const CertCredential = Type.Union([
  Type.Object({
    credential_type: Type.Literal('x509_cert'), name: Type.Optional(CredentialName),
    pem: Type.String({ minLength: 1, maxLength: 8192, description: 'PEM-formatted X509 certificate.' }), expires_at: Type.Optional(ExpiresAt),
  }, { additionalProperties: false }),
  Type.Object({ id: Type.String({ minLength: 1 }) }, { additionalProperties: false }),
]);

const Seconds = Type.Integer({ minimum: 1, maximum: 2 ** 31 - 1 });
/** Auth0's refresh-token settings of a client; every field is enforced at the token endpoint. */
const RefreshTokenConfig = Type.Object({
  rotation_type: Type.Optional(StringEnum(['rotating', 'non-rotating'] as const, { description: 'Whether each use of a refresh token returns a new one (rotating) or the same one stays valid (non-rotating).' })),
  expiration_type: Type.Optional(StringEnum(['expiring', 'non-expiring'] as const, { description: 'Whether refresh tokens expire (token_lifetime, idle_token_lifetime).' })),
  leeway: Type.Optional(Type.Integer({ minimum: 0, maximum: 2 ** 31 - 1, description: 'Seconds during which a rotated refresh token may be used again without being treated as reuse.' })),
  token_lifetime: Type.Optional({ ...Seconds, description: 'Absolute lifetime of a refresh-token family, in seconds.' }),
  infinite_token_lifetime: Type.Optional(Type.Boolean({ description: 'No absolute lifetime (token_lifetime is ignored).' })),
  idle_token_lifetime: Type.Optional({ ...Seconds, description: 'Inactivity lifetime of a refresh token, in seconds.' }),
  infinite_idle_token_lifetime: Type.Optional(Type.Boolean({ description: 'No inactivity lifetime (idle_token_lifetime is ignored).' })),
}, { additionalProperties: false });

const fields = {
  name: Type.String({ minLength: 1, pattern: '^[^<>]+$', description: 'Name of this client (min length: 1 character, does not allow `<` or `>`).' }),
  description: Type.String({ maxLength: 140, description: 'Free text description of this client (max length: 140 characters).' }),
  logo_uri: Url,
  callbacks: Type.Array(Url, { description: 'Comma-separated list of URLs whitelisted for Auth0 to use as a callback to the client after authentication.' }),
  allowed_origins: Type.Array(Url), web_origins: Type.Array(Url), allowed_logout_urls: Type.Array(Url), allowed_clients: Type.Array(Type.String()),
  initiate_login_uri: Url,
  app_type: StringEnum(APP_TYPES, { description: 'The type of application this client represents' }),
  grant_types: Type.Array(StringEnum(GRANT_TYPES), { description: 'List of grant types supported for this application.' }),
  token_endpoint_auth_method: Nullable(StringEnum(['none', 'client_secret_post', 'client_secret_basic'] as const, { description: 'Defines the requested authentication method for the token endpoint. When not given on create: `none` for `spa` and `native` applications, `client_secret_post` for the others, and nothing when `client_authentication_methods` is given.' })),
  is_first_party: Type.Boolean({ description: 'Whether this client a first party client (true) or not (false).' }),
  oidc_conformant: Type.Boolean(),
  is_token_endpoint_ip_header_trusted: Type.Boolean(),
  sso: Type.Boolean(), sso_disabled: Type.Boolean(), cross_origin_authentication: Type.Boolean(), custom_login_page_on: Type.Boolean(),
  cross_origin_loc: Url, custom_login_page: Type.String(), custom_login_page_preview: Type.String(), form_template: Type.String(),
  jwt_configuration: Type.Object({
    lifetime_in_seconds: Type.Optional(Type.Integer({ minimum: 0, description: 'Lifetime of ID tokens in seconds (36000 when the client is created without `jwt_configuration`).' })), secret_encoded: Type.Optional(Type.Boolean()),
    scopes: Type.Optional(Type.Object({}, { additionalProperties: true })),
    alg: Type.Optional(StringEnum(['HS256', 'RS256', 'RS512', 'PS256'] as const)),
  }, { additionalProperties: true }),
  client_metadata: Type.Record(Type.String(), Type.String({ maxLength: 255 }), { maxProperties: 10, description: 'Metadata associated with the client, in the form of an object with string values (max 255 chars). Maximum of 10 metadata properties allowed.' }),
  refresh_token: Nullable(RefreshTokenConfig),
  organization_usage: StringEnum(['deny', 'allow', 'require'] as const),
  organization_require_behavior: Nullable(StringEnum(['no_prompt', 'pre_login_prompt', 'post_login_prompt'] as const)),
  default_organization: Nullable(Type.Object({ organization_id: Type.String(), flows: Type.Array(Type.Literal('client_credentials')) }, { additionalProperties: false })),
  client_authentication_methods: Nullable(Type.Object({
    private_key_jwt: Type.Optional(Type.Object({ credentials: Type.Array(Credential, { minItems: 1, maxItems: 2 }) }, { additionalProperties: false })),
    self_signed_tls_client_auth: Type.Optional(Type.Object({ credentials: Type.Array(CertCredential, { minItems: 1, maxItems: 2 }) }, { additionalProperties: false })),
    tls_client_auth: Type.Optional(Type.Object({ credentials: Type.Array(DnCredential, { minItems: 1, maxItems: 2 }) }, { additionalProperties: false })),
  }, { additionalProperties: false })),
  require_proof_of_possession: Type.Boolean(),
  require_pushed_authorization_requests: Type.Boolean(),
  addons: Type.Object({}, { additionalProperties: true }), mobile: Type.Object({}, { additionalProperties: true }),
  native_social_login: Type.Object({}, { additionalProperties: true }), encryption_key: Nullable(Type.Object({}, { additionalProperties: true })),
  client_aliases: Type.Array(Type.String()), oidc_logout: Type.Object({}, { additionalProperties: true }),
  compliance_level: Nullable(Type.String()),
  token_exchange: Nullable(Type.Object({
    allow_any_profile_of_type: Type.Optional(Type.Array(StringEnum(['custom_authentication', 'on_behalf_of_token_exchange'] as const), { uniqueItems: true, description: 'The token exchange types this client may use.' })),
  }, { additionalProperties: false, description: 'Token exchange settings (stored and returned; Tessera has no token exchange grant).' })),
  skip_non_verifiable_callback_uri_confirmation_prompt: Nullable(Type.Boolean({ description: 'Skip the confirmation prompt for callback URIs that cannot be verified (stored and returned; Tessera shows no such prompt).' })),
  token_quota: Nullable(TokenQuotaBody),
  tessera_token_reuse: Nullable(Type.Boolean({ description: 'Tessera extension: hand out a still-valid client_credentials token again instead of signing a new one; null follows the tenant default (TESSERA_TOKEN_REUSE).' })),
};
const optional = Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, Type.Optional(v)])) as { [K in keyof typeof fields]: TOptional<(typeof fields)[K]> };
const { name: _n, ...patchFields } = optional;

export const ClientCreateBody = Type.Object({
  ...withDefaults(optional, { ...CLIENT_DEFAULTS, grant_types: DEFAULT_GRANT_TYPES }), name: fields.name,
  resource_server_identifier: Type.Optional(Type.String({ minLength: 1, maxLength: 600, description: 'The identifier of the API this client represents; only with app_type resource_server, and fixed once created.' })),
}, { additionalProperties: false });
export const ClientPatchBody = Type.Object({
  ...patchFields, name: Type.Optional(fields.name),
  client_secret: Type.Optional(Type.String({ minLength: 1, description: 'The secret used to sign tokens for the client' })),
}, { additionalProperties: false });

const Any = Type.Object({}, { additionalProperties: true });
export const ClientResponse = Type.Object({
  client_id: Type.String(), tenant: Type.Optional(Type.String()), name: Type.String(), description: Type.Optional(Type.String()),
  global: Type.Optional(Type.Boolean()), client_secret: Type.Optional(Type.String()),
  app_type: Type.Optional(Type.String()), logo_uri: Type.Optional(Type.String()),
  is_first_party: Type.Boolean(), oidc_conformant: Type.Boolean(), is_token_endpoint_ip_header_trusted: Type.Boolean(),
  callbacks: Type.Optional(Type.Array(Type.String())), allowed_origins: Type.Optional(Type.Array(Type.String())),
  web_origins: Type.Optional(Type.Array(Type.String())), allowed_logout_urls: Type.Optional(Type.Array(Type.String())),
  allowed_clients: Type.Optional(Type.Array(Type.String())), initiate_login_uri: Type.Optional(Type.String()),
  grant_types: Type.Array(Type.String()), jwt_configuration: Any, signing_keys: Type.Optional(Type.Array(Any)),
  sso: Type.Optional(Type.Boolean()), sso_disabled: Type.Boolean(), cross_origin_authentication: Type.Boolean(),
  custom_login_page_on: Type.Boolean(), token_endpoint_auth_method: Type.Optional(Type.String()),
  client_metadata: Type.Optional(Type.Record(Type.String(), Type.String())), refresh_token: Type.Optional(Any),
  organization_usage: Type.Optional(Type.String()), organization_require_behavior: Type.Optional(Type.String()),
  default_organization: Type.Optional(Any),
  client_authentication_methods: Type.Optional(Type.Object({
    private_key_jwt: Type.Optional(Type.Object({ credentials: Type.Array(Type.Object({ id: Type.String() })) })),
    self_signed_tls_client_auth: Type.Optional(Type.Object({ credentials: Type.Array(Type.Object({ id: Type.String() })) })),
    tls_client_auth: Type.Optional(Type.Object({ credentials: Type.Array(Type.Object({ id: Type.String() })) })),
  })),
  require_proof_of_possession: Type.Optional(Type.Boolean()), require_pushed_authorization_requests: Type.Optional(Type.Boolean()),
  addons: Type.Optional(Any), mobile: Type.Optional(Any), native_social_login: Type.Optional(Any), encryption_key: Type.Optional(Any),
  client_aliases: Type.Optional(Type.Array(Type.String())), oidc_logout: Type.Optional(Any), compliance_level: Type.Optional(Type.String()),
  token_quota: Type.Optional(TokenQuotaResponse), tessera_token_reuse: Type.Optional(Type.Boolean()),
  cross_origin_loc: Type.Optional(Type.String()), custom_login_page: Type.Optional(Type.String()),
  custom_login_page_preview: Type.Optional(Type.String()), form_template: Type.Optional(Type.String()),
  token_exchange: Type.Optional(Type.Object({ allow_any_profile_of_type: Type.Optional(Type.Array(Type.String())) })),
  skip_non_verifiable_callback_uri_confirmation_prompt: Type.Optional(Type.Boolean()),
  resource_server_identifier: Type.Optional(Type.String()),
});
