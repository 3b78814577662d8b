import { createHash } from 'node:crypto';
import { InvalidRequestError, InvalidTokenError } from './errors';
import type { ClientCertificate, JWTPayload } from './options';

const PEM_RE = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+?)-----END CERTIFICATE-----/;

function toDer(cert: ClientCertificate): Buffer {
  if (typeof cert === 'string') {
    const m = cert.match(PEM_RE);
    if (!m) throw new InvalidRequestError('Client certificate is not valid PEM', false);
    return Buffer.from(m[1].replace(/\s+/g, ''), 'base64');
  }
  return Buffer.isBuffer(cert) ? cert : Buffer.from(cert);
}

/** RFC 8705 §3.1: base64url SHA-256 of the DER certificate. */
export function certificateThumbprint(cert: ClientCertificate): string {
  const der = toDer(cert);
  if (der.length === 0) throw new InvalidRequestError('Client certificate is empty', false);
  return createHash('sha256').update(der).digest('base64url');
}

/** The certificate a trusted proxy forwarded: URL-encoded PEM, PEM, or base64 DER. */
export function certificateFromHeader(value: string): ClientCertificate | undefined {
  let v = value.trim();
  if (!v) return undefined;
  if (v.includes('%')) { try { v = decodeURIComponent(v); } catch { return undefined; } }
  if (v.includes('-----BEGIN')) return v;
  const der = Buffer.from(v, 'base64');
  return der.length ? der : undefined;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** RFC 8705 §3: the token's `cnf["x5t#S256"]` must be the presented certificate's thumbprint. */
export function checkCertificateBinding(claims: JWTPayload, cert: ClientCertificate | undefined): void {
  const cnf = claims.cnf;
  if (!cnf) throw new InvalidTokenError('JWT Access Token has no x5t#S256 confirmation claim');
  if (!isObject(cnf)) throw new InvalidTokenError('Invalid "cnf" confirmation claim structure');
  if (!('x5t#S256' in cnf)) throw new InvalidTokenError('JWT Access Token has no x5t#S256 confirmation claim');
  const expected = cnf['x5t#S256'];
  if (typeof expected !== 'string') throw new InvalidTokenError('Malformed "x5t#S256" confirmation claim');
  if (!expected.length) throw new InvalidTokenError('Invalid "x5t#S256" confirmation claim');
  if (cert === undefined) throw new InvalidRequestError('A client certificate is required for this certificate-bound access token');
  if (certificateThumbprint(cert) !== expected) throw new InvalidTokenError('JWT Access Token confirmation mismatch');
}
