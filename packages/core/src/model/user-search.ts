import { BadRequest } from '../errors';

/**
 * The subset of Auth0's user search (v3, Lucene syntax) Tessera answers: `field:value` terms with bare or
 * quoted values, `AND` / `OR` / `NOT` (capitalised, as Auth0 requires), parentheses, a `*` at the start
 * and/or end of a value on the normalised text fields, and bare terms (no field) matched against the
 * profile's identifiers and names. Anything else (ranges, fuzzy `~`, boosts, `?`, inner wildcards, unknown
 * fields) is refused with 400 rather than answered wrongly.
 */

/** Columns and profile fields a term may name. */
export type SearchColumn = 'user_id' | 'email' | 'username' | 'connection' | 'created_at' | 'updated_at';
export type SearchDocText = 'name' | 'nickname' | 'given_name' | 'family_name' | 'picture';
export type SearchDocBool = 'email_verified' | 'blocked';

export type SearchTarget =
  | { kind: 'column'; name: SearchColumn }
  | { kind: 'text'; name: SearchDocText }
  | { kind: 'bool'; name: SearchDocBool }
  | { kind: 'email_domain' }
  /** A scalar inside app_metadata or user_metadata (path of keys, arrays not descended). */
  | { kind: 'metadata'; root: 'app_metadata' | 'user_metadata'; path: string[] };

export type UserQuery =
  | { op: 'and' | 'or'; items: UserQuery[] }
  | { op: 'not'; item: UserQuery }
  /** `match`: exact, prefix (`x*`), suffix (`*x`), contains (`*x*`), or exists (`*`). `value` is lower case when `folded`. */
  | { op: 'term'; target: SearchTarget; match: 'exact' | 'prefix' | 'suffix' | 'contains' | 'exists'; value: string | boolean; folded: boolean };

export interface UserSort { target: SearchTarget; descending: boolean }

/** Auth0 refuses to page past the first 1000 search results. */
export const SEARCH_RESULT_LIMIT = 1000;

const Q = 'q (Query in Lucene query string syntax. Some query types cannot be used on metadata fields, for details see Searchable Fields.)';
const invalid = (why: string) => new BadRequest(`Query validation error: '${why}' on property ${Q}.`, 'invalid_query_string');

/** Normalised fields: Auth0 matches them case-insensitively. */
const FOLDED = new Set(['email', 'name', 'nickname', 'given_name', 'family_name', 'username', 'email.domain']);
/** Fields a wildcard may be used on. */
const WILDCARD = new Set(['email', 'name', 'nickname', 'given_name', 'family_name', 'username', 'user_id']);
const COLUMNS: Record<string, SearchColumn> = {
  user_id: 'user_id', email: 'email', username: 'username', created_at: 'created_at', updated_at: 'updated_at',
  'identities.connection': 'connection', connection: 'connection',
};
const TEXT = new Set<SearchDocText>(['name', 'nickname', 'given_name', 'family_name', 'picture']);
const BOOL = new Set<SearchDocBool>(['email_verified', 'blocked']);
/** What a term without a field is compared with. */
const BARE_FIELDS = ['user_id', 'email', 'username', 'name', 'nickname', 'given_name', 'family_name'];
const MAX_QUERY = 2048;
const MAX_TERMS = 50;

export function searchTarget(field: string): SearchTarget | undefined {
  if (field in COLUMNS) return { kind: 'column', name: COLUMNS[field] };
  if (TEXT.has(field as SearchDocText)) return { kind: 'text', name: field as SearchDocText };
  if (BOOL.has(field as SearchDocBool)) return { kind: 'bool', name: field as SearchDocBool };
  if (field === 'email.domain') return { kind: 'email_domain' };
  const m = /^(app_metadata|user_metadata)((?:\.[A-Za-z0-9_-]+)+)$/.exec(field);
  if (m) return { kind: 'metadata', root: m[1] as 'app_metadata', path: m[2].slice(1).split('.') };
  return undefined;
}

type Token = { t: 'word'; v: string; quoted: boolean } | { t: '(' | ')' | ':' } | { t: 'AND' | 'OR' | 'NOT' };

function tokenize(q: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < q.length) {
    const c = q[i];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') { i++; continue; }
    if (c === '(' || c === ')' || c === ':') { out.push({ t: c }); i++; continue; }
    if (c === '"') {
      let v = '';
      i++;
      for (;;) {
        if (i >= q.length) throw invalid('Unterminated quoted value');
        const d = q[i];
        if (d === '\\' && i + 1 < q.length) { v += q[i + 1]; i += 2; continue; }
        if (d === '"') { i++; break; }
        v += d;
        i++;
      }
      out.push({ t: 'word', v, quoted: true });
      continue;
    }
    let v = '';
    while (i < q.length && !' \t\n\r():"'.includes(q[i])) {
      if (q[i] === '\\' && i + 1 < q.length) { v += q[i + 1]; i += 2; continue; }
      v += q[i++];
    }
    if (v === 'AND' || v === 'OR' || v === 'NOT') out.push({ t: v });
    else if (v === '&&') out.push({ t: 'AND' });
    else if (v === '||') out.push({ t: 'OR' });
    else out.push({ t: 'word', v, quoted: false });
  }
  return out;
}

/** Parses `q`; throws Auth0's 400 for anything outside the subset. */
export function parseUserQuery(q: string): UserQuery {
  if (q.length > MAX_QUERY) throw invalid(`Query string is longer than ${MAX_QUERY} characters`);
  const tokens = tokenize(q);
  let pos = 0;
  let terms = 0;
  const peek = () => tokens[pos];

  const parseOr = (depth: number): UserQuery => {
    const items = [parseAnd(depth)];
    while (peek()?.t === 'OR') { pos++; items.push(parseAnd(depth)); }
    return items.length === 1 ? items[0] : { op: 'or', items };
  };
  const parseAnd = (depth: number): UserQuery => {
    const items = [parseUnary(depth)];
    for (;;) {
      const t = peek();
      if (t?.t === 'AND') { pos++; items.push(parseUnary(depth)); continue; }
      // juxtaposed terms: Auth0's v3 engine treats them as AND
      if (t && (t.t === 'word' || t.t === '(' || t.t === 'NOT')) { items.push(parseUnary(depth)); continue; }
      break;
    }
    return items.length === 1 ? items[0] : { op: 'and', items };
  };
  const parseUnary = (depth: number): UserQuery => {
    const t = peek();
    if (t === undefined) throw invalid('Unexpected end of query');
    if (t.t === 'NOT') { pos++; return { op: 'not', item: parseUnary(depth) }; }
    if (t.t === '(') {
      if (depth >= 8) throw invalid('Too many nested parentheses');
      pos++;
      const inner = parseOr(depth + 1);
      if (peek()?.t !== ')') throw invalid('Missing closing parenthesis');
      pos++;
      return inner;
    }
    if (t.t !== 'word') throw invalid(`Unexpected ${t.t}`);
    pos++;
    if (++terms > MAX_TERMS) throw invalid(`More than ${MAX_TERMS} terms`);
    if (peek()?.t === ':') {
      if (t.quoted) throw invalid('A field name cannot be quoted');
      pos++;
      const value = peek();
      if (value?.t === '(') throw invalid('Grouped values are not supported; repeat the field with OR');
      if (value?.t !== 'word') throw invalid(`Missing value for field ${t.v}`);
      pos++;
      return term(t.v, value.v, value.quoted);
    }
    return bare(t.v, t.quoted);
  };

  const result = parseOr(0);
  if (pos !== tokens.length) throw invalid(`Unexpected ${tokens[pos].t === 'word' ? 'term' : tokens[pos].t}`);
  return result;
}

function matchOf(field: string, raw: string, quoted: boolean): { match: 'exact' | 'prefix' | 'suffix' | 'contains' | 'exists'; value: string } {
  if (quoted) return { match: 'exact', value: raw };
  if (/[?~^]/.test(raw) || raw.startsWith('[') || raw.startsWith('{') || raw.startsWith('/')) throw invalid(`Unsupported syntax in ${raw}: ranges, fuzzy, boosts, regular expressions and ? wildcards are not supported`);
  if (raw === '*') return { match: 'exists', value: '' };
  const lead = raw.startsWith('*');
  const trail = raw.endsWith('*');
  const core = raw.slice(lead ? 1 : 0, trail ? -1 : undefined);
  if (core.includes('*')) throw invalid(`Wildcards are supported only at the start or end of a value: ${raw}`);
  if (!lead && !trail) return { match: 'exact', value: raw };
  if (!WILDCARD.has(field)) throw invalid(`Wildcards are not supported on ${field}`);
  if (core.length === 0) return { match: 'exists', value: '' };
  if (lead && core.length < 3) throw invalid(`A leading wildcard needs at least 3 characters: ${raw}`);
  return { match: lead && trail ? 'contains' : lead ? 'suffix' : 'prefix', value: core };
}

function term(field: string, raw: string, quoted: boolean): UserQuery {
  const target = searchTarget(field);
  if (!target) throw invalid(`Unsupported field: ${field}`);
  if (target.kind === 'bool') {
    if (raw === '*' && !quoted) return { op: 'term', target, match: 'exists', value: '', folded: false };
    if (raw !== 'true' && raw !== 'false') throw invalid(`${field} takes true or false`);
    return { op: 'term', target, match: 'exact', value: raw === 'true', folded: false };
  }
  const { match, value } = matchOf(field, raw, quoted);
  const folded = FOLDED.has(field);
  return { op: 'term', target, match, value: folded ? value.toLowerCase() : value, folded };
}

function bare(raw: string, quoted: boolean): UserQuery {
  if (!quoted && raw === '*') return { op: 'and', items: [] }; // `*` alone: every user
  return { op: 'or', items: BARE_FIELDS.map((f) => term(f, raw, quoted)) };
}

/** `field:1` ascending, `field:-1` descending, on the fields a term may name (metadata excluded, as Auth0). */
export function parseUserSort(sort: string): UserSort {
  const m = /^([a-z_.]+):(1|-1)$/.exec(sort);
  const target = m ? searchTarget(m[1]) : undefined;
  if (!m || !target || target.kind === 'metadata' || target.kind === 'email_domain') {
    throw new BadRequest(`Query validation error: 'String does not match pattern ^(([a-zA-Z0-9_\\.]+))\\:(1|-1)$ or names an unsupported field: ${sort}' on property sort (Field to sort by. Use field:order where order is 1 for ascending and -1 for descending. e.g. created_at:1).`, 'invalid_query_string');
  }
  return { target, descending: m[2] === '-1' };
}
