import { createHash, createPrivateKey, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { generateSigningKey, rsaKeyFromSeed, samePublicKey, signingKeyFromPrivateKey, type SigningKey } from '@tessera/core';

/**
 * Signing keys `tessera dev` keeps between runs, so that a start does not wait for RSA key generation or a
 * certificate: the folder `dev-keys` beside the CA folder (`~/.cache/tessera/dev-keys`), private to the user.
 * - `ahead-*.json`: a pair of fresh keys made by an earlier run after it was listening, never used. A new tenant
 *   takes one pair (the file is renamed away first, then deleted: no two tenants ever get the same key).
 * - `seed-v1-<sha256>.pem`: the key a --signing-seed phrase derives (the phrase itself is not stored).
 * - `fixed-<sha256>.json`: the public part of the record (kid, certificate) made from a fixed key, checked against
 *   the key when used; a --signing-key file's private key is not copied here.
 * Everything here is a cache: a missing, unreadable or foreign file only means the key is made as before.
 */
export function devKeysDir(caDir: string): string {
  return join(dirname(caDir), 'dev-keys');
}

const AHEAD = /^ahead-[0-9a-f]{16}\.json$/;
/** Pairs kept ready: enough for a few starts in a row (a test suite), each pair replaced by the run that took one. */
const PAIRS_AHEAD = 2;
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

function writePrivately(dir: string, name: string, text: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = join(dir, `.${name}.${randomBytes(6).toString('hex')}.tmp`);
  writeFileSync(tmp, text, { mode: 0o600 });
  renameSync(tmp, join(dir, name)); // whole or not at all
}

const isKey = (k: unknown): k is SigningKey => {
  const o = k as SigningKey | null;
  return typeof o?.kid === 'string' && typeof o.privateKeyPkcs8 === 'string' && typeof o.cert === 'string' && typeof o.publicJwk?.n === 'string'
    && typeof o.fingerprint === 'string' && typeof o.thumbprint === 'string' && samePublicKey(o, o.privateKeyPkcs8);
};

/** One pair of keys made ahead, taken out of the folder; undefined when none is waiting. */
export function takeKeysMadeAhead(dir: string): SigningKey[] | undefined {
  let files: string[];
  try { files = readdirSync(dir).filter((f) => AHEAD.test(f)); } catch { return undefined; }
  for (const f of files) {
    const taken = join(dir, `.${f}.${process.pid}.taken`);
    try { renameSync(join(dir, f), taken); } catch { continue; } // another start took it first
    try {
      const keys = JSON.parse(readFileSync(taken, 'utf8')) as unknown;
      if (Array.isArray(keys) && keys.length === 2 && keys.every(isKey)) return keys;
    } catch { /* a damaged file: try the next */ } finally {
      rmSync(taken, { force: true });
    }
  }
  return undefined;
}

/** Makes a pair of keys for a later run when fewer than two pairs are waiting (after listening: off the start's path). */
export async function makeKeysAhead(dir: string): Promise<void> {
  let waiting = 0;
  try { waiting = readdirSync(dir).filter((f) => AHEAD.test(f)).length; } catch { /* no folder yet */ }
  if (waiting >= PAIRS_AHEAD) return;
  const now = new Date();
  const keys = await Promise.all([generateSigningKey('localhost', now), generateSigningKey('localhost', now)]);
  writePrivately(dir, `ahead-${randomBytes(8).toString('hex')}.json`, JSON.stringify(keys));
}

/** The RSA key a phrase derives: derived once per machine, then read back (checked to be an RSA private key). */
export function seededKey(dir: string, phrase: string): string {
  const name = `seed-v1-${sha256(`tessera dev --signing-seed\0${phrase}`)}.pem`;
  try {
    const pem = readFileSync(join(dir, name), 'utf8');
    if (createPrivateKey(pem).asymmetricKeyType === 'rsa') return pem;
  } catch { /* not derived on this machine yet */ }
  const pem = rsaKeyFromSeed(phrase);
  try { writePrivately(dir, name, pem); } catch { /* a read-only cache: derive again next time */ }
  return pem;
}

const fixedName = (pem: string) => `fixed-${sha256(pem.trim())}.json`;

/**
 * The record an earlier run made from this fixed key (kid, certificate, thumbprints: no private material is kept),
 * completed with the key itself, if it is that key's (the server checks it again).
 */
export function fixedKeyMade(dir: string, pem: string): SigningKey | undefined {
  try {
    const kept = JSON.parse(readFileSync(join(dir, fixedName(pem)), 'utf8')) as Omit<SigningKey, 'privateKeyPkcs8'>;
    const k = { ...kept, privateKeyPkcs8: createPrivateKey(pem).export({ type: 'pkcs8', format: 'pem' }) as string };
    return isKey(k) ? k : undefined;
  } catch {
    return undefined;
  }
}

/** Keeps the public part of a fixed key's record (its certificate) for the next run, once. */
export async function rememberFixedKey(dir: string, pem: string): Promise<void> {
  if (existsSync(join(dir, fixedName(pem)))) return;
  const { privateKeyPkcs8: _private, ...kept } = await signingKeyFromPrivateKey(pem, new Date());
  writePrivately(dir, fixedName(pem), JSON.stringify(kept));
}
