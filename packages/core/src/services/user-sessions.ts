import { NotFound } from '../errors';
import type { Clock, RefreshTokenRecord, SessionRecord, Store } from '../ports';
import { USER_NOT_FOUND } from './users';

/** Auth0's session resource, from what Tessera keeps of a login session. */
export interface SessionView {
  id: string; user_id: string; created_at: string; updated_at: string; authenticated_at: string; expires_at: string;
  authentication: { methods: Array<{ name: string; timestamp: string }> };
}

/** Auth0's refresh token resource: one per family (rotation keeps the id), with its API and granted scopes. */
export interface RefreshTokenView {
  id: string; user_id: string; client_id: string; created_at: string; expires_at?: string; idle_expires_at?: string; last_exchanged_at?: string;
  rotating: boolean; resource_servers: Array<{ audience: string; scopes: string }>;
}

const iso = (ms: number) => new Date(ms).toISOString();
const SESSION_NOT_FOUND = () => new NotFound('The session does not exist.', 'inexistent_session');
const TOKEN_NOT_FOUND = () => new NotFound('The refresh token does not exist.', 'inexistent_refresh_token');

function sessionView(s: SessionRecord): SessionView {
  const methods = [{ name: 'pwd', timestamp: iso(s.authTime) }, ...(s.mfaAt === undefined ? [] : [{ name: 'mfa', timestamp: iso(s.mfaAt) }])];
  return {
    id: s.idHash, user_id: s.userId, created_at: iso(s.createdAt), updated_at: iso(s.mfaAt ?? s.createdAt), authenticated_at: iso(s.authTime),
    expires_at: iso(s.expiresAt), authentication: { methods },
  };
}

/**
 * A user's login sessions and refresh tokens, as Auth0's /sessions and /refresh-tokens resources: listed while they
 * still work, ended (sessions deleted, refresh token families revoked) one at a time or all at once. Both are read
 * from storage on every use, so an end takes effect at once on every instance.
 */
export class UserSessionService {
  constructor(private readonly deps: { store: Store; clock: Clock }) {}

  async sessionsOf(userId: string): Promise<SessionView[]> {
    await this.requireUser(userId);
    const now = this.deps.clock.now();
    return (await this.deps.store.sessions.ofUser(userId)).filter((s) => s.expiresAt > now).map(sessionView);
  }

  async session(id: string): Promise<SessionView> {
    const s = await this.deps.store.sessions.find(id);
    if (!s || s.expiresAt <= this.deps.clock.now()) throw SESSION_NOT_FOUND();
    return sessionView(s);
  }

  async endSessions(userId: string): Promise<void> {
    await this.requireUser(userId);
    await this.deps.store.write((tx) => tx.sessions.deleteForUser(userId));
  }

  async endSession(id: string): Promise<void> {
    await this.session(id);
    await this.deps.store.write((tx) => tx.sessions.delete(id));
  }

  async refreshTokensOf(userId: string): Promise<RefreshTokenView[]> {
    await this.requireUser(userId);
    const families = new Map<string, RefreshTokenRecord[]>();
    for (const r of await this.deps.store.refreshTokens.unrevokedOfUser(userId)) families.set(r.familyId, [...(families.get(r.familyId) ?? []), r]);
    const out: RefreshTokenView[] = [];
    for (const family of families.values()) {
      const view = await this.live(family);
      if (view) out.push(view);
    }
    return out;
  }

  async refreshToken(id: string): Promise<RefreshTokenView> {
    const view = await this.live(await this.deps.store.refreshTokens.family(id));
    if (!view) throw TOKEN_NOT_FOUND();
    return view;
  }

  async revokeRefreshTokens(userId: string): Promise<void> {
    await this.requireUser(userId);
    await this.deps.store.write((tx) => tx.refreshTokens.revokeForUser(userId, this.deps.clock.now()));
  }

  async revokeRefreshToken(id: string): Promise<void> {
    await this.refreshToken(id);
    await this.deps.store.write((tx) => tx.refreshTokens.revokeFamily(id, this.deps.clock.now()));
  }

  /** A family (oldest token first) as one refresh token, or undefined once revoked or expired. */
  private async live(family: RefreshTokenRecord[]): Promise<RefreshTokenView | undefined> {
    const first = family[0];
    const last = family[family.length - 1];
    const now = this.deps.clock.now();
    if (!last || last.revokedAt !== undefined || (last.expiresAt !== undefined && now >= last.expiresAt) || (last.idleExpiresAt !== undefined && now >= last.idleExpiresAt)) return undefined;
    const client = await this.deps.store.clients.findById(last.grant.clientId);
    return {
      id: last.familyId, user_id: last.grant.userId, client_id: last.grant.clientId, created_at: iso(first.createdAt),
      ...(last.expiresAt !== undefined && { expires_at: iso(last.expiresAt) }),
      ...(last.idleExpiresAt !== undefined && { idle_expires_at: iso(last.idleExpiresAt) }),
      ...(family.length > 1 && { last_exchanged_at: iso(last.createdAt) }),
      rotating: (client?.refresh_token as { rotation_type?: string } | undefined)?.rotation_type === 'rotating',
      resource_servers: last.grant.audience === undefined ? [] : [{ audience: last.grant.audience, scopes: last.grant.scopes.join(' ') }],
    };
  }

  private async requireUser(userId: string): Promise<void> {
    if ((await this.deps.store.users.existing([userId])).length === 0) throw USER_NOT_FOUND();
  }
}
