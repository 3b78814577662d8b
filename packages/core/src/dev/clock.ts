import { systemClock, type Clock } from '../ports';

/**
 * A clock that development mode can move forward: every expiry the services check (access, ID and refresh tokens,
 * codes, sessions, MFA tokens) reads this clock, so advancing it expires them without waiting.
 */
export class AdjustableClock implements Clock {
  private offsetMs = 0;
  constructor(private readonly base: Clock = systemClock) {}

  now(): number { return this.base.now() + this.offsetMs; }

  /** Moves the clock forward by `seconds` (never backward: tokens already issued must not become younger). */
  advance(seconds: number): void {
    if (!Number.isFinite(seconds) || seconds < 0) throw new RangeError('the clock only moves forward');
    this.offsetMs += Math.round(seconds * 1000);
  }

  /** How far ahead of the base clock this one runs, in milliseconds. */
  get offset(): number { return this.offsetMs; }

  /** Back to the base clock (a reset to the seed state). */
  reset(): void { this.offsetMs = 0; }
}
