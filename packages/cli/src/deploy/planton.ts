import type { ClientGrantSpecT, ClientSpecT, Path, ResourceServerSpecT } from './types';

/**
 * Project Planton's Auth0 kinds (apiVersion auth0.project-planton.org/v1) mapped onto Tessera's. The schemas in
 * schema.ts accept only the fields that map; this file does the mapping and says, for every resource it derives,
 * where each of its fields was written (for findings at the right line, in the user's words).
 */
type Json = Record<string, unknown>;

/** Auth0ResourceServer: scopes are `name`/`description` (→ `value`); otherwise the wire names. */
export function legacyResourceServer(spec: Json): ResourceServerSpecT {
  const scopes = spec.scopes as Array<{ name?: string; description?: string } | undefined> | undefined;
  if (!scopes) return spec as ResourceServerSpecT;
  return { ...spec, scopes: scopes.map((s) => s && (s.description === undefined ? { value: s.name } : { value: s.name, description: s.description })) } as ResourceServerSpecT;
}

/** Fields of Planton's Auth0ClientSpec that Tessera's Client manifest has no equivalent for: refused, never ignored. */
export const UNMAPPED_CLIENT_FIELDS = [
  'cross_origin_authentication', 'cross_origin_loc', 'sso', 'sso_disabled', 'custom_login_page', 'custom_login_page_on',
  'organization_require_behavior', 'native_social_login', 'mobile', 'client_aliases', 'is_token_endpoint_ip_header_trusted',
  'oidc_backchannel_logout', 'enabled_connections',
];

export interface Derived {
  kind: 'Client' | 'ClientGrant';
  name: string;
  spec: ClientSpecT | ClientGrantSpecT;
  /** metadata.name of the API manifest an `api_grants[].audience.value_from` names (resolved in validate.ts). */
  audienceFrom?: string;
  /** Wire path of the derived resource → wire path in the Auth0Client document. */
  map: (p: Path) => Path;
}

/**
 * Auth0Client → a Client named by `metadata.name` (as Planton's module names it) with `application_type` as
 * `app_type`, and one ClientGrant per `api_grants` entry (`scopes` → `scope`). Proto3's empty strings mean unset.
 */
export function aliasClient(name: string, spec: Json): Derived[] {
  const client: Json = { name };
  for (const [k, v] of Object.entries(spec)) {
    if (k === 'api_grants' || v === undefined || (k === 'organization_usage' && v === '')) continue;
    if (k === 'application_type') client.app_type = v;
    else if (k === 'jwt_configuration') client[k] = Object.fromEntries(Object.entries(v as Json).filter(([key, x]) => !(key === 'alg' && x === '')));
    else client[k] = v;
  }
  const clientMap = (p: Path): Path => {
    if (p[0] !== 'spec') return p;
    if (p[1] === 'name') return ['metadata', 'name'];
    if (p[1] === 'app_type') return ['spec', 'application_type', ...p.slice(2)];
    return p;
  };
  const out: Derived[] = [{ kind: 'Client', name, spec: client as ClientSpecT, map: clientMap }];
  ((spec.api_grants as Array<Json | undefined> | undefined) ?? []).forEach((g, i) => {
    if (!g) return; // refused by the schema
    const at = ['spec', 'api_grants', i];
    const audience = g.audience as string | { value?: string; value_from?: { name: string } } | undefined;
    const direct = typeof audience === 'string' ? audience : audience?.value;
    const grant: Json = {
      client: name, audience: direct ?? '', scope: g.scopes ?? [],
      ...(g.allow_any_organization !== undefined && { allow_any_organization: g.allow_any_organization }),
      ...(g.organization_usage ? { organization_usage: g.organization_usage } : {}),
    };
    const map = (p: Path): Path => {
      if (p[0] !== 'spec') return p;
      if (p.length === 1) return at;
      if (p[1] === 'client') return ['metadata', 'name'];
      if (p[1] === 'scope') return [...at, 'scopes', ...p.slice(2)];
      return [...at, ...p.slice(1)];
    };
    out.push({
      kind: 'ClientGrant', name: `${name}.api_grants[${i}]`, spec: grant as ClientGrantSpecT, map,
      ...(direct === undefined && typeof audience === 'object' && audience?.value_from && { audienceFrom: audience.value_from.name }),
    });
  });
  return out;
}
