import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { certificateFromHeader } from './mtls';
import type { ClientCertificate, MtlsOptions } from './options';

const v4mapped = (a: string | undefined) => (a?.startsWith('::ffff:') ? a.slice(7) : a);

/**
 * The client certificate of a Node request: the one presented on this TLS connection, else the one a trusted
 * TLS-terminating proxy forwarded in `mtls.proxyHeader` (only when the peer is in `mtls.trustedProxies`).
 */
export function certificateGetter(mtls: MtlsOptions | undefined): (req: IncomingMessage) => ClientCertificate | undefined {
  const header = mtls?.proxyHeader?.toLowerCase();
  const trusted = new Set((mtls?.trustedProxies ?? []).map((a) => v4mapped(a.trim())));
  return (req) => {
    const socket = req.socket as TLSSocket | undefined;
    if (socket && typeof socket.getPeerCertificate === 'function') {
      const raw = socket.getPeerCertificate(false)?.raw;
      if (raw && raw.length) return raw;
    }
    if (header && trusted.has(v4mapped(socket?.remoteAddress))) {
      const v = req.headers[header];
      if (typeof v === 'string') return certificateFromHeader(v);
    }
    return undefined;
  };
}
