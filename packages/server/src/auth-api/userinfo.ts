import { Unauthorized } from '@tessera/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Services } from '../services';

/** GET/POST /userinfo (OIDC Core §5.3): claims by scope; any failure is 401 with a Bearer challenge. */
export async function userinfoRoutes(app: FastifyInstance, { services }: { services: Services }): Promise<void> {
  const handler = async (req: FastifyRequest, reply: FastifyReply) => {
    try {
      const claims = await services.userFlows.userinfo.claims(req.headers.authorization);
      return reply.header('cache-control', 'no-store').type('application/json; charset=utf-8').serializer(JSON.stringify).send(claims);
    } catch (e) {
      if (!(e instanceof Unauthorized)) throw e;
      req.log.debug({ cause: String(e.privateCause) }, 'userinfo refused');
      return reply.code(401).header('www-authenticate', 'Bearer error="invalid_token"').header('cache-control', 'no-store')
        .type('text/plain; charset=utf-8').send('Unauthorized');
    }
  };
  app.get('/userinfo', { schema: { summary: 'Claims about the user of an access token that includes the /userinfo audience', tags: ['authentication'] } }, handler);
  app.post('/userinfo', { schema: { hide: true } }, handler);
}
