import { BadRequest, InvalidRequest } from '@tessera/core';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { isManagementPath } from './errors';

/**
 * Input no route may see, refused in one place before any schema, handler or store reads it:
 * - NUL and the other C0 control characters (U+0000–U+001F) in path parameters, query strings, and in the
 *   keys and values of form and JSON bodies (PostgreSQL refuses NUL in text, SQLite would store it). Tab, line
 *   feed and carriage return stay allowed inside body values only (descriptions, metadata, passwords);
 * - `__proto__` as a key anywhere (JSON bodies already refuse it while parsing);
 * - JSON nested deeper than MAX_JSON_DEPTH, refused before parsing (see boundedJsonParser).
 * Each surface answers with its own 400: the Management envelope, an OAuth error, or the hosted page's error page.
 */
export const MAX_JSON_DEPTH = 32;

const ANY_CONTROL = /[\u0000-\u001f]/;
const CONTROL_EXCEPT_WHITESPACE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f]/;

/** The first hostile spot of a value: where (dotted path) and why; undefined when clean. */
interface Finding { path: string; reason: string }

const CONTROL_REASON = 'Control characters are not allowed';

function inspect(value: unknown, path: string, text: RegExp): Finding | undefined {
  if (typeof value === 'string') return text.test(value) ? { path, reason: CONTROL_REASON } : undefined;
  if (value === null || typeof value !== 'object') return undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const f = inspect(value[i], `${path}[${i}]`, text);
      if (f) return f;
    }
    return undefined;
  }
  for (const key of Object.keys(value)) {
    if (ANY_CONTROL.test(key)) return { path, reason: `${CONTROL_REASON} in property names` };
    if (key === '__proto__') return { path, reason: 'Property name not allowed: __proto__' };
    const f = inspect((value as Record<string, unknown>)[key], path ? `${path}.${key}` : key, text);
    if (f) return f;
  }
  return undefined;
}

type Part = 'params' | 'querystring' | 'body';
const MANAGEMENT: Record<Part, { prefix: string; errorCode: string }> = {
  params: { prefix: 'Path validation error', errorCode: 'invalid_uri' },
  querystring: { prefix: 'Query validation error', errorCode: 'invalid_query_string' },
  body: { prefix: 'Payload validation error', errorCode: 'invalid_body' },
};
const OAUTH_PART: Record<Part, string> = { params: 'path', querystring: 'query string', body: 'request body' };

function firstFinding(req: FastifyRequest): { part: Part; finding: Finding } | undefined {
  const parts: Array<[Part, unknown, RegExp]> = [
    ['params', req.params, ANY_CONTROL], ['querystring', req.query, ANY_CONTROL], ['body', req.body, CONTROL_EXCEPT_WHITESPACE],
  ];
  for (const [part, value, text] of parts) {
    const finding = inspect(value, '', text);
    if (finding) return { part, finding };
  }
  return undefined;
}

/** Outside /api/v2 an OAuth error, which the error handler renders as the error page on /authorize and /u/*. */
async function refuseHostileInput(req: FastifyRequest): Promise<void> {
  const found = firstFinding(req);
  if (!found) return;
  const { part, finding } = found;
  if (isManagementPath(req.url)) {
    const m = MANAGEMENT[part];
    throw new BadRequest(`${m.prefix}: '${finding.reason}'${finding.path ? ` on property ${finding.path}` : ''}.`, m.errorCode);
  }
  const where = finding.path ? `parameter ${finding.path}` : `the ${OAUTH_PART[part]}`;
  throw new InvalidRequest(`${finding.reason} (${where}).`);
}

/** True when a JSON text opens more than `limit` nested arrays/objects; a linear scan that skips strings. */
export function nestedDeeperThan(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) { if (++depth > limit) return true; } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

/** The framework-level error for a too-deep JSON body; rendered per surface by the error handler. */
export class JsonTooDeep extends Error {
  readonly code = 'TESSERA_JSON_TOO_DEEP';
  readonly statusCode = 400;
  constructor() { super(`JSON nested deeper than ${MAX_JSON_DEPTH} levels`); }
}

type JsonParser = (req: FastifyRequest, body: string, done: (err: Error | null, body?: unknown) => void) => void;

/** Fastify's JSON parser (prototype poisoning refused) behind the nesting cap. */
export function boundedJsonParser(app: FastifyInstance): JsonParser {
  const json = app.getDefaultJsonParser('error', 'error') as unknown as JsonParser;
  return (req, body, done) => {
    if (nestedDeeperThan(body, MAX_JSON_DEPTH)) { done(new JsonTooDeep()); return; }
    json(req, body, done);
  };
}

/** Registers the checks for the whole app: call before any route is registered. */
export function registerHostileInputChecks(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, boundedJsonParser(app) as never);
  app.addHook('preValidation', refuseHostileInput);
}
