import { Type } from '@sinclair/typebox';
import { resourceServerView, type ResourceServerCreate, type ResourceServerPatch, type ResourceServerQuery } from '@tessera/core';
import type { FastifyInstance } from 'fastify';
import { errorResponses, Empty } from '../schemas/common';
import { ResourceServerCreateBody, ResourceServerListQuery, ResourceServerPatchBody, ResourceServerResponse } from '../schemas/resource-server';
import { offsetBody, offsetWindow, type OffsetQuery } from '../http/paging';
import type { Services } from '../services';

const IdParam = Type.Object({ id: Type.String({ minLength: 1, description: 'ID or audience of the resource server.' }) });
const tags = ['resource-servers'];

/** /api/v2/resource-servers: `{id}` is the id or the URL-encoded identifier. */
export async function resourceServerRoutes(app: FastifyInstance, { services }: { services: Services }): Promise<void> {
  const rs = services.resourceServers;

  app.get('/resource-servers', {
    schema: {
      summary: 'Get resource servers', tags, querystring: ResourceServerListQuery,
      response: { 200: Type.Union([Type.Array(ResourceServerResponse), Type.Object({ start: Type.Integer(), limit: Type.Integer(), total: Type.Integer(), resource_servers: Type.Array(ResourceServerResponse) })]), ...errorResponses },
    },
    config: { scopes: ['read:resource_servers'] },
  }, async (req) => {
    const q = req.query as OffsetQuery & { identifiers?: string[] };
    const w = offsetWindow(q);
    const query: ResourceServerQuery = { ...w, identifiers: q.identifiers };
    return offsetBody('resource_servers', q, w, await rs.list(query), resourceServerView);
  });

  app.post('/resource-servers', {
    schema: { summary: 'Create a resource server', tags, body: ResourceServerCreateBody, response: { 201: ResourceServerResponse, ...errorResponses } },
    config: { scopes: ['create:resource_servers'] },
  }, async (req, reply) => reply.code(201).send(resourceServerView(await rs.create(req.body as ResourceServerCreate))));

  app.get('/resource-servers/:id', {
    schema: { summary: 'Get a resource server', tags, params: IdParam, querystring: Type.Object({ include_fields: Type.Optional(Type.Boolean()) }), response: { 200: ResourceServerResponse, ...errorResponses } },
    config: { scopes: ['read:resource_servers'] },
  }, async (req) => resourceServerView(await rs.get((req.params as { id: string }).id)));

  app.patch('/resource-servers/:id', {
    schema: { summary: 'Update a resource server', tags, params: IdParam, body: ResourceServerPatchBody, response: { 200: ResourceServerResponse, ...errorResponses } },
    config: { scopes: ['update:resource_servers'] },
  }, async (req) => resourceServerView(await rs.update((req.params as { id: string }).id, (req.body ?? {}) as ResourceServerPatch)));

  app.delete('/resource-servers/:id', {
    schema: { summary: 'Delete a resource server', tags, params: IdParam, response: { 204: Empty, ...errorResponses } },
    config: { scopes: ['delete:resource_servers'] },
  }, async (req, reply) => {
    await rs.delete((req.params as { id: string }).id);
    return reply.code(204).send();
  });
}
