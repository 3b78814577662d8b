// Runs in the password hashing pool's worker threads (piscina). scryptSync, not scrypt: the derivation runs on this
// thread, which has its own lowered priority, never on the process's libuv pool where the token signer runs.
import { scryptSync } from 'node:crypto';

/** { password, salt (Uint8Array), N, r, p, keyLength } -> the derived key (Uint8Array). */
export default function derive({ password, salt, N, r, p, keyLength }) {
  return scryptSync(password.normalize('NFKC'), salt, keyLength, { N, r, p, maxmem: 128 * N * r * 2 });
}
