/**
 * Storage for the second factor (TOTP, RFC 6238) and Auth0's MFA API. TOTP secrets are encrypted at rest by
 * the repository; recovery codes and mfa_tokens are stored only as SHA-256 hashes. Times are ms since the epoch.
 */

export type AuthenticatorType = 'totp' | 'recovery-code';

export interface AuthenticatorRecord {
  /** `totp|dev_…` or `recovery-code|dev_…` (Auth0's authentication-method ids). */
  id: string;
  userId: string;
  type: AuthenticatorType;
  /** TOTP: the base32 secret (plaintext in memory, sealed in storage). Recovery code: SHA-256 hex of the code. */
  secret: string;
  /** False until the user proved possession with a first code. */
  confirmed: boolean;
  createdAt: number;
  lastAuthAt?: number;
}

export interface AuthenticatorRepo {
  listForUser(userId: string): Promise<AuthenticatorRecord[]>;
  findById(id: string): Promise<AuthenticatorRecord | undefined>;
  insert(r: AuthenticatorRecord): Promise<void>;
  /** Marks every authenticator of the user confirmed (the TOTP and the recovery code enrolled with it). */
  confirmAll(userId: string): Promise<void>;
  /**
   * Records that a TOTP time step was used, in one statement: true only when the step is newer than every step
   * used before on this authenticator (a code is never accepted twice, on any instance).
   */
  claimStep(id: string, step: number, at: number): Promise<boolean>;
  /** Deletes one recovery code if it is still there (single use, race-free). */
  consume(id: string): Promise<boolean>;
  delete(userId: string, id: string): Promise<boolean>;
  /** Deletes the user's authenticators (all, or those of one type); returns how many. */
  deleteForUser(userId: string, type?: AuthenticatorType): Promise<number>;
}

/** What an mfa_token stands for: the token request that was interrupted by `mfa_required`. */
export interface MfaPending {
  audience?: string;
  /** The `scope` parameter as sent (undefined: none). */
  scope?: string;
  /** The grant type that asked (password, password-realm). */
  origin: string;
  /** When the first factor (the password) was checked. */
  authTime: number;
}

export interface MfaTokenRecord {
  tokenHash: string;
  clientId: string;
  userId: string;
  pending: MfaPending;
  expiresAt: number;
  consumedAt?: number;
}

export interface MfaTokenRepo {
  insert(r: MfaTokenRecord): Promise<void>;
  find(tokenHash: string): Promise<MfaTokenRecord | undefined>;
  /** Marks the token used; false when another request used it first. */
  consume(tokenHash: string, at: number): Promise<boolean>;
  deleteExpired(before: number): Promise<void>;
}

/** Failed second-factor codes per user, and the lock they lead to. */
export interface MfaFailureRepo {
  /** Adds one failure in one statement and returns the new count (and the lock, if any). */
  recordFailure(userId: string, now: number, lockAfter: number, lockMs: number): Promise<{ failures: number; lockedUntil?: number }>;
  lockedUntil(userId: string): Promise<number | undefined>;
  reset(userId: string): Promise<void>;
}

export interface MfaRepos {
  authenticators: AuthenticatorRepo;
  mfaTokens: MfaTokenRepo;
  mfaFailures: MfaFailureRepo;
}
