import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface CertFiles {
  dir: string; caCert: string; serverCert: string; serverKey: string;
  /** The CA trusted for tls_client_auth client certificates (TESSERA_MTLS_CA); its key stays beside it in `clients/`. */
  clientCaCert?: string;
}

/**
 * A throw-away CA and a server certificate for 127.0.0.1 / localhost, made with openssl.
 * Clients trust the CA through NODE_EXTRA_CA_CERTS only; nothing disables verification.
 */
export function makeCerts(dir: string): CertFiles {
  mkdirSync(dir, { recursive: true });
  const f = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=Tessera compat test CA',
    '-keyout', f('ca.key'), '-out', f('ca.crt'),
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', f('server.key'), '-out', f('server.csr'));
  writeFileSync(f('server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n');
  openssl('x509', '-req', '-in', f('server.csr'), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial',
    '-days', '2', '-extfile', f('server.ext'), '-out', f('server.crt'));
  for (const tmp of ['server.csr', 'server.ext', 'ca.srl', 'ca.key']) rmSync(f(tmp), { force: true });
  // a second CA, only for client certificates (tls_client_auth); tests issue certificates with its key
  mkdirSync(f('clients'), { recursive: true });
  openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2', '-subj', '/CN=Tessera compat client CA',
    '-keyout', f('clients/ca.key'), '-out', f('clients/ca.crt'),
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  return { dir, caCert: f('ca.crt'), serverCert: f('server.crt'), serverKey: f('server.key'), clientCaCert: f('clients/ca.crt') };
}
