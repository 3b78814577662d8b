import type { Client, ClientGrant, ResourceServer, SigningKey, SubjectType } from '../model';

export interface Page<T> { items: T[]; total: number }
export interface CheckpointPage<T> { items: T[]; next?: string }

export interface OffsetWindow { offset: number; limit?: number }

export interface ResourceServerQuery extends OffsetWindow { identifiers?: string[] }
export interface ClientQuery extends OffsetWindow { isGlobal?: boolean; isFirstParty?: boolean; appTypes?: string[] }
export interface ClientGrantQuery {
  audience?: string; clientId?: string; subjectType?: SubjectType; allowAnyOrganization?: boolean; defaultFor?: string;
}

export interface ResourceServerRepo {
  insert(rs: ResourceServer): Promise<void>;
  replace(rs: ResourceServer): Promise<void>;
  delete(id: string): Promise<boolean>;
  findById(id: string): Promise<ResourceServer | undefined>;
  findByIdentifier(identifier: string): Promise<ResourceServer | undefined>;
  list(q: ResourceServerQuery): Promise<Page<ResourceServer>>;
}

export interface ClientRepo {
  insert(c: Client): Promise<void>;
  replace(c: Client): Promise<void>;
  delete(clientId: string): Promise<boolean>;
  findById(clientId: string): Promise<Client | undefined>;
  list(q: ClientQuery): Promise<Page<Client>>;
}

export interface ClientGrantRepo {
  insert(g: ClientGrant): Promise<void>;
  replace(g: ClientGrant): Promise<void>;
  delete(id: string): Promise<boolean>;
  findById(id: string): Promise<ClientGrant | undefined>;
  findFor(clientId: string, audience: string, subjectType: SubjectType): Promise<ClientGrant | undefined>;
  findDefault(audience: string, subjectType: SubjectType): Promise<ClientGrant | undefined>;
  /** Offset page (exact total). */
  list(q: ClientGrantQuery & OffsetWindow): Promise<Page<ClientGrant>>;
  /** Checkpoint page: items after the opaque cursor `from`, at most `take`. */
  listFrom(q: ClientGrantQuery & { from?: string; take: number }): Promise<CheckpointPage<ClientGrant>>;
}

export interface SigningKeyRepo {
  list(): Promise<SigningKey[]>;
  insert(k: SigningKey): Promise<void>;
  replace(k: SigningKey): Promise<void>;
}

export interface MetaRepo {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string): Promise<void>;
}

export interface Repos {
  resourceServers: ResourceServerRepo;
  clients: ClientRepo;
  clientGrants: ClientGrantRepo;
  signingKeys: SigningKeyRepo;
  meta: MetaRepo;
}

/**
 * Storage as the domain sees it. Every write runs inside `write`, which is one transaction that also
 * advances the store's change generation, so caches in this and other processes can notice it.
 */
export interface Store extends Repos {
  readonly dialect: 'sqlite' | 'postgres';
  write<T>(fn: (tx: Repos) => Promise<T>): Promise<T>;
  /** Current change generation as stored (used by other processes to notice writes). */
  generation(): Promise<number>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface Clock { now(): number /* ms since epoch */ }
export const systemClock: Clock = { now: () => Date.now() };
