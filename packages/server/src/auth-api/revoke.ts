import { InvalidRequest, type TokenContext } from '@tessera/core';
import type { FastifyInstance } from 'fastify';
import type { Services } from '../services';
import { namedClient, tokenRequestFrom } from './token';
import { checkBrowserOrigin } from '../http/cors';
import { CLIENT_AUTH_SECURITY } from '../openapi';

/**
 * POST /oauth/revoke (RFC 7009), JSON or form: the client authenticates as at the token endpoint; a refresh
 * token's whole family is revoked. Unknown tokens and other clients' tokens answer 200 as well (§2.2).
 */
export async function revokeRoutes(app: FastifyInstance, { services, selfOrigin }: { services: Services; selfOrigin: string }): Promise<void> {
  app.post('/oauth/revoke', { schema: { summary: 'Revoke a refresh token', tags: ['authentication'], security: CLIENT_AUTH_SECURITY, description: 'Body `token` (a refresh token) and the client\'s authentication, as at `/oauth/token`. Unknown tokens also answer 200 (RFC 7009 §2.2).' } }, async (req, reply) => {
    const request = tokenRequestFrom(req);
    if (req.headers.origin !== undefined) await checkBrowserOrigin(req, reply, services, selfOrigin, namedClient(request));
    const ctx: TokenContext = { request, grantType: 'revoke' };
    const client = await services.clientAuth.authenticate(ctx, true);
    const token = request.params.token;
    if (!token) throw new InvalidRequest('Missing required parameter: token');
    await services.userFlows.refreshTokens.revoke(client, token);
    return reply.code(200).header('cache-control', 'no-store').send();
  });
}
