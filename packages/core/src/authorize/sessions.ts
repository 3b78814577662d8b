import { randomBase64Url } from '../crypto/random';
import type { User } from '../model';
import type { Clock, SessionRecord, Store } from '../ports';
import { hashSecret } from '../token/refresh-tokens';

export interface PasswordVerifier {
  verifyPassword(connection: string, email: string, password: string): Promise<User | undefined>;
  /** The account an identifier (email or username) names, without checking a password. */
  findLogin(connection: string, identifier: string): Promise<User | undefined>;
}

/** Login sessions (the SSO cookie): a random id in the cookie, its hash in storage, a 7-day absolute lifetime. */
export class SessionService {
  static readonly LIFETIME_MS = 7 * 24 * 3600_000;

  constructor(private readonly deps: { store: Store; clock: Clock }) {}

  /** A new session; `authTime` is when the password was checked, `mfaAt` when a second factor was passed. */
  async create(user: User, o: { authTime?: number; mfaAt?: number } = {}): Promise<{ cookie: string; record: SessionRecord }> {
    const now = this.deps.clock.now();
    const cookie = randomBase64Url(32);
    const record: SessionRecord = {
      idHash: hashSecret(cookie), userId: user.user_id, authTime: o.authTime ?? now, createdAt: now, expiresAt: now + SessionService.LIFETIME_MS,
      ...(o.mfaAt !== undefined && { mfaAt: o.mfaAt }),
    };
    await this.deps.store.sessions.insert(record);
    return { cookie, record };
  }

  /** The session and its user, when the cookie names a live session of an existing, unblocked user. */
  async find(cookie: string | undefined): Promise<{ record: SessionRecord; user: User } | undefined> {
    if (!cookie || cookie.length > 200) return undefined;
    const record = await this.deps.store.sessions.find(hashSecret(cookie));
    if (!record || record.expiresAt <= this.deps.clock.now()) return undefined;
    const user = await this.deps.store.users.findById(record.userId);
    if (!user || user.blocked) return undefined;
    return { record, user };
  }

  markMfa(idHash: string, at: number): Promise<void> {
    return this.deps.store.sessions.markMfa(idHash, at);
  }

  async destroy(cookie: string): Promise<void> {
    await this.deps.store.sessions.delete(hashSecret(cookie));
  }
}
