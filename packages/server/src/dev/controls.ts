import { AdjustableClock, BadRequest, Conflict, DevTokens, NotFound } from '@tessera/core';
import type { OpenedStore, StoreSnapshot } from '@tessera/store';
import type { Services } from '../services';
import { FaultInjector } from './faults';

/** The snapshot a reset returns to. */
export const SEED_SNAPSHOT = 'seed';
const MAX_SNAPSHOTS = 32;

export interface DevModeOptions {
  /** Answer the controls from any address (dev bound to a non-loopback host); otherwise loopback callers only. */
  allowRemote?: boolean;
}

/**
 * The state behind development mode's test controls: named snapshots of the whole database (held in memory), the
 * movable clock and the fault injector. A restore invalidates every cache here (and, through the change generation,
 * in any other process on the database) before it returns.
 */
export class DevControls {
  readonly faults = new FaultInjector();
  readonly tokens: DevTokens;
  private readonly snapshots = new Map<string, { snapshot: StoreSnapshot; takenAt: number }>();

  constructor(
    private readonly store: OpenedStore, private readonly services: Services, readonly clock: AdjustableClock, readonly options: DevModeOptions = {},
  ) {
    this.tokens = new DevTokens({
      store, directory: services.directory, clock, userTokens: services.userFlows.userTokens, refreshTokens: services.userFlows.refreshTokens,
      clientCredentials: services.clientCredentialsGrant,
    });
  }

  /** Records the current state as the seed (called once seeding is done; again after a re-seed). */
  async markSeeded(): Promise<void> {
    this.snapshots.set(SEED_SNAPSHOT, { snapshot: await this.capture(), takenAt: Date.now() });
  }

  /** Back to the seed: its data, the real time, no faults. */
  async reset(): Promise<void> {
    await this.restore(SEED_SNAPSHOT);
    this.clock.reset();
    this.faults.clear();
  }

  async take(name: string): Promise<void> {
    if (name === SEED_SNAPSHOT) throw new Conflict('The seed snapshot is taken by the server after seeding.', 'reserved_snapshot_name');
    if (!this.snapshots.has(name) && this.snapshots.size >= MAX_SNAPSHOTS) {
      throw new BadRequest(`At most ${MAX_SNAPSHOTS} snapshots are kept; delete one first.`, 'too_many_snapshots');
    }
    this.snapshots.set(name, { snapshot: await this.capture(), takenAt: Date.now() });
  }

  async restore(name: string): Promise<void> {
    const found = this.snapshots.get(name);
    if (!found) throw new NotFound(`No snapshot named ${name}.`, 'inexistent_snapshot');
    await this.settle();
    await this.store.restore(found.snapshot);
    this.services.changes.notify(); // directory, organizations, token reuse, key manager
    await this.services.keys.reload();
  }

  delete(name: string): void {
    if (name === SEED_SNAPSHOT) throw new Conflict('The seed snapshot cannot be deleted.', 'reserved_snapshot_name');
    if (!this.snapshots.delete(name)) throw new NotFound(`No snapshot named ${name}.`, 'inexistent_snapshot');
  }

  list(): Array<{ name: string; taken_at: string }> {
    return [...this.snapshots].map(([name, s]) => ({ name, taken_at: new Date(s.takenAt).toISOString() }));
  }

  /** Signing keys: `rotate` puts the next key in use; `revoke` also revokes the key that was current (its tokens stop verifying). */
  async rotateKeys(revokePrevious: boolean): Promise<{ current: string; revoked?: string }> {
    const before = this.services.keys.currentKid();
    await this.services.signingKeys.rotate();
    if (revokePrevious && before) await this.services.signingKeys.revoke(before);
    return { current: this.services.keys.currentKid() as string, ...(revokePrevious && before && { revoked: before }) };
  }

  /** Queued tenant-log events and usage counts belong to the state being left: written before it is captured or replaced. */
  private async settle(): Promise<void> {
    await this.services.events.flush();
    await this.services.m2m.usage.flush().catch(() => undefined);
  }

  private async capture(): Promise<StoreSnapshot> {
    await this.settle();
    return this.store.snapshot();
  }
}
