import { strict as assert } from 'node:assert';
import type { KeyObject } from 'node:crypto';
import { fetchJson } from './http-fetch';
import { InvalidTokenError } from './errors';
import { ASYMMETRIC_ALGS, SYMMETRIC_ALGS, importPublicKey, knownAlg, secretKey, verifySignature } from './jws';
import { RemoteKeys, StaticKeys, importJwks, type KeySource } from './keys';
import { Decrypter } from './jwe';
import { VerifiedCache } from './verified-cache';
import type { AuthResult, JWTHeader, JWTPayload, JwtVerifierOptions, Validator } from './options';

const OIDC_DISCOVERY = '/.well-known/openid-configuration';
const OAUTH2_DISCOVERY = '/.well-known/oauth-authorization-server';
const env = (name: string): string | undefined => process.env[name] || undefined;

interface Metadata { issuer: string; jwks_uri?: string; id_token_signing_alg_values_supported?: string[] }

/** Authorization server metadata: `issuerBaseURL` as given when it names a .well-known document, else OIDC then RFC 8414. */
async function discover(base: string, o: Parameters<typeof fetchJson>[1]): Promise<Metadata> {
  const url = new URL(base);
  const candidates = url.pathname.includes('/.well-known/') ? [url] : [
    new URL(url.pathname.endsWith('/') ? `${url.pathname}${OIDC_DISCOVERY.slice(1)}` : `${url.pathname}${OIDC_DISCOVERY}`, url),
    new URL(url.pathname === '/' ? OAUTH2_DISCOVERY : `${OAUTH2_DISCOVERY}${url.pathname}`, url),
  ];
  for (const u of candidates) {
    try {
      const data = await fetchJson(u, o) as Metadata;
      if (data && typeof data === 'object' && typeof data.issuer === 'string' && data.issuer) return data;
    } catch { /* next candidate */ }
  }
  throw new Error('Failed to fetch authorization server metadata');
}

const b64json = (part: string): unknown => JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export type VerifyJwt = (token: string) => Promise<AuthResult>;

/**
 * Builds the token check of one API: discovery (cached `cacheMaxAge`, one fetch in flight), the key source,
 * optional JWE decryption, then signature, time claims and the validators, in express-oauth2-jwt-bearer's
 * order and wording. Every failure becomes InvalidTokenError with the underlying message.
 */
export function createJwtVerifier(opts: JwtVerifierOptions): { verifyJwt: VerifyJwt; keySource: () => KeySource | undefined } {
  const issuerBaseURL = opts.issuerBaseURL ?? env('ISSUER_BASE_URL');
  const jwksUri = opts.jwksUri ?? env('JWKS_URI');
  let issuer = opts.issuer ?? env('ISSUER');
  const audience = opts.audience ?? env('AUDIENCE');
  const secret = opts.secret ?? env('SECRET');
  const tokenSigningAlg = opts.tokenSigningAlg ?? env('TOKEN_SIGNING_ALG');
  const { publicKey, agent, cooldownDuration = 30_000, timeoutDuration = 5_000, cacheMaxAge = 600_000, clockTolerance = 5, maxTokenAge, strict = false } = opts;

  assert(!opts.mcd, "'mcd' (several issuers in one middleware) is not supported by @tessera/verify: mount one auth() per issuer");
  assert(issuerBaseURL || (issuer && (jwksUri || secret || publicKey)), "You must provide 'mcd', 'issuerBaseURL', or both 'issuer' and ('jwksUri', 'secret', or 'publicKey')");
  assert(!(secret && jwksUri), "You must not provide both a 'secret' and 'jwksUri'");
  assert(!(publicKey && jwksUri), "You must not provide both a 'publicKey' and 'jwksUri'");
  assert(!(publicKey && secret), "You must not provide both a 'publicKey' and 'secret'");
  assert(!(publicKey && issuerBaseURL), "You must not provide both a 'publicKey' and 'issuerBaseURL'");
  assert(audience, "An 'audience' is required to validate the 'aud' claim");
  assert(!secret || tokenSigningAlg, "You must provide a 'tokenSigningAlg' for validating symmetric algorithms");
  assert(secret || !tokenSigningAlg || ASYMMETRIC_ALGS.includes(tokenSigningAlg), `You must supply one of ${ASYMMETRIC_ALGS.join(', ')} for 'tokenSigningAlg' to validate asymmetrically signed tokens`);
  assert(!secret || (tokenSigningAlg && SYMMETRIC_ALGS.includes(tokenSigningAlg)), `You must supply one of ${SYMMETRIC_ALGS.join(', ')} for 'tokenSigningAlg' to validate symmetrically signed tokens`);
  assert(!opts.requireEncryption || opts.decryptionKeys?.length, "'requireEncryption' needs 'decryptionKeys'");
  if (typeof publicKey === 'string') assert(tokenSigningAlg, "You must provide 'tokenSigningAlg' when using a PEM public key");

  const audiences = typeof audience === 'string' ? [audience] : audience as string[];
  const discoveryTtl = opts.cache?.discovery?.ttl ?? cacheMaxAge;
  const jwksTtl = opts.cache?.jwks?.ttl ?? cacheMaxAge;
  const fetchOpts = { agent, timeoutDuration };
  const decrypter = opts.decryptionKeys?.length ? new Decrypter(opts.decryptionKeys, opts.keyManagementAlgorithms, opts.contentEncryptionAlgorithms) : undefined;
  const maxVerified = opts.cache?.tokens?.maxEntries ?? 1000;
  assert(Number.isInteger(maxVerified) && maxVerified >= 0, "'cache.tokens.maxEntries' must be a non-negative integer (0 turns the cache off)");
  const verifiedJws = new VerifiedCache<KeyObject>(maxVerified);
  const decryptedJwe = new VerifiedCache<string>(maxVerified);

  let keys: KeySource | undefined;
  if (secret) keys = StaticKeys.of(secretKey(secret));
  else if (publicKey && typeof publicKey === 'object' && Array.isArray((publicKey as { keys?: unknown }).keys)) keys = new StaticKeys(importJwks(publicKey));
  else if (publicKey) keys = StaticKeys.of(importPublicKey(publicKey as string));
  else if (jwksUri) keys = new RemoteKeys(new URL(jwksUri), { ...fetchOpts, cooldownDuration, cacheMaxAge: jwksTtl });

  // discovery: refreshed after its TTL, one fetch in flight; a failure is forgotten so the next request retries
  let allowedAlgs: string[] | undefined;
  let discovered: Promise<void> | undefined;
  let discoveredAt = 0;
  const ensureDiscovery = (): Promise<void> | undefined => {
    if (!issuerBaseURL) return undefined;
    if (discovered && Date.now() - discoveredAt < discoveryTtl) return discoveredAt ? undefined : discovered;
    discoveredAt = 0;
    discovered = discover(issuerBaseURL, fetchOpts).then((m) => {
      issuer = opts.issuer ?? m.issuer;
      allowedAlgs = Array.isArray(m.id_token_signing_alg_values_supported) ? m.id_token_signing_alg_values_supported : undefined;
      if (!secret && !jwksUri && m.jwks_uri && (!(keys instanceof RemoteKeys) || keys.uri.href !== new URL(m.jwks_uri).href)) {
        keys = new RemoteKeys(new URL(m.jwks_uri), { ...fetchOpts, cooldownDuration, cacheMaxAge: jwksTtl });
      }
      discoveredAt = Date.now();
    }, (e) => { discovered = undefined; throw e; });
    return discovered;
  };

  const custom = opts.validators ?? {};
  const nowS = () => Math.floor(Date.now() / 1000);
  const defaults: Record<string, Validator> = {
    alg: (alg) => typeof alg === 'string' && alg.toLowerCase() !== 'none' && (!allowedAlgs || allowedAlgs.includes(alg)) && (!tokenSigningAlg || alg === tokenSigningAlg),
    typ: (typ) => !strict || (typeof typ === 'string' && typ.toLowerCase().replace(/^application\//, '') === 'at+jwt'),
    iss: (iss) => iss === issuer,
    aud: (aud) => (typeof aud === 'string' ? audiences.includes(aud) : Array.isArray(aud) && aud.some((a) => audiences.includes(a))),
    exp: (exp) => typeof exp === 'number' && exp >= nowS() - clockTolerance,
    iat: (iat) => {
      if (!maxTokenAge) return (iat === undefined && !strict) || typeof iat === 'number';
      const now = nowS();
      return typeof iat === 'number' && iat < now + clockTolerance && iat > now - clockTolerance - maxTokenAge;
    },
    sub: (sub) => (sub === undefined && !strict) || typeof sub === 'string',
    client_id: (v) => (v === undefined && !strict) || typeof v === 'string',
    jti: (v) => (v === undefined && !strict) || typeof v === 'string',
  };
  const validators = Object.entries({ ...defaults, ...custom });
  const earlyAlg = !('alg' in custom);
  const symmetric = Boolean(secret);

  /** In order; a validator that returns a promise is awaited, the others cost no microtask. */
  async function runValidators(payload: JWTPayload, header: JWTHeader): Promise<void> {
    for (const [name, v] of validators) {
      if (v === false) continue;
      const value = name === 'alg' || name === 'typ' ? header[name] : payload[name];
      let ok: unknown = typeof v === 'string' ? value === v : typeof v === 'function' && v(value, payload, header);
      if (ok && typeof (ok as Promise<boolean>).then === 'function') ok = await ok;
      if (!ok) throw new Error(`Unexpected '${name}' value`);
    }
  }

  async function verifyJws(jws: string): Promise<{ header: JWTHeader; payload: JWTPayload }> {
    const parts = jws.split('.');
    let header: JWTHeader;
    try { header = b64json(parts[0]) as JWTHeader; } catch { throw new Error('Invalid Token or Protected Header formatting'); }
    if (!isObject(header)) throw new Error('Invalid Token or Protected Header formatting');
    const alg = header.alg;
    if (!alg || typeof alg !== 'string') throw new Error('Token header missing or invalid "alg" claim');
    if (symmetric ? !SYMMETRIC_ALGS.includes(alg) : !ASYMMETRIC_ALGS.includes(alg)) {
      throw new Error(`Unsupported algorithm "${alg}" for ${symmetric ? 'secret' : 'JWKS'}-based verification. Supported: ${(symmetric ? SYMMETRIC_ALGS : ASYMMETRIC_ALGS).join(', ')}`);
    }
    if (parts.length !== 3) throw new Error('Invalid Compact JWS');
    if (header.crit !== undefined) throw new Error('Extension Header Parameter not recognized');
    const pending = ensureDiscovery();
    if (pending) await pending;
    if (earlyAlg && !(defaults.alg as (v: unknown) => boolean)(alg)) throw new Error("Unexpected 'alg' value");
    if (!keys || !knownAlg(alg)) throw new Error('No JWKS URI, public key, or secret available for verification');
    const found = keys.keysFor(alg, typeof header.kid === 'string' ? header.kid : undefined);
    const candidates: KeyObject[] = Array.isArray(found) ? found : await found;
    const known = verifiedJws.get(jws, nowS());
    let verifiedBy = known !== undefined && candidates.includes(known) ? known : undefined;
    if (!verifiedBy) {
      const data = Buffer.from(`${parts[0]}.${parts[1]}`, 'latin1');
      const signature = Buffer.from(parts[2], 'base64url');
      verifiedBy = candidates.find((k) => verifySignature(alg, k, data, signature));
      if (!verifiedBy) throw new Error('signature verification failed');
    }
    let payload: JWTPayload;
    try { payload = b64json(parts[1]) as JWTPayload; } catch { throw new Error('JWT Claims Set must be a top-level JSON object'); }
    if (!isObject(payload)) throw new Error('JWT Claims Set must be a top-level JSON object');
    timeClaims(payload, clockTolerance);
    await runValidators(payload, header);
    if (known !== verifiedBy) verifiedJws.set(jws, verifiedBy, payload.exp);
    return { header, payload };
  }

  const verifyJwt: VerifyJwt = async (token) => {
    try {
      const segments = countDots(token);
      if (segments === 4) {
        if (!decrypter) await verifyJws(token); // refused there, with the JWS wording
        const opened = decryptedJwe.get(token, nowS());
        const jws = opened ?? await (decrypter as Decrypter).open(token);
        const { header, payload } = await verifyJws(jws);
        if (opened === undefined) decryptedJwe.set(token, jws, payload.exp);
        return { header, payload, token };
      }
      if (opts.requireEncryption) throw new Error('Access token is not encrypted');
      const { header, payload } = await verifyJws(token);
      return { header, payload, token };
    } catch (e) {
      throw new InvalidTokenError((e as Error).message);
    }
  };
  return { verifyJwt, keySource: () => keys };
}

function countDots(s: string): number {
  let n = 0;
  for (let i = s.indexOf('.'); i !== -1; i = s.indexOf('.', i + 1)) n++;
  return n;
}

/** jose's checks on iat, nbf and exp (type, then time with the tolerance). */
function timeClaims(p: JWTPayload, tolerance: number): void {
  const now = Math.floor(Date.now() / 1000);
  if (p.iat !== undefined && typeof p.iat !== 'number') throw new Error('"iat" claim must be a number');
  if (p.nbf !== undefined) {
    if (typeof p.nbf !== 'number') throw new Error('"nbf" claim must be a number');
    if (p.nbf > now + tolerance) throw new Error('"nbf" claim timestamp check failed');
  }
  if (p.exp !== undefined) {
    if (typeof p.exp !== 'number') throw new Error('"exp" claim must be a number');
    if (p.exp <= now - tolerance) throw new Error('"exp" claim timestamp check failed');
  }
}
