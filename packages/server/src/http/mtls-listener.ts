import type { IncomingMessage } from 'node:http';
import type { FastifyRequest } from 'fastify';

const ON_MTLS_LISTENER = Symbol('tessera.mtlsListener');

/** Marks a request accepted by the separate mTLS listener (TESSERA_MTLS_PORT) before it is routed. */
export function markMtlsListener(req: IncomingMessage): void {
  (req as IncomingMessage & { [ON_MTLS_LISTENER]?: true })[ON_MTLS_LISTENER] = true;
}

/** Whether the request came through the separate mTLS listener: the `mtls_endpoint_aliases` URLs name it. */
export function viaMtlsListener(req: FastifyRequest): boolean {
  return (req.raw as IncomingMessage & { [ON_MTLS_LISTENER]?: true })[ON_MTLS_LISTENER] === true;
}
