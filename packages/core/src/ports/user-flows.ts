import type { AuthorizationDetail } from '../authorize/authorization-details';

/**
 * Storage for the user-facing flows: authorization codes, refresh tokens, login sessions and remembered
 * consent. Secrets (codes, refresh tokens, session ids) are stored only as SHA-256 hashes. Times are
 * milliseconds since the epoch.
 */

/** What an authorization code stands for; everything the token endpoint needs to mint the tokens. */
export interface CodeGrant {
  clientId: string;
  userId: string;
  redirectUri: string;
  /** Whether redirect_uri was sent at /authorize (then it must be repeated at the token endpoint). */
  redirectUriGiven: boolean;
  audience?: string;
  scopes: string[];
  nonce?: string;
  authTime: number;
  orgId?: string;
  sessionId?: string;
  /** Authentication methods references (`["mfa"]` after a second factor), for the tokens minted from the code. */
  amr?: string[];
  codeChallenge?: string;
  codeChallengeMethod?: 'S256' | 'plain';
  /** RFC 9449 §10: the exchange needs a DPoP proof from the key with this thumbprint. */
  dpopJkt?: string;
  /** RFC 9396: the authorization details the user approved. */
  authorizationDetails?: AuthorizationDetail[];
}

export interface AuthorizationCodeRecord {
  codeHash: string;
  grant: CodeGrant;
  expiresAt: number;
  consumedAt?: number;
  /** The refresh-token family minted from this code (revoked if the code is replayed). */
  familyId?: string;
}

export interface AuthorizationCodeRepo {
  insert(r: AuthorizationCodeRecord): Promise<void>;
  find(codeHash: string): Promise<AuthorizationCodeRecord | undefined>;
  /** Marks the code used; false when it was already used (single use, race-free). */
  consume(codeHash: string, at: number): Promise<boolean>;
  setFamily(codeHash: string, familyId: string): Promise<void>;
  /** Deletes the user's codes not exchanged yet (their credentials changed or they were blocked). */
  deleteUnusedForUser(userId: string): Promise<void>;
  deleteExpired(before: number): Promise<void>;
}

/** What a refresh token stands for. */
export interface RefreshGrant {
  clientId: string;
  userId: string;
  audience?: string;
  scopes: string[];
  authTime: number;
  orgId?: string;
  /** `["mfa"]` when the family started after a second factor; refreshed tokens carry it on. */
  amr?: string[];
  /** Grant type that started the family (for gty on the first token only; refreshes say refresh_token). */
  origin: string;
  /** RFC 9396 §6.2: the authorization details granted with the code; a refresh may narrow them, never widen. */
  authorizationDetails?: AuthorizationDetail[];
}

export interface RefreshTokenRecord {
  id: string;
  tokenHash: string;
  familyId: string;
  grant: RefreshGrant;
  createdAt: number;
  /** Absolute end of the family (undefined: never). */
  expiresAt?: number;
  /** End of inactivity window (undefined: never). */
  idleExpiresAt?: number;
  /** When it was exchanged under rotation. */
  usedAt?: number;
  /** RFC 9449 §5: thumbprint of the DPoP key a public client's refresh token is bound to. */
  jkt?: string;
  /** RFC 8705 §4: x5t#S256 of the client certificate a public client's refresh token is bound to. */
  x5t?: string;
  revokedAt?: number;
}

export interface RefreshTokenRepo {
  insert(r: RefreshTokenRecord): Promise<void>;
  findByHash(tokenHash: string): Promise<RefreshTokenRecord | undefined>;
  /** Marks a rotating token used; false when another request used it first. */
  markUsed(id: string, at: number): Promise<boolean>;
  touch(id: string, idleExpiresAt: number | undefined): Promise<void>;
  revokeFamily(familyId: string, at: number): Promise<void>;
  /** Revokes every family of a user and client (used when remembered consent is withdrawn). */
  revokeFor(userId: string, clientId: string, audience: string | undefined, at: number): Promise<void>;
  /** Revokes every refresh token of a user, for every client (password changed, user blocked). */
  revokeForUser(userId: string, at: number): Promise<void>;
  /** The user's tokens not revoked (every token of each family, spent ones too), oldest first. */
  unrevokedOfUser(userId: string): Promise<RefreshTokenRecord[]>;
  /** Every token of a family, oldest first. */
  family(familyId: string): Promise<RefreshTokenRecord[]>;
}

export interface SessionRecord {
  idHash: string;
  userId: string;
  authTime: number;
  createdAt: number;
  expiresAt: number;
  /** When the user last passed a second factor in this session (undefined: never). */
  mfaAt?: number;
}

export interface SessionRepo {
  insert(s: SessionRecord): Promise<void>;
  /** Records a second factor passed in this session. */
  markMfa(idHash: string, at: number): Promise<void>;
  find(idHash: string): Promise<SessionRecord | undefined>;
  delete(idHash: string): Promise<void>;
  /** Ends every login session of a user. */
  deleteForUser(userId: string): Promise<void>;
  /** The user's login sessions, expired ones included, oldest first. */
  ofUser(userId: string): Promise<SessionRecord[]>;
}

/** Remembered consent, as Auth0's Management API lists it under /api/v2/grants. */
export interface ConsentRecord {
  id: string;
  userId: string;
  clientId: string;
  audience: string;
  scopes: string[];
}

export interface ConsentQuery { userId?: string; clientId?: string; audience?: string; offset: number; limit?: number }

export interface ConsentRepo {
  /** Inserts or replaces the consent of (user, client, audience). */
  upsert(c: ConsentRecord): Promise<ConsentRecord>;
  find(userId: string, clientId: string, audience: string): Promise<ConsentRecord | undefined>;
  findById(id: string): Promise<ConsentRecord | undefined>;
  list(q: ConsentQuery): Promise<{ items: ConsentRecord[]; total: number }>;
  delete(id: string): Promise<boolean>;
  deleteForUser(userId: string): Promise<number>;
}

/**
 * Identifiers of client assertions already accepted (RFC 7523 §3 item 7), in the database so that every
 * instance and worker sees the same set. Keys are SHA-256 hashes of client id and `jti`; times in ms.
 */
export interface UsedAssertionRepo {
  /** Records `key` until `expiresAt`; false when it is recorded already and has not expired at `now`. */
  claim(key: string, expiresAt: number, now: number): Promise<boolean>;
  deleteExpired(before: number): Promise<void>;
}

/**
 * RFC 9126 pushed authorization requests, in the database so that the instance answering /authorize need not be
 * the one that took the push. The request_uri is stored as a SHA-256 hash; `data` is the sealed parameter set.
 */
export interface PushedRequestRecord { idHash: string; clientId: string; data: string; expiresAt: number }

export interface PushedRequestRepo {
  insert(r: PushedRequestRecord): Promise<void>;
  /** Removes and returns the client's request in one statement: a request_uri is used at most once. */
  take(idHash: string, clientId: string): Promise<PushedRequestRecord | undefined>;
  deleteExpired(before: number): Promise<void>;
}

export interface UserFlowRepos {
  authorizationCodes: AuthorizationCodeRepo;
  pushedRequests: PushedRequestRepo;
  usedAssertions: UsedAssertionRepo;
  refreshTokens: RefreshTokenRepo;
  sessions: SessionRepo;
  consents: ConsentRepo;
}
