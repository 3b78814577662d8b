import { constants, createHmac, sign, type KeyObject, type SignKeyObjectInput } from 'node:crypto';
import { ids } from '../crypto/random';
import { effective, type ResourceServer } from '../model';
import type { Clock } from '../ports';
import type { AsymmetricAlg, KeyManager } from '../services/key-manager';
import { AccessTokenEncrypter } from './encrypt';

export interface AccessTokenClaims {
  sub: string;
  clientId: string;
  scopes: string[];
  /** Auth0's `gty` (client-credentials, password, refresh_token); omitted when undefined. */
  gty?: string;
  permissions?: string[];
  extraAudience?: string;
  orgId?: string;
  extra?: Record<string, unknown>;
}

/** JWS RS256/RS512 = RSASSA-PKCS1-v1_5, PS256 = RSASSA-PSS with MGF1 and a salt as long as the hash (RFC 7518 §3.3, §3.5). */
const DIGEST: Record<AsymmetricAlg, string> = { RS256: 'sha256', RS512: 'sha512', PS256: 'sha256' };
function signingInput(alg: AsymmetricAlg, key: KeyObject): KeyObject | SignKeyObjectInput {
  return alg === 'PS256' ? { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 } : key;
}

/**
 * Mints access tokens for an API in the API's dialect and algorithm. HS256 uses node:crypto HMAC
 * with the API's own secret (no per-request key import); RS256/RS512/PS256 use the tenant's current
 * key, parsed once into a KeyObject and signed with callback-style `crypto.sign`, which runs the RSA
 * operation on the libuv pool (both cores) and costs the event loop less than WebCrypto's jobs.
 * Headers are serialised once per (alg, typ, kid).
 */
export class AccessTokenMinter {
  private headerCache = new Map<string, string>();
  /** APIs with `token_encryption` get the signed token wrapped in a JWE (encrypt.ts). */
  readonly encrypter = new AccessTokenEncrypter();

  constructor(private readonly deps: { keys: KeyManager; clock: Clock; issuer: string }) {}

  async mint(api: ResourceServer, c: AccessTokenClaims, lifetime = api.token_lifetime): Promise<{ token: string; expiresIn: number; claims: Record<string, unknown> }> {
    const claims = this.claims(api, c, lifetime);
    const typ = effective.dialect(api).startsWith('rfc9068') ? 'at+jwt' : 'JWT';
    const signed = api.signing_alg === 'HS256'
      ? this.hs256(api, typ, claims)
      : await this.asymmetric(api.signing_alg, typ, claims);
    const token = api.token_encryption ? await this.encrypter.seal(api.token_encryption, signed) : signed;
    return { token, expiresIn: lifetime, claims };
  }

  /** The access token's claims in the API's dialect, as `mint` signs them (explain shows them unsigned). */
  claims(api: ResourceServer, c: AccessTokenClaims, lifetime = api.token_lifetime): Record<string, unknown> {
    const dialect = effective.dialect(api);
    const rfc9068 = dialect.startsWith('rfc9068');
    const iat = Math.floor(this.deps.clock.now() / 1000);
    const claims: Record<string, unknown> = {
      iss: this.deps.issuer,
      sub: c.sub,
      aud: c.extraAudience ? [api.identifier, c.extraAudience] : api.identifier,
      iat,
      exp: iat + lifetime,
    };
    if (c.scopes.length > 0) claims.scope = c.scopes.join(' ');
    if (c.orgId) claims.org_id = c.orgId;
    if (rfc9068) {
      claims.client_id = c.clientId;
      claims.jti = ids.jti();
    } else {
      if (c.gty) claims.gty = c.gty;
      claims.azp = c.clientId;
    }
    // RBAC permissions claims exist only when RBAC (enforce_policies) is on for the API (Auth0's token_dialect docs)
    if (dialect.endsWith('_authz') && api.enforce_policies) claims.permissions = c.permissions ?? c.scopes;
    if (c.extra) Object.assign(claims, c.extra);
    return claims;
  }

  private hs256(api: ResourceServer, typ: string, claims: Record<string, unknown>): string {
    if (!api.signing_secret) throw new Error(`HS256 API ${api.identifier} has no signing secret`);
    const input = `${this.header(`HS256:${typ}`, { alg: 'HS256', typ })}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
    return `${input}.${createHmac('sha256', api.signing_secret).update(input).digest('base64url')}`;
  }

  private asymmetric(alg: AsymmetricAlg, typ: string, claims: Record<string, unknown>): Promise<string> {
    const { kid, key } = this.deps.keys.signingKey();
    const input = `${this.header(`${alg}:${typ}:${kid}`, { alg, typ, kid })}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
    return new Promise((resolve, reject) => {
      sign(DIGEST[alg], Buffer.from(input), signingInput(alg, key), (err, signature) => {
        if (err) reject(err);
        else resolve(`${input}.${signature.toString('base64url')}`);
      });
    });
  }

  private header(key: string, header: Record<string, string>): string {
    let h = this.headerCache.get(key);
    if (!h) { h = Buffer.from(JSON.stringify(header)).toString('base64url'); this.headerCache.set(key, h); }
    return h;
  }
}
