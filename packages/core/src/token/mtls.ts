import { createHash, X509Certificate } from 'node:crypto';

/**
 * The client certificate the TLS layer saw on the token request's connection (RFC 8705), as a neutral fact:
 * the DER bytes. Whether it is trusted by any CA does not matter here; what matters is that the client holds
 * its private key, which the TLS handshake proved.
 */
export interface ClientCertificate {
  der: Uint8Array;
}

/** RFC 8705 §3.1: `x5t#S256` is the base64url SHA-256 of the DER certificate. */
export function certificateThumbprint(cert: ClientCertificate): string {
  return createHash('sha256').update(cert.der).digest('base64url');
}

/** The certificate's subject DN as Node prints it (one `attr=value` per line), or undefined when unreadable. */
export function certificateSubject(cert: ClientCertificate): string | undefined {
  try { return new X509Certificate(cert.der).subject; } catch { return undefined; }
}
