import { webcrypto } from 'node:crypto';

type X509 = typeof import('@peculiar/x509');
let library: Promise<X509> | undefined;

/**
 * @peculiar/x509 (and the reflect-metadata it needs), loaded the first time a certificate is made: a signing key is
 * generated or the development CA issues one. A process that only serves the keys it has never loads it.
 */
export function x509Library(): Promise<X509> {
  library ??= (async () => {
    await import('reflect-metadata');
    const x509 = await import('@peculiar/x509');
    x509.cryptoProvider.set(webcrypto as unknown as Crypto);
    return x509;
  })();
  return library;
}
