import { hkdfSync, randomBytes } from 'node:crypto';
import { DpopNonces, DpopVerifier, SharedReplayCache, type Clock, type Store } from '@tessera/core';

/** Server nonces rotate every five minutes; a nonce is accepted for one to two periods (see docs/compatibility.md). */
export const DPOP_NONCE_PERIOD_MS = 5 * 60 * 1000;

/**
 * RFC 9449 proof checking: nonces keyed by HKDF(master key, "dpop-nonce") so every instance issues and accepts the
 * same ones, and the replay cache shared through the database (in-memory first, batched inserts).
 */
export function buildDpopVerifier(store: Store, clock: Clock, masterKeys?: Buffer[]): DpopVerifier {
  const masters = masterKeys?.length ? masterKeys : [randomBytes(32)];
  const keys = masters.map((k) => Buffer.from(hkdfSync('sha256', k, 'tessera', 'dpop-nonce', 32)));
  const now = () => clock.now();
  return new DpopVerifier({
    clock,
    nonces: new DpopNonces({ keys, periodMs: DPOP_NONCE_PERIOD_MS, now }),
    replay: new SharedReplayCache({ repo: store.dpopProofs, now }),
  });
}
