import * as oauth from 'oauth4webapi';

/** One oauth4webapi call, retried once after a use_dpop_nonce challenge (the DPoP handle keeps the nonce it was sent). */
export async function withNonceRetry<T>(call: () => Promise<T>): Promise<{ result: T; retried: boolean }> {
  try {
    return { result: await call(), retried: false };
  } catch (e) {
    if (!oauth.isDPoPNonceError(e)) throw e;
    return { result: await call(), retried: true };
  }
}
