import type { Clock, Store } from '../ports';
import { USER_NOT_FOUND } from '../services/users';

export interface BlockedFor { identifier: string; ip: string; connection: string }

/**
 * Auth0's /api/v2/user-blocks: the brute-force blocks of an identifier (email) or of a user (by user_id, through
 * the user's email). Admin blocks (`blocked: true` on the user) are not touched here, as in Auth0.
 */
export class UserBlockService {
  constructor(private readonly deps: { store: Store; clock: Clock; enabled: () => boolean }) {}

  async byIdentifier(identifier: string, considerEnablement = false): Promise<BlockedFor[]> {
    if (considerEnablement && !this.deps.enabled()) return [];
    const blocks = await this.deps.store.abuse.blocksOf([identifier.trim().toLowerCase()], this.deps.clock.now());
    return blocks.map((b) => ({ identifier: b.identifier, ip: b.ip, connection: b.connection }));
  }

  async unblockIdentifier(identifier: string): Promise<void> {
    await this.deps.store.abuse.unblock([identifier.trim().toLowerCase()]);
  }

  async byUser(userId: string, considerEnablement = false): Promise<BlockedFor[]> {
    const user = await this.deps.store.users.findById(userId);
    if (!user) throw USER_NOT_FOUND();
    return this.byIdentifier(user.email, considerEnablement);
  }

  async unblockUser(userId: string): Promise<void> {
    const user = await this.deps.store.users.findById(userId);
    if (!user) throw USER_NOT_FOUND();
    await this.deps.store.abuse.unblock([user.email]);
  }
}
