import { secretDigest } from '../crypto/compare';
import type { Client, ClientGrant, ResourceServer, SubjectType } from '../model';
import type { Store } from '../ports';
import type { ChangeFeed } from './changes';
import { ReadCache } from './read-cache';

export interface CachedClient { client: Client; secretDigest?: Buffer }

/**
 * Read-through cache of what the token endpoint needs (clients, APIs, grants). Entries are
 * promises, so concurrent misses share one storage read; any change in the store clears it all
 * (writes are rare next to token requests). A load that raced a change is not kept.
 */
export class Directory {
  private clients = new ReadCache<CachedClient | undefined>();
  private apis = new ReadCache<ResourceServer | undefined>();
  private grants = new ReadCache<ClientGrant | undefined>();

  constructor(private readonly store: Store, changes: ChangeFeed) {
    changes.subscribe(() => this.clear());
  }

  clear(): void {
    this.clients.clear();
    this.apis.clear();
    this.grants.clear();
  }

  client(clientId: string): Promise<CachedClient | undefined> {
    return this.clients.get(clientId, async () => {
      const client = await this.store.clients.findById(clientId);
      if (!client) return undefined;
      return { client, secretDigest: client.client_secret ? secretDigest(client.client_secret) : undefined };
    });
  }

  resourceServer(identifier: string): Promise<ResourceServer | undefined> {
    return this.apis.get(identifier, () => this.store.resourceServers.findByIdentifier(identifier));
  }

  grant(clientId: string, audience: string, subjectType: SubjectType): Promise<ClientGrant | undefined> {
    return this.grants.get(`${subjectType}\u0000${clientId}\u0000${audience}`,
      () => this.store.clientGrants.findFor(clientId, audience, subjectType));
  }

  defaultGrant(audience: string, subjectType: SubjectType): Promise<ClientGrant | undefined> {
    return this.grants.get(`${subjectType}\u0000\u0000default\u0000${audience}`,
      () => this.store.clientGrants.findDefault(audience, subjectType));
  }
}
