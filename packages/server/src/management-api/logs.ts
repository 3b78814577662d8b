import { Type } from '@sinclair/typebox';
import type { LogListQuery } from '@tessera/core';
import type { FastifyInstance } from 'fastify';
import { errorResponses, OffsetPaging } from '../schemas/common';
import type { Services } from '../services';

/** One event as Auth0 returns it; `details` is open (it differs per event type). Every field is optional: `fields` may leave any out. */
export const LogEventSchema = Type.Object({
  log_id: Type.Optional(Type.String()), date: Type.Optional(Type.String()), type: Type.Optional(Type.String()), description: Type.Optional(Type.String()),
  client_id: Type.Optional(Type.String()), client_name: Type.Optional(Type.String()), ip: Type.Optional(Type.String()),
  user_agent: Type.Optional(Type.String()), user_id: Type.Optional(Type.String()), user_name: Type.Optional(Type.String()),
  audience: Type.Optional(Type.String()), scope: Type.Optional(Type.String()), connection: Type.Optional(Type.String()),
  strategy: Type.Optional(Type.String()), strategy_type: Type.Optional(Type.String()), hostname: Type.Optional(Type.String()),
  details: Type.Optional(Type.Object({}, { additionalProperties: true })),
});

const ListQuery = Type.Object({
  ...OffsetPaging,
  sort: Type.Optional(Type.String({ maxLength: 50, description: 'Field to use for sorting appended with `:1` for ascending and `:-1` for descending. e.g. `date:-1`' })),
  fields: Type.Optional(Type.String({ maxLength: 1000, description: 'Comma-separated list of fields to include or exclude (depending on include_fields) from the result, empty to retrieve all fields.' })),
  include_fields: Type.Optional(Type.Boolean({ description: 'Whether specified fields are to be included (true) or excluded (false).' })),
  q: Type.Optional(Type.String({ maxLength: 1000, description: 'Query in Lucene query string syntax.' })),
  from: Type.Optional(Type.String({ maxLength: 100, description: 'Log Event Id from which to start selection from.' })),
  take: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, description: 'Number of entries to retrieve when using the `from` parameter.' })),
}, { additionalProperties: true });

const IdParam = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100, description: 'log_id of the log to retrieve.' }) });
const tags = ['logs'];
/** Auth0 accepts either scope on both routes. */
const scopes = ['read:logs', 'read:logs_users'];

/** /api/v2/logs: the tenant log (search by criteria, or checkpoint reads with from/take). */
export async function logRoutes(app: FastifyInstance, { services }: { services: Services }): Promise<void> {
  app.get('/logs', {
    schema: {
      summary: 'Search log events', tags, querystring: ListQuery,
      response: {
        200: Type.Union([
          Type.Array(LogEventSchema),
          Type.Object({ start: Type.Integer(), limit: Type.Integer(), length: Type.Integer(), total: Type.Integer(), logs: Type.Array(LogEventSchema) }, { additionalProperties: false }),
        ]),
        ...errorResponses,
      },
    },
    config: { scopes },
  }, async (req) => {
    const res = await services.logs.list(req.query as LogListQuery);
    if (res.kind === 'array') return res.logs;
    const { kind: _k, ...body } = res;
    return body;
  });

  app.get('/logs/:id', {
    schema: { summary: 'Get a log event by id', tags, params: IdParam, response: { 200: LogEventSchema, ...errorResponses } },
    config: { scopes },
  }, async (req) => services.logs.get((req.params as { id: string }).id));
}
