import type { ClientCertificate } from '@tessera/core';
import type { FastifyRequest } from 'fastify';
import type { TLSSocket } from 'node:tls';

/**
 * The client certificate of the request's TLS connection (RFC 8705), when Tessera serves TLS and the client
 * presented one; undefined on plain HTTP or without a certificate. The handshake already proved the client
 * holds the certificate's private key. `trusted` only when the operator configured CAs (TESSERA_MTLS_CA) and the
 * chain verified against them (Node's default roots are never enough).
 */
export function clientCertificateOf(req: FastifyRequest, trustedCa: boolean): ClientCertificate | undefined {
  const socket = req.raw.socket as Partial<TLSSocket>;
  if (typeof socket.getPeerCertificate !== 'function') return undefined;
  const peer = socket.getPeerCertificate(false);
  const der = peer && (peer as { raw?: Buffer }).raw;
  if (!der || der.length === 0) return undefined;
  return { der, trusted: trustedCa && (socket as TLSSocket).authorized === true };
}
