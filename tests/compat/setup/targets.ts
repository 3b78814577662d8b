import { describe, inject, it } from 'vitest';

/** One running Tessera the clients are pointed at (one per storage dialect). */
export interface Target {
  dialect: 'sqlite' | 'postgres';
  /** `https://127.0.0.1:<port>` (no trailing slash): also TESSERA_PUBLIC_URL. */
  baseUrl: string;
  /** What Auth0 SDKs call `domain`: `127.0.0.1:<port>`. */
  domain: string;
  issuer: string;
  managementAudience: string;
  adminClientId: string;
  adminClientSecret: string;
  /** Set when this target could not be started here (never in CI). */
  skipReason?: string;
  /** Set when this target is required but could not be started (CI without PostgreSQL). */
  failReason?: string;
}

declare module 'vitest' {
  interface ProvidedContext {
    compatTargets: Target[];
    compatCaCert: string;
    compatDir: string;
  }
}

export const caCertFile = (): string => inject('compatCaCert');
export const workDir = (): string => inject('compatDir');

/**
 * Runs `fn` once per dialect under a suite titled `<client> [<dialect>]` (the compatibility table groups by
 * that title). A target that could not start is skipped with its reason printed.
 */
export function forEachTarget(client: string, fn: (target: Target) => void): void {
  for (const target of inject('compatTargets')) {
    const title = `${client} [${target.dialect}]`;
    if (target.failReason) {
      const reason = target.failReason;
      describe(title, () => { it('the server starts on this storage', () => { throw new Error(reason); }); });
      continue;
    }
    if (target.skipReason) console.warn(`[compat] SKIPPING ${title}: ${target.skipReason}`);
    describe.skipIf(Boolean(target.skipReason))(title, () => fn(target));
  }
}
