import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { checkpoint } from '../http/paging';
import { Empty, errorResponses } from '../schemas/common';
import { CheckpointQuery, SessionIdParam, SessionResponse } from '../schemas/session';
import { UserIdParam } from '../schemas/user';
import type { Services } from '../services';
import { checkpointBody } from './roles';

const tags = ['sessions'];
type Id = { id: string };
type Checkpoint = { from?: string; take?: number };

/** /api/v2/users/{id}/sessions and /api/v2/sessions/{id}: a user's login sessions at the hosted login; deleting one logs the browser out. */
export async function sessionRoutes(app: FastifyInstance, { services }: { services: Services }): Promise<void> {
  const sessions = services.userSessions;

  app.get('/users/:id/sessions', {
    schema: { summary: "Get a user's sessions", tags, params: UserIdParam, querystring: CheckpointQuery, response: { 200: Type.Object({ sessions: Type.Array(SessionResponse), next: Type.Optional(Type.String()) }), ...errorResponses } },
    config: { scopes: ['read:sessions'] },
  }, async (req) => {
    const q = req.query as Checkpoint;
    return checkpointBody('sessions', checkpoint(await sessions.sessionsOf((req.params as Id).id), q.from, q.take ?? 50), (s) => s);
  });

  app.delete('/users/:id/sessions', {
    schema: { summary: "Delete a user's sessions", tags, params: UserIdParam, response: { 202: Empty, ...errorResponses } },
    config: { scopes: ['delete:sessions'] },
  }, async (req, reply) => {
    await sessions.endSessions((req.params as Id).id);
    return reply.code(202).send();
  });

  app.get('/sessions/:id', {
    schema: { summary: 'Get a session', tags, params: SessionIdParam, response: { 200: SessionResponse, ...errorResponses } },
    config: { scopes: ['read:sessions'] },
  }, async (req) => sessions.session((req.params as Id).id));

  app.delete('/sessions/:id', {
    schema: { summary: 'Delete a session', tags, params: SessionIdParam, response: { 202: Empty, ...errorResponses } },
    config: { scopes: ['delete:sessions'] },
  }, async (req, reply) => {
    await sessions.endSession((req.params as Id).id);
    return reply.code(202).send();
  });
}
