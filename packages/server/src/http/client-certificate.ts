import type { ClientCertificate } from '@tessera/core';
import type { FastifyRequest } from 'fastify';
import type { TLSSocket } from 'node:tls';

/**
 * The client certificate of the request's TLS connection (RFC 8705), when Tessera serves TLS and the client
 * presented one; undefined on plain HTTP or without a certificate. The handshake already proved the client
 * holds the certificate's private key.
 */
export function clientCertificateOf(req: FastifyRequest): ClientCertificate | undefined {
  const socket = req.raw.socket as Partial<TLSSocket>;
  if (typeof socket.getPeerCertificate !== 'function') return undefined;
  const peer = socket.getPeerCertificate(false);
  const der = peer && (peer as { raw?: Buffer }).raw;
  return der && der.length > 0 ? { der } : undefined;
}
