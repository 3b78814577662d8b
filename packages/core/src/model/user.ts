/** The only database connection Tessera has; users are created and authenticated against it. */
export const DATABASE_CONNECTION = 'Username-Password-Authentication';

/**
 * Whether a login (the hosted login page, the password grants, password-realm's `realm`) may name this connection:
 * only the database connection, which every client may use. Any other name finds no user.
 */
export const acceptsLogins = (connection: string): boolean => connection === DATABASE_CONNECTION;

export type Metadata = Record<string, unknown>;

/**
 * A database user. Optional keys are absent until set; `password_hash` is internal and never leaves the
 * domain (see `userView`).
 */
export interface User {
  user_id: string;
  connection: string;
  email: string;
  /** Lower case, unique per connection. */
  username?: string;
  email_verified: boolean;
  name: string;
  nickname: string;
  picture: string;
  given_name?: string;
  family_name?: string;
  app_metadata?: Metadata;
  user_metadata?: Metadata;
  blocked?: boolean;
  created_at: string;
  updated_at: string;
  /** Successful logins (absent until the first); kept by the store, never written through a profile update. */
  logins_count?: number;
  last_login?: string;
  last_ip?: string;
  password_hash?: string;
}

export interface UserCreate {
  connection: string;
  email?: string;
  password?: string;
  user_id?: string;
  username?: string;
  email_verified?: boolean;
  verify_email?: boolean;
  name?: string;
  nickname?: string;
  given_name?: string;
  family_name?: string;
  picture?: string;
  app_metadata?: Metadata;
  user_metadata?: Metadata;
  blocked?: boolean;
}

export interface UserPatch {
  connection?: string;
  email?: string;
  username?: string;
  password?: string;
  email_verified?: boolean;
  verify_email?: boolean;
  name?: string;
  nickname?: string;
  given_name?: string | null;
  family_name?: string | null;
  picture?: string;
  app_metadata?: Metadata | null;
  user_metadata?: Metadata | null;
  blocked?: boolean;
}

export interface UserIdentity { connection: string; user_id: string; provider: 'auth0'; isSocial: false }

/** The wire view: Auth0's shape with `identities`, never the password hash. */
export type UserView = Omit<User, 'password_hash' | 'connection'> & { identities: UserIdentity[] };

export function userView(u: User): UserView {
  const { password_hash: _hash, connection, ...rest } = u;
  return { ...rest, identities: [{ connection, user_id: u.user_id.slice(u.user_id.indexOf('|') + 1), provider: 'auth0', isSocial: false }] };
}

/** Short form used in role and organization member listings. */
export interface UserSummary { user_id: string; email: string; picture: string; name: string }
export const userSummary = (u: User): UserSummary => ({ user_id: u.user_id, email: u.email, picture: u.picture, name: u.name });
