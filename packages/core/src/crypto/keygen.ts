import 'reflect-metadata';
import { createHash, webcrypto, X509Certificate } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { exportJWK } from 'jose';
import type { SigningKey } from '../model';
import { ids } from './random';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const RSA_ALG = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 };

function pem(label: string, der: ArrayBuffer): string {
  const b64 = Buffer.from(der).toString('base64').replace(/(.{64})/g, '$1\n').trimEnd();
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

export function certThumbprints(certPem: string): { fingerprint: string; thumbprint: string; x5t: string; x5c: string } {
  const der = new X509Certificate(certPem).raw;
  const sha1 = createHash('sha1').update(der).digest();
  return {
    fingerprint: sha1.toString('hex').toUpperCase().replace(/(..)(?!$)/g, '$1:'),
    thumbprint: sha1.toString('hex'),
    x5t: sha1.toString('base64url'),
    x5c: der.toString('base64'),
  };
}

/** A fresh RSA-2048 tenant signing key with a self-signed certificate for `subject` (e.g. the public host). */
export async function generateSigningKey(subject: string, now: Date): Promise<SigningKey> {
  const keys = (await webcrypto.subtle.generateKey(RSA_ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
  const notAfter = new Date(now.getTime() + 10 * 365 * 24 * 3600 * 1000);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: Buffer.from(ids.jti(), 'base64url').toString('hex'),
    name: `CN=${subject.replace(/[,=+<>#;"\\]/g, '_')}`,
    notBefore: now,
    notAfter,
    signingAlgorithm: RSA_ALG,
    keys,
    extensions: [new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true)],
  });
  const certPem = cert.toString('pem') + '\n';
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  const jwk = await exportJWK(keys.publicKey);
  const { fingerprint, thumbprint } = certThumbprints(certPem);
  return {
    kid: ids.signingKid(),
    state: 'next',
    privateKeyPkcs8: pem('PRIVATE KEY', pkcs8),
    publicJwk: { kty: 'RSA', n: jwk.n as string, e: jwk.e as string },
    cert: certPem,
    fingerprint,
    thumbprint,
    createdAt: now.toISOString(),
  };
}
