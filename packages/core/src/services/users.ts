import { createHash, randomBytes } from 'node:crypto';
import { BadRequest, Conflict, NotFound, UniqueViolation } from '../errors';
import { randomHex } from '../crypto/random';
import { PasswordHasher } from '../crypto/password';
import {
  acceptsLogins, DATABASE_CONNECTION, parseUserQuery, parseUserSort, SEARCH_RESULT_LIMIT, usernameRules, type Metadata, type User, type UserCreate, type UserPatch,
} from '../model';
import type { Clock, OffsetWindow, Page, Repos, Store, UserListQuery } from '../ports';
import type { ChangeFeed } from './changes';
import { databaseSettings } from './connection-settings';

export const USER_NOT_FOUND = () => new NotFound('The user does not exist.', 'inexistent_user');
const NO_CONNECTION = () => new BadRequest('The connection does not exist.', 'inexistent_connection');
const EMAIL = /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)*$/;
/** Auth0's username characters (after lower-casing); an email address is not a username. */
const USERNAME = /^[a-z0-9_+\-.!#$'^`~@]+$/;
const EMAIL_SHAPED = /^[^@]+@[^@]+\.[^@]+$/;
const USERNAME_CHARACTERS = "Username can only contain alphanumeric characters and: '_', '+', '-', '.', '!', '#', '$', ''', '^', '`', '~' and '@'.";
const USERNAME_TAKEN = 'The username provided is in use already.';

/** What `GET /users` may ask: Auth0's `q` (Lucene subset), `sort` and `search_engine`. */
export interface UserSearch extends OffsetWindow { connection?: string; q?: string; sort?: string; searchEngine?: string }

/**
 * Database users of the "Username-Password-Authentication" connection. Passwords are kept only as
 * scrypt hashes; `verifyPassword` is what the login flows use.
 */
export class UserService {
  private decoy?: Promise<string>;
  private readonly passwords: PasswordHasher;

  /** `passwords`: where hashes are computed (default: the libuv pool; the server passes its own worker pool). */
  constructor(private readonly deps: { store: Store; changes: ChangeFeed; clock: Clock; passwords?: PasswordHasher }) {
    this.passwords = deps.passwords ?? new PasswordHasher();
  }

  /** Lists or searches users. `q` and `sort` are parsed here (400 for anything outside the subset). */
  async list(s: UserSearch): Promise<Page<User>> {
    if (s.searchEngine !== undefined && s.searchEngine !== 'v3') {
      throw new BadRequest(`You are not allowed to use search_engine=${s.searchEngine}. Use search_engine=v3 instead.`, 'invalid_query_string');
    }
    const q: UserListQuery = { offset: s.offset, limit: s.limit, connection: s.connection };
    const text = s.q?.trim();
    if (text) {
      q.query = parseUserQuery(text);
      // Auth0 answers at most the first 1000 results of a search
      if (s.offset + (s.limit ?? 0) > SEARCH_RESULT_LIMIT) {
        throw new BadRequest(`You can only page through the first ${SEARCH_RESULT_LIMIT} records. See https://auth0.com/docs/users/search/v3/view-search-results-by-page#limitation`, 'invalid_query_string');
      }
      if (s.limit === undefined) q.limit = SEARCH_RESULT_LIMIT;
    }
    if (s.sort) q.sort = parseUserSort(s.sort);
    return this.deps.store.users.list(q);
  }

  /** Every user with this address (Auth0's users-by-email: exact, case-insensitive). */
  byEmail(email: string): Promise<User[]> { return this.deps.store.users.listByEmail(email.trim().toLowerCase()); }

  async get(userId: string): Promise<User> {
    const u = await this.deps.store.users.findById(userId);
    if (!u) throw USER_NOT_FOUND();
    return u;
  }

  async create(input: UserCreate): Promise<User> {
    if (input.connection !== DATABASE_CONNECTION) throw NO_CONNECTION();
    if (input.email === undefined) throw new BadRequest("Payload validation error: 'Missing required property: email'.");
    if (input.password === undefined) throw new BadRequest("Payload validation error: 'Missing required property: password'.");
    const email = checkEmail(input.email);
    const rules = usernameRules(await databaseSettings(this.deps.store.meta));
    if (rules.required && input.username === undefined) throw new BadRequest("Payload validation error: 'Missing required property: username'.");
    const username = input.username === undefined ? undefined : checkUsername(input.username, rules);
    checkStrength(input.password);
    const now = new Date(this.deps.clock.now()).toISOString();
    const user: User = {
      user_id: `auth0|${ownId(input.user_id) ?? randomHex(12)}`,
      connection: DATABASE_CONNECTION,
      email,
      username,
      email_verified: input.email_verified ?? false,
      name: input.name ?? email,
      nickname: input.nickname ?? email.slice(0, email.indexOf('@')),
      picture: input.picture ?? gravatar(email),
      created_at: now,
      updated_at: now,
      password_hash: await this.passwords.hash(input.password),
    };
    if (input.given_name !== undefined) user.given_name = input.given_name;
    if (input.family_name !== undefined) user.family_name = input.family_name;
    if (input.blocked !== undefined) user.blocked = input.blocked;
    user.app_metadata = mergeMetadata(undefined, input.app_metadata);
    user.user_metadata = mergeMetadata(undefined, input.user_metadata);
    stripUndefined(user);
    try {
      await this.deps.store.write((tx) => tx.users.insert(user));
    } catch (e) {
      if (e instanceof UniqueViolation) throw new Conflict(isUsername(e) ? USERNAME_TAKEN : 'The user already exists.', 'auth0_idp_error', e);
      throw e;
    }
    this.deps.changes.notify();
    return user;
  }

  async update(userId: string, patch: UserPatch): Promise<User> {
    const current = await this.get(userId);
    if (patch.connection !== undefined && patch.connection !== current.connection) throw NO_CONNECTION();
    if (patch.email !== undefined && patch.password !== undefined) throw new BadRequest('Cannot update password and email simultaneously', 'invalid_body');
    const next: User = structuredClone(current);
    if (patch.email !== undefined) {
      const email = checkEmail(patch.email);
      if (email !== current.email) next.email_verified = false; // a new address is unverified unless told otherwise
      next.email = email;
    }
    if (patch.username !== undefined) next.username = checkUsername(patch.username, usernameRules(await databaseSettings(this.deps.store.meta)));
    if (patch.password !== undefined) {
      checkStrength(patch.password);
      next.password_hash = await this.passwords.hash(patch.password);
    }
    for (const key of ['email_verified', 'name', 'nickname', 'picture', 'blocked', 'given_name', 'family_name'] as const) {
      const value = patch[key];
      if (value === undefined) continue;
      if (value === null) delete next[key as 'given_name'];
      else (next as unknown as Record<string, unknown>)[key] = value;
    }
    if (patch.app_metadata !== undefined) next.app_metadata = mergeMetadata(current.app_metadata, patch.app_metadata);
    if (patch.user_metadata !== undefined) next.user_metadata = mergeMetadata(current.user_metadata, patch.user_metadata);
    next.updated_at = new Date(this.deps.clock.now()).toISOString();
    stripUndefined(next);
    const endSessions = patch.password !== undefined || patch.blocked === true;
    try {
      await this.deps.store.write(async (tx) => {
        await tx.users.replace(next);
        if (endSessions) await endUserSessions(tx, userId, this.deps.clock.now());
        // Auth0: a password change lifts the user's brute-force blocks
        if (patch.password !== undefined) await tx.abuse.unblock(current.username ? [current.email, current.username] : [current.email]);
      });
    } catch (e) {
      if (e instanceof UniqueViolation) throw new Conflict(isUsername(e) ? USERNAME_TAKEN : 'The specified new email already exists', 'auth0_idp_error', e);
      throw e;
    }
    this.deps.changes.notify();
    return next;
  }

  /** Removes the user and, by cascade, their roles, permissions and organization memberships. */
  async delete(userId: string): Promise<void> {
    const deleted = await this.deps.store.write((tx) => tx.users.delete(userId));
    if (!deleted) throw USER_NOT_FOUND();
    this.deps.changes.notify();
  }

  /** The account a login identifier names: an email address or, for users that have one, their username. */
  async findLogin(connection: string, identifier: string): Promise<User | undefined> {
    const id = identifier.trim().toLowerCase();
    const users = this.deps.store.users;
    let user: User | undefined;
    if (acceptsLogins(connection) && id.length > 0) {
      if (id.includes('@')) user = await users.findByEmail(connection, id);
      if (!user && !EMAIL_SHAPED.test(id)) user = await users.findByUsername(connection, id);
    }
    return user;
  }

  /**
   * The user whose password matches, or undefined (unknown connection, unknown email or username, wrong
   * password); an unknown identifier costs one scrypt too, so timing does not reveal which accounts exist.
   * The identifier is an email address or, for users that have one, their username.
   */
  async verifyPassword(connection: string, identifier: string, password: string): Promise<User | undefined> {
    const user = await this.findLogin(connection, identifier);
    if (!user?.password_hash) {
      if (!this.decoy) {
        const decoy = this.passwords.hash(randomBytes(16).toString('hex'));
        decoy.catch(() => { if (this.decoy === decoy) this.decoy = undefined; }); // a shed decoy is made again next time
        this.decoy = decoy;
      }
      await this.passwords.verify(password, await this.decoy);
      return undefined;
    }
    return (await this.passwords.verify(password, user.password_hash)) ? user : undefined;
  }
}

/**
 * A new password or a block ends what the user already holds: login sessions, refresh tokens (revoked, so
 * unblocking does not bring them back) and authorization codes not exchanged yet. Deleting a user removes
 * the same rows by cascade.
 */
async function endUserSessions(tx: Repos, userId: string, now: number): Promise<void> {
  await tx.sessions.deleteForUser(userId);
  await tx.refreshTokens.revokeForUser(userId, now);
  await tx.authorizationCodes.deleteUnusedForUser(userId);
}

/** A caller-chosen id: bare, or with Tessera's only provider prefix (`auth0|`), which is not doubled. */
function ownId(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const bare = raw.startsWith('auth0|') ? raw.slice('auth0|'.length) : raw;
  if (bare.length === 0 || bare.includes('|')) {
    throw new BadRequest(`Payload validation error: 'user_id must be the id without a provider prefix, or start with auth0| (the only provider of this connection): ${raw}' on property user_id (The user_id of the user to create.).`, 'invalid_body');
  }
  return bare;
}

const USERNAME_PROPERTY = "on property username (The user's username. Only valid if the connection requires a username.)";

/** Auth0's username rules, with the length limits of the connection's `validation.username`. */
function checkUsername(raw: string, length: { min: number; max: number }): string {
  const username = raw.toLowerCase();
  if (username.length > length.max) throw new BadRequest(`Payload validation error: 'String is too long (${username.length} chars), maximum ${length.max}' ${USERNAME_PROPERTY}.`, 'invalid_body');
  if (username.length < length.min) throw new BadRequest(`Payload validation error: 'String is too short (${username.length} chars), minimum ${length.min}' ${USERNAME_PROPERTY}.`, 'invalid_body');
  if (!USERNAME.test(username)) throw new BadRequest(USERNAME_CHARACTERS, 'invalid_body');
  if (EMAIL_SHAPED.test(username)) throw new BadRequest('Username cannot be an email address.', 'invalid_body');
  return username;
}

const isUsername = (e: UniqueViolation) => e.constraint.includes('username');

function checkEmail(raw: string): string {
  const email = raw.trim().toLowerCase();
  if (!EMAIL.test(email)) throw new BadRequest(`Payload validation error: 'Object didn't pass validation for format email: ${raw}' on property email (The user's email).`);
  return email;
}

/**
 * Auth0's default policy for new database connections ("good"): at least 8 characters from at least
 * three of: lower case, upper case, digits, other characters.
 */
function checkStrength(password: string): void {
  const classes = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^a-zA-Z0-9]/].filter((re) => re.test(password)).length;
  if (password.length < 8 || classes < 3) throw new BadRequest('PasswordStrengthError: Password is too weak', 'invalid_body');
}

/** Top-level merge; a key set to null is removed; `{}` or null clears everything. Empty → absent. */
function mergeMetadata(current: Metadata | undefined, patch: Metadata | null | undefined): Metadata | undefined {
  if (patch === undefined) return current;
  if (patch === null || Object.keys(patch).length === 0) return undefined;
  const next: Metadata = { ...current };
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete next[k];
    else next[k] = v;
  }
  return Object.keys(next).length > 0 ? next : undefined;
}

function stripUndefined(u: User): void {
  for (const k of Object.keys(u) as Array<keyof User>) if (u[k] === undefined) delete u[k];
}

function gravatar(email: string): string {
  const hash = createHash('md5').update(email).digest('hex');
  const initials = email.replace(/[^a-z0-9]/g, '').slice(0, 2) || 'u';
  return `https://s.gravatar.com/avatar/${hash}?s=480&r=pg&d=https%3A%2F%2Fcdn.auth0.com%2Favatars%2F${initials}.png`;
}
