import { InsufficientScopeError, InvalidTokenError, UnauthorizedError, bearerChallenge } from './errors';
import type { JWTPayload } from './options';

/** A check on the verified claims (and, for the request-dependent ones, the request); throws to refuse. */
export type ClaimChecker<R = unknown> = (payload: JWTPayload | undefined, req?: R) => void;
export type JSONPrimitive = string | number | boolean | null;

function checkPrimitive(v: unknown): void {
  if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean' && v !== null) throw new TypeError("'expected' must be a string, number, boolean or null");
}

const includes = (claim: string, expected: unknown[], all = true) => (payload: JWTPayload): boolean => {
  if (!(claim in payload)) throw new InvalidTokenError(`Missing '${claim}' claim`);
  const raw = payload[claim];
  const actual = typeof raw === 'string' ? raw.split(' ') : Array.isArray(raw) ? raw : undefined;
  if (!actual) return false;
  const set = new Set(actual);
  return all ? expected.every((e) => set.has(e)) : expected.some((e) => set.has(e));
};

export function claimCheck(fn: (payload: JWTPayload) => boolean, errMsg?: string): ClaimChecker {
  if (typeof fn !== 'function') throw new TypeError("'claimCheck' expects a function");
  return (payload) => {
    if (!payload) throw new UnauthorizedError();
    if (!fn(payload)) throw new InvalidTokenError(errMsg);
  };
}

export function claimEquals(claim: string, expected: JSONPrimitive): ClaimChecker {
  if (typeof claim !== 'string') throw new TypeError("'claim' must be a string");
  checkPrimitive(expected);
  return claimCheck((payload) => {
    if (!(claim in payload)) throw new InvalidTokenError(`Missing '${claim}' claim`);
    return payload[claim] === expected;
  }, `Unexpected '${claim}' value`);
}

export function claimIncludes(claim: string, ...expected: JSONPrimitive[]): ClaimChecker {
  if (typeof claim !== 'string') throw new TypeError("'claim' must be a string");
  expected.forEach(checkPrimitive);
  return claimCheck(includes(claim, expected), `Unexpected '${claim}' value`);
}

const scopeList = (scopes: string | string[]): string[] => {
  if (typeof scopes === 'string') return scopes.split(' ');
  if (!Array.isArray(scopes)) throw new TypeError("'scopes' must be a string or array of strings");
  return scopes;
};

function scopes(list: string | string[], all: boolean): ClaimChecker {
  const wanted = scopeList(list);
  const has = includes('scope', wanted, all);
  return claimCheck((payload) => {
    if (!('scope' in payload)) throw new InsufficientScopeError(wanted, "Missing 'scope' claim");
    if (!has(payload)) throw new InsufficientScopeError(wanted);
    return true;
  });
}
/** Every listed scope must be in the token's `scope`: 403 insufficient_scope otherwise (RFC 6750 §3.1). */
export const requiredScopes = (list: string | string[]): ClaimChecker => scopes(list, true);
/** At least one listed scope must be in the token's `scope`. */
export const scopeIncludesAny = (list: string | string[]): ClaimChecker => scopes(list, false);

/** 403 insufficient_scope for RBAC refusals: the token is valid but does not carry what the route needs. */
export class InsufficientPermissionsError extends InsufficientScopeError {
  constructor(permissions: string[], message = 'Insufficient Permissions') {
    super(permissions, message);
    this.headers = { 'WWW-Authenticate': bearerChallenge('insufficient_scope', message, permissions) };
  }
}

function permissions(list: string | string[], all: boolean): ClaimChecker {
  const wanted = scopeList(list);
  return claimCheck((payload) => {
    const held = payload.permissions;
    if (!Array.isArray(held)) throw new InsufficientPermissionsError(wanted, "Missing 'permissions' claim");
    const set = new Set(held);
    if (!(all ? wanted.every((p) => set.has(p)) : wanted.some((p) => set.has(p)))) throw new InsufficientPermissionsError(wanted);
    return true;
  });
}
/**
 * RBAC (APIs with `enforce_policies` and a `*_authz` dialect): every listed permission must be in the token's
 * `permissions` array. Refused with 403 insufficient_scope, where `claimIncludes('permissions', …)` answers 401.
 */
export const requiredPermissions = (list: string | string[]): ClaimChecker => permissions(list, true);
/** At least one listed permission must be in `permissions`. */
export const permissionsIncludeAny = (list: string | string[]): ClaimChecker => permissions(list, false);

/**
 * The token must be issued for one of these organizations (`org_id`), or for the one `expected(req)` names
 * (for example a route parameter). A token without `org_id` or for another organization gets 403.
 */
export function requiredOrganization<R = unknown>(expected: string | string[] | ((req: R) => string | string[] | undefined)): ClaimChecker<R> {
  const fixed = typeof expected === 'function' ? undefined : new Set(Array.isArray(expected) ? expected : [expected]);
  if (fixed && [...fixed].some((v) => typeof v !== 'string' || !v)) throw new TypeError("'expected' must be organization ids");
  return (payload, req) => {
    if (!payload) throw new UnauthorizedError();
    const org = payload.org_id;
    let allowed = fixed;
    if (!allowed) {
      const v = (expected as (req: R) => string | string[] | undefined)(req as R);
      allowed = new Set(v === undefined ? [] : Array.isArray(v) ? v : [v]);
    }
    if (typeof org !== 'string') throw new InsufficientScopeError(undefined, "Missing 'org_id' claim");
    if (!allowed.has(org)) throw new InsufficientScopeError(undefined, "Unexpected 'org_id' value");
  };
}
