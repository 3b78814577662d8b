import { BadRequest, NotFound } from '../errors';
import type { Page } from '../ports';
import type { LogEvent } from './events';
import type { LogFilter, LogRepo } from './ports';

const qError = (why: string) => new BadRequest(`Query validation error: '${why}' on property q (Query in Lucene query string syntax).`, 'invalid_query_string');

/** ISO 8601 date or date-time; `*` is an open end. */
function dateBound(raw: string): string | undefined {
  if (raw === '*') return undefined;
  const d = new Date(raw);
  if (!/^\d{4}-\d{2}-\d{2}/.test(raw) || Number.isNaN(d.getTime())) throw qError(`Invalid date ${raw}`);
  return d.toISOString();
}

const unquote = (v: string) => (v.startsWith('"') && v.endsWith('"') && v.length >= 2 ? v.slice(1, -1).replace(/\\(.)/g, '$1') : v);

/**
 * The subset of Auth0's log search syntax (Lucene) Tessera answers: terms joined by AND (or whitespace) on
 * `type`, `client_id`, `user_id` (a value, a quoted value, or `(a OR b)`) and `date` (`[from TO to]`, `{…}` exclusive,
 * `*` open, or `>=`/`>`/`<=`/`<` a date). Anything else is refused with 400 rather than half understood.
 */
export function parseLogQuery(q: string | undefined): LogFilter[] {
  if (q === undefined || q.trim() === '') return [];
  if (q.length > 1000) throw qError('Query too long');
  const terms: LogFilter[] = [];
  const re = /\s*(?:(AND)\s+)?([a-z_]+):((?:"(?:[^"\\]|\\.)*")|(?:\([^)]*\))|(?:[[{][^\]}]*[\]}])|(?:[^\s()]+))\s*/gy;
  let pos = 0;
  while (pos < q.length) {
    re.lastIndex = pos;
    const m = re.exec(q);
    if (!m) throw qError(`Unsupported query syntax at ${JSON.stringify(q.slice(pos, pos + 20))}`);
    pos = re.lastIndex;
    const [, , field, value] = m;
    if (field === 'date') { terms.push(dateTerm(value)); continue; }
    if (field !== 'type' && field !== 'client_id' && field !== 'user_id') throw qError(`Unsupported field ${field}`);
    let values: string[];
    if (value.startsWith('(')) {
      values = value.slice(1, -1).split(/\s+OR\s+/).map((v) => unquote(v.trim())).filter((v) => v !== '');
      if (values.length === 0) throw qError(`Empty value list for ${field}`);
    } else values = [unquote(value)];
    if (values.some((v) => v.includes('*') || v.length > 300)) throw qError(`Unsupported value for ${field}`);
    terms.push({ field, values });
  }
  if (terms.length > 10) throw qError('Too many terms');
  return terms;
}

function dateTerm(value: string): LogFilter {
  const range = /^([[{])\s*(\S+)\s+TO\s+(\S+)\s*([\]}])$/.exec(value);
  if (range) {
    return { field: 'date', from: dateBound(range[2]), to: dateBound(range[3]), fromExclusive: range[1] === '{', toExclusive: range[4] === '}' };
  }
  const cmp = /^(>=|>|<=|<)(.+)$/.exec(value);
  if (cmp) {
    const d = dateBound(unquote(cmp[2]));
    return cmp[1].startsWith('>') ? { field: 'date', from: d, fromExclusive: cmp[1] === '>' } : { field: 'date', to: d, toExclusive: cmp[1] === '<' };
  }
  // a bare day: that whole day (UTC)
  const day = unquote(value);
  if (/^\d{4}-\d{2}-\d{2}$/.test(day)) {
    const from = dateBound(day) as string;
    return { field: 'date', from, to: new Date(Date.parse(from) + 86_400_000).toISOString(), toExclusive: true };
  }
  throw qError(`Unsupported date term ${value}`);
}

export interface LogListQuery {
  q?: string; sort?: string; page?: number; per_page?: number; include_totals?: boolean;
  from?: string; take?: number; fields?: string; include_fields?: boolean;
}

export type LogListResult =
  | { kind: 'array'; logs: LogEvent[] }
  | { kind: 'totals'; start: number; limit: number; length: number; total: number; logs: LogEvent[] };

/** Auth0 serves at most 1,000 search results per query (page × per_page). */
export const MAX_SEARCH_WINDOW = 1000;

/** GET /api/v2/logs and /logs/{id}: search by criteria, or read by checkpoint (`from`/`take` ignore everything else). */
export class LogService {
  constructor(private readonly deps: { repo: LogRepo }) {}

  async list(q: LogListQuery): Promise<LogListResult> {
    const project = projection(q.fields, q.include_fields);
    if (q.from !== undefined || q.take !== undefined) {
      return { kind: 'array', logs: (await this.deps.repo.checkpoint(q.from, q.take ?? 50)).map(project) };
    }
    const filters = parseLogQuery(q.q);
    const order = sortOrder(q.sort);
    const limit = q.per_page ?? 50;
    const offset = (q.page ?? 0) * limit;
    if (offset + limit > MAX_SEARCH_WINDOW) {
      throw new BadRequest(`You can only page through the first ${MAX_SEARCH_WINDOW} records. See https://auth0.com/docs/logs/retrieve-log-events-using-mgmt-api#limitations`, 'invalid_paging');
    }
    const page: Page<LogEvent> = await this.deps.repo.search({ filters, order, offset, limit, totals: q.include_totals === true });
    const logs = page.items.map(project);
    if (!q.include_totals) return { kind: 'array', logs };
    return { kind: 'totals', start: offset, limit, length: logs.length, total: page.total, logs };
  }

  async get(id: string): Promise<LogEvent> {
    const found = await this.deps.repo.findById(id);
    if (!found) throw new NotFound('log not found', 'inexistent_log');
    return found;
  }
}

function sortOrder(sort: string | undefined): 1 | -1 {
  if (sort === undefined || sort === '') return -1;
  const m = /^date:(1|-1)$/.exec(sort);
  if (!m) throw new BadRequest(`Query validation error: 'Invalid sort ${sort}: only date:1 and date:-1 are supported' on property sort.`, 'invalid_query_string');
  return m[1] === '1' ? 1 : -1;
}

function projection(fields: string | undefined, include = true): (e: LogEvent) => LogEvent {
  const names = (fields ?? '').split(',').map((f) => f.trim()).filter(Boolean);
  if (names.length === 0) return (e) => e;
  const set = new Set(names);
  return (e) => Object.fromEntries(Object.entries(e).filter(([k]) => set.has(k) === include)) as unknown as LogEvent;
}
