import type { FieldChange } from './plan-types';
import type { Json, ResourceServerSpecT } from './types';
import { DEFAULT_TOKEN_LIFETIME, DEFAULT_TOKEN_LIFETIME_FOR_WEB } from './validate';

/** Canonical JSON (sorted keys) for equality checks. */
export function canon(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canon).join(',')}]`;
  if (v && typeof v === 'object') return `{${Object.keys(v).sort().filter((k) => (v as Json)[k] !== undefined).map((k) => `${JSON.stringify(k)}:${canon((v as Json)[k])}`).join(',')}}`;
  return JSON.stringify(v ?? null);
}
export const same = (a: unknown, b: unknown) => canon(a) === canon(b);

/** PEM → RFC 7638 thumbprint, computed before planning so the planner stays synchronous and pure. */
export type Thumbprints = Map<string, string>;

type Effective = (v: Json) => unknown;
interface FieldRule {
  /** The value a manifest means (undefined = the manifest does not manage this field). */
  desired: (s: ResourceServerSpecT, tp: Thumbprints) => unknown;
  live: Effective;
  /** Order-insensitive comparison. */
  sorted?: boolean;
  sensitive?: boolean;
}

const orNull = (v: unknown) => (v === undefined ? null : v);
const policies = (sta: unknown) => {
  const s = (sta ?? {}) as { user?: { policy?: string }; client?: { policy?: string } };
  return { client: { policy: s.client?.policy ?? 'require_client_grant' }, user: { policy: s.user?.policy ?? 'allow_all' } };
};
const encryptionView = (te: unknown, tp?: Thumbprints) => {
  if (!te) return null;
  const t = te as { format: string; encryption_key: { name?: string; alg: string; kid?: string; pem?: string; thumbprint_sha256?: string } };
  const k = t.encryption_key;
  const thumb = k.pem !== undefined ? tp?.get(k.pem) : k.thumbprint_sha256;
  return { format: t.format, encryption_key: { ...(k.name !== undefined && { name: k.name }), alg: k.alg, ...(k.kid !== undefined && { kid: k.kid }), thumbprint_sha256: thumb } };
};
const scopeList = (v: unknown) => ((v as Array<{ value: string; description?: string }> | undefined) ?? []).map((s) => ({ value: s.value, ...(s.description !== undefined && { description: s.description }) }));

/**
 * Every managed field with the meaning of "not in the manifest": the Auth0 default for fields that have one,
 * "absent" for nullable objects, "unmanaged" (skipped) for name, signing_secret and a few write-mostly fields.
 */
export const RS_FIELDS: Record<string, FieldRule> = {
  name: { desired: (s) => s.name, live: (v) => v.name },
  scopes: { desired: (s) => scopeList(s.scopes), live: (v) => scopeList(v.scopes), sorted: true },
  signing_alg: { desired: (s) => s.signing_alg ?? 'RS256', live: (v) => v.signing_alg ?? 'RS256' },
  signing_secret: { desired: (s) => s.signing_secret, live: (v) => v.signing_secret, sensitive: true },
  allow_offline_access: { desired: (s) => s.allow_offline_access ?? false, live: (v) => v.allow_offline_access ?? false },
  allow_online_access: { desired: (s) => s.allow_online_access, live: (v) => v.allow_online_access ?? false },
  allow_online_access_with_ephemeral_sessions: { desired: (s) => s.allow_online_access_with_ephemeral_sessions, live: (v) => v.allow_online_access_with_ephemeral_sessions ?? false },
  token_lifetime: { desired: (s) => s.token_lifetime ?? DEFAULT_TOKEN_LIFETIME, live: (v) => v.token_lifetime ?? DEFAULT_TOKEN_LIFETIME },
  token_lifetime_for_web: {
    desired: (s) => s.token_lifetime_for_web ?? Math.min(DEFAULT_TOKEN_LIFETIME_FOR_WEB, s.token_lifetime ?? DEFAULT_TOKEN_LIFETIME),
    live: (v) => v.token_lifetime_for_web ?? DEFAULT_TOKEN_LIFETIME_FOR_WEB,
  },
  token_lifetime_for_anonymous_access_tokens: { desired: (s) => orNull(s.token_lifetime_for_anonymous_access_tokens), live: (v) => orNull(v.token_lifetime_for_anonymous_access_tokens) },
  skip_consent_for_verifiable_first_party_clients: { desired: (s) => s.skip_consent_for_verifiable_first_party_clients ?? false, live: (v) => v.skip_consent_for_verifiable_first_party_clients ?? false },
  enforce_policies: { desired: (s) => s.enforce_policies ?? false, live: (v) => v.enforce_policies ?? false },
  token_dialect: { desired: (s) => s.token_dialect ?? 'access_token', live: (v) => v.token_dialect ?? 'access_token' },
  consent_policy: { desired: (s) => orNull(s.consent_policy), live: (v) => orNull(v.consent_policy) },
  authorization_details: { desired: (s) => orNull(s.authorization_details), live: (v) => orNull(v.authorization_details) },
  token_encryption: { desired: (s, tp) => encryptionView(s.token_encryption, tp), live: (v) => encryptionView(v.token_encryption) },
  proof_of_possession: { desired: (s) => orNull(s.proof_of_possession), live: (v) => orNull(v.proof_of_possession) },
  subject_type_authorization: { desired: (s) => policies(s.subject_type_authorization), live: (v) => policies(v.subject_type_authorization) },
  authorization_policy: { desired: (s) => orNull(s.authorization_policy), live: (v) => orNull(v.authorization_policy) },
  verification_location: { desired: (s) => s.verification_location, live: (v) => v.verification_location },
};

const sortScopes = (v: unknown) => (Array.isArray(v) ? [...v].sort((a, b) => String(a.value).localeCompare(String(b.value))) : v);

/** Field-level differences between a manifest and a live API (identifier excluded). */
export function diffResourceServer(spec: ResourceServerSpecT, live: Json, tp: Thumbprints): FieldChange[] {
  const out: FieldChange[] = [];
  for (const [field, rule] of Object.entries(RS_FIELDS)) {
    const after = rule.desired(spec, tp);
    if (after === undefined) continue;
    const before = rule.live(live);
    const eq = rule.sorted ? same(sortScopes(before), sortScopes(after)) : same(before, after);
    if (!eq) out.push({ field, before: before ?? null, after, ...(rule.sensitive && { sensitive: true }) });
  }
  return out;
}

/** The wire value to send for a field: the manifest's value, or what "absent" means (null clears). */
export function wireValue(field: string, spec: ResourceServerSpecT, tp: Thumbprints): unknown {
  if (field === 'token_encryption') {
    const te = spec.token_encryption;
    if (!te) return null;
    const { thumbprint_sha256: _t, ...key } = te.encryption_key;
    return { format: te.format, encryption_key: key };
  }
  if (field === 'scopes') return scopeList(spec.scopes);
  return RS_FIELDS[field].desired(spec, tp);
}

/**
 * The POST body: the manifest as written (nulls dropped, thumbprint-only keys are refused by the planner). An API
 * without spec.name is named after its manifest (`metadata.name`), as Project Planton's module does: that name is
 * how a later identifier change of the same manifest is recognised as a replace.
 */
export function createBody(spec: ResourceServerSpecT, tp: Thumbprints, manifestName: string): Json {
  const body: Json = spec.name === undefined ? { identifier: spec.identifier, name: manifestName } : {};
  for (const [k, v] of Object.entries(spec)) {
    if (v === undefined || v === null) continue;
    body[k] = k === 'token_encryption' || k === 'scopes' ? wireValue(k, spec, tp) : v;
  }
  return body;
}

/** The manifest spec of a live API: only what differs from the defaults (what export writes). */
export function specOfLive(v: Json, withSecrets: boolean): ResourceServerSpecT {
  const spec: Json = { identifier: v.identifier };
  const empty = { identifier: String(v.identifier) } as ResourceServerSpecT;
  for (const [field, rule] of Object.entries(RS_FIELDS)) {
    const value = field === 'token_encryption' ? encryptionView(v.token_encryption) : field === 'scopes' ? scopeList(v.scopes) : rule.live(v);
    if (value === undefined || value === null) continue;
    if (field === 'signing_secret' && !withSecrets) continue;
    if (field === 'scopes' && (value as unknown[]).length === 0 && v.scopes === undefined) continue;
    const implied = rule.desired(empty, new Map());
    if (field === 'token_lifetime_for_web') {
      const tl = (spec.token_lifetime as number | undefined) ?? DEFAULT_TOKEN_LIFETIME;
      if (value === Math.min(DEFAULT_TOKEN_LIFETIME_FOR_WEB, tl)) continue;
    } else if (implied !== undefined && same(implied, value)) continue;
    if ((field === 'allow_online_access' || field === 'allow_online_access_with_ephemeral_sessions') && v[field] === undefined) continue;
    spec[field] = value;
  }
  return spec as ResourceServerSpecT;
}
