import { X509Certificate } from 'node:crypto';
import { InvalidRequest, type ClientCertificate } from '@tessera/core';
import type { FastifyRequest } from 'fastify';
import type { TLSSocket } from 'node:tls';
import { fromTrustedProxy, type MtlsProxy } from '../mtls-proxy';

/** Where client certificates may come from: the TLS handshake (CAs from TESSERA_MTLS_CA) and a trusted proxy's header. */
export interface CertificateSources { trustedCa?: boolean; proxy?: MtlsProxy }

/**
 * The client certificate of the request (RFC 8705): from a configured proxy's header when the connection comes from
 * one of its addresses (the header is ignored from anyone else), otherwise from Tessera's own TLS handshake, which
 * proved the client holds the key. `trusted` only when the operator configured CAs (TESSERA_MTLS_CA) and the chain
 * verified against them in the handshake (Node's default roots are never enough; a proxy's certificate never is).
 */
export function clientCertificateOf(req: FastifyRequest, sources: CertificateSources): ClientCertificate | undefined {
  const { proxy } = sources;
  if (proxy && fromTrustedProxy(proxy, req.raw.socket.remoteAddress)) {
    const value = req.headers[proxy.header];
    if (value === undefined || value === '') return undefined;
    if (typeof value !== 'string') throw new InvalidRequest('Malformed client certificate header: more than one value');
    return { der: derOf(value), trusted: false };
  }
  const socket = req.raw.socket as Partial<TLSSocket>;
  if (typeof socket.getPeerCertificate !== 'function') return undefined;
  const peer = socket.getPeerCertificate(false);
  const der = peer && (peer as { raw?: Buffer }).raw;
  if (!der || der.length === 0) return undefined;
  return { der, trusted: sources.trustedCa === true && (socket as TLSSocket).authorized === true };
}

/** A forwarded certificate: URL-encoded PEM (nginx `$ssl_client_escaped_cert`, AWS ALB), PEM, or base64 DER. */
function derOf(value: string): Buffer {
  try {
    const text = value.includes('%') ? decodeURIComponent(value) : value;
    const pem = text.includes('-----BEGIN CERTIFICATE-----') ? text : `-----BEGIN CERTIFICATE-----\n${text.replace(/\s+/g, '')}\n-----END CERTIFICATE-----`;
    return new X509Certificate(pem).raw;
  } catch {
    throw new InvalidRequest('Malformed client certificate header');
  }
}
