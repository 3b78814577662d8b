import { createHash } from 'node:crypto';
import { randomBase64Url, randomHex } from '../crypto/random';
import { InvalidGrant } from '../errors';
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
  async exchange(client: Client, token: string, check?: (g: RefreshGrant, jkt?: string, x5t?: string) => void): Promise<{ grant: RefreshGrant; next?: string }> {
    const { store, clock } = this.deps;
    const now = clock.now();
    const rec = await store.refreshTokens.findByHash(hashSecret(token));
    if (!rec || rec.grant.clientId !== client.client_id) throw invalidRefreshToken('unknown token or other client');
    if (rec.revokedAt !== undefined) throw invalidRefreshToken('revoked');
    if ((rec.expiresAt !== undefined && now >= rec.expiresAt) || (rec.idleExpiresAt !== undefined && now >= rec.idleExpiresAt)) throw invalidRefreshToken('expired');
    check?.(rec.grant, rec.jkt, rec.x5t);
    const cfg = configOf(client);
    if (cfg.rotation_type !== 'rotating') {
      await store.refreshTokens.touch(rec.id, this.idleEnd(cfg, now));
      return { grant: rec.grant };
    }
    const leewayMs = (cfg.leeway ?? 0) * 1000;
    const firstUse = rec.usedAt === undefined && (await store.refreshTokens.markUsed(rec.id, now));
    if (!firstUse) {
      const usedAt = rec.usedAt ?? (await store.refreshTokens.findByHash(rec.tokenHash))?.usedAt ?? now;
      if (leewayMs === 0 || now - usedAt > leewayMs) {
        await store.refreshTokens.revokeFamily(rec.familyId, now);
        throw invalidRefreshToken('reuse of a rotated refresh token: family revoked');
      }
    }
    const { token: next } = await this.issue(client, rec.grant, { id: rec.familyId, expiresAt: rec.expiresAt }, rec.jkt, rec.x5t);
    return { grant: rec.grant, next };
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
