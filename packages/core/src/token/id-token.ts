import { createHash } from 'node:crypto';
import { CompactSign } from 'jose';
import type { Client, User } from '../model';
import type { Clock } from '../ports';
import type { KeyManager } from '../services/key-manager';

export interface IdTokenInput {
  client: Client;
  user: User;
  scopes: string[];
  authTime: number; // ms
  nonce?: string;
  orgId?: string;
  /** Authentication methods references (`["mfa"]` after a second factor). */
  amr?: string[];
  /** Set when the ID token travels with an access token from /authorize (OIDC Core §3.3.2.11). */
  accessToken?: string;
  /** Set when the ID token travels with a code from /authorize (hybrid flow). */
  code?: string;
}

const enc = new TextEncoder();
const DEFAULT_LIFETIME_S = 36000;

/** Left half of SHA-256 of the value, base64url: at_hash / c_hash for RS256 (OIDC Core §3.1.3.6). */
export function halfHash(value: string): string {
  const d = createHash('sha256').update(value, 'ascii').digest();
  return d.subarray(0, d.length / 2).toString('base64url');
}

/** Standard claims of a user, by OIDC scope (profile, email); `sub` always. */
export function profileClaims(user: User, scopes: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (scopes.includes('profile')) {
    for (const k of ['given_name', 'family_name', 'nickname', 'name', 'picture'] as const) if (user[k] !== undefined) out[k] = user[k];
    out.updated_at = user.updated_at;
  }
  if (scopes.includes('email')) {
    out.email = user.email;
    out.email_verified = user.email_verified;
  }
  return out;
}

/**
 * ID tokens (OIDC Core §2): RS256 with the tenant's current key, `aud` = client_id, `exp` from the client's
 * `jwt_configuration.lifetime_in_seconds` (Auth0's default 36000), `auth_time`, `nonce`, `org_id`, and the
 * profile/email claims the granted scopes allow. This is what Auth0's SDK ID-token validators check.
 */
export class IdTokenMinter {
  constructor(private readonly deps: { keys: KeyManager; clock: Clock; issuer: string }) {}

  async mint(i: IdTokenInput): Promise<string> {
    const iat = Math.floor(this.deps.clock.now() / 1000);
    const lifetime = i.client.jwt_configuration?.lifetime_in_seconds ?? DEFAULT_LIFETIME_S;
    const claims: Record<string, unknown> = {
      ...profileClaims(i.user, i.scopes),
      iss: this.deps.issuer,
      aud: i.client.client_id,
      sub: i.user.user_id,
      iat,
      exp: iat + lifetime,
      auth_time: Math.floor(i.authTime / 1000),
    };
    if (i.nonce !== undefined) claims.nonce = i.nonce;
    if (i.orgId !== undefined) claims.org_id = i.orgId;
    if (i.amr !== undefined) claims.amr = i.amr;
    // OIDC Core §2: the PAPE multi-factor policy was satisfied (what Auth0 puts in `acr` after a second factor)
    if (i.amr?.includes('mfa')) claims.acr = 'http://schemas.openid.net/pape/policies/2007/06/multi-factor';
    if (i.accessToken !== undefined) claims.at_hash = halfHash(i.accessToken);
    if (i.code !== undefined) claims.c_hash = halfHash(i.code);
    const signer = await this.deps.keys.signer('RS256');
    return new CompactSign(enc.encode(JSON.stringify(claims)))
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: signer.kid })
      .sign(signer.key);
  }
}
