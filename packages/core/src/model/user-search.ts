import { BadRequest } from '../errors';

/**
 * The subset of Auth0's user search (v3, Lucene syntax) Tessera answers: `field:value` terms with bare or
 * quoted values, `AND` / `OR` / `NOT` (capitalised, as Auth0 requires), parentheses, a `*` at the start
 * and/or end of a value on the normalised text fields, ranges (`[a TO b]` inclusive, `{a TO b}` exclusive, mixed,
 * `*` open) on the date fields and `logins_count`, and bare terms (no field) matched against the profile's
 * identifiers and names. Anything else (fuzzy `~`, boosts, `?`, inner wildcards, unknown fields) is refused
 * with 400 rather than answered wrongly.
 */

/** Columns and profile fields a term may name. */
export type SearchColumn = 'user_id' | 'email' | 'username' | 'connection' | 'created_at' | 'updated_at' | 'last_login' | 'last_ip';
export type SearchDocText = 'name' | 'nickname' | 'given_name' | 'family_name' | 'picture';
export type SearchDocBool = 'email_verified' | 'blocked';

export type SearchTarget =
  | { kind: 'column'; name: SearchColumn }
  | { kind: 'text'; name: SearchDocText }
  | { kind: 'bool'; name: SearchDocBool }
  | { kind: 'email_domain' }
  /** `logins_count`: a whole number (0 for users who never logged in). */
  | { kind: 'number'; name: 'logins_count' }
  /** A scalar inside app_metadata or user_metadata (path of keys, arrays not descended). */
  | { kind: 'metadata'; root: 'app_metadata' | 'user_metadata'; path: string[] };

export type UserQuery =
  | { op: 'and' | 'or'; items: UserQuery[] }
  | { op: 'not'; item: UserQuery }
  /** `match`: exact, prefix (`x*`), suffix (`*x`), contains (`*x*`), or exists (`*`). `value` is lower case when `folded`. */
  | { op: 'term'; target: SearchTarget; match: 'exact' | 'prefix' | 'suffix' | 'contains' | 'exists'; value: string | boolean; folded: boolean }
  /** Values within bounds: ISO 8601 instants (UTC, milliseconds) for dates, integers for numbers; a missing bound is open. */
  | { op: 'range'; target: SearchTarget; lower?: RangeBound; upper?: RangeBound };

export interface RangeBound { value: string | number; inclusive: boolean }

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
  'identities.connection': 'connection', connection: 'connection', last_login: 'last_login', last_ip: 'last_ip',
};
/** Fields ranges apply to: dates (stored as ISO 8601 in UTC) and numbers. */
const DATES = new Set(['created_at', 'updated_at', 'last_login']);
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
  if (field === 'logins_count') return { kind: 'number', name: 'logins_count' };
  const m = /^(app_metadata|user_metadata)((?:\.[A-Za-z0-9_-]+)+)$/.exec(field);
  if (m) return { kind: 'metadata', root: m[1] as 'app_metadata', path: m[2].slice(1).split('.') };
  return undefined;
}

type RangeToken = { t: 'range'; lower: string; upper: string; lowerInclusive: boolean; upperInclusive: boolean };
type Token = { t: 'word'; v: string; quoted: boolean } | { t: '(' | ')' | ':' } | { t: 'AND' | 'OR' | 'NOT' } | RangeToken;

/** `[a TO b]`, `{a TO b}` or mixed, from `start` (the bracket); bounds may be quoted. Returns the token and the next index. */
function readRange(q: string, start: number): [RangeToken, number] {
  let end = start + 1;
  while (end < q.length && q[end] !== ']' && q[end] !== '}') {
    if (q[end] === '[' || q[end] === '{') throw invalid('Nested brackets in a range');
    end++;
  }
  if (end >= q.length) throw invalid('Unterminated range');
  const parts = q.slice(start + 1, end).trim().split(/\s+/);
  if (parts.length !== 3 || parts[1] !== 'TO') throw invalid('A range is written [lower TO upper] or {lower TO upper}');
  const unquote = (v: string) => (v.length >= 2 && v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1) : v);
  return [{ t: 'range', lower: unquote(parts[0]), upper: unquote(parts[2]), lowerInclusive: q[start] === '[', upperInclusive: q[end] === ']' }, end + 1];
}

function tokenize(q: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < q.length) {
    const c = q[i];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') { i++; continue; }
    if (c === '(' || c === ')' || c === ':') { out.push({ t: c }); i++; continue; }
    if (c === '[' || c === '{') {
      const [range, next] = readRange(q, i);
      out.push(range);
      i = next;
      continue;
    }
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
    if (t.t === 'range') throw invalid('A range needs a field (created_at:[a TO b])');
    if (t.t !== 'word') throw invalid(`Unexpected ${t.t}`);
    pos++;
    if (++terms > MAX_TERMS) throw invalid(`More than ${MAX_TERMS} terms`);
    if (peek()?.t === ':') {
      if (t.quoted) throw invalid('A field name cannot be quoted');
      pos++;
      const value = peek();
      if (value?.t === '(') throw invalid('Grouped values are not supported; repeat the field with OR');
      if (value?.t === 'range') { pos++; return range(t.v, value); }
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
  if (target.kind === 'column' && DATES.has(target.name) && !(raw === '*' && !quoted)) {
    // a date names its whole period: created_at:2026-01-31 is that day
    const [first, last] = datePeriod(field, raw);
    return { op: 'range', target, lower: { value: new Date(first).toISOString(), inclusive: true }, upper: { value: new Date(last).toISOString(), inclusive: true } };
  }
  if (target.kind === 'number') {
    if (raw === '*' && !quoted) return { op: 'range', target }; // every user: the count is 0 before the first login
    const n = wholeNumber(field, raw);
    return { op: 'range', target, lower: { value: n, inclusive: true }, upper: { value: n, inclusive: true } };
  }
  const { match, value } = matchOf(field, raw, quoted);
  const folded = FOLDED.has(field);
  return { op: 'term', target, match, value: folded ? value.toLowerCase() : value, folded };
}

function wholeNumber(field: string, raw: string): number {
  const n = Number(raw);
  if (!/^-?\d{1,15}$/.test(raw) || !Number.isSafeInteger(n)) throw invalid(`${field} takes a whole number: ${raw}`);
  return n;
}

const DATE_TIME = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/;

/**
 * The period a date value names, as [first, last] milliseconds: a year, month or day (in UTC), a minute, a
 * second, or one millisecond. A bound is then the period's start or end, so `[* TO 2026-01-31]` includes the
 * whole 31st and `{2026-01-31 TO *]` starts after it (Elasticsearch's rounding of partial dates).
 */
function datePeriod(field: string, raw: string): [number, number] {
  const m = DATE_TIME.exec(raw);
  if (!m) throw invalid(`${field} takes an ISO 8601 date or date-time (2026-01-31, 2026-01-31T10:00:00Z): ${raw}`);
  const parts = [m[1], m[2], m[3], m[4], m[5], m[6], m[7]].map((v, i) => (v === undefined ? undefined : i === 6 ? Number(v.padEnd(3, '0')) : Number(v)));
  const given = parts.findIndex((v) => v === undefined);
  const precision = given === -1 ? 7 : given; // how many components were written
  const [y, mo = 1, d = 1, h = 0, mi = 0, sec = 0, ms = 0] = parts as number[];
  const at = (c: number[]) => { const t = new Date(0); t.setUTCFullYear(c[0], c[1] - 1, c[2]); t.setUTCHours(c[3], c[4], c[5], c[6]); return t.getTime(); };
  const comps = [y, mo, d, h, mi, sec, ms];
  const start = at(comps);
  const check = new Date(start);
  if (check.getUTCFullYear() !== y || check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d || check.getUTCHours() !== h || check.getUTCMinutes() !== mi || check.getUTCSeconds() !== sec) {
    throw invalid(`${field} takes a valid date: ${raw}`);
  }
  const next = comps.slice();
  next[precision - 1] += 1; // the last written component (an hour is always written with its minutes)
  const offset = m[8] && m[8] !== 'Z' ? (m[8][0] === '-' ? -1 : 1) * (Number(m[8].slice(1, 3)) * 60 + Number(m[8].slice(4, 6))) * 60_000 : 0;
  if (Math.abs(offset) >= 24 * 3_600_000) throw invalid(`${field} takes a valid time zone offset: ${raw}`);
  return [start - offset, at(next) - 1 - offset];
}

/** `field:[a TO b]`: dates and `logins_count` only. */
function range(field: string, r: RangeToken): UserQuery {
  const target = searchTarget(field);
  if (!target) throw invalid(`Unsupported field: ${field}`);
  const isDate = target.kind === 'column' && DATES.has(target.name);
  if (!isDate && target.kind !== 'number') throw invalid(`Ranges are supported only on created_at, updated_at, last_login and logins_count, not on ${field}`);
  const bound = (raw: string, inclusive: boolean, side: 'lower' | 'upper'): RangeBound | undefined => {
    if (raw === '*') return undefined;
    if (!isDate) return { value: wholeNumber(field, raw), inclusive };
    const [first, last] = datePeriod(field, raw);
    // inclusive lower: from the period's start; exclusive lower: after its end; upper likewise
    const edge = (side === 'lower') === inclusive ? first : last;
    return { value: new Date(edge).toISOString(), inclusive };
  };
  const q: Extract<UserQuery, { op: 'range' }> = { op: 'range', target };
  const lower = bound(r.lower, r.lowerInclusive, 'lower');
  const upper = bound(r.upper, r.upperInclusive, 'upper');
  if (lower) q.lower = lower;
  if (upper) q.upper = upper;
  return q;
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
