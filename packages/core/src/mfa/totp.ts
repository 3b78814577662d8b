import { timingSafeEqual } from 'node:crypto';

// otpauth is loaded with the first second-factor operation: a server whose users never enroll never loads it
type Otpauth = typeof import('otpauth');
let otpauth: Promise<Otpauth> | undefined;
const library = (): Promise<Otpauth> => (otpauth ??= import('otpauth'));

/** RFC 6238 parameters every authenticator app understands: HMAC-SHA-1, 6 digits, 30-second steps. */
export const TOTP_PERIOD_S = 30;
const DIGITS = 6;
/** Steps accepted either side of the current one (clock drift between phone and server). */
export const TOTP_WINDOW = 1;

const totpOf = ({ TOTP, Secret }: Otpauth, base32: string, issuer = '', label = '') =>
  new TOTP({ issuer, label, algorithm: 'SHA1', digits: DIGITS, period: TOTP_PERIOD_S, secret: Secret.fromBase32(base32) });

/** A new 160-bit secret (RFC 4226 §4 recommends 160 bits), base32 as authenticator apps expect. */
export async function newTotpSecret(): Promise<string> {
  const { Secret } = await library();
  return new Secret({ size: 20 }).base32;
}

/** The `otpauth://totp/…` URI (Key Uri Format) shown as a QR code and returned by /mfa/associate as `barcode_uri`. */
export async function totpUri(base32: string, issuer: string, label: string): Promise<string> {
  return totpOf(await library(), base32, issuer, label).toString();
}

/** The code for a time step (tests and the enrollment check use it; step = floor(unix seconds / 30)). */
export async function totpCode(base32: string, step: number): Promise<string> {
  return codeAt(await library(), base32, step);
}

const codeAt = (lib: Otpauth, base32: string, step: number): string => totpOf(lib, base32).generate({ timestamp: step * TOTP_PERIOD_S * 1000 });

export const totpStep = (ms: number): number => Math.floor(ms / 1000 / TOTP_PERIOD_S);

/**
 * The time step whose code equals `code`, within the window around `now`; undefined when none does. Every
 * candidate is computed and compared in constant time, so timing does not tell which step (if any) matched.
 */
export async function matchingStep(base32: string, code: string, now: number): Promise<number | undefined> {
  if (!/^\d{6}$/.test(code)) return undefined;
  const lib = await library();
  const given = Buffer.from(code);
  const current = totpStep(now);
  let found: number | undefined;
  for (let step = current - TOTP_WINDOW; step <= current + TOTP_WINDOW; step++) {
    if (timingSafeEqual(Buffer.from(codeAt(lib, base32, step)), given) && found === undefined) found = step;
  }
  return found;
}
