import { Type } from '@sinclair/typebox';
import { userView } from '@tessera/core';
import type { FastifyInstance } from 'fastify';
import { errorResponses } from '../schemas/common';
import { UserResponse, UsersByEmailQuery } from '../schemas/user';
import type { Services } from '../services';
import { projectedResponse, projecting, projection, type FieldsParams } from './projection';

/** /api/v2/users-by-email: every user with exactly this address (case-insensitive), as a bare array. */
export async function usersByEmailRoutes(app: FastifyInstance, { services }: { services: Services }): Promise<void> {
  app.get('/users-by-email', {
    schema: { summary: 'Search users by email', tags: ['users-by-email'], querystring: UsersByEmailQuery, response: { 200: Type.Array(projectedResponse(UserResponse)), ...errorResponses } },
    config: { scopes: ['read:users'] },
  }, async (req) => {
    const q = req.query as FieldsParams & { email: string };
    return (await services.users.byEmail(q.email)).map(projecting(userView, projection(q)));
  });
}
