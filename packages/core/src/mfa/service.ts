import { randomInt, timingSafeEqual } from 'node:crypto';
import { randomAlnum, randomBase64Url } from '../crypto/random';
import { secretDigest } from '../crypto/compare';
import { AccessDenied, InvalidGrant, OAuthError, TooManyAttempts } from '../errors';
import type { User } from '../model';
import type { AuthenticatorRecord, Clock, MfaPending, MfaTokenRecord, Store } from '../ports';
import { hashSecret } from '../token/refresh-tokens';
import { matchingStep, newTotpSecret, totpUri } from './totp';

/** Wrong codes (TOTP or recovery) in a row before the user's second factor locks. */
export const MFA_MAX_FAILURES = 5;
/** How long the lock lasts. */
export const MFA_LOCK_MS = 15 * 60_000;
/** Auth0's mfa_token lifetime (10 minutes). */
export const MFA_TOKEN_LIFETIME_MS = 10 * 60_000;

export type MfaState = 'none' | 'pending' | 'enrolled';
export type CodeVerdict = { ok: true; recoveryCode?: string } | { ok: false; reason: 'invalid' | 'locked' | 'not_enrolled'; retryAfter?: number };

const RECOVERY_ALPHABET = /^[A-Z0-9]{24}$/;
/** Auth0's recovery codes: 24 upper-case letters and digits. */
const RECOVERY_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const newRecoveryCode = () => Array.from({ length: 24 }, () => RECOVERY_CHARS[randomInt(RECOVERY_CHARS.length)]).join('');
const normaliseRecovery = (code: string) => code.toUpperCase().replace(/[\s-]/g, '');
const recoveryHash = (code: string) => secretDigest(code).toString('hex');

/**
 * The second factor: TOTP enrollment (pending until a first code proves possession), code checks that cannot be
 * replayed (the used time step is claimed in storage, atomically), one recovery code that is replaced whenever it
 * is used, a per-user lock after MFA_MAX_FAILURES wrong codes, and Auth0's mfa_tokens.
 */
export class MfaService {
  constructor(private readonly deps: { store: Store; clock: Clock; issuerName: string }) {}

  authenticators(userId: string): Promise<AuthenticatorRecord[]> {
    return this.deps.store.authenticators.listForUser(userId);
  }

  /** `enrolled`: a confirmed TOTP (challenge at login); `pending`: enrollment started, not confirmed; `none`. */
  async state(userId: string): Promise<MfaState> {
    const totp = (await this.authenticators(userId)).find((a) => a.type === 'totp');
    return !totp ? 'none' : totp.confirmed ? 'enrolled' : 'pending';
  }

  /**
   * Starts (or, with `reuse`, shows again) a TOTP enrollment. Refused when a confirmed TOTP exists. With
   * `recovery`, a new unconfirmed recovery code is created and returned (Auth0's /mfa/associate returns it).
   */
  async beginEnrollment(user: User, o: { reuse: boolean; recovery: boolean }): Promise<{ authenticatorId: string; secret: string; uri: string; recoveryCode?: string }> {
    const { store, clock } = this.deps;
    const existing = (await this.authenticators(user.user_id)).find((a) => a.type === 'totp');
    if (existing?.confirmed) throw new AccessDenied('User is already enrolled.');
    let totp = existing;
    let recoveryCode: string | undefined;
    const secret = !totp || !o.reuse ? await newTotpSecret() : undefined; // outside the transaction (loads otpauth once)
    await store.write(async (tx) => {
      if (secret !== undefined) {
        await tx.authenticators.deleteForUser(user.user_id);
        totp = { id: `totp|dev_${randomAlnum(16)}`, userId: user.user_id, type: 'totp', secret, confirmed: false, createdAt: clock.now() };
        await tx.authenticators.insert(totp);
      }
      if (o.recovery) {
        await tx.authenticators.deleteForUser(user.user_id, 'recovery-code');
        recoveryCode = newRecoveryCode();
        await tx.authenticators.insert({ id: `recovery-code|dev_${randomAlnum(16)}`, userId: user.user_id, type: 'recovery-code', secret: recoveryHash(recoveryCode), confirmed: false, createdAt: clock.now() });
      }
    });
    const t = totp as AuthenticatorRecord;
    return { authenticatorId: t.id, secret: t.secret, uri: await totpUri(t.secret, this.deps.issuerName, user.email), recoveryCode };
  }

  /**
   * Checks a TOTP code. A pending enrollment is confirmed by its first good code; if the user then has no recovery
   * code, one is created and returned (shown once).
   */
  async verifyOtp(userId: string, code: string): Promise<CodeVerdict> {
    const { store, clock } = this.deps;
    const locked = await this.locked(userId);
    if (locked) return locked;
    const all = await this.authenticators(userId);
    const totp = all.find((a) => a.type === 'totp');
    if (!totp) return { ok: false, reason: 'not_enrolled' };
    const step = await matchingStep(totp.secret, code.trim(), clock.now());
    if (step === undefined || !(await store.authenticators.claimStep(totp.id, step, clock.now()))) return this.fail(userId);
    await store.mfaFailures.reset(userId);
    if (totp.confirmed) return { ok: true };
    let recoveryCode: string | undefined;
    await store.write(async (tx) => {
      await tx.authenticators.confirmAll(userId);
      if (!all.some((a) => a.type === 'recovery-code')) {
        recoveryCode = newRecoveryCode();
        await tx.authenticators.insert({ id: `recovery-code|dev_${randomAlnum(16)}`, userId, type: 'recovery-code', secret: recoveryHash(recoveryCode), confirmed: true, createdAt: clock.now() });
      }
    });
    return { ok: true, recoveryCode };
  }

  /**
   * Enrolls a user without any authenticator in one step: the secret was shown on the enrollment page (sealed in
   * the transaction, not stored), and a first good code stores it confirmed, with a new recovery code (returned).
   */
  async enrollWithCode(user: User, secret: string, code: string): Promise<CodeVerdict> {
    const { store, clock } = this.deps;
    const locked = await this.locked(user.user_id);
    if (locked) return locked;
    if ((await this.state(user.user_id)) !== 'none') return { ok: false, reason: 'invalid' };
    const step = await matchingStep(secret, code.trim(), clock.now());
    if (step === undefined) return this.fail(user.user_id);
    const recoveryCode = newRecoveryCode();
    const id = `totp|dev_${randomAlnum(16)}`;
    await store.write(async (tx) => {
      await tx.authenticators.insert({ id, userId: user.user_id, type: 'totp', secret, confirmed: true, createdAt: clock.now() });
      await tx.authenticators.claimStep(id, step, clock.now());
      await tx.authenticators.insert({ id: `recovery-code|dev_${randomAlnum(16)}`, userId: user.user_id, type: 'recovery-code', secret: recoveryHash(recoveryCode), confirmed: true, createdAt: clock.now() });
    });
    await store.mfaFailures.reset(user.user_id);
    return { ok: true, recoveryCode };
  }

  /** Checks the recovery code (constant-time), spends it, and returns its replacement (shown once). */
  async verifyRecovery(userId: string, code: string): Promise<CodeVerdict> {
    const { store, clock } = this.deps;
    const locked = await this.locked(userId);
    if (locked) return locked;
    const all = await this.authenticators(userId);
    const rc = all.find((a) => a.type === 'recovery-code' && a.confirmed);
    if (!rc || !all.some((a) => a.type === 'totp' && a.confirmed)) return { ok: false, reason: 'not_enrolled' };
    const given = normaliseRecovery(code);
    const expected = Buffer.from(rc.secret, 'hex');
    const presented = secretDigest(given);
    const matches = RECOVERY_ALPHABET.test(given) && presented.length === expected.length && timingSafeEqual(presented, expected);
    if (!matches || !(await store.authenticators.consume(rc.id))) return this.fail(userId);
    await store.mfaFailures.reset(userId);
    const recoveryCode = newRecoveryCode();
    await store.authenticators.insert({ id: `recovery-code|dev_${randomAlnum(16)}`, userId, type: 'recovery-code', secret: recoveryHash(recoveryCode), confirmed: true, createdAt: clock.now() });
    return { ok: true, recoveryCode };
  }

  /** Removes one authenticator; removing the TOTP also removes the recovery code (it would guard nothing). */
  async remove(userId: string, id: string): Promise<boolean> {
    return this.deps.store.write(async (tx) => {
      const gone = await tx.authenticators.delete(userId, id);
      if (gone && id.startsWith('totp|')) await tx.authenticators.deleteForUser(userId, 'recovery-code');
      return gone;
    });
  }

  removeAll(userId: string): Promise<number> {
    return this.deps.store.write((tx) => tx.authenticators.deleteForUser(userId));
  }

  // ---------- mfa_token (Auth0's MFA API) ----------

  async issueToken(clientId: string, userId: string, pending: MfaPending): Promise<string> {
    const token = randomBase64Url(32);
    const now = this.deps.clock.now();
    await this.deps.store.mfaTokens.insert({ tokenHash: hashSecret(token), clientId, userId, pending, expiresAt: now + MFA_TOKEN_LIFETIME_MS });
    this.deps.store.mfaTokens.deleteExpired(now - MFA_TOKEN_LIFETIME_MS).catch(() => undefined);
    return token;
  }

  /** The live mfa_token of this client; refused when unknown, another client's, expired or already used. */
  async resolveToken(token: string | undefined, clientId: string | undefined): Promise<MfaTokenRecord> {
    const rec = token ? await this.deps.store.mfaTokens.find(hashSecret(token)) : undefined;
    if (!rec || (clientId !== undefined && rec.clientId !== clientId)) throw new InvalidGrant('Malformed mfa_token', 'unknown mfa_token or other client');
    if (rec.expiresAt <= this.deps.clock.now()) throw new OAuthError('expired_token', 403, 'mfa_token is expired');
    if (rec.consumedAt !== undefined) throw new InvalidGrant('mfa_token has already been used');
    return rec;
  }

  /** Spends the mfa_token (once; a concurrent second use loses). */
  async spendToken(rec: MfaTokenRecord): Promise<void> {
    if (!(await this.deps.store.mfaTokens.consume(rec.tokenHash, this.deps.clock.now()))) throw new InvalidGrant('mfa_token has already been used');
  }

  // ---------- failures ----------

  private async locked(userId: string): Promise<CodeVerdict | undefined> {
    const until = await this.deps.store.mfaFailures.lockedUntil(userId);
    const now = this.deps.clock.now();
    return until !== undefined && until > now ? { ok: false, reason: 'locked', retryAfter: Math.ceil((until - now) / 1000) } : undefined;
  }

  private async fail(userId: string): Promise<CodeVerdict> {
    const now = this.deps.clock.now();
    const r = await this.deps.store.mfaFailures.recordFailure(userId, now, MFA_MAX_FAILURES, MFA_LOCK_MS);
    if (r.lockedUntil !== undefined && r.lockedUntil > now) return { ok: false, reason: 'locked', retryAfter: Math.ceil((r.lockedUntil - now) / 1000) };
    return { ok: false, reason: 'invalid' };
  }
}

/** The OAuth error for a refused code at the token endpoint and the MFA API. */
export function codeRefusal(v: Extract<CodeVerdict, { ok: false }>, what: 'otp_code' | 'recovery_code'): OAuthError {
  if (v.reason === 'locked') return new TooManyAttempts(v.retryAfter ?? 1);
  if (v.reason === 'not_enrolled') return new InvalidGrant('User is not enrolled.');
  return new InvalidGrant(`Invalid ${what}.`);
}
