import { Type } from '@sinclair/typebox';
import type { Connection, ConnectionPatch } from '@tessera/core';
import type { FastifyInstance } from 'fastify';
import { errorResponses, Nullable, OffsetPaging } from '../schemas/common';
import { CheckpointPaging } from '../schemas/role';
import { checkpoint, offsetBody, offsetWindow, type OffsetQuery } from '../http/paging';
import type { Services } from '../services';
import { FieldsQuery, project, projectedResponse, projection, type FieldsParams } from './projection';
import { listResponse } from './roles';

const tags = ['connections'];
const ConnectionResponse = Type.Object({
  id: Type.String(), name: Type.String(), strategy: Type.String(), options: Type.Object({}, { additionalProperties: true }),
  realms: Type.Array(Type.String()), is_domain_connection: Type.Boolean(), enabled_clients: Type.Array(Type.String()),
});
const Strategy = Type.String({ minLength: 1, maxLength: 64 });
const ListQuery = Type.Object({
  ...OffsetPaging, ...CheckpointPaging, ...FieldsQuery,
  strategy: Type.Optional(Type.Union([Strategy, Type.Array(Strategy, { maxItems: 50 })], { description: 'Only connections of these strategies.' })),
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: 'Only the connection of this name.' })),
}, { additionalProperties: false });
const UsernameLength = Type.Integer({ minimum: 1, maximum: 128 });
/**
 * The options Tessera's database connection lets an administrator change. `options` replaces them as a whole
 * (Auth0: "the whole options object will be overridden"); the password policy can only be sent as it is.
 */
const ConnectionPatchBody = Type.Object({
  options: Type.Optional(Type.Object({
    requires_username: Type.Optional(Type.Boolean({ description: 'Whether users of the connection must have a username.' })),
    validation: Type.Optional(Nullable(Type.Object({
      username: Type.Optional(Nullable(Type.Object({ min: UsernameLength, max: UsernameLength }, { additionalProperties: false, description: 'Username length limits.' }))),
    }, { additionalProperties: false }))),
    passwordPolicy: Type.Optional(Type.Literal('good', { description: 'The password policy (Tessera enforces "good").' })),
    password_complexity_options: Type.Optional(Type.Object({ min_length: Type.Literal(8) }, { additionalProperties: false })),
  }, { additionalProperties: false, description: 'Options for the connection.' })),
}, { additionalProperties: false });
const IdParam = Type.Object({ id: Type.String({ minLength: 1, description: 'The id of the connection.' }) });
type Q = OffsetQuery & FieldsParams & { from?: string; take?: number; strategy?: string | string[]; name?: string };

/** /api/v2/connections: Tessera's one database connection (`Username-Password-Authentication`); reads, and PATCH of its username options. */
export async function connectionRoutes(app: FastifyInstance, { services }: { services: Services }): Promise<void> {
  const connections = services.connections;

  app.get('/connections', {
    schema: { summary: 'Get all connections', tags, querystring: ListQuery, response: { 200: listResponse('connections', projectedResponse(ConnectionResponse)), ...errorResponses } },
    config: { scopes: ['read:connections'] },
  }, async (req) => {
    const q = req.query as Q;
    const strategy = q.strategy === undefined ? undefined : Array.isArray(q.strategy) ? q.strategy : q.strategy.split(',');
    const all = await connections.list({ strategy, name: q.name });
    const p = projection(q);
    const view = (c: Connection) => project(c, p);
    if (q.from !== undefined || q.take !== undefined) {
      const page = checkpoint(all, q.from, q.take ?? 50);
      return { connections: page.items.map(view), ...(page.next && { next: page.next }) };
    }
    const w = offsetWindow(q);
    const items = all.slice(w.offset, w.limit === undefined ? undefined : w.offset + w.limit);
    return offsetBody('connections', q, w, { items, total: all.length }, view);
  });

  app.get('/connections/:id', {
    schema: { summary: 'Get a connection', tags, params: IdParam, querystring: Type.Object({ ...FieldsQuery }, { additionalProperties: false }), response: { 200: projectedResponse(ConnectionResponse), ...errorResponses } },
    config: { scopes: ['read:connections'] },
  }, async (req) => project(await connections.get((req.params as { id: string }).id), projection(req.query as FieldsParams)));

  app.patch('/connections/:id', {
    schema: { summary: 'Update a connection', tags, params: IdParam, body: ConnectionPatchBody, response: { 200: ConnectionResponse, ...errorResponses } },
    config: { scopes: ['update:connections'] },
  }, async (req) => connections.update((req.params as { id: string }).id, (req.body ?? {}) as ConnectionPatch));

  app.get('/connections/:id/clients', {
    schema: {
      summary: 'Get enabled clients for a connection', tags, params: IdParam,
      querystring: Type.Object({ ...CheckpointPaging }, { additionalProperties: false }),
      response: { 200: Type.Object({ clients: Type.Array(Type.Object({ client_id: Type.String() })), next: Type.Optional(Type.String()) }), ...errorResponses },
    },
    config: { scopes: ['read:connections'] },
  }, async (req) => {
    const q = req.query as { from?: string; take?: number };
    const c = await connections.get((req.params as { id: string }).id);
    const page = checkpoint(c.enabled_clients, q.from, q.take ?? 50);
    return { clients: page.items.map((client_id) => ({ client_id })), ...(page.next && { next: page.next }) };
  });
}
