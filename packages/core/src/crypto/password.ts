import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/** scrypt cost: N=2^15, r=8, p=1 (32 MiB per hash), the memory-hard setting OWASP recommends. */
export const SCRYPT_PARAMS: Readonly<ScryptParams> = { N: 2 ** 15, r: 8, p: 1 };
const KEY_LENGTH = 32;
const SALT_BYTES = 16;

export interface ScryptParams { N: number; r: number; p: number }

/**
 * The key derivation itself: scrypt of the NFKC-normalised password. The default runs on the libuv thread pool;
 * the server hands in one that runs on a bounded pool of worker threads of its own (see password-pool.ts).
 */
export type PasswordKdf = (password: string, salt: Buffer, params: ScryptParams, keyLength: number) => Promise<Buffer>;

export const scryptMaxmem = (o: ScryptParams): number => 128 * o.N * o.r * 2;

export const libuvScrypt: PasswordKdf = (password, salt, o, keyLength) => {
  const options: ScryptOptions = { N: o.N, r: o.r, p: o.p, maxmem: scryptMaxmem(o) };
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFKC'), salt, keyLength, options, (err, key) => (err ? reject(err) : resolve(key)));
  });
};

/** Password hashes as `scrypt$N$r$p$<salt b64url>$<hash b64url>`; the derivation runs wherever `kdf` runs it. */
export class PasswordHasher {
  /** `params`: the cost of new hashes (a stored hash is checked with its own); only code can lower it, no setting. */
  constructor(private readonly kdf: PasswordKdf = libuvScrypt, private readonly params: Readonly<ScryptParams> = SCRYPT_PARAMS) {}

  /** A fresh random salt, the current cost. */
  async hash(password: string): Promise<string> {
    const salt = randomBytes(SALT_BYTES);
    const { N, r, p } = this.params;
    const key = await this.kdf(password, salt, { N, r, p }, KEY_LENGTH);
    return ['scrypt', N, r, p, salt.toString('base64url'), key.toString('base64url')].join('$');
  }

  /** Constant-time check of a password against a stored `scrypt$…` hash (its own cost parameters). */
  async verify(password: string, stored: string): Promise<boolean> {
    const parts = stored.split('$');
    if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
    const [N, r, p] = parts.slice(1, 4).map(Number);
    if (![N, r, p].every((n) => Number.isSafeInteger(n) && n > 0)) return false;
    const expected = Buffer.from(parts[5], 'base64url');
    const key = await this.kdf(password, Buffer.from(parts[4], 'base64url'), { N, r, p }, KEY_LENGTH);
    return key.length === expected.length && timingSafeEqual(key, expected);
  }
}

const inProcess = new PasswordHasher();

/** `scrypt$…` with a fresh random salt, on the libuv thread pool. */
export const hashPassword = (password: string): Promise<string> => inProcess.hash(password);

/** Constant-time check against a stored hash, on the libuv thread pool. */
export const verifyPasswordHash = (password: string, stored: string): Promise<boolean> => inProcess.verify(password, stored);
