import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { BadRequest } from '@tessera/core';
import type { FastifyInstance } from 'fastify';
import { boundedJsonParser } from './hostile-input';

/**
 * Ajv set up the way Auth0's validator behaves: bodies are validated strictly (no coercion, no silent
 * removal of unknown keys); query strings and path parameters are coerced from strings. Errors are
 * rendered with z-schema's wording, which Auth0's messages follow.
 */
const bodyAjv = new Ajv({ allErrors: false, coerceTypes: false, useDefaults: false, removeAdditional: false, verbose: true, strict: false });
const queryAjv = new Ajv({ allErrors: false, coerceTypes: 'array', useDefaults: true, removeAdditional: false, verbose: true, strict: false });
// `format` keywords (date-time, …) are checked, not ignored with a warning on every start
addFormats(bodyAjv);
addFormats(queryAjv);

const PARTS: Record<string, { prefix: string; errorCode: string }> = {
  body: { prefix: 'Payload validation error', errorCode: 'invalid_body' },
  querystring: { prefix: 'Query validation error', errorCode: 'invalid_query_string' },
  params: { prefix: 'Path validation error', errorCode: 'invalid_uri' },
  headers: { prefix: 'Header validation error', errorCode: 'invalid_headers' },
};

export function validatorCompiler({ schema, httpPart }: { schema: object; httpPart?: string }) {
  const validate: ValidateFunction = (httpPart === 'body' ? bodyAjv : queryAjv).compile(schema);
  const part = PARTS[httpPart ?? 'body'] ?? PARTS.body;
  return (data: unknown) => {
    if (validate(data)) return { value: data };
    return { error: toBadRequest(validate.errors?.[0], part) };
  };
}

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function zSchemaMessage(e: ErrorObject): string {
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'additionalProperties': return `Additional properties not allowed: ${String(p.additionalProperty)}`;
    case 'required': return `Missing required property: ${String(p.missingProperty)}`;
    case 'type': return `Expected type ${String(p.type).replace(',', ' or ')} but found type ${typeOf(e.data)}`;
    case 'enum': return `No enum match for: ${JSON.stringify(e.data)}`;
    case 'const': return `No enum match for: ${JSON.stringify(e.data)}`;
    case 'maximum': return `Value ${String(e.data)} is greater than maximum ${String(p.limit)}`;
    case 'minimum': return `Value ${String(e.data)} is less than minimum ${String(p.limit)}`;
    case 'maxLength': return `String is too long (${String(e.data).length} chars), maximum ${String(p.limit)}`;
    case 'minLength': return `String is too short (${String(e.data).length} chars), minimum ${String(p.limit)}`;
    case 'pattern': return `String does not match pattern ${String(p.pattern)}: ${String(e.data)}`;
    case 'minItems': return `Array is too short (${(e.data as unknown[]).length}), minimum ${String(p.limit)}`;
    case 'maxItems': return `Array is too long (${(e.data as unknown[]).length}), maximum ${String(p.limit)}`;
    case 'uniqueItems': return `Array items are not unique (indexes ${String(p.j)} and ${String(p.i)})`;
    case 'minProperties': return `Too few properties defined (${Object.keys(e.data as object).length}), minimum ${String(p.limit)}`;
    case 'maxProperties': return `Too many properties defined (${Object.keys(e.data as object).length}), maximum ${String(p.limit)}`;
    case 'format': return `Object didn't pass validation for format ${String(p.format)}: ${String(e.data)}`;
    case 'anyOf': case 'oneOf': return `Data does not match any schemas from '${e.keyword}'`;
    default: return e.message ?? 'Invalid value';
  }
}

/** `/scopes/0/value` → `scopes[0].value` */
function dotted(instancePath: string): string {
  return instancePath.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((acc, seg) => (/^\d+$/.test(seg) ? `${acc}[${seg}]` : acc ? `${acc}.${seg}` : seg), '');
}

function toBadRequest(e: ErrorObject | undefined, part: { prefix: string; errorCode: string }): BadRequest {
  if (!e) return new BadRequest(`${part.prefix}: 'Invalid request'.`, part.errorCode);
  const msg = zSchemaMessage(e);
  const path = dotted(e.instancePath);
  if (!path) return new BadRequest(`${part.prefix}: '${msg}'.`, part.errorCode);
  const description = (e.parentSchema as { description?: string } | undefined)?.description;
  return new BadRequest(`${part.prefix}: '${msg}' on property ${path}${description ? ` (${description})` : ''}.`, part.errorCode);
}

/**
 * Management bodies are JSON (or form-encoded, as the OAS declares). Inside the calling plugin:
 * - Fastify's built-in text/plain parser is dropped, so any other content type is a 415;
 * - an empty body sent as application/json counts as no body (go-auth0 always sends the header, even on a
 *   bodiless POST such as rotate-secret); routes that need a body still refuse it through their schema.
 */
export function managementBodies(app: FastifyInstance): void {
  app.removeContentTypeParser('text/plain');
  const json = boundedJsonParser(app);
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    if (body === '') { done(null, undefined); return; }
    json(req, body as string, done as never);
  });
}
