import { Type } from '@sinclair/typebox';
import { LOG_STREAM_CATEGORIES, type LogStreamCreate, type LogStreamPatch } from '@tessera/core';
import type { FastifyInstance } from 'fastify';
import { Empty, errorResponses, StringEnum } from '../schemas/common';
import type { Services } from '../services';

const Format = StringEnum(['JSONLINES', 'JSONARRAY', 'JSONOBJECT'] as const);
const Status = StringEnum(['active', 'paused', 'suspended'] as const, { description: 'The status of the log stream.' });
const Header = Type.Object({ header: Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9!#$%&\'*+.^_`|~-]+$' }), value: Type.String({ maxLength: 2000 }) }, { additionalProperties: false });
const SinkFields = {
  httpEndpoint: Type.String({ minLength: 1, maxLength: 2000, description: 'HTTP endpoint' }),
  httpContentType: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'HTTP Content-Type header' })),
  httpContentFormat: Type.Optional(Format),
  httpAuthorization: Type.Optional(Type.String({ maxLength: 4000, description: 'HTTP Authorization header' })),
  httpCustomHeaders: Type.Optional(Type.Array(Header, { maxItems: 20, description: 'custom HTTP headers' })),
};
const Filter = Type.Object({ type: Type.Literal('category'), name: StringEnum(LOG_STREAM_CATEGORIES) }, { additionalProperties: false });
const Filters = Type.Array(Filter, { maxItems: LOG_STREAM_CATEGORIES.length });

const CreateBody = Type.Object({
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'log stream name' })),
  type: Type.Literal('http'),
  sink: Type.Object(SinkFields, { additionalProperties: false }),
  filters: Type.Optional(Filters),
  isPriority: Type.Optional(Type.Boolean()),
  status: Type.Optional(Status),
}, { additionalProperties: false });

const PatchBody = Type.Object({
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  status: Type.Optional(Status),
  sink: Type.Optional(Type.Partial(Type.Object(SinkFields, { additionalProperties: false }), { additionalProperties: false })),
  filters: Type.Optional(Filters),
  isPriority: Type.Optional(Type.Boolean()),
}, { additionalProperties: false, minProperties: 1 });

const Stream = Type.Object({
  id: Type.String(), name: Type.String(), type: Type.String(), status: Type.String(),
  sink: Type.Object({
    httpEndpoint: Type.String(), httpContentType: Type.Optional(Type.String()), httpContentFormat: Type.Optional(Type.String()),
    httpAuthorization: Type.Optional(Type.String()), httpCustomHeaders: Type.Optional(Type.Array(Header)),
  }),
  filters: Type.Optional(Type.Array(Type.Object({ type: Type.String(), name: Type.String() }))),
  isPriority: Type.Optional(Type.Boolean()),
  delivery: Type.Object({
    status: Type.String(), consecutive_failures: Type.Integer(), delivered: Type.Integer(), last_log_seq: Type.Integer(),
    last_error: Type.Optional(Type.String()), last_attempt_at: Type.Optional(Type.String()), last_delivered_at: Type.Optional(Type.String()),
    next_attempt_at: Type.Optional(Type.String()),
  }),
});
const IdParam = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100, description: 'The id of the log stream.' }) });
const tags = ['log-streams'];

/** /api/v2/log-streams: Auth0's `http` streams; `sink.httpAuthorization` is stored sealed and answered masked. */
export async function logStreamRoutes(app: FastifyInstance, { services }: { services: Services }): Promise<void> {
  const streams = services.logStreams;
  app.get('/log-streams', {
    schema: { summary: 'Get log streams', tags, response: { 200: Type.Array(Stream), ...errorResponses } },
    config: { scopes: ['read:log_streams'] },
  }, async () => streams.list());

  app.post('/log-streams', {
    schema: { summary: 'Create a log stream', tags, body: CreateBody, response: { 201: Stream, ...errorResponses } },
    config: { scopes: ['create:log_streams'] },
  }, async (req, reply) => reply.code(201).send(await streams.create(req.body as LogStreamCreate)));

  app.get('/log-streams/:id', {
    schema: { summary: 'Get log stream by ID', tags, params: IdParam, response: { 200: Stream, ...errorResponses } },
    config: { scopes: ['read:log_streams'] },
  }, async (req) => streams.get((req.params as { id: string }).id));

  app.patch('/log-streams/:id', {
    schema: { summary: 'Update a log stream', tags, params: IdParam, body: PatchBody, response: { 200: Stream, ...errorResponses } },
    config: { scopes: ['update:log_streams'] },
  }, async (req) => streams.update((req.params as { id: string }).id, req.body as LogStreamPatch));

  app.delete('/log-streams/:id', {
    schema: { summary: 'Delete log stream', tags, params: IdParam, response: { 204: Empty, ...errorResponses } },
    config: { scopes: ['delete:log_streams'] },
  }, async (req, reply) => { await streams.delete((req.params as { id: string }).id); return reply.code(204).send(); });
}
