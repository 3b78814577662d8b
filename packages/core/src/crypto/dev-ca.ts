import { createPrivateKey, randomBytes, webcrypto } from 'node:crypto';
import { derToPem } from './keygen';
import { x509Library } from './x509-library';

const EC = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
const DAY = 24 * 3600 * 1000;
/** The names a loopback certificate covers, and the only ones the development CA may sign for. */
export const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '::1'] as const;

export interface PemPair { certPem: string; keyPem: string }

const serial = () => '01' + randomBytes(15).toString('hex');
const exportKey = async (key: CryptoKey) => derToPem('PRIVATE KEY', await webcrypto.subtle.exportKey('pkcs8', key));

/**
 * A development CA (P-256, ten years) name-constrained (RFC 5280 §4.2.1.10, critical) to the loopback names: its
 * key cannot vouch for any other site, even if it leaks from the developer's cache folder.
 */
export async function createDevCa(now = new Date()): Promise<PemPair> {
  const x509 = await x509Library();
  const keys = (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=Tessera development CA ${randomBytes(4).toString('hex')}, O=tessera dev`,
    notBefore: new Date(now.getTime() - DAY),
    notAfter: new Date(now.getTime() + 10 * 365 * DAY),
    signingAlgorithm: EC,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      new x509.Extension('2.5.29.30', true, new Uint8Array(loopbackNameConstraints())),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: cert.toString('pem') + '\n', keyPem: await exportKey(keys.privateKey) };
}

/** A server certificate for localhost, 127.0.0.1 and ::1 (one year), signed by the development CA; `certPem` holds the chain. */
export async function issueLoopbackCertificate(ca: PemPair, now = new Date()): Promise<PemPair> {
  const x509 = await x509Library();
  const caCert = new x509.X509Certificate(ca.certPem);
  const caKey = await webcrypto.subtle.importKey('pkcs8', createPrivateKey(ca.keyPem).export({ type: 'pkcs8', format: 'der' }), EC, false, ['sign']);
  const keys = (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: 'CN=localhost',
    issuer: caCert.subjectName,
    notBefore: new Date(now.getTime() - DAY),
    notAfter: new Date(now.getTime() + 365 * DAY),
    signingAlgorithm: EC,
    publicKey: keys.publicKey,
    signingKey: caKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(LOOPBACK_NAMES.map((n) => ({ type: n === 'localhost' ? 'dns' as const : 'ip' as const, value: n }))),
      await x509.AuthorityKeyIdentifierExtension.create(caCert.publicKey),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: cert.toString('pem') + '\n' + ca.certPem, keyPem: await exportKey(keys.privateKey) };
}

/** NameConstraints DER: permitted dNSName `localhost` (and its subdomains), iPAddress 127.0.0.0/8 and ::1/128. */
function loopbackNameConstraints(): Buffer {
  const tlv = (tag: number, body: Buffer) => Buffer.concat([Buffer.from([tag, body.length]), body]);
  const v6 = Buffer.alloc(16);
  v6[15] = 1;
  const subtrees = Buffer.concat([
    tlv(0x30, tlv(0x82, Buffer.from('localhost'))),
    tlv(0x30, tlv(0x87, Buffer.from([127, 0, 0, 0, 255, 0, 0, 0]))),
    tlv(0x30, tlv(0x87, Buffer.concat([v6, Buffer.alloc(16, 0xff)]))),
  ]);
  return tlv(0x30, tlv(0xa0, subtrees));
}
