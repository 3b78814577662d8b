import { DPOP_ALGS, Unauthorized } from '@tessera/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { dpopHeaders } from '../http/dpop-header';
import { viaMtlsListener } from '../http/mtls-listener';
import { clientCertificateOf, type CertificateSources } from '../http/client-certificate';
import type { Services } from '../services';
import { allowOrigin, crossOrigin, originAllowed } from '../http/cors';

/** RFC 6750 §3 / RFC 9449 §7.1: the challenge names the scheme the token needs and the proof algorithms. */
function challenge(e: Unauthorized, authorization: string | undefined): string {
  const algs = `algs="${DPOP_ALGS.join(' ')}"`;
  if (e.errorCode === 'invalid_dpop_proof') return `DPoP error="invalid_dpop_proof", ${algs}`;
  if (e.errorCode === 'use_dpop' || /^dpop\s/i.test(authorization ?? '')) return `DPoP error="invalid_token", ${algs}`;
  return 'Bearer error="invalid_token"';
}

/** GET/POST /userinfo (OIDC Core §5.3): claims by scope; any failure is 401 with a Bearer or DPoP challenge. */
export async function userinfoRoutes(app: FastifyInstance, { services, certificates, selfOrigin }: { services: Services; certificates?: CertificateSources; selfOrigin: string }): Promise<void> {
  const handler = async (req: FastifyRequest, reply: FastifyReply) => {
    try {
      const { claims, clientId } = await services.userFlows.userinfo.answer({
        authorization: req.headers.authorization, dpop: dpopHeaders(req), method: req.method, clientCertificate: clientCertificateOf(req, certificates ?? {}), viaMtlsListener: viaMtlsListener(req),
      });
      // CORS: a page may read the claims when the token's client lists the page's origin
      const origin = crossOrigin(req, selfOrigin);
      const client = origin !== undefined && clientId !== undefined ? (await services.directory.client(clientId))?.client : undefined;
      if (origin !== undefined && client && originAllowed(client, origin)) allowOrigin(reply, origin);
      return reply.header('cache-control', 'no-store').type('application/json; charset=utf-8').serializer(JSON.stringify).send(claims);
    } catch (e) {
      if (!(e instanceof Unauthorized)) throw e;
      req.log.debug({ cause: String(e.privateCause) }, 'userinfo refused');
      return reply.code(401).header('www-authenticate', challenge(e, req.headers.authorization)).header('cache-control', 'no-store')
        .type('text/plain; charset=utf-8').send('Unauthorized');
    }
  };
  app.get('/userinfo', { schema: { summary: 'Claims about the user of an access token that includes the /userinfo audience', tags: ['authentication'] } }, handler);
  app.post('/userinfo', { schema: { hide: true } }, handler);
}
