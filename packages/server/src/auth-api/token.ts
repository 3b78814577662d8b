import { InvalidRequest, type TokenRequest } from '@tessera/core';
import { parseBasicAuth } from '@tessera/core';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Services } from '../services';

const TokenResponse = {
  type: 'object',
  properties: {
    access_token: { type: 'string' }, refresh_token: { type: 'string' }, id_token: { type: 'string' },
    scope: { type: 'string' }, expires_in: { type: 'integer' }, token_type: { type: 'string' },
  },
  required: ['access_token', 'expires_in', 'token_type'],
} as const;

/** Single-valued string parameters from a form or JSON body; duplicates and non-strings are refused. */
export function tokenRequestFrom(req: FastifyRequest): TokenRequest {
  const body = req.body;
  if (body === undefined || body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new InvalidRequest('The request body must be application/x-www-form-urlencoded or application/json.');
  }
  const params: Record<string, string> = {};
  for (const [k, v] of Object.entries(body as Record<string, unknown>)) {
    if (Array.isArray(v)) throw new InvalidRequest(`Duplicate parameter: ${k}`);
    if (v === undefined || v === null) continue;
    if (typeof v === 'object') throw new InvalidRequest(`Invalid parameter: ${k} must be a string`);
    params[k] = String(v);
  }
  const basic = parseBasicAuth(req.headers.authorization);
  if (basic === 'malformed') throw new InvalidRequest('Malformed HTTP Basic authorization header.');
  return { params, basic };
}

/** POST /oauth/token (RFC 6749 §3.2): transport only; the pipeline lives in @tessera/core. */
export async function tokenRoutes(app: FastifyInstance, { services }: { services: Services }): Promise<void> {
  app.post('/oauth/token', {
    schema: { summary: 'Get tokens', tags: ['authentication'], response: { 200: TokenResponse } },
    logLevel: 'warn',
  }, async (req, reply) => {
    const res = await services.tokenEndpoint.handle(tokenRequestFrom(req));
    return reply.header('cache-control', 'no-store').header('pragma', 'no-cache').send(res);
  });
}
