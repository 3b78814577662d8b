import { InvalidAuthorizationDetails } from '../errors';
import type { ClientGrant, ResourceServer } from '../model';

/** One entry of an RFC 9396 `authorization_details` array: a `type` and whatever fields that type defines. */
export type AuthorizationDetail = { type: string } & Record<string, unknown>;

/** Limits on what a client may send: the parameter's length, entries, nesting (a hosted page renders it). */
export const AUTHORIZATION_DETAILS_LIMITS = { maxLength: 16_384, maxEntries: 20, maxDepth: 8, maxTypeLength: 255 } as const;

const fail = (description: string) => new InvalidAuthorizationDetails(description);

/** Nesting depth of a parsed JSON value (an object or array is one level more than its members). */
function depthOf(v: unknown): number {
  if (v === null || typeof v !== 'object') return 0;
  const members = Array.isArray(v) ? v : Object.values(v as Record<string, unknown>);
  let max = 0;
  for (const m of members) max = Math.max(max, depthOf(m));
  return max + 1;
}

/**
 * RFC 9396 §2: the parameter is a JSON array of objects, each with a string `type`. Checked here, before any
 * store is asked: length, JSON syntax, the array, each entry's `type`, nesting. Returns undefined when absent.
 */
export function parseAuthorizationDetails(raw: string | undefined): AuthorizationDetail[] | undefined {
  if (raw === undefined) return undefined;
  const L = AUTHORIZATION_DETAILS_LIMITS;
  if (raw.length > L.maxLength) throw fail(`authorization_details is too long (${raw.length} characters, at most ${L.maxLength})`);
  // the nesting bound is applied to the text before parsing, so a hostile value never reaches the recursive walk
  let open = 0;
  let inString = false;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (inString) { if (c === '\\') i++; else if (c === '"') inString = false; continue; }
    if (c === '"') inString = true;
    else if (c === '[' || c === '{') { if (++open > L.maxDepth + 1) throw fail(`authorization_details is nested deeper than ${L.maxDepth} levels`); }
    else if (c === ']' || c === '}') open--;
  }
  let value: unknown;
  try { value = JSON.parse(raw); } catch { throw fail('authorization_details must be valid JSON'); }
  if (!Array.isArray(value)) throw fail('authorization_details must be a JSON array');
  if (value.length === 0) throw fail('authorization_details must not be empty');
  if (value.length > L.maxEntries) throw fail(`authorization_details has ${value.length} entries, at most ${L.maxEntries} are allowed`);
  value.forEach((entry, i) => {
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) throw fail(`authorization_details[${i}] must be a JSON object`);
    const type = (entry as Record<string, unknown>).type;
    if (type === undefined) throw fail(`authorization_details[${i}] is missing the required field type`);
    if (typeof type !== 'string' || type.length === 0) throw fail(`authorization_details[${i}].type must be a non-empty string`);
    if (type.length > L.maxTypeLength) throw fail(`authorization_details[${i}].type is longer than ${L.maxTypeLength} characters`);
    if (depthOf(entry) > L.maxDepth) throw fail(`authorization_details is nested deeper than ${L.maxDepth} levels`);
  });
  return value as AuthorizationDetail[];
}

/** The types an API registers in its `authorization_details` (Management API field, list of `{type}`). */
export const registeredTypes = (api: ResourceServer): string[] =>
  (api.authorization_details ?? []).map((d) => d.type).filter((t): t is string => typeof t === 'string');

/**
 * Every requested type must be registered on the API, and allowed for the client by its user client grant's
 * `authorization_details_types` (Auth0's "API access policy for applications"). No grant means no types.
 */
export function checkAuthorizationDetailTypes(details: AuthorizationDetail[], api: ResourceServer | undefined, grant: ClientGrant | undefined): void {
  if (!api) throw fail('authorization_details needs an audience: the API that registers the authorization details types');
  const registered = new Set(registeredTypes(api));
  const unknown = details.find((d) => !registered.has(d.type));
  if (unknown) throw fail(`authorization_details type ${JSON.stringify(unknown.type)} is not registered on the API ${api.identifier}`);
  const allowed = new Set(grant?.authorization_details_types ?? []);
  const denied = details.find((d) => !allowed.has(d.type));
  if (denied) {
    throw fail(`authorization_details type ${JSON.stringify(denied.type)} is not allowed for this client: add it to the authorization_details_types of the client's user grant for ${api.identifier}`);
  }
}

/** JSON text with object keys sorted, so two equal entries compare equal whatever their key order. */
function canonical(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o).sort().map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`).join(',')}}`;
}

/**
 * RFC 9396 §6.1/§6.2: a token request may ask for less than was authorized, never more. Tessera does not know
 * what the fields of a type mean, so "less" is a subset of the granted entries, each equal to a granted one.
 */
export function narrowAuthorizationDetails(requested: AuthorizationDetail[], granted: AuthorizationDetail[] | undefined): AuthorizationDetail[] {
  const available = new Set((granted ?? []).map(canonical));
  const extra = requested.find((d) => !available.has(canonical(d)));
  if (extra) throw fail(`authorization_details exceeds what was authorized: the entry of type ${JSON.stringify(extra.type)} was not granted`);
  return requested;
}
