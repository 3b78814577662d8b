import { constants, createHmac, createPublicKey, createSecretKey, timingSafeEqual, verify as cryptoVerify, type KeyObject, type JsonWebKey } from 'node:crypto';

/**
 * JWS signature checks on keys imported once (`KeyObject`), with node:crypto's synchronous verify: no WebCrypto
 * promise and no key re-import per request. The algorithm is always the caller's pinned choice, and the key's
 * type must fit it (an RSA key never verifies an HMAC, RFC 8725 §3.1).
 */
export const ASYMMETRIC_ALGS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES256K', 'ES384', 'ES512', 'EdDSA'];
export const SYMMETRIC_ALGS = ['HS256', 'HS384', 'HS512'];

type Family = 'RSA' | 'PSS' | 'EC' | 'OKP' | 'oct';
interface AlgSpec { family: Family; hash: string | null; curve?: string; jwkCrv?: string }
const ALGS: Record<string, AlgSpec> = {
  RS256: { family: 'RSA', hash: 'sha256' }, RS384: { family: 'RSA', hash: 'sha384' }, RS512: { family: 'RSA', hash: 'sha512' },
  PS256: { family: 'PSS', hash: 'sha256' }, PS384: { family: 'PSS', hash: 'sha384' }, PS512: { family: 'PSS', hash: 'sha512' },
  ES256: { family: 'EC', hash: 'sha256', curve: 'prime256v1', jwkCrv: 'P-256' },
  ES256K: { family: 'EC', hash: 'sha256', curve: 'secp256k1', jwkCrv: 'secp256k1' },
  ES384: { family: 'EC', hash: 'sha384', curve: 'secp384r1', jwkCrv: 'P-384' },
  ES512: { family: 'EC', hash: 'sha512', curve: 'secp521r1', jwkCrv: 'P-521' },
  EdDSA: { family: 'OKP', hash: null },
  HS256: { family: 'oct', hash: 'sha256' }, HS384: { family: 'oct', hash: 'sha384' }, HS512: { family: 'oct', hash: 'sha512' },
};

export const knownAlg = (alg: unknown): alg is string => typeof alg === 'string' && Object.prototype.hasOwnProperty.call(ALGS, alg);

/** The JWK `kty` an algorithm needs. */
export function ktyFor(alg: string): string {
  const f = ALGS[alg].family;
  return f === 'PSS' ? 'RSA' : f;
}

/** Whether `key` may verify `alg` (type, curve, RSA size ≥ 2048 bits as jose requires). */
export function keyFits(key: KeyObject, alg: string): boolean {
  const spec = ALGS[alg];
  if (!spec) return false;
  if (spec.family === 'oct') return key.type === 'secret';
  if (key.type !== 'public') return false;
  const t = key.asymmetricKeyType;
  const d = key.asymmetricKeyDetails;
  switch (spec.family) {
    case 'RSA': return t === 'rsa' && (d?.modulusLength ?? 0) >= 2048;
    case 'PSS': return (t === 'rsa' || t === 'rsa-pss') && (d?.modulusLength ?? 0) >= 2048;
    case 'EC': return t === 'ec' && d?.namedCurve === spec.curve;
    case 'OKP': return t === 'ed25519' || t === 'ed448';
  }
}

/** Imports a public JWK once; undefined for keys that are not public verification keys. */
export function importJwk(jwk: JsonWebKey): KeyObject | undefined {
  if (!jwk || typeof jwk !== 'object' || 'd' in jwk || jwk.kty === 'oct') return undefined;
  try { return createPublicKey({ key: jwk, format: 'jwk' }); } catch { return undefined; }
}

/** Imports a public key given as PEM (SPKI or certificate), JWK or KeyObject. */
export function importPublicKey(input: string | JsonWebKey | KeyObject): KeyObject {
  if (typeof input === 'string') return createPublicKey(input);
  if ((input as KeyObject).type !== undefined && typeof (input as KeyObject).export === 'function') return input as KeyObject;
  const k = importJwk(input as JsonWebKey);
  if (!k) throw new TypeError("'publicKey' must be an asymmetric public key (RSA, EC, OKP). Use 'secret' for symmetric verification.");
  return k;
}

export const secretKey = (secret: string | Uint8Array): KeyObject => createSecretKey(typeof secret === 'string' ? Buffer.from(secret) : Buffer.from(secret));

/** Verifies `signature` over `data` (the ASCII `header.payload`) with `key` for `alg`. Never throws for bad input. */
export function verifySignature(alg: string, key: KeyObject, data: Buffer, signature: Buffer): boolean {
  const spec = ALGS[alg];
  try {
    switch (spec.family) {
      case 'oct': {
        const mac = createHmac(spec.hash as string, key).update(data).digest();
        return mac.length === signature.length && timingSafeEqual(mac, signature);
      }
      case 'RSA': return cryptoVerify(spec.hash, data, key, signature);
      case 'PSS': return cryptoVerify(spec.hash, data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }, signature);
      case 'EC': return cryptoVerify(spec.hash, data, { key, dsaEncoding: 'ieee-p1363' }, signature);
      case 'OKP': return cryptoVerify(null, data, key, signature);
    }
  } catch {
    return false;
  }
}
