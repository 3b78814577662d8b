import { createHash } from 'node:crypto';
import { randomBase64Url, randomHex } from '../crypto/random';
import { InvalidGrant, OAuthError } from '../errors';
import type { Client } from '../model';
import type { Clock, RefreshGrant, RefreshTokenRecord, Store } from '../ports';

/** SHA-256 (base64url) of an opaque secret: what storage keeps instead of codes, refresh tokens and session ids. */
export const hashSecret = (s: string): string => createHash('sha256').update(s, 'utf8').digest('base64url');

export const invalidRefreshToken = (cause?: string) => new InvalidGrant('Unknown or invalid refresh token.', cause);

interface RefreshConfig {
  rotation_type?: string;
  expiration_type?: string;
  leeway?: number;
  token_lifetime?: number;
  idle_token_lifetime?: number;
  infinite_token_lifetime?: boolean;
  infinite_idle_token_lifetime?: boolean;
}

const configOf = (c: Client): RefreshConfig => (c.refresh_token ?? {}) as RefreshConfig;

/** Whether the client's refresh tokens rotate (`rotation_type: rotating`): each is exchanged once, for a successor. */
export const rotates = (c: Client): boolean => configOf(c).rotation_type === 'rotating';

/** A grant's own checks of a presented token (scope narrowing, binding), run after the token's state and before any write. */
export type RefreshCheck = (g: RefreshGrant, jkt?: string, x5t?: string) => void;

const REUSED = 'reuse of a rotated refresh token: family revoked';

/** The token's own state: known, this client's, not revoked, not past its absolute or idle expiry; then the grant's checks. */
function admit(client: Client, rec: RefreshTokenRecord | undefined, now: number, check?: RefreshCheck): asserts rec is RefreshTokenRecord {
  if (!rec) throw invalidRefreshToken('unknown token');
  if (rec.grant.clientId !== client.client_id) throw invalidRefreshToken('other client');
  if (rec.revokedAt !== undefined) throw invalidRefreshToken('revoked');
  if ((rec.expiresAt !== undefined && now >= rec.expiresAt) || (rec.idleExpiresAt !== undefined && now >= rec.idleExpiresAt)) throw invalidRefreshToken('expired');
  check?.(rec.grant, rec.jkt, rec.x5t);
}

/** Under rotation, a token used before is refused (and its family revoked) once `leeway` seconds have passed since. */
function reuseRefused(cfg: RefreshConfig, usedAt: number, now: number): boolean {
  const leewayMs = (cfg.leeway ?? 0) * 1000;
  return leewayMs === 0 || now - usedAt > leewayMs;
}

/**
 * Refresh tokens (RFC 6749 §6, RFC 9700 §4.14) with the client's Auth0 `refresh_token` settings: rotation
 * (`rotation_type: rotating`) issues a new token per use within one family; presenting a used token after
 * `leeway` seconds is treated as theft and revokes the whole family. Expiry follows `expiration_type`,
 * `token_lifetime` (absolute, per family) and `idle_token_lifetime` (inactivity).
 */
export class RefreshTokenService {
  constructor(private readonly deps: { store: Store; clock: Clock }) {}

  async issue(client: Client, grant: RefreshGrant, family?: { id: string; expiresAt?: number }, jkt?: string, x5t?: string): Promise<{ token: string; familyId: string }> {
    const now = this.deps.clock.now();
    const cfg = configOf(client);
    const expiring = cfg.expiration_type === 'expiring';
    const absolute = expiring && !cfg.infinite_token_lifetime && cfg.token_lifetime ? now + cfg.token_lifetime * 1000 : undefined;
    const token = `v1.${randomBase64Url(48)}`;
    const rec: RefreshTokenRecord = {
      id: randomHex(16), tokenHash: hashSecret(token), familyId: family?.id ?? randomHex(16), grant, createdAt: now,
      expiresAt: family ? family.expiresAt : absolute, idleExpiresAt: this.idleEnd(cfg, now), jkt, x5t,
    };
    await this.deps.store.refreshTokens.insert(rec);
    return { token, familyId: rec.familyId };
  }

  /** Validates a presented token for `client`; under rotation it is spent and a successor is returned. */
  async exchange(client: Client, token: string, check?: RefreshCheck): Promise<{ grant: RefreshGrant; next?: string }> {
    const { store, clock } = this.deps;
    const now = clock.now();
    const rec = await store.refreshTokens.findByHash(hashSecret(token));
    admit(client, rec, now, check);
    const cfg = configOf(client);
    if (!rotates(client)) {
      await store.refreshTokens.touch(rec.id, this.idleEnd(cfg, now));
      return { grant: rec.grant };
    }
    const firstUse = rec.usedAt === undefined && (await store.refreshTokens.markUsed(rec.id, now));
    if (!firstUse) {
      const usedAt = rec.usedAt ?? (await store.refreshTokens.findByHash(rec.tokenHash))?.usedAt ?? now;
      if (reuseRefused(cfg, usedAt, now)) {
        await store.refreshTokens.revokeFamily(rec.familyId, now);
        throw invalidRefreshToken(REUSED);
      }
    }
    const { token: next } = await this.issue(client, rec.grant, { id: rec.familyId, expiresAt: rec.expiresAt }, rec.jkt, rec.x5t);
    return { grant: rec.grant, next };
  }

  /**
   * The token a client holds now in a family (the Management API's refresh token id): the one rotation handed out
   * last, i.e. the latest not yet exchanged (tokens of one family may share a millisecond), else the latest.
   */
  async current(familyId: string): Promise<RefreshTokenRecord | undefined> {
    const family = await this.deps.store.refreshTokens.family(familyId);
    return family.filter((r) => r.usedAt === undefined).at(-1) ?? family.at(-1);
  }

  /**
   * Explain: the refusal `exchange` would answer for this token (its state, the grant's `check`, reuse under
   * rotation), or undefined when it would pass; nothing is spent, touched or revoked.
   */
  inspect(client: Client, rec: RefreshTokenRecord, check?: RefreshCheck): OAuthError | undefined {
    try {
      const now = this.deps.clock.now();
      admit(client, rec, now, check);
      if (rotates(client) && rec.usedAt !== undefined && reuseRefused(configOf(client), rec.usedAt, now)) {
        throw invalidRefreshToken('reuse of a rotated refresh token (an exchange revokes the family)');
      }
      return undefined;
    } catch (e) {
      if (e instanceof OAuthError) return e;
      throw e;
    }
  }

  /** RFC 7009: revokes the token's family; unknown tokens and other clients' tokens are ignored. */
  async revoke(client: Client, token: string): Promise<void> {
    const rec = await this.deps.store.refreshTokens.findByHash(hashSecret(token));
    if (!rec || rec.grant.clientId !== client.client_id) return;
    await this.deps.store.refreshTokens.revokeFamily(rec.familyId, this.deps.clock.now());
  }

  revokeFamily(familyId: string): Promise<void> {
    return this.deps.store.refreshTokens.revokeFamily(familyId, this.deps.clock.now());
  }

  private idleEnd(cfg: RefreshConfig, now: number): number | undefined {
    const expiring = cfg.expiration_type === 'expiring';
    return expiring && !cfg.infinite_idle_token_lifetime && cfg.idle_token_lifetime ? now + cfg.idle_token_lifetime * 1000 : undefined;
  }
}
