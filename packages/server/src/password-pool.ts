import { randomFill } from 'node:crypto';
import type { Piscina } from 'piscina';
import { PasswordHasher, TemporarilyUnavailable, type PasswordKdf, type ScryptParams } from '@tessera/core';

export interface PasswordPoolOptions {
  /** Worker threads that hash (each holds 32 MiB while hashing). */
  threads: number;
  /** Derivations that may wait for a thread; one more is refused with temporarily_unavailable. */
  queue: number;
  /** Added to the threads' nice value on Linux (0–19): token issuance wins the CPU when both want it. */
  niceIncrement: number;
  /** The scrypt cost of new hashes (default SCRYPT_PARAMS); set by code only (test suites), never by a setting. */
  params?: ScryptParams;
}

/** The answer when the queue is full: OAuth `temporarily_unavailable` (503) with Retry-After. */
export const SHED_MESSAGE = 'Too many login attempts are being processed; try again shortly.';

/**
 * Password hashing and verification on a bounded pool of worker threads of their own, so a login flood cannot
 * take the cores, or the libuv thread pool, that sign tokens. The queue is bounded: past it a derivation is
 * refused at once (TemporarilyUnavailable), not queued without limit.
 */
export interface PasswordPool {
  hasher: PasswordHasher;
  /** Derivations running or waiting now. */
  inFlight(): number;
  close(): Promise<void>;
}

export async function createPasswordPool(o: PasswordPoolOptions): Promise<PasswordPool> {
  // libuv creates its thread pool on first use, with the priority of the thread that used it first: make that the
  // main thread now, so no signing thread can ever inherit a worker's lowered priority.
  await new Promise((r) => randomFill(Buffer.alloc(1), r));
  // the pool (and piscina itself) is made with the first derivation: a server nobody logs in to never loads it
  let pool: Promise<Piscina> | undefined;
  const made = () => (pool ??= import('piscina').then(({ Piscina: Pool }) => new Pool({
    filename: new URL('./password-worker.mjs', import.meta.url).href,
    // threads start with the first password derivation (an M2M-only server never pays their memory), then stay
    // (the longest timer Node takes, ~24.8 days: a larger one overflowed to 1 ms with a TimeoutOverflowWarning)
    minThreads: 0, maxThreads: o.threads, concurrentTasksPerWorker: 1,
    idleTimeout: 2 ** 31 - 1, niceIncrement: process.platform === 'linux' ? o.niceIncrement : 0,
    // scrypt at N=2^15 needs 32 MiB per derivation: room for it and the worker's own heap
    resourceLimits: { maxOldGenerationSizeMb: 64 },
  })));
  // the bound is counted here (running + waiting), so it means exactly `threads` running and `queue` waiting
  const capacity = o.threads + o.queue;
  let inFlight = 0;
  const kdf: PasswordKdf = async (password, salt, params, keyLength) => {
    if (inFlight >= capacity) throw new TemporarilyUnavailable(SHED_MESSAGE);
    inFlight++;
    try {
      const key = (await (await made()).run({ password, salt, ...params, keyLength })) as Uint8Array;
      return Buffer.from(key.buffer, key.byteOffset, key.byteLength);
    } finally {
      inFlight--;
    }
  };
  return { hasher: new PasswordHasher(kdf, o.params), inFlight: () => inFlight, close: async () => { await (await pool?.catch(() => undefined))?.close({ force: true }); } };
}
