import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { checkpoint } from '../http/paging';
import { Empty, errorResponses } from '../schemas/common';
import { CheckpointQuery, RefreshTokenIdParam, RefreshTokenResponse } from '../schemas/session';
import { UserIdParam } from '../schemas/user';
import type { Services } from '../services';
import { checkpointBody } from './roles';

const tags = ['refresh-tokens'];
type Id = { id: string };
type Checkpoint = { from?: string; take?: number };

/** /api/v2/users/{id}/refresh-tokens and /api/v2/refresh-tokens/{id}: a user's refresh tokens that still work; deleting revokes. */
export async function refreshTokenRoutes(app: FastifyInstance, { services }: { services: Services }): Promise<void> {
  const sessions = services.userSessions;

  app.get('/users/:id/refresh-tokens', {
    schema: { summary: "Get a user's refresh tokens", tags, params: UserIdParam, querystring: CheckpointQuery, response: { 200: Type.Object({ tokens: Type.Array(RefreshTokenResponse), next: Type.Optional(Type.String()) }), ...errorResponses } },
    config: { scopes: ['read:refresh_tokens'] },
  }, async (req) => {
    const q = req.query as Checkpoint;
    return checkpointBody('tokens', checkpoint(await sessions.refreshTokensOf((req.params as Id).id), q.from, q.take ?? 50), (t) => t);
  });

  app.delete('/users/:id/refresh-tokens', {
    schema: { summary: "Delete a user's refresh tokens", tags, params: UserIdParam, response: { 202: Empty, ...errorResponses } },
    config: { scopes: ['delete:refresh_tokens'] },
  }, async (req, reply) => {
    await sessions.revokeRefreshTokens((req.params as Id).id);
    return reply.code(202).send();
  });

  app.get('/refresh-tokens/:id', {
    schema: { summary: 'Get a refresh token', tags, params: RefreshTokenIdParam, response: { 200: RefreshTokenResponse, ...errorResponses } },
    config: { scopes: ['read:refresh_tokens'] },
  }, async (req) => sessions.refreshToken((req.params as Id).id));

  app.delete('/refresh-tokens/:id', {
    schema: { summary: 'Delete a refresh token', tags, params: RefreshTokenIdParam, response: { 202: Empty, ...errorResponses } },
    config: { scopes: ['delete:refresh_tokens'] },
  }, async (req, reply) => {
    await sessions.revokeRefreshToken((req.params as Id).id);
    return reply.code(202).send();
  });
}
