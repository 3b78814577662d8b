import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Stateless rotating DPoP server nonces (RFC 9449 §8): `<window in base36>.<HMAC-SHA256(key, window) truncated>`.
 * The window is `floor(now / period)`; the current, the previous and the next window are accepted (the next one
 * tolerates an instance whose clock runs slightly ahead), so a nonce lives between one and two periods. Every
 * instance derives the same key from the master key, so no storage and no round trip is involved. Verification
 * tries every key of the list (master-key rotation); the first one signs.
 */
export class DpopNonces {
  constructor(private readonly deps: { keys: Buffer[]; periodMs: number; now: () => number }) {
    if (deps.keys.length === 0) throw new Error('DPoP nonces need a key');
  }

  current(): string {
    return this.make(this.deps.keys[0], this.window(this.deps.now()));
  }

  valid(nonce: string): boolean {
    const m = /^([0-9a-z]{1,12})\.([A-Za-z0-9_-]{22})$/.exec(nonce);
    if (!m) return false;
    const w = parseInt(m[1], 36);
    const now = this.window(this.deps.now());
    if (w < now - 1 || w > now + 1) return false;
    const presented = Buffer.from(nonce);
    return this.deps.keys.some((k) => {
      const expected = Buffer.from(this.make(k, w));
      return expected.length === presented.length && timingSafeEqual(expected, presented);
    });
  }

  private window(nowMs: number): number { return Math.floor(nowMs / this.deps.periodMs); }

  private make(key: Buffer, w: number): string {
    const mac = createHmac('sha256', key).update(`dpop-nonce:${w}`).digest('base64url').slice(0, 22);
    return `${w.toString(36)}.${mac}`;
  }
}
