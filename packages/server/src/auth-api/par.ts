import { InvalidRequest, type TokenContext } from '@tessera/core';
import type { FastifyInstance } from 'fastify';
import type { CertificateSources } from '../http/client-certificate';
import type { Services } from '../services';
import { tokenRequestFrom } from './token';
import { CLIENT_AUTH_SECURITY } from '../openapi';

const PushedResponse = {
  type: 'object',
  properties: { request_uri: { type: 'string' }, expires_in: { type: 'integer' } },
  required: ['request_uri', 'expires_in'],
} as const;

/**
 * POST /oauth/par (RFC 9126): the client authenticates as at the token endpoint (every method it supports), pushes
 * the authorization request parameters, and gets a single-use request_uri valid for 30 seconds.
 */
export async function parRoutes(app: FastifyInstance, { services, certificates }: { services: Services; certificates?: CertificateSources }): Promise<void> {
  app.post('/oauth/par', {
    schema: { summary: 'Pushed authorization request (RFC 9126)', tags: ['authentication'], security: CLIENT_AUTH_SECURITY, response: { 201: PushedResponse } },
  }, async (req, reply) => {
    const request = tokenRequestFrom(req, certificates);
    if ((request.dpop ?? []).length > 0) throw new InvalidRequest('DPoP proofs are not supported at the pushed authorization request endpoint');
    const ctx: TokenContext = { request, grantType: 'pushed_authorization_request' };
    const client = await services.clientAuth.authenticate(ctx, true);
    const res = await services.userFlows.authorize.push(client, request.params);
    return reply.code(201).header('cache-control', 'no-store').header('pragma', 'no-cache').send(res);
  });
}
