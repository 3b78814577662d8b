import { same } from './plan-resource-servers';
import type { FieldChange } from './plan-types';
import type { ClientGrantSpecT, ClientSpecT, Json } from './types';

/** Client fields export writes and apply manages; fields absent from a manifest are left as they are. */
export const CLIENT_FIELDS = [
  'name', 'description', 'app_type', 'grant_types', 'token_endpoint_auth_method', 'is_first_party', 'oidc_conformant',
  'jwt_configuration', 'callbacks', 'allowed_origins', 'web_origins', 'allowed_logout_urls', 'initiate_login_uri',
  'logo_uri', 'client_metadata', 'organization_usage', 'require_proof_of_possession', 'token_quota', 'tessera_token_reuse',
  'refresh_token',
] as const;
const UNORDERED = new Set(['grant_types']);
/** Objects the server merges key by key on PATCH, with the keys a manifest may set. */
const MERGED: Record<string, readonly string[]> = {
  jwt_configuration: ['lifetime_in_seconds', 'alg', 'scopes'],
  refresh_token: ['rotation_type', 'expiration_type', 'leeway', 'token_lifetime', 'infinite_token_lifetime', 'idle_token_lifetime', 'infinite_idle_token_lifetime'],
};

const mergedView = (field: string, v: unknown, keys?: readonly string[]) => {
  const j = (v ?? {}) as Json;
  return Object.fromEntries((keys ?? MERGED[field]).filter((k) => j[k] !== undefined).map((k) => [k, j[k]]));
};
const sortedIf = (field: string, v: unknown) => (UNORDERED.has(field) && Array.isArray(v) ? [...v].sort() : v);

export function diffClient(spec: ClientSpecT, live: Json): FieldChange[] {
  const out: FieldChange[] = [];
  for (const field of CLIENT_FIELDS) {
    const after = (spec as Json)[field];
    if (after === undefined) continue;
    // jwt_configuration and refresh_token are merged key by key on the server: compare only the keys the manifest sets.
    const before = MERGED[field] ? mergedView(field, live[field], Object.keys(after as Json)) : live[field];
    if (!same(sortedIf(field, before), sortedIf(field, after))) out.push({ field, before: before ?? null, after });
  }
  return out;
}

export function clientSpecOfLive(c: Json): ClientSpecT {
  const spec: Json = {};
  for (const field of CLIENT_FIELDS) {
    const v = MERGED[field] ? mergedView(field, c[field]) : c[field];
    if (v === undefined || v === null) continue;
    if (MERGED[field] && Object.keys(v as Json).length === 0) continue;
    spec[field] = v;
  }
  return spec as ClientSpecT;
}

/** Grant fields: "absent" means none / false / unset, so a manifest fully describes its grant. */
export function grantWanted(s: ClientGrantSpecT): Json {
  return {
    scope: s.allow_all_scopes ? [] : [...(s.scope ?? [])].sort(),
    allow_all_scopes: s.allow_all_scopes ?? false,
    organization_usage: s.organization_usage ?? null,
    allow_any_organization: s.allow_any_organization ?? false,
    ...(s.authorization_details_types !== undefined && { authorization_details_types: s.authorization_details_types }),
  };
}

export function grantHave(g: Json, keys: string[]): Json {
  const all: Json = {
    scope: g.allow_all_scopes ? [] : [...((g.scope as string[] | undefined) ?? [])].sort(),
    allow_all_scopes: g.allow_all_scopes ?? false,
    organization_usage: g.organization_usage ?? null,
    allow_any_organization: g.allow_any_organization ?? false,
    authorization_details_types: g.authorization_details_types ?? [],
  };
  return Object.fromEntries(keys.map((k) => [k, all[k]]));
}

export function diffGrant(spec: ClientGrantSpecT, live: Json): { fields: FieldChange[]; body: Json } {
  const want = grantWanted(spec);
  const have = grantHave(live, Object.keys(want));
  const fields: FieldChange[] = [];
  const body: Json = {};
  for (const k of Object.keys(want)) {
    if (same(have[k], want[k])) continue;
    fields.push({ field: k, before: have[k], after: want[k] });
    body[k] = k === 'scope' ? (spec.allow_all_scopes ? [] : spec.scope ?? []) : want[k];
  }
  // Leaving allow_all_scopes needs the explicit scope list in the same PATCH.
  if ('allow_all_scopes' in body && !spec.allow_all_scopes) body.scope = spec.scope ?? [];
  if (spec.allow_all_scopes) delete body.scope;
  return { fields, body };
}

export function grantCreateBody(spec: ClientGrantSpecT, clientId: string | undefined): Json {
  return {
    ...(clientId !== undefined && { client_id: clientId }),
    audience: spec.audience,
    ...(spec.allow_all_scopes ? { allow_all_scopes: true } : { scope: spec.scope ?? [] }),
    ...(spec.subject_type !== undefined && { subject_type: spec.subject_type }),
    ...(spec.organization_usage !== undefined && { organization_usage: spec.organization_usage }),
    ...(spec.allow_any_organization !== undefined && { allow_any_organization: spec.allow_any_organization }),
    ...(spec.authorization_details_types !== undefined && { authorization_details_types: spec.authorization_details_types }),
  };
}

export function grantSpecOfLive(g: Json, clientRef: string): ClientGrantSpecT {
  return {
    client: clientRef,
    audience: String(g.audience),
    ...(g.allow_all_scopes ? { allow_all_scopes: true } : { scope: (g.scope as string[] | undefined) ?? [] }),
    ...(g.subject_type !== undefined && g.subject_type !== 'client' && { subject_type: g.subject_type as 'user' }),
    ...(g.organization_usage != null && { organization_usage: g.organization_usage as 'allow' }),
    ...(g.allow_any_organization === true && { allow_any_organization: true }),
    ...(Array.isArray(g.authorization_details_types) && g.authorization_details_types.length > 0 && { authorization_details_types: g.authorization_details_types as string[] }),
  };
}
