import { createHash, createHmac, randomBytes, timingSafeEqual, type JsonWebKey, type KeyObject } from 'node:crypto';
import { InvalidProofError, InvalidTokenError, UseDpopNonceError } from './errors';
import { importJwk, keyFits, knownAlg, verifySignature } from './jws';
import type { JWTPayload, NonceSource, ReplayStore } from './options';

const THUMBPRINT_MEMBERS: Record<string, string[]> = { EC: ['crv', 'kty', 'x', 'y'], RSA: ['e', 'kty', 'n'], OKP: ['crv', 'kty', 'x'] };

/** RFC 7638 SHA-256 thumbprint of a public JWK. */
export function jwkThumbprint(jwk: JsonWebKey): string {
  const members = THUMBPRINT_MEMBERS[jwk.kty as string];
  if (!members) throw new Error('unsupported "kty" in the proof "jwk"');
  const ordered: Record<string, unknown> = {};
  for (const m of members) {
    if (typeof (jwk as Record<string, unknown>)[m] !== 'string') throw new Error(`"${m}" missing from the proof "jwk"`);
    ordered[m] = (jwk as Record<string, unknown>)[m];
  }
  return createHash('sha256').update(JSON.stringify(ordered)).digest('base64url');
}

interface ProofKey { key: KeyObject; jkt: string }
const PROOF_KEYS_MAX = 10_000;

/** The proof keys seen lately, parsed once with their thumbprint (a client reuses its key for every request). */
class ProofKeys {
  private readonly map = new Map<string, ProofKey>();
  get(jwk: JsonWebKey): ProofKey {
    const id = JSON.stringify(jwk);
    let k = this.map.get(id);
    if (!k) {
      if ('d' in jwk || 'p' in jwk || 'k' in jwk) throw new Error('"jwk" (JSON Web Key) Header Parameter must be a public key');
      const key = importJwk(jwk);
      if (!key) throw new Error('Invalid "jwk" (JSON Web Key) Header Parameter');
      k = { key, jkt: jwkThumbprint(jwk) };
      if (this.map.size >= PROOF_KEYS_MAX) this.map.delete(this.map.keys().next().value as string);
      this.map.set(id, k);
    }
    return k;
  }
}

/**
 * Replay protection in this process: each proof's (key thumbprint, `jti`) is remembered until the proof could
 * no longer pass the `iat` window. Expired entries are swept as the map grows. Several processes or instances
 * need a shared `ReplayStore` (for example a table with a unique key, or Redis `SET NX PX`).
 */
export class MemoryReplayStore implements ReplayStore {
  private readonly seen = new Map<string, number>();
  private sweepAt = 1024;
  constructor(private readonly now: () => number = Date.now) {}
  claim(key: string, expiresAt: number): boolean {
    const now = this.now();
    const prev = this.seen.get(key);
    if (prev !== undefined && prev > now) return false;
    this.seen.set(key, expiresAt);
    if (this.seen.size >= this.sweepAt) {
      for (const [k, exp] of this.seen) if (exp <= now) this.seen.delete(k);
      this.sweepAt = Math.max(1024, this.seen.size * 2);
    }
    return true;
  }
  get size(): number { return this.seen.size; }
}

/**
 * Stateless server nonces (RFC 9449 §9): an HMAC over the current time window. A nonce stays valid for
 * its window and the next one, so `lifetimeSeconds` is the least and twice it the most a nonce lives.
 * Processes sharing `secret` accept each other's nonces.
 */
export function createNonceSource({ secret = randomBytes(32), lifetimeSeconds = 300, now = Date.now }: { secret?: Uint8Array | string; lifetimeSeconds?: number; now?: () => number } = {}): NonceSource {
  const key = typeof secret === 'string' ? Buffer.from(secret) : Buffer.from(secret);
  const windowOf = () => Math.floor(now() / 1000 / lifetimeSeconds);
  const make = (w: number) => {
    const wb = Buffer.alloc(6);
    wb.writeUIntBE(w, 0, 6);
    return Buffer.concat([wb, createHmac('sha256', key).update(wb).digest().subarray(0, 16)]).toString('base64url');
  };
  let cached = { w: -1, nonce: '' };
  return {
    current() {
      const w = windowOf();
      if (cached.w !== w) cached = { w, nonce: make(w) };
      return cached.nonce;
    },
    check(nonce) {
      const raw = Buffer.from(nonce, 'base64url');
      if (raw.length !== 22) return false;
      const w = raw.readUIntBE(0, 6);
      const cur = windowOf();
      if (w !== cur && w !== cur - 1) return false;
      return timingSafeEqual(Buffer.from(make(w), 'base64url'), raw);
    },
  };
}

export interface ProofCheck {
  proof: string; token: string; claims: JWTPayload; method: string; url: string;
  iatOffset: number; iatLeeway: number; algorithms: string[]; replay?: ReplayStore; nonce?: NonceSource;
}

const proofKeys = new ProofKeys();
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Parses and verifies the proof's signature with its embedded key (typ dpop+jwt, an allowed asymmetric alg). */
function openProof(proof: string, algorithms: string[]): { claims: Record<string, unknown>; jkt: string } {
  try {
    const parts = proof.split('.');
    if (parts.length !== 3) throw new Error('Invalid Compact JWS');
    const header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8'));
    if (!isObject(header)) throw new Error('Invalid Token or Protected Header formatting');
    if (typeof header.typ !== 'string' || header.typ.toLowerCase().replace(/^application\//, '') !== 'dpop+jwt') throw new Error('unexpected "typ" JWT header value');
    if (!knownAlg(header.alg) || !algorithms.includes(header.alg)) throw new Error('"alg" (Algorithm) Header Parameter value not allowed');
    if (header.crit !== undefined) throw new Error('Extension Header Parameter not recognized');
    if (!isObject(header.jwk)) throw new Error('"jwk" (JSON Web Key) Header Parameter must be a JSON object');
    const pk = proofKeys.get(header.jwk as JsonWebKey);
    if (!keyFits(pk.key, header.alg)) throw new Error('key type does not fit the "alg"');
    if (!verifySignature(header.alg, pk.key, Buffer.from(`${parts[0]}.${parts[1]}`, 'latin1'), Buffer.from(parts[2], 'base64url'))) throw new Error('signature verification failed');
    const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    if (!isObject(claims)) throw new Error('JWT Claims Set must be a top-level JSON object');
    return { claims, jkt: pk.jkt };
  } catch (e) {
    throw new InvalidProofError(e instanceof SyntaxError ? 'Invalid Token or Protected Header formatting' : (e as Error).message);
  }
}

/** RFC 9449 §4.3 and §7.1: the proof for this request, this token, this key, used once. */
export async function checkProof(o: ProofCheck, normalizeHtu: (htu: string) => string): Promise<void> {
  const { claims, jkt } = openProof(o.proof, o.algorithms);
  const { htm, htu, iat, jti, ath } = claims;
  if (!iat) throw new InvalidProofError('Missing "iat" claim in DPoP proof');
  if (typeof iat !== 'number') throw new InvalidProofError('"iat" claim must be a number');
  const now = Math.floor(Date.now() / 1000);
  if (iat < now - o.iatOffset || iat > now + o.iatLeeway) throw new InvalidProofError('DPoP proof "iat" is outside the acceptable range');
  if (claims.exp !== undefined && (typeof claims.exp !== 'number' || claims.exp <= now)) throw new InvalidProofError('"exp" claim timestamp check failed');
  if (!htm) throw new InvalidProofError('Missing "htm" in DPoP proof');
  if (typeof htm !== 'string') throw new InvalidProofError('Invalid "htm" claim');
  if (htm.toUpperCase() !== o.method.toUpperCase()) throw new InvalidProofError('DPoP Proof htm mismatch');
  if (!htu) throw new InvalidProofError('Missing "htu" in DPoP proof');
  if (typeof htu !== 'string') throw new InvalidProofError('Invalid "htu" claim');
  if (o.url !== normalizeHtu(htu)) throw new InvalidProofError('DPoP Proof htu mismatch');
  if (!jti) throw new InvalidProofError('Missing "jti" in DPoP proof');
  if (typeof jti !== 'string') throw new InvalidProofError('Invalid "jti" claim');
  if (!ath) throw new InvalidProofError('Missing "ath" claim in DPoP proof');
  if (typeof ath !== 'string') throw new InvalidProofError('Invalid "ath" claim');
  if (ath !== createHash('sha256').update(o.token).digest('base64url')) throw new InvalidProofError('DPoP Proof "ath" mismatch');
  if ((o.claims.cnf as { jkt?: unknown } | undefined)?.jkt !== jkt) throw new InvalidTokenError('JWT Access Token confirmation mismatch');
  if (o.nonce && (typeof claims.nonce !== 'string' || !o.nonce.check(claims.nonce))) throw new UseDpopNonceError(o.nonce.current());
  if (o.replay && !await o.replay.claim(`${jkt}\0${jti}`, (iat + o.iatOffset + 1) * 1000)) throw new InvalidProofError('DPoP proof "jti" has already been used');
}
