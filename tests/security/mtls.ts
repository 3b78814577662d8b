import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';

export interface ClientCert { cert: Buffer; key: Buffer; pem: string; x5t: string }

/** A self-signed client certificate made by openssl in `dir`, and its RFC 8705 thumbprint computed from openssl's SHA-256 fingerprint. */
export function clientCert(dir: string, name: string, sans: string[] = []): ClientCert {
  const f = (n: string) => join(dir, `${name}.${n}`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', f('key'), '-out', f('crt'),
    '-days', '2', '-subj', `/CN=${name}/O=Tessera Tests`, ...(sans.length ? ['-addext', `subjectAltName=${sans.join(',')}`] : [])], { stdio: 'pipe' });
  const fp = execFileSync('openssl', ['x509', '-in', f('crt'), '-noout', '-fingerprint', '-sha256']).toString();
  const hex = fp.split('=')[1].trim().replace(/:/g, '');
  const cert = readFileSync(f('crt'));
  return { cert, key: readFileSync(f('key')), pem: cert.toString(), x5t: Buffer.from(hex, 'hex').toString('base64url') };
}

export const subjectOf = (c: ClientCert): string => new X509Certificate(c.cert).subject;

export interface Answer { status: number; body: any; headers: Record<string, unknown> }

/** One HTTPS request to the loopback listener, with or without a client certificate; a fresh connection each time. */
export function overTls(port: number, ca: Buffer, method: string, path: string, o: { form?: Record<string, string>; cert?: ClientCert; headers?: Record<string, string> } = {}): Promise<Answer> {
  const body = o.form && new URLSearchParams(o.form).toString();
  return new Promise((resolve, reject) => {
    const req = httpsRequest({
      host: '127.0.0.1', port, path, method, ca, agent: false,
      ...(o.cert ? { cert: o.cert.cert, key: o.cert.key } : {}),
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded' }), ...o.headers },
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { text += d; });
      res.on('end', () => {
        let parsed: unknown = text;
        try { parsed = JSON.parse(text); } catch { /* keep text */ }
        resolve({ status: res.statusCode!, body: parsed, headers: res.headers });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * A client certificate for `/CN=${name}/O=${org}` issued by the test CA in `dir` (ca.crt, ca.key from makeCerts), with
 * subject alternative names in openssl's syntax when given (`DNS:a.example`, `URI:spiffe://…`, `IP:10.0.0.1`, `email:…`).
 */
export function caSignedCert(dir: string, name: string, org = 'Tessera Tests', sans: string[] = []): ClientCert {
  const f = (n: string) => join(dir, `${name}.${n}`);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  ssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', f('key'), '-out', f('csr'), '-subj', `/CN=${name}/O=${org}`);
  writeFileSync(f('ext'), `basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=clientAuth\n${sans.length ? `subjectAltName=${sans.join(',')}\n` : ''}`);
  ssl('x509', '-req', '-in', f('csr'), '-CA', join(dir, 'ca.crt'), '-CAkey', join(dir, 'ca.key'), '-CAcreateserial', '-out', f('crt'), '-days', '2', '-extfile', f('ext'));
  const cert = readFileSync(f('crt'));
  return { cert, key: readFileSync(f('key')), pem: cert.toString(), x5t: Buffer.from(new X509Certificate(cert).fingerprint256.replace(/:/g, ''), 'hex').toString('base64url') };
}
