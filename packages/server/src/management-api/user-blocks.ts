import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { Empty, errorResponses } from '../schemas/common';
import { UserIdParam } from '../schemas/user';
import type { Services } from '../services';

const tags = ['user-blocks'];
const BlockedFor = Type.Object({
  blocked_for: Type.Array(Type.Object({
    identifier: Type.String({ description: 'Identifier (email) that is blocked.' }),
    ip: Type.String({ description: 'IP address it is blocked from.' }),
    connection: Type.String({ description: 'Connection name.' }),
  })),
});
const Consider = {
  consider_brute_force_enablement: Type.Optional(Type.Boolean({
    description: 'If true and brute-force protection is disabled (TESSERA_BRUTE_FORCE_THRESHOLD=0), the list is empty.',
  })),
};
const IdentifierQuery = Type.Object({
  identifier: Type.String({ minLength: 1, maxLength: 512, description: 'Should be any of a username, phone number, or email.' }),
  ...Consider,
});
const DeleteIdentifierQuery = Type.Object({
  identifier: Type.String({ minLength: 1, maxLength: 512, description: 'Should be any of a username, phone number, or email.' }),
});
type Q = { identifier: string; consider_brute_force_enablement?: boolean };

/** /api/v2/user-blocks: brute-force blocks (an identifier blocked from an address), read and lifted by admins. */
export async function userBlockRoutes(app: FastifyInstance, { services }: { services: Services }): Promise<void> {
  const { userBlocks } = services;

  app.get('/user-blocks', {
    schema: { summary: 'Get blocks by identifier', tags, querystring: IdentifierQuery, response: { 200: BlockedFor, ...errorResponses } },
    config: { scopes: ['read:users'] },
  }, async (req) => {
    const q = req.query as Q;
    return { blocked_for: await userBlocks.byIdentifier(q.identifier, q.consider_brute_force_enablement) };
  });

  app.delete('/user-blocks', {
    schema: { summary: 'Unblock by identifier', tags, querystring: DeleteIdentifierQuery, response: { 204: Empty, ...errorResponses } },
    config: { scopes: ['update:users'] },
  }, async (req, reply) => {
    await userBlocks.unblockIdentifier((req.query as Q).identifier);
    return reply.code(204).send();
  });

  app.get('/user-blocks/:id', {
    schema: { summary: 'Get a user\'s blocks', tags, params: UserIdParam, querystring: Type.Object(Consider), response: { 200: BlockedFor, ...errorResponses } },
    config: { scopes: ['read:users'] },
  }, async (req) => ({
    blocked_for: await userBlocks.byUser((req.params as { id: string }).id, (req.query as Partial<Q>).consider_brute_force_enablement),
  }));

  app.delete('/user-blocks/:id', {
    schema: { summary: 'Unblock a user', tags, params: UserIdParam, response: { 204: Empty, ...errorResponses } },
    config: { scopes: ['update:users'] },
  }, async (req, reply) => {
    await userBlocks.unblockUser((req.params as { id: string }).id);
    return reply.code(204).send();
  });
}
