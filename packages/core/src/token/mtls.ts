import { createHash, X509Certificate } from 'node:crypto';

/**
 * The client certificate the TLS layer saw on the token request's connection (RFC 8705), as a neutral fact:
 * the DER bytes. Whether it is trusted by any CA does not matter here; what matters is that the client holds
 * its private key, which the TLS handshake proved.
 */
export interface ClientCertificate {
  der: Uint8Array;
  /** Whether the chain verified against the CAs the operator trusts for tls_client_auth (RFC 8705 §2.1). */
  trusted?: boolean;
}

/** RFC 8705 §3.1: `x5t#S256` is the base64url SHA-256 of the DER certificate. */
export function certificateThumbprint(cert: ClientCertificate): string {
  return createHash('sha256').update(cert.der).digest('base64url');
}

/** The certificate's subject DN as Node prints it (one `attr=value` per line), or undefined when unreadable. */
export function certificateSubject(cert: ClientCertificate): string | undefined {
  try { return new X509Certificate(cert.der).subject; } catch { return undefined; }
}

/**
 * A distinguished name as a canonical string for comparison: attributes split at newlines, else at unescaped commas,
 * attribute types upper-cased, spaces around separators dropped, sorted (so RFC 4514's reversed order, OpenSSL's
 * and Node's forward order compare equal). Undefined when a part is not `type=value`.
 */
export function normalizeDn(dn: string): string | undefined {
  // Node prints one attribute a line (values may hold commas); a one-line DN separates at unescaped commas
  const parts = (dn.includes('\n') ? dn.split('\n') : dn.split(/(?<!\\),/)).map((p) => p.trim()).filter(Boolean);
  if (parts.length === 0) return undefined;
  const out: string[] = [];
  for (const p of parts) {
    const i = p.indexOf('=');
    if (i <= 0) return undefined;
    out.push(`${p.slice(0, i).trim().toUpperCase()}=${p.slice(i + 1).trim().replace(/\\,/g, ',')}`);
  }
  return out.sort().join('\n');
}
