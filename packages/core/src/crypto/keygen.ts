import { createHash, createPrivateKey, createPublicKey, webcrypto, X509Certificate } from 'node:crypto';
import { exportJWK } from 'jose';
import type { SigningKey } from '../model';
import { ids } from './random';
import { x509Library } from './x509-library';

const RSA_ALG = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 };

/** DER bytes as a PEM block of the given label (64-character lines). */
export function derToPem(label: string, der: ArrayBuffer): string {
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

/**
 * Whether a signing key record (made earlier, kept by development mode) is the given private key's: its private
 * key, its published JWK and its certificate all carry that key's public key.
 */
export function samePublicKey(k: SigningKey, privateKeyPem: string): boolean {
  try {
    const want = createPublicKey(createPrivateKey(privateKeyPem)).export({ format: 'jwk' });
    const of = (jwk: { n?: string; e?: string }) => jwk.n === want.n && jwk.e === want.e;
    return of(k.publicJwk) && of(createPublicKey(createPrivateKey(k.privateKeyPkcs8)).export({ format: 'jwk' }))
      && of(new X509Certificate(k.cert).publicKey.export({ format: 'jwk' }));
  } catch {
    return false;
  }
}

/** A fresh RSA-2048 tenant signing key with a self-signed certificate for `subject` (e.g. the public host). */
export async function generateSigningKey(subject: string, now: Date): Promise<SigningKey> {
  const keys = (await webcrypto.subtle.generateKey(RSA_ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
  const notAfter = new Date(now.getTime() + 10 * 365 * 24 * 3600 * 1000);
  const serial = Buffer.from(ids.jti(), 'base64url').toString('hex');
  return { ...(await signingKeyOf(keys, { subject, serial, notBefore: now, notAfter })), kid: ids.signingKid(), createdAt: now.toISOString() };
}

/**
 * A tenant signing key made from a given RSA private key (development mode's fixed key). Everything but the dates
 * of the record derives from the key alone (kid, certificate serial and validity; PKCS#1 v1.5 signatures are
 * deterministic), so every start with the same key publishes the same JWKS.
 */
export async function signingKeyFromPrivateKey(privateKeyPem: string, now: Date): Promise<SigningKey> {
  const key = createPrivateKey(privateKeyPem);
  if (key.asymmetricKeyType !== 'rsa') throw new Error('the signing key must be an RSA private key (tenant tokens are RS256)');
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < 2048) throw new Error(`the signing key has ${bits} bits, at least 2048 are required`);
  const pkcs8 = key.export({ type: 'pkcs8', format: 'der' });
  const spki = createPublicKey(key).export({ type: 'spki', format: 'der' });
  const keys = {
    privateKey: await webcrypto.subtle.importKey('pkcs8', pkcs8, RSA_ALG, true, ['sign']),
    publicKey: await webcrypto.subtle.importKey('spki', spki, RSA_ALG, true, ['verify']),
  } as CryptoKeyPair;
  const digest = createHash('sha256').update(spki).digest();
  const made = await signingKeyOf(keys, {
    subject: 'Tessera development signing key', serial: '01' + digest.subarray(0, 15).toString('hex'),
    notBefore: new Date('2020-01-01T00:00:00Z'), notAfter: new Date('2049-12-31T23:59:59Z'),
  });
  return { ...made, kid: `dev-${digest.subarray(0, 15).toString('base64url')}`, createdAt: now.toISOString() };
}

async function signingKeyOf(keys: CryptoKeyPair, c: { subject: string; serial: string; notBefore: Date; notAfter: Date }): Promise<Omit<SigningKey, 'kid' | 'createdAt'>> {
  const x509 = await x509Library();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: c.serial,
    name: `CN=${c.subject.replace(/[,=+<>#;"\\]/g, '_')}`,
    notBefore: c.notBefore,
    notAfter: c.notAfter,
    signingAlgorithm: RSA_ALG,
    keys,
    extensions: [new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true)],
  });
  const certPem = cert.toString('pem') + '\n';
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  const jwk = await exportJWK(keys.publicKey);
  const { fingerprint, thumbprint } = certThumbprints(certPem);
  return {
    state: 'next',
    privateKeyPkcs8: derToPem('PRIVATE KEY', pkcs8),
    publicJwk: { kty: 'RSA', n: jwk.n as string, e: jwk.e as string },
    cert: certPem,
    fingerprint,
    thumbprint,
  };
}
