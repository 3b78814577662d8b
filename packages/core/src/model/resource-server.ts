export const SIGNING_ALGS = ['HS256', 'RS256', 'RS512', 'PS256'] as const;
export type SigningAlg = (typeof SIGNING_ALGS)[number];
export const TOKEN_DIALECTS = ['access_token', 'access_token_authz', 'rfc9068_profile', 'rfc9068_profile_authz'] as const;
export type TokenDialect = (typeof TOKEN_DIALECTS)[number];

export const MAX_TOKEN_LIFETIME = 2_592_000;

/** What an API created without these fields gets (Auth0's create response, contract §2.2); also the documented defaults. */
export const RESOURCE_SERVER_DEFAULTS = {
  allow_offline_access: false,
  skip_consent_for_verifiable_first_party_clients: false,
  token_lifetime: 86400,
  token_lifetime_for_web: 7200,
  signing_alg: 'RS256',
} as const satisfies { signing_alg: SigningAlg; [k: string]: unknown };

export interface ScopeDef { value: string; description?: string }

export const ENCRYPTION_ALGS = ['RSA-OAEP-256', 'RSA-OAEP-384', 'RSA-OAEP-512'] as const;
export type EncryptionAlg = (typeof ENCRYPTION_ALGS)[number];
/** What a caller sends: `alg` (Management API) or `algorithm` (Terraform's spelling of the same field). */
export interface EncryptionKeyInput { name?: string; alg?: EncryptionAlg; algorithm?: EncryptionAlg; kid?: string; pem: string }
export interface StoredEncryptionKey { name?: string; alg: EncryptionAlg; kid?: string; pem: string; thumbprint_sha256: string }
export interface TokenEncryption<K = StoredEncryptionKey> { format: 'compact-nested-jwe'; encryption_key: K }

export interface ProofOfPossession { mechanism: 'mtls' | 'dpop'; required: boolean; required_for?: 'public_clients' | 'all_clients' }

export type UserPolicy = 'allow_all' | 'deny_all' | 'require_client_grant';
export type ClientPolicy = 'deny_all' | 'require_client_grant';
export interface SubjectTypeAuthorization {
  user?: { policy?: UserPolicy; [k: string]: unknown };
  client?: { policy?: ClientPolicy; [k: string]: unknown };
  anonymous_user?: { policy?: 'deny_all' | 'require_client_grant'; [k: string]: unknown };
}

/**
 * A resource server (API) in Auth0's wire vocabulary. Optional keys are absent until set, so the
 * stored object is also the response (minus `token_encryption.encryption_key.pem`).
 */
export interface ResourceServer {
  id: string;
  identifier: string;
  name?: string;
  scopes?: ScopeDef[];
  signing_alg: SigningAlg;
  signing_secret?: string;
  allow_offline_access: boolean;
  allow_online_access?: boolean;
  allow_online_access_with_ephemeral_sessions?: boolean;
  skip_consent_for_verifiable_first_party_clients: boolean;
  subject_type_authorization: SubjectTypeAuthorization;
  token_lifetime: number;
  token_lifetime_for_web: number;
  token_lifetime_for_anonymous_access_tokens?: number;
  enforce_policies?: boolean;
  token_dialect?: TokenDialect;
  token_encryption?: TokenEncryption;
  consent_policy?: 'transactional-authorization-with-mfa';
  authorization_details?: Array<Record<string, unknown>>;
  proof_of_possession?: ProofOfPossession;
  authorization_policy?: { policy_id: string };
  verification_location?: string;
  is_system?: boolean;
  client_id?: string;
}

/** Fields a caller may send on create (id and is_system are server-side). */
export type ResourceServerCreate = Omit<Partial<ResourceServer>, 'id' | 'is_system' | 'client_id' | 'token_encryption'> & {
  identifier: string;
  token_encryption?: TokenEncryption<EncryptionKeyInput> | null;
} & NullableClears;

type NullableClears = {
  consent_policy?: ResourceServer['consent_policy'] | null;
  authorization_details?: ResourceServer['authorization_details'] | null;
  proof_of_possession?: ResourceServer['proof_of_possession'] | null;
  authorization_policy?: ResourceServer['authorization_policy'] | null;
  token_lifetime_for_anonymous_access_tokens?: number | null;
};

export type ResourceServerPatch = Omit<ResourceServerCreate, 'identifier'>;

/** Effective values used at run time (what Auth0 does when a key was never set). */
export const effective = {
  dialect: (rs: ResourceServer): TokenDialect => rs.token_dialect ?? 'access_token',
  clientPolicy: (rs: ResourceServer): ClientPolicy => rs.subject_type_authorization.client?.policy ?? 'require_client_grant',
  userPolicy: (rs: ResourceServer): UserPolicy => rs.subject_type_authorization.user?.policy ?? 'allow_all',
  scopeValues: (rs: ResourceServer): string[] => (rs.scopes ?? []).map((s) => s.value),
};
