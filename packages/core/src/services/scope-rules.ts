/**
 * Management API authorisation rules, written next to each route and checked in one place.
 *
 * A route requirement is a list of alternatives: a string entry is one scope, an array entry needs every
 * scope in it (Auth0's "read:users + read:roles, or read:role_members"). A body rule maps field paths
 * (dot-separated, `*` for any array item) to the scopes that may change them; fields without a rule need
 * the rule's default scopes. Every field present in a body must be allowed, or nothing happens.
 */
export type ScopeRequirement = ReadonlyArray<string | readonly string[]>;
export interface BodyScopeRule { default: readonly string[]; fields: Readonly<Record<string, readonly string[]>> }

export function satisfies(held: ReadonlySet<string>, required: ScopeRequirement): boolean {
  return required.some((alt) => (typeof alt === 'string' ? held.has(alt) : alt.every((s) => held.has(s))));
}

/** Auth0's 403 wording: "expected any of: a,b" or, when the first alternative is a set, "expected all of: a,b". */
export function requirementMessage(required: ScopeRequirement): string {
  const first = required[0];
  if (typeof first !== 'string' && first !== undefined) return `Insufficient scope, expected all of: ${first.join(',')}`;
  return `Insufficient scope, expected any of: ${required.filter((a): a is string => typeof a === 'string').join(',')}`;
}

/** The scope sets (any of each) the body needs that `held` does not satisfy, in field order, without duplicates. */
export function missingBodyScopes(body: unknown, rule: BodyScopeRule, held: ReadonlySet<string>): string[][] {
  const needed: Array<readonly string[]> = [];
  walk(body, [], rule, needed);
  const seen = new Set<string>();
  const missing: string[][] = [];
  for (const set of needed) {
    const key = set.join(',');
    if (seen.has(key) || set.some((s) => held.has(s))) continue;
    seen.add(key);
    missing.push([...set]);
  }
  return missing;
}

/** "expected any of: x" for one missing set; "expected all of: a,b" when several fields each need their own scope. */
export function bodyScopeMessage(missing: string[][]): string {
  if (missing.length === 1) return `Insufficient scope, expected any of: ${missing[0].join(',')}`;
  return `Insufficient scope, expected all of: ${missing.map((set) => set.join(' or ')).join(',')}`;
}

/** Pushes the scope set each present field needs: its own rule, else its nearest ruled ancestor's, else the default. */
function walk(value: unknown, path: string[], rule: BodyScopeRule, out: Array<readonly string[]>, inherited = false): void {
  const isObject = value !== null && typeof value === 'object';
  if (path.length === 0 && (!isObject || Array.isArray(value))) return; // not a JSON object: schema validation answers it
  const own = path.length > 0 ? ruleAt(rule, path) : undefined;
  if (own) out.push(own);
  const covered = inherited || own !== undefined;
  const entries: Array<[string, unknown]> = !isObject ? [] : Array.isArray(value) ? value.map((v) => ['*', v]) : Object.entries(value as object);
  if (path.length > 0 && (!hasDeeperRule(rule, path) || entries.length === 0)) {
    if (!covered) out.push(rule.default);
    return;
  }
  for (const [k, v] of entries) walk(v, [...path, k], rule, out, covered);
}

const matches = (pattern: string[], path: string[]) => pattern.length === path.length && pattern.every((p, i) => p === path[i] || (p === '*' && path[i] === '*'));

function ruleAt(rule: BodyScopeRule, path: string[]): readonly string[] | undefined {
  for (const [p, scopes] of Object.entries(rule.fields)) if (matches(p.split('.'), path)) return scopes;
  return undefined;
}

function hasDeeperRule(rule: BodyScopeRule, path: string[]): boolean {
  return Object.keys(rule.fields).some((p) => {
    const parts = p.split('.');
    return parts.length > path.length && matches(parts.slice(0, path.length), path);
  });
}
