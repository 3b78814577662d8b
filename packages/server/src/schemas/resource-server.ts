import { Type, type TOptional } from '@sinclair/typebox';
import { ENCRYPTION_ALGS, MAX_TOKEN_LIFETIME, RESOURCE_SERVER_DEFAULTS, SIGNING_ALGS, TOKEN_DIALECTS } from '@tessera/core';
import { Nullable, OffsetPaging, StringEnum, withDefaults } from './common';

const Scope = Type.Object({
  value: Type.String({ minLength: 1, maxLength: 280, description: 'Value of this scope.' }),
  description: Type.Optional(Type.String({ maxLength: 500, description: 'User-friendly description of this scope.' })),
}, { additionalProperties: false });

const fields = {
  name: Type.String({ minLength: 1, maxLength: 200, pattern: '^[^<>]+$', description: 'Friendly name for this resource server. Can not contain `<` or `>` characters.' }),
  scopes: Type.Array(Scope, { description: 'List of permissions (scopes) that this API uses.' }),
  signing_alg: StringEnum(SIGNING_ALGS, { description: 'Algorithm used to sign JWTs. Can be `RS256` (default), `RS512`, `PS256` or `HS256`.' }),
  signing_secret: Type.String({ minLength: 16, description: 'Secret used to sign tokens when using symmetric algorithms (HS256).' }),
  allow_offline_access: Type.Boolean({ description: 'Whether refresh tokens can be issued for this API (true) or not (false).' }),
  allow_online_access: Type.Boolean({ description: 'Whether Online Refresh Tokens can be issued for this API (true) or not (false).' }),
  allow_online_access_with_ephemeral_sessions: Type.Boolean({ description: 'Whether Online Refresh Tokens can be issued for ephemeral sessions.' }),
  skip_consent_for_verifiable_first_party_clients: Type.Boolean({ description: 'Whether to skip user consent for applications flagged as first party (true) or not (false).' }),
  token_lifetime: Type.Integer({ minimum: 0, maximum: MAX_TOKEN_LIFETIME, description: 'Expiration value (in seconds) for access tokens issued for this API from the token endpoint.' }),
  token_lifetime_for_web: Type.Integer({ minimum: 0, maximum: MAX_TOKEN_LIFETIME, description: 'Expiration value (in seconds) for access tokens issued for this API via Implicit or Hybrid Flows. Cannot be greater than the `token_lifetime` value.' }),
  token_lifetime_for_anonymous_access_tokens: Nullable(Type.Integer({ minimum: 0, maximum: MAX_TOKEN_LIFETIME, description: 'Expiration value (in seconds) for anonymous access tokens.' })),
  enforce_policies: Type.Boolean({ description: 'Whether to enforce authorization policies (true) or to ignore them (false).' }),
  token_dialect: StringEnum(TOKEN_DIALECTS, { description: 'Dialect of access tokens that should be issued.' }),
  token_encryption: Nullable(Type.Object({
    format: Type.Literal('compact-nested-jwe', { description: 'Format of the encrypted JWT payload.' }),
    encryption_key: Type.Object({
      name: Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: 'Name of the encryption key.' })),
      alg: Type.Optional(StringEnum(ENCRYPTION_ALGS, { description: 'Algorithm used to encrypt the token.' })),
      algorithm: Type.Optional(StringEnum(ENCRYPTION_ALGS, { description: "Terraform's name for `alg`; accepted on input, returned as `alg`." })),
      kid: Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: 'Key ID.' })),
      pem: Type.String({ minLength: 1, maxLength: 4096, description: 'PEM-formatted RSA public key or certificate (at least 2048 bits; never a private key). Write-only. Must be JSON escaped.' }),
    }, { additionalProperties: false }),
  }, { additionalProperties: false })),
  consent_policy: Nullable(Type.Literal('transactional-authorization-with-mfa', { description: 'Consent policy for this resource server.' })),
  authorization_details: Nullable(Type.Array(Type.Object({ type: Type.String({ minLength: 1, maxLength: 255 }) }, { additionalProperties: true }), { description: 'Authorization details types registered on this API.' })),
  proof_of_possession: Nullable(Type.Object({
    mechanism: StringEnum(['mtls', 'dpop'] as const, { description: 'Intended mechanism for Proof-of-Possession.' }),
    required: Type.Boolean({ description: 'Whether the use of Proof-of-Possession is required for the resource server.' }),
    required_for: Type.Optional(StringEnum(['public_clients', 'all_clients'] as const)),
  }, { additionalProperties: false })),
  subject_type_authorization: Type.Object({
    user: Type.Optional(Type.Object({ policy: Type.Optional(StringEnum(['allow_all', 'deny_all', 'require_client_grant'] as const)) }, { additionalProperties: true })),
    client: Type.Optional(Type.Object({ policy: Type.Optional(StringEnum(['deny_all', 'require_client_grant'] as const)) }, { additionalProperties: true })),
    anonymous_user: Type.Optional(Type.Object({ policy: Type.Optional(StringEnum(['deny_all', 'require_client_grant'] as const)) }, { additionalProperties: true })),
  }, { additionalProperties: false, description: 'Defines application access permission policies for user and client flows.' }),
  authorization_policy: Nullable(Type.Object({ policy_id: Type.String({ minLength: 1, maxLength: 1024 }) }, { additionalProperties: false })),
  verification_location: Type.String({ description: 'Legacy verification location.' }),
};

/** The fields of an API body, for other schemas that take some of them (explain's assumptions). */
export { fields as resourceServerFields };

const optional = Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, Type.Optional(v)])) as { [K in keyof typeof fields]: TOptional<(typeof fields)[K]> };

export const ResourceServerCreateBody = Type.Object({
  identifier: Type.String({ minLength: 1, maxLength: 600, description: 'Unique identifier for the API used as the audience parameter on authorization calls. Can not be changed once set.' }),
  ...withDefaults(optional, RESOURCE_SERVER_DEFAULTS),
}, { additionalProperties: false });

export const ResourceServerPatchBody = Type.Object(optional, { additionalProperties: false });

/** The response: what is stored, never `pem`; keys absent until set. */
export const ResourceServerResponse = Type.Object({
  id: Type.String(),
  name: Type.Optional(Type.String()),
  identifier: Type.String(),
  allow_offline_access: Type.Boolean(),
  allow_online_access: Type.Optional(Type.Boolean()),
  allow_online_access_with_ephemeral_sessions: Type.Optional(Type.Boolean()),
  skip_consent_for_verifiable_first_party_clients: Type.Boolean(),
  subject_type_authorization: Type.Object({}, { additionalProperties: true }),
  token_lifetime: Type.Integer(),
  token_lifetime_for_web: Type.Integer(),
  token_lifetime_for_anonymous_access_tokens: Type.Optional(Type.Integer()),
  signing_alg: Type.String(),
  signing_secret: Type.Optional(Type.String()),
  scopes: Type.Optional(Type.Array(Type.Object({ value: Type.String(), description: Type.Optional(Type.String()) }))),
  is_system: Type.Optional(Type.Boolean()),
  enforce_policies: Type.Optional(Type.Boolean()),
  token_dialect: Type.Optional(Type.String()),
  token_encryption: Type.Optional(Type.Object({
    format: Type.String(),
    encryption_key: Type.Object({ name: Type.Optional(Type.String()), alg: Type.String(), kid: Type.Optional(Type.String()), thumbprint_sha256: Type.String() }),
  })),
  consent_policy: Type.Optional(Type.String()),
  authorization_details: Type.Optional(Type.Array(Type.Object({}, { additionalProperties: true }))),
  proof_of_possession: Type.Optional(Type.Object({ mechanism: Type.String(), required: Type.Boolean(), required_for: Type.Optional(Type.String()) })),
  authorization_policy: Type.Optional(Type.Object({ policy_id: Type.String() })),
  verification_location: Type.Optional(Type.String()),
  client_id: Type.Optional(Type.String()),
});

export const ResourceServerListQuery = Type.Object({
  identifiers: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { maxItems: 10, description: 'An optional filter on the resource server identifier. Must be URL encoded and may be specified multiple times (max 10).' })),
  ...OffsetPaging,
  include_fields: Type.Optional(Type.Boolean()),
}, { additionalProperties: true });
