import { constants, createHash, KeyObject, verify as verifySignature } from 'node:crypto';
import { calculateJwkThumbprint, importJWK, type JWK } from 'jose';
import { InvalidDpopProof, UseDpopNonce } from '../errors';
import type { Clock } from '../ports';
import type { DpopNonces } from './dpop-nonce';
import type { DpopReplayCache } from './dpop-replay';

/** The proof algorithms Tessera accepts and advertises (`dpop_signing_alg_values_supported`). */
export const DPOP_ALGS = ['ES256', 'ES384', 'RS256', 'PS256', 'EdDSA'] as const;

/** How far a proof's `iat` may lie in the past and in the future (seconds); see docs/compatibility.md. */
export const DPOP_IAT_PAST_S = 60;
export const DPOP_IAT_FUTURE_S = 30;

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

/** A checked proof: the key's RFC 7638 thumbprint, and (shared cache) the pending verdict on its `jti`. */
export interface DpopProof {
  jkt: string;
  /** Resolves when every instance agrees the `jti` is new; rejects with invalid_dpop_proof otherwise. */
  fresh: Promise<void>;
}

export interface ProofCheck {
  /** Every value of the request's DPoP header fields. */
  proofs: readonly string[];
  htm: string;
  /** The URL the request was sent to, without query or fragment (see `proofUrls`). */
  htu: string;
  /** A second name of the same listener the proof may use instead (an mTLS alias served by the main listener). */
  htuAlso?: string;
  /** Whether this request must carry a current server nonce. */
  nonceRequired: boolean;
  /** Resource requests (RFC 9449 §7): the access token the proof must hash into `ath`. */
  accessToken?: string;
}

/**
 * An endpoint's public URL and, when discovery advertises `mtls_endpoint_aliases` (RFC 8705 §5), its alias:
 * `aliasListener` says whether the alias is served by a listener of its own (TESSERA_MTLS_PORT) or is a second
 * name of the main one (TESSERA_MTLS_PUBLIC_URL alone, e.g. a proxy's mtls.example.com).
 */
export interface EndpointUrls { url: string; mtlsAlias?: string; aliasListener?: 'separate' | 'same' }

/**
 * What a proof's `htu` must name (RFC 9449 §4.3 step 9: the URI of the request it came with): the alias on the
 * mTLS listener, the public URL on the main one; where the alias names the main listener too, Tessera cannot tell
 * which name the client used, so either passes. See docs/compatibility.md.
 */
export function proofUrls(e: EndpointUrls, viaMtlsListener: boolean): { htu: string; htuAlso?: string } {
  if (!e.mtlsAlias) return { htu: e.url };
  if (e.aliasListener === 'separate') return { htu: viaMtlsListener ? e.mtlsAlias : e.url };
  return { htu: e.url, htuAlso: e.mtlsAlias };
}

const invalid = (rule: string, cause?: unknown) => new InvalidDpopProof(`Invalid DPoP proof: ${rule}`, cause);
const sha256 = (s: string) => createHash('sha256').update(s).digest('base64url');

/** RFC 9449 §4.3: the checks a DPoP proof must pass, in order; each refusal names its rule. */
export class DpopVerifier {
  private readonly keys = new ProofKeys();

  constructor(private readonly deps: { clock: Clock; nonces: DpopNonces; replay: DpopReplayCache }) {}

  currentNonce(): string { return this.deps.nonces.current(); }

  async verify(c: ProofCheck): Promise<DpopProof> {
    if (c.proofs.length !== 1) throw invalid('exactly one DPoP header is allowed');
    const jws = parseJws(c.proofs[0]);
    const { jwk, alg } = checkHeader(jws.header);
    const now = this.deps.clock.now();
    let jkt: string;
    try {
      const k = await this.keys.get(jwk, alg);
      jkt = k.jkt;
      if (!await signatureValid(alg, k.key, jws.signingInput, jws.signature)) throw new Error('signature mismatch');
    } catch (e) { throw invalid('signature does not verify with the embedded jwk', e); }
    const { jti, htm, htu, iat, nonce, ath } = jws.payload;
    if (typeof jti !== 'string' || jti.length === 0 || jti.length > 256) throw invalid('jti must be a string of 1 to 256 characters');
    if (htm !== c.htm) throw invalid(`htm must be ${c.htm}`);
    const url = typeof htu === 'string' ? stripUrl(htu) : undefined;
    if (url === undefined || (url !== c.htu && url !== c.htuAlso)) throw invalid(`htu must be ${c.htu}`);
    if (typeof iat !== 'number' || !Number.isFinite(iat)) throw invalid('iat is required');
    if (iat * 1000 < now - DPOP_IAT_PAST_S * 1000) throw invalid('iat is too old');
    if (iat * 1000 > now + DPOP_IAT_FUTURE_S * 1000) throw invalid('iat is in the future');
    if (c.accessToken !== undefined && ath !== sha256(c.accessToken)) throw invalid('ath must be the hash of the access token');
    if (nonce !== undefined && (typeof nonce !== 'string' || !this.deps.nonces.valid(nonce))) throw new UseDpopNonce(this.deps.nonces.current(), 'stale nonce');
    if (nonce === undefined && c.nonceRequired) throw new UseDpopNonce(this.deps.nonces.current(), 'nonce missing');
    const claimed = this.deps.replay.claim({ key: sha256(`${jkt}.${jti}`), expiresAt: now + (DPOP_IAT_PAST_S + DPOP_IAT_FUTURE_S) * 1000 });
    if (claimed === false) throw invalid('jti was already used');
    const fresh = claimed === true ? FRESH : claimed.then((ok) => { if (!ok) throw invalid('jti was already used'); });
    fresh.catch(() => undefined); // awaited by the caller; never an unhandled rejection when the request fails first
    return { jkt, fresh };
  }
}

const FRESH = Promise.resolve();

interface Jws { header: Record<string, unknown>; payload: Record<string, unknown>; signingInput: Buffer; signature: Buffer }

const B64URL = /^[A-Za-z0-9_-]*$/;

/** A compact JWS taken apart once: header and payload must be JSON objects, every part base64url. */
function parseJws(proof: string): Jws {
  const parts = proof.split('.');
  if (parts.length !== 3 || !parts.every((p) => B64URL.test(p))) throw invalid('not a JWS');
  const json = (part: string): Record<string, unknown> => {
    let v: unknown;
    try { v = JSON.parse(Buffer.from(part, 'base64url').toString('utf8')); } catch (e) { throw invalid('not a JWS', e); }
    if (!v || typeof v !== 'object' || Array.isArray(v)) throw invalid('not a JWS');
    return v as Record<string, unknown>;
  };
  const header = json(parts[0]);
  const payload = json(parts[1]);
  return { header, payload, signingInput: Buffer.from(`${parts[0]}.${parts[1]}`, 'ascii'), signature: Buffer.from(parts[2], 'base64url') };
}

/** Header checks, with messages naming the rule. */
function checkHeader(header: Record<string, unknown>): { jwk: JWK; alg: string } {
  if (header.typ !== 'dpop+jwt') throw invalid('typ must be dpop+jwt');
  if (typeof header.alg !== 'string' || !(DPOP_ALGS as readonly string[]).includes(header.alg)) {
    throw invalid(`alg must be one of ${DPOP_ALGS.join(', ')}`);
  }
  // RFC 7515 §4.1.11: an extension Tessera does not understand (b64 among them) cannot be honoured
  if (header.crit !== undefined || header.b64 !== undefined) throw invalid('crit and b64 header parameters are not supported');
  const jwk = header.jwk as JWK | undefined;
  if (!jwk || typeof jwk !== 'object' || Array.isArray(jwk)) throw invalid('jwk is required');
  if (jwk.kty === 'oct' || PRIVATE_MEMBERS.some((m) => m in jwk)) throw invalid('jwk must be a public key');
  return { jwk, alg: header.alg };
}

/** node:crypto parameters per proof algorithm (RFC 7518 §3; RFC 8037 for EdDSA). */
const VERIFY: Record<string, { hash: string | null; options: { dsaEncoding?: 'ieee-p1363'; padding?: number; saltLength?: number } }> = {
  ES256: { hash: 'sha256', options: { dsaEncoding: 'ieee-p1363' } },
  ES384: { hash: 'sha384', options: { dsaEncoding: 'ieee-p1363' } },
  RS256: { hash: 'sha256', options: { padding: constants.RSA_PKCS1_PADDING } },
  PS256: { hash: 'sha256', options: { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 } },
  EdDSA: { hash: null, options: {} },
};

/**
 * The signature check: node:crypto with a key object imported once per key, in its callback form, so the
 * verification runs on the libuv pool next to the token's signing and off the event loop, which bounds the
 * throughput of a process (ARCHITECTURE.md). jose's jwtVerify (WebCrypto, a promise per step, the token decoded
 * twice) cost about twice the CPU per proof.
 */
function signatureValid(alg: string, key: KeyObject, input: Buffer, signature: Buffer): Promise<boolean> {
  const { hash, options } = VERIFY[alg];
  return new Promise((resolve, reject) => {
    verifySignature(hash, input, { key, ...options }, signature, (e, ok) => (e ? reject(e) : resolve(ok)));
  });
}

/** The members that define a public key (RFC 7638 §3.2); anything else in the header's jwk does not change it. */
const KEY_MEMBERS: Record<string, readonly string[]> = { EC: ['crv', 'kty', 'x', 'y'], RSA: ['e', 'kty', 'n'], OKP: ['crv', 'kty', 'x'] };

/**
 * Imported proof keys and their thumbprints, per (alg, key): a client signs every proof with the same key, and
 * importing it costs more than verifying with it. Bounded; the oldest entry goes first. A key is imported for
 * one algorithm only (jose's importJWK checks kty and crv against it), so an entry never verifies another
 * algorithm's signature.
 */
class ProofKeys {
  private readonly cache = new Map<string, Promise<{ key: KeyObject; jkt: string }>>();
  private static readonly MAX = 4096;

  get(jwk: JWK, alg: string): Promise<{ key: KeyObject; jkt: string }> {
    const members = KEY_MEMBERS[String(jwk.kty)];
    if (!members) return Promise.reject(new Error(`unsupported kty ${String(jwk.kty)}`));
    const id = `${alg}|${JSON.stringify(members.map((m) => jwk[m as keyof JWK]))}`;
    let entry = this.cache.get(id);
    if (!entry) {
      const pub = Object.fromEntries(members.map((m) => [m, jwk[m as keyof JWK]])) as unknown as JWK;
      entry = Promise.all([importJWK(pub, alg), calculateJwkThumbprint(pub, 'sha256')]).then(([imported, jkt]) => {
        const key = imported instanceof KeyObject ? imported : KeyObject.from(imported as CryptoKey);
        if (!keyFits(alg, key)) throw new Error(`the jwk is not a ${alg} key`);
        return { key, jkt };
      });
      entry.catch(() => this.cache.delete(id));
      if (this.cache.size >= ProofKeys.MAX) this.cache.delete(this.cache.keys().next().value as string);
      this.cache.set(id, entry);
    }
    return entry;
  }
}

/** The key type (and curve) each algorithm needs; RSA keys of at least 2048 bits (RFC 7518 §3.3, §3.5). */
function keyFits(alg: string, key: KeyObject): boolean {
  const d = key.asymmetricKeyDetails ?? {};
  switch (alg) {
    case 'ES256': return key.asymmetricKeyType === 'ec' && d.namedCurve === 'prime256v1';
    case 'ES384': return key.asymmetricKeyType === 'ec' && d.namedCurve === 'secp384r1';
    case 'RS256': case 'PS256': return key.asymmetricKeyType === 'rsa' && (d.modulusLength ?? 0) >= 2048;
    case 'EdDSA': return key.asymmetricKeyType === 'ed25519' || key.asymmetricKeyType === 'ed448';
    default: return false;
  }
}

/** The URL without query and fragment, normalised by the WHATWG parser (RFC 9449 §4.3 step 9). */
function stripUrl(u: string): string | undefined {
  try {
    const url = new URL(u);
    return `${url.origin}${url.pathname}`;
  } catch { return undefined; }
}
