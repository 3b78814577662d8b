import type { Client } from '../../model';
import type { Clock } from '../../ports';
import type { ChangeFeed } from '../../services/changes';
import type { TokenResponse } from '../types';

export interface TokenReuseSettings {
  /** The tenant default for clients without `tessera_token_reuse` (TESSERA_TOKEN_REUSE). */
  enabledByDefault: boolean;
  /** Share of its lifetime a token must still have to be handed out again (TESSERA_TOKEN_REUSE_MIN_REMAINING, 0 < x < 1). */
  minRemaining: number;
}

export const DEFAULT_TOKEN_REUSE: TokenReuseSettings = { enabledByDefault: false, minRemaining: 0.5 };

interface Entry { accessToken: string; scope?: string; tokenType: TokenResponse['token_type']; expMs: number; keepMs: number }

/** What makes two client_credentials requests ask for the same token (beyond the configuration, see below). */
export interface ReuseKey {
  clientId: string; audience: string; scopes: readonly string[]; orgId?: string;
  /** `cnf` of a bound token (DPoP `jkt` or the certificate's `x5t#S256`): reused only for the same key or certificate. */
  binding?: string;
  /** The signing key that would sign a new token now. */
  kid?: string;
}

/**
 * Tokens issued by client_credentials, handed out again to the same client for the same audience, scope set,
 * organization and binding while they keep at least `minRemaining` of their lifetime (`expires_in` counts down).
 *
 * The configuration a token was minted from (client, grant, API, organization, roles, signing keys) is covered by
 * the change feed: every committed write clears the cache here at once and in every other process and instance
 * (PostgreSQL NOTIFY, or the 250 ms generation poll), exactly as it clears the directory the token was built from.
 * A token minted while a change arrived is not kept (the generation it started under is compared when it is stored).
 * The key also carries the current signing key id, so a rotation seen by the key manager stops reuse even before
 * the change reaches this cache.
 */
export class TokenReuseCache {
  private entries = new Map<string, Entry>();
  private gen = 0;

  constructor(private readonly deps: { changes: ChangeFeed; clock: Clock; settings: TokenReuseSettings; limit?: number }) {
    deps.changes.subscribe(() => this.clear());
  }

  enabledFor(client: Client): boolean {
    return client.tessera_token_reuse ?? this.deps.settings.enabledByDefault;
  }

  /** The configuration generation a request starts under (pass it back to `put`). */
  get generation(): number { return this.gen; }

  get size(): number { return this.entries.size; }

  clear(): void {
    this.gen++;
    this.entries.clear();
  }

  static key(k: ReuseKey): string {
    return [k.clientId, k.audience, [...k.scopes].sort().join(' '), k.orgId ?? '', k.binding ?? '', k.kid ?? ''].join('\u0000');
  }

  /** The stored token for this key while it keeps enough of its lifetime, with `expires_in` as it stands now. */
  take(key: string): TokenResponse | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    const now = this.deps.clock.now();
    const left = e.expMs - now;
    if (left < e.keepMs || left < 1000) {
      this.entries.delete(key);
      return undefined;
    }
    // whole seconds as minting counts them (iat is the current second), so a fresh token says its full lifetime
    const res: TokenResponse = { access_token: e.accessToken, expires_in: e.expMs / 1000 - Math.floor(now / 1000), token_type: e.tokenType };
    if (e.scope !== undefined) res.scope = e.scope;
    return res;
  }

  /** Keeps a freshly minted token, unless the configuration changed since `generation`. */
  put(key: string, generation: number, res: TokenResponse, expSeconds: number, lifetimeSeconds: number): void {
    if (generation !== this.gen) return;
    const limit = this.deps.limit ?? 50_000;
    if (this.entries.size >= limit) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(key, {
      accessToken: res.access_token, scope: res.scope, tokenType: res.token_type,
      expMs: expSeconds * 1000, keepMs: Math.ceil(lifetimeSeconds * 1000 * this.deps.settings.minRemaining),
    });
  }
}
