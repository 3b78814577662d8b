import { checkPrimeSync, createHash, createPrivateKey } from 'node:crypto';

const E = 65537n;
const SMALL_PRIMES = (() => {
  const out: bigint[] = [];
  for (let n = 3; out.length < 300; n += 2) if (out.every((p) => BigInt(n) % p !== 0n)) out.push(BigInt(n));
  return out;
})();

/** SHA-256 in counter mode over a domain-separated phrase: the same phrase gives the same byte stream everywhere. */
function byteStream(phrase: string): (n: number) => Buffer {
  let counter = 0;
  let pool = Buffer.alloc(0);
  return (n) => {
    while (pool.length < n) {
      const block = createHash('sha256').update('tessera dev signing key v1\0').update(phrase, 'utf8').update(String(counter++)).digest();
      pool = Buffer.concat([pool, block]);
    }
    const out = pool.subarray(0, n);
    pool = pool.subarray(n);
    return out;
  };
}

function prime(next: (n: number) => Buffer, bits: number): bigint {
  for (;;) {
    const bytes = next(bits / 8);
    bytes[0] |= 0xc0; // top two bits: the product of two such primes has exactly 2 × bits bits
    bytes[bytes.length - 1] |= 1;
    const candidate = BigInt(`0x${bytes.toString('hex')}`);
    if (SMALL_PRIMES.some((p) => candidate % p === 0n)) continue;
    if ((candidate - 1n) % E === 0n) continue; // e must be invertible modulo p − 1
    if (checkPrimeSync(candidate, { checks: 64 })) return candidate;
  }
}

function inverse(a: bigint, m: bigint): bigint {
  let [r0, r1, s0, s1] = [m, a % m, 0n, 1n];
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1] = [r1, r0 - q * r1];
    [s0, s1] = [s1, s0 - q * s1];
  }
  return ((s0 % m) + m) % m;
}

const b64 = (n: bigint) => {
  const hex = n.toString(16);
  return Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex').toString('base64url');
};

/**
 * An RSA-2048 private key (PKCS#8 PEM) derived from a phrase: development mode's `--signing-seed`, so that every
 * machine running with the same phrase signs with the same key. Only for development: anyone who knows the phrase
 * holds the key.
 */
export function rsaKeyFromSeed(phrase: string): string {
  const next = byteStream(phrase);
  const p = prime(next, 1024);
  let q = prime(next, 1024);
  while (q === p) q = prime(next, 1024);
  const [hi, lo] = p > q ? [p, q] : [q, p];
  const d = inverse(E, (hi - 1n) * (lo - 1n));
  const jwk = {
    kty: 'RSA', n: b64(hi * lo), e: b64(E), d: b64(d), p: b64(hi), q: b64(lo),
    dp: b64(d % (hi - 1n)), dq: b64(d % (lo - 1n)), qi: b64(inverse(lo, hi)),
  };
  return createPrivateKey({ key: jwk, format: 'jwk' }).export({ type: 'pkcs8', format: 'pem' }) as string;
}
