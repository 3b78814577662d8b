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

/** The subject alternative names Node reports, by RFC 8705 §2.1.2 type (`DNS`, `URI`, `IP Address`, `email`). */
const SAN_PREFIX: Record<string, string> = { DNS: 'dns', URI: 'uri', 'IP Address': 'ip', email: 'email' };

/**
 * A certificate's subject alternative names as `type\u0000normalised value` strings (see normalizeSan). Node prints
 * them comma-separated, quoting (JSON) any value that holds a comma or a quote.
 */
export function certificateSans(cert: ClientCertificate): Set<string> {
  const out = new Set<string>();
  let text: string | undefined;
  try { text = new X509Certificate(cert.der).subjectAltName; } catch { return out; }
  if (!text) return out;
  const entry = /(DNS|URI|IP Address|email|[A-Za-z ]+):("(?:[^"\\]|\\.)*"|[^,]*)(?:,\s*|$)/gy;
  for (let m = entry.exec(text); m && m[0].length > 0; m = entry.exec(text)) {
    const type = SAN_PREFIX[m[1]];
    if (!type) continue;
    let value = m[2];
    if (value.startsWith('"')) { try { value = JSON.parse(value) as string; } catch { continue; } }
    const norm = normalizeSan(type, value);
    if (norm !== undefined) out.add(`${type}\u0000${norm}`);
  }
  return out;
}

/**
 * A subject alternative name in comparable form: DNS names lower-cased without a trailing dot; IP addresses in one
 * spelling (IPv6 expanded, hex lower-cased, IPv4-mapped kept as such); e-mail addresses with the domain lower-cased;
 * URIs compared exactly. Undefined when the value is not of the type.
 */
export function normalizeSan(type: string, value: string): string | undefined {
  switch (type) {
    case 'dns': return value.toLowerCase().replace(/\.$/, '');
    case 'uri': return value;
    case 'email': {
      const at = value.lastIndexOf('@');
      return at <= 0 ? undefined : `${value.slice(0, at)}@${value.slice(at + 1).toLowerCase()}`;
    }
    case 'ip': return normalizeIp(value);
    default: return undefined;
  }
}

function normalizeIp(value: string): string | undefined {
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(value)) return value.split('.').every((o) => Number(o) <= 255) ? value.split('.').map(Number).join('.') : undefined;
  if (!/^[0-9A-Fa-f:.]+$/.test(value) || !value.includes(':')) return undefined;
  let v = value.toLowerCase();
  const v4 = /(\d{1,3}(?:\.\d{1,3}){3})$/.exec(v);
  if (v4) {
    const parts = v4[1].split('.').map(Number);
    if (parts.some((p) => p > 255)) return undefined;
    v = v.slice(0, -v4[1].length) + `${((parts[0] << 8) | parts[1]).toString(16)}:${((parts[2] << 8) | parts[3]).toString(16)}`;
  }
  const halves = v.split('::');
  if (halves.length > 2) return undefined;
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const missing = 8 - head.length - tail.length;
  if ((halves.length === 1 && missing !== 0) || (halves.length === 2 && missing < 1)) return undefined;
  const groups = [...head, ...Array(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  if (groups.some((g) => !/^[0-9a-f]{1,4}$/.test(g))) return undefined;
  return groups.map((g) => parseInt(g, 16).toString(16)).join(':');
}
