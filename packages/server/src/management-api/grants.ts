import { Type } from '@sinclair/typebox';
import { NotFound, type ConsentRecord } from '@tessera/core';
import type { FastifyInstance } from 'fastify';
import { Empty, errorResponses, OffsetPaging } from '../schemas/common';
import { offsetBody, offsetWindow, type OffsetQuery } from '../http/paging';
import type { Services } from '../services';

const Grant = Type.Object({
  id: Type.String(), clientID: Type.String(), user_id: Type.String(), audience: Type.String(), scope: Type.Array(Type.String()),
});
const ListQuery = Type.Object({
  ...OffsetPaging,
  user_id: Type.Optional(Type.String({ description: 'user_id of the grants to retrieve.' })),
  client_id: Type.Optional(Type.String({ description: 'client_id of the grants to retrieve.' })),
  audience: Type.Optional(Type.String({ description: 'audience of the grants to retrieve.' })),
}, { additionalProperties: true });
const tags = ['grants'];

const view = (c: ConsentRecord) => ({ id: c.id, clientID: c.clientId, user_id: c.userId, audience: c.audience, scope: c.scopes });

/** /api/v2/grants: the consent users gave to applications; deleting one also revokes its refresh tokens. */
export async function grantRoutes(app: FastifyInstance, { services }: { services: Services }): Promise<void> {
  const { store, clock } = services;
  const withdraw = async (c: ConsentRecord) => {
    await store.consents.delete(c.id);
    const audience = c.audience === services.userFlows.userTokens.userinfoAudience ? undefined : c.audience;
    await store.refreshTokens.revokeFor(c.userId, c.clientId, audience, clock.now());
  };

  app.get('/grants', {
    schema: { summary: 'Get grants', tags, querystring: ListQuery, response: { 200: Type.Union([Type.Array(Grant), Type.Object({ start: Type.Integer(), limit: Type.Integer(), total: Type.Integer(), grants: Type.Array(Grant) })]), ...errorResponses } },
    config: { scopes: ['read:grants'] },
  }, async (req) => {
    const q = req.query as OffsetQuery & { user_id?: string; client_id?: string; audience?: string };
    const w = offsetWindow(q);
    const page = await store.consents.list({ userId: q.user_id, clientId: q.client_id, audience: q.audience, ...w });
    return offsetBody('grants', q, w, page, view);
  });

  app.delete('/grants/:id', {
    schema: { summary: 'Delete a grant by id', tags, params: Type.Object({ id: Type.String({ minLength: 1, description: 'ID of the grant to delete.' }) }), response: { 204: Empty, ...errorResponses } },
    config: { scopes: ['delete:grants'] },
  }, async (req, reply) => {
    const c = await store.consents.findById((req.params as { id: string }).id);
    if (!c) throw new NotFound('The grant does not exist.', 'inexistent_grant');
    await withdraw(c);
    return reply.code(204).send();
  });

  app.delete('/grants', {
    schema: { summary: 'Delete every grant of a user', tags, querystring: Type.Object({ user_id: Type.String({ minLength: 1, description: 'user_id of the grants to delete.' }) }), response: { 204: Empty, ...errorResponses } },
    config: { scopes: ['delete:grants'] },
  }, async (req, reply) => {
    const userId = (req.query as { user_id: string }).user_id;
    for (const c of (await store.consents.list({ userId, offset: 0 })).items) await withdraw(c);
    return reply.code(204).send();
  });
}
