import type {
  Client, ClientCredential, ClientGrant, Organization, PermissionRef, PermissionView, ResourceServer, Role, SigningKey, SubjectType, User, UserQuery, UserSort,
} from '../model';
import type { UserFlowRepos } from './user-flows';
import type { MfaRepos } from './mfa';
import type { DpopReplayRepo } from '../token/dpop-replay';
import type { AbuseRepo } from '../abuse/ports';
import type { QuotaCounterStore } from '../token/m2m/quota';
import type { TokenUsageRepo } from '../token/m2m/usage';
import type { LogRepo } from '../logs/ports';
import type { LogStreamRepo } from '../logs/streams';

export interface Page<T> { items: T[]; total: number }
export interface CheckpointPage<T> { items: T[]; next?: string }

export interface OffsetWindow { offset: number; limit?: number }
export interface UserListQuery extends OffsetWindow { connection?: string; query?: UserQuery; sort?: UserSort }

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
  /** The client with every credential it has (`credentials`); list() leaves credentials out. */
  findById(clientId: string): Promise<Client | undefined>;
  list(q: ClientQuery): Promise<Page<Client>>;
  /** Client credentials live in their own rows; replace() of the client leaves them alone. */
  insertCredential(clientId: string, c: ClientCredential): Promise<void>;
  replaceCredential(clientId: string, c: ClientCredential): Promise<void>;
  deleteCredential(clientId: string, credentialId: string): Promise<boolean>;
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
  /** Deletes the key and returns its value, atomically: of concurrent takers of one key, one gets the value. */
  take(key: string): Promise<string | undefined>;
}

// ---------- users, roles, permissions, organizations ----------

export interface UserRepo {
  insert(u: User): Promise<void>;
  replace(u: User): Promise<void>;
  delete(userId: string): Promise<boolean>;
  findById(userId: string): Promise<User | undefined>;
  findByEmail(connection: string, email: string): Promise<User | undefined>;
  findByUsername(connection: string, username: string): Promise<User | undefined>;
  /** Every user with this (lower-case) address, whatever the connection. */
  listByEmail(email: string): Promise<User[]>;
  /** Which of these ids exist. */
  existing(userIds: string[]): Promise<string[]>;
  list(q: UserListQuery): Promise<Page<User>>;
  /** One more successful login (atomic increment), at `at` (ISO 8601) from `ip`. */
  recordLogin(userId: string, at: string, ip: string | undefined): Promise<void>;
}

export interface RoleQuery extends OffsetWindow { nameFilter?: string; type?: 'tenant' | 'organization'; ownerId?: string }

export interface RoleRepo {
  insert(r: Role): Promise<void>;
  replace(r: Role): Promise<void>;
  delete(id: string): Promise<boolean>;
  findById(id: string): Promise<Role | undefined>;
  existing(ids: string[]): Promise<string[]>;
  list(q: RoleQuery): Promise<Page<Role>>;
  addUsers(roleId: string, userIds: string[]): Promise<void>;
  removeUsers(roleId: string, userIds: string[]): Promise<void>;
  users(roleId: string, w: OffsetWindow): Promise<Page<User>>;
  usersFrom(roleId: string, from: string | undefined, take: number): Promise<CheckpointPage<User>>;
  rolesOfUser(userId: string, w: OffsetWindow): Promise<Page<Role>>;
}

export type PermissionHolder = { roleId: string } | { userId: string };

/** How a user holds one permission: directly (no role), through a role, or through a member role of an organization. */
export interface PermissionSourceRow { permission_name: string; role_id?: string; role_name?: string; organization_id?: string }

/** Role permissions and direct user permissions (scopes of an API, referenced by identifier). */
export interface PermissionRepo {
  add(holder: PermissionHolder, perms: PermissionRef[]): Promise<void>;
  remove(holder: PermissionHolder, perms: PermissionRef[]): Promise<void>;
  list(holder: PermissionHolder, w: OffsetWindow): Promise<Page<PermissionView>>;
  /** Direct permissions plus those of the user's roles, with the role that brought each one. */
  ofUser(userId: string): Promise<Array<PermissionView & { roleId?: string; roleName?: string }>>;
  /** Permission names a user holds on one API: direct ∪ roles (∪ the user's member roles in `organizationId`). */
  effective(userId: string, audience: string, organizationId?: string): Promise<string[]>;
  /** The same permissions, one row per way the user holds each: direct, a role, or a member role in `organizationId`. */
  sources(userId: string, audience: string, organizationId?: string): Promise<PermissionSourceRow[]>;
  /** Drops role and user permissions of an API for scopes it no longer defines. */
  pruneScopes(audience: string, keep: string[]): Promise<void>;
}

export interface OrganizationRepo {
  insert(o: Organization): Promise<void>;
  replace(o: Organization): Promise<void>;
  delete(id: string): Promise<boolean>;
  findById(id: string): Promise<Organization | undefined>;
  findByName(name: string): Promise<Organization | undefined>;
  list(w: OffsetWindow): Promise<Page<Organization>>;
  listFrom(from: string | undefined, take: number): Promise<CheckpointPage<Organization>>;
  addMembers(orgId: string, userIds: string[]): Promise<void>;
  removeMembers(orgId: string, userIds: string[]): Promise<void>;
  isMember(orgId: string, userId: string): Promise<boolean>;
  members(orgId: string, w: OffsetWindow): Promise<Page<User>>;
  membersFrom(orgId: string, from: string | undefined, take: number): Promise<CheckpointPage<User>>;
  addMemberRoles(orgId: string, userId: string, roleIds: string[]): Promise<void>;
  removeMemberRoles(orgId: string, userId: string, roleIds: string[]): Promise<void>;
  memberRoles(orgId: string, userId: string, w: OffsetWindow): Promise<Page<Role>>;
  /** Each listed member's roles in the organization (id and name, in role creation order); members without any are absent. */
  memberRolesOf(orgId: string, userIds: string[]): Promise<Map<string, Array<{ id: string; name: string }>>>;
  addClientGrant(orgId: string, grantId: string): Promise<void>;
  removeClientGrant(orgId: string, grantId: string): Promise<boolean>;
  hasClientGrant(orgId: string, grantId: string): Promise<boolean>;
  clientGrants(orgId: string, w: OffsetWindow & { audience?: string; clientId?: string }): Promise<Page<ClientGrant>>;
  ofClientGrant(grantId: string, w: OffsetWindow): Promise<Page<Organization>>;
  ofClientGrantFrom(grantId: string, from: string | undefined, take: number): Promise<CheckpointPage<Organization>>;
}

export * from './user-flows';
export * from './mfa';

export interface Repos extends UserFlowRepos, MfaRepos {
  resourceServers: ResourceServerRepo;
  clients: ClientRepo;
  clientGrants: ClientGrantRepo;
  signingKeys: SigningKeyRepo;
  meta: MetaRepo;
  users: UserRepo;
  roles: RoleRepo;
  permissions: PermissionRepo;
  organizations: OrganizationRepo;
  /** RFC 9449 proof `jti`s seen by any instance (the shared replay cache). */
  dpopProofs: DpopReplayRepo;
  /** Brute-force blocks, failure counters and shared rate-limit windows. */
  abuse: AbuseRepo;
  /** Token quota windows (fixed hourly and daily windows, counted atomically across instances). */
  tokenQuotas: QuotaCounterStore;
  /** Hourly client_credentials usage per client, organization and audience. */
  tokenUsage: TokenUsageRepo;
  /** Tenant log events (written in batches, outside transactions). */
  logs: LogRepo;
  /** Log streams and their delivery state. */
  logStreams: LogStreamRepo;
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
  /**
   * Push notification of committed writes from every process on the database (PostgreSQL LISTEN/NOTIFY). Absent
   * where the store cannot push (SQLite): the change feed then polls `generation()`.
   */
  listen?(events: ChangeEvents): Promise<ChangeSubscription>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** What a store's push channel reports. */
export interface ChangeEvents {
  /** A write committed (here or in another process); `generation` is the store's generation after it. */
  changed(generation: number): void;
  /** The channel is connected and listening (`true`), or lost its connection and reconnects (`false`): changes may be missed while down. */
  state(up: boolean): void;
}

export interface ChangeSubscription { close(): Promise<void> }

export interface Clock { now(): number /* ms since epoch */ }
export const systemClock: Clock = { now: () => Date.now() };
