import type { JWTPayload } from 'jose';

/**
 * Leeway, in seconds, for an `iat` ahead of this process's clock in the access tokens Tessera verifies itself
 * (Management API, /userinfo): another instance's clock may run slightly ahead. `exp` and `nbf` are exact, as
 * before. See docs/compatibility.md.
 */
export const IAT_LEEWAY_S = 60;

/** jose options shared by the access-token verifiers: RFC 9068 §2.2 makes `exp` and `iat` required. */
export const accessTokenTimeOptions = (nowMs: number) => ({ currentDate: new Date(nowMs), requiredClaims: ['exp', 'iat'] });

/**
 * True when `iat` lies further in the future than `leewayS` allows. jose checks `iat` only together with
 * `maxTokenAge`; a token "issued" an hour from now is a forgery or a broken clock either way.
 */
export function issuedInTheFuture(payload: JWTPayload, nowMs: number, leewayS = IAT_LEEWAY_S): boolean {
  return typeof payload.iat === 'number' && payload.iat * 1000 > nowMs + leewayS * 1000;
}
