import type { Generated, Kysely } from 'kysely';
import type { Db } from '../db';

/** Tables of migration 0003_user_flows (times in ms since the epoch). */
export interface AuthorizationCodeRow { code_hash: string; client_id: string; user_id: string; data: string; expires_at: number; consumed_at: number | null; family_id: string | null }
export interface RefreshTokenRow {
  id: string; token_hash: string; family_id: string; client_id: string; user_id: string; audience: string | null; data: string;
  created_at: number; expires_at: number | null; idle_expires_at: number | null; used_at: number | null; revoked_at: number | null;
  dpop_jkt: string | null;
  mtls_x5t: string | null;
}
export interface DpopProofRow { key: string; expires_at: number }
export interface SessionRow { id_hash: string; user_id: string; auth_time: number; created_at: number; expires_at: number; mfa_at: number | null }
/** Tables of migration 0009_mfa. */
export interface MfaAuthenticatorRow { id: string; user_id: string; type: string; secret: string; confirmed: number; created_at: number; last_auth_at: number | null; last_step: number | null }
export interface MfaTokenRow { token_hash: string; client_id: string; user_id: string; data: string; expires_at: number; consumed_at: number | null }
export interface MfaFailureRow { user_id: string; failures: number; locked_until: number | null }
export interface PushedRequestRow { id_hash: string; client_id: string; data: string; expires_at: number }
export interface UsedAssertionRow { key_hash: string; expires_at: number }
export interface ConsentRow { seq: Generated<number>; id: string; user_id: string; client_id: string; audience: string; scopes: string; created_at: string; updated_at: string }

export interface FlowDatabase {
  authorization_codes: AuthorizationCodeRow;
  refresh_tokens: RefreshTokenRow;
  sessions: SessionRow;
  user_consents: ConsentRow;
  used_client_assertions: UsedAssertionRow;
  dpop_proofs: DpopProofRow;
  mfa_authenticators: MfaAuthenticatorRow;
  mfa_tokens: MfaTokenRow;
  mfa_failures: MfaFailureRow;
  pushed_authorization_requests: PushedRequestRow;
}

export type FlowDb = Kysely<FlowDatabase>;
/** The same connection (or transaction) seen with the user-flow tables. */
export const flowDb = (db: Db): FlowDb => db as unknown as FlowDb;
export const opt = <T>(v: T | null): T | undefined => (v === null ? undefined : v);
