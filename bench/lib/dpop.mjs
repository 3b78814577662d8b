// DPoP proofs (RFC 9449 §4.2) for the load generator, made with node:crypto before a run starts: one ES256 key,
// `count` proofs with distinct `jti`s and `iat` = the moment they were made (Tessera accepts proofs up to 60 s
// old, and a run lasts seconds). The proofs are ready before the measured window opens, so the figure holds the
// server's cost of checking proofs and none of the client's cost of signing them.
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign } from 'node:crypto';

const b64u = (v) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

export function makeProofs({ htu, count, htm = 'POST', ath, privateJwk }) {
  // `privateJwk`: the key a token is already bound to (the verifier scenario); `ath`: that token's hash
  const { privateKey, publicKey } = privateJwk
    ? { privateKey: createPrivateKey({ key: privateJwk, format: 'jwk' }), publicKey: createPublicKey({ key: privateJwk, format: 'jwk' }) }
    : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const { kty, crv, x, y } = publicKey.export({ format: 'jwk' });
  const header = b64u({ typ: 'dpop+jwt', alg: 'ES256', jwk: { kty, crv, x, y } });
  const iat = Math.floor(Date.now() / 1000);
  const prefix = randomBytes(8).toString('base64url');
  const proofs = new Array(count);
  for (let i = 0; i < count; i++) {
    const input = `${header}.${b64u({ jti: `${prefix}.${i.toString(36)}`, htm, htu, iat, ...(ath ? { ath } : {}) })}`;
    const sig = sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' });
    proofs[i] = `${input}.${sig.toString('base64url')}`;
  }
  return { proofs, jwk: { kty, crv, x, y } };
}

/** Enough distinct proofs for `seconds` at a rate no run on this kind of machine reaches. */
export const proofsFor = (seconds) => Math.ceil(seconds * 6000) + 2000;
