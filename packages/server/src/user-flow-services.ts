import { hkdfSync, randomBytes } from 'node:crypto';
import {
  AccessTokenMinter, AuthorizationCodeGrant, MFA_OTP, MFA_RECOVERY_CODE, MfaGrant, MfaService, AuthorizeService, createSecretBox, Directory, IdTokenMinter, KeyManager,
  LoginGuard, LogoutService, PASSWORD_REALM, PasswordGrant, type LoginProtection, type DpopVerifier, RefreshTokenGrant, RefreshTokenService, SessionService, UserinfoService, UserService, UserTokenService,
  type Clock, type EventRecorder, type Store,
} from '@tessera/core';

export interface UserFlowDeps {
  store: Store; clock: Clock; events: EventRecorder; directory: Directory; keys: KeyManager; minter: AccessTokenMinter;
  /** The users service of the Management API: the login page and password grants check passwords through it. */
  users: UserService;
  issuer: string; publicUrl: string;
  /** Discovery's mtls_endpoint_aliases base URL and whether it has a listener of its own (TESSERA_MTLS_PORT). */
  mtlsAlias?: { url: string; listener: 'separate' | 'same' };
  /** TESSERA_MASTER_KEY list: the transaction and cookie keys are derived from it (first one signs). */
  masterKeys?: Buffer[];
  /** DPoP proof checks (RFC 9449 §7 at /userinfo). */
  dpop: DpopVerifier;
  /** Brute-force and suspicious-IP thresholds. */
  loginProtection: LoginProtection;
  /** The tenant's allowed logout URLs. */
  allowedLogoutUrls: readonly string[];
}

/** Derives a purpose-bound 32-byte key from a master key (HKDF-SHA256). */
const derive = (master: Buffer, purpose: string): Buffer => Buffer.from(hkdfSync('sha256', master, 'tessera', purpose, 32));

/** Hosted login, user grants, sessions, consent, /userinfo: the services behind the user-facing flows. */
export function buildUserFlowServices(d: UserFlowDeps) {
  const masters = d.masterKeys?.length ? d.masterKeys : [randomBytes(32)];
  const idTokens = new IdTokenMinter({ keys: d.keys, clock: d.clock, issuer: d.issuer });
  const userTokens = new UserTokenService({ store: d.store, directory: d.directory, minter: d.minter, idTokens, publicUrl: d.publicUrl });
  const refreshTokens = new RefreshTokenService({ store: d.store, clock: d.clock });
  const passwords = new LoginGuard({ store: d.store, clock: d.clock, passwords: d.users, settings: d.loginProtection, events: d.events });
  const mfa = new MfaService({ store: d.store, clock: d.clock, issuerName: new URL(d.publicUrl).host });
  const grantDeps = { store: d.store, clock: d.clock, userTokens, refreshTokens, mfa };
  // explain runs these grants' own decisions (the same instances the token endpoint runs)
  const explained = {
    refresh: new RefreshTokenGrant(grantDeps),
    password: new PasswordGrant('password', { ...grantDeps, users: passwords }),
    passwordRealm: new PasswordGrant(PASSWORD_REALM, { ...grantDeps, users: passwords }),
  };
  return {
    explained,
    userTokens, refreshTokens, mfa,
    authorize: new AuthorizeService({
      store: d.store, directory: d.directory, clock: d.clock, userTokens, issuer: d.issuer,
      box: createSecretBox(masters.map((k) => derive(k, 'authorize-transaction'))),
    }),
    sessions: new SessionService({ store: d.store, clock: d.clock }),
    logout: new LogoutService({ directory: d.directory, keys: d.keys, issuer: d.issuer, tenantLogoutUrls: d.allowedLogoutUrls }),
    passwords,
    userinfo: new UserinfoService({ keys: d.keys, clock: d.clock, issuer: d.issuer, audience: userTokens.userinfoAudience, store: d.store, dpop: d.dpop, urls: { url: `${d.publicUrl}/userinfo`, ...d.mtlsAlias && { mtlsAlias: `${d.mtlsAlias.url}/userinfo`, aliasListener: d.mtlsAlias.listener } } }),
    /** Verifies access tokens for Auth0's MFA API audience (`${issuer}mfa/`). */
    mfaApiTokens: new UserinfoService({ keys: d.keys, clock: d.clock, issuer: d.issuer, audience: userTokens.mfaAudience, store: d.store, dpop: d.dpop, urls: { url: `${d.publicUrl}/mfa/` } }),
    /** HMAC keys for CSRF tokens, newest first. */
    csrfKeys: masters.map((k) => derive(k, 'csrf')),
    /** Secure cookies when the public URL is https. */
    secureCookies: d.publicUrl.startsWith('https:'),
    userGrants: [
      new AuthorizationCodeGrant(grantDeps),
      explained.refresh,
      explained.password,
      explained.passwordRealm,
      new MfaGrant(MFA_OTP, { ...grantDeps, guard: passwords }),
      new MfaGrant(MFA_RECOVERY_CODE, { ...grantDeps, guard: passwords }),
    ],
  };
}

export type UserFlowServices = ReturnType<typeof buildUserFlowServices>;
