import type { SecretBox } from '../crypto/envelope';
import { randomBase64Url } from '../crypto/random';
import type { Clock, Store } from '../ports';
import { hashSecret } from '../token/refresh-tokens';
import { AuthorizePageError } from './request';

/** RFC 9126 §2.2: `urn:ietf:params:oauth:request_uri:<reference>`. */
export const REQUEST_URI_PREFIX = 'urn:ietf:params:oauth:request_uri:';
/** Auth0: "The thirty-second expiration time is a static value and can't be configured." */
export const PUSHED_REQUEST_LIFETIME_S = 30;
/** Client authentication travels with the push, never into the stored request. */
const CLIENT_AUTH_PARAMS = ['client_secret', 'client_assertion', 'client_assertion_type'];
const AAD = 'pushed-authorization-request';
const REFERENCE = /^[A-Za-z0-9_-]{43}$/;

const unusable = () => new AuthorizePageError('invalid_request', 'The request_uri is invalid, has expired or was already used. Start again from the application.');

/**
 * Pushed authorization requests (RFC 9126): the validated parameters sealed (AES-256-GCM) in the shared store under
 * the SHA-256 of a random reference, handed back once to /authorize for the same client within 30 seconds.
 */
export class PushedRequests {
  constructor(private readonly deps: { store: Store; clock: Clock; box: SecretBox }) {}

  async save(clientId: string, params: Record<string, string | undefined>): Promise<{ request_uri: string; expires_in: number }> {
    const kept: Record<string, string> = {};
    for (const [k, v] of Object.entries(params)) if (v !== undefined && !CLIENT_AUTH_PARAMS.includes(k)) kept[k] = v;
    kept.client_id = clientId;
    const reference = randomBase64Url(32);
    const now = this.deps.clock.now();
    await this.deps.store.pushedRequests.insert({
      idHash: hashSecret(reference), clientId, data: this.deps.box.seal(JSON.stringify(kept), AAD), expiresAt: now + PUSHED_REQUEST_LIFETIME_S * 1000,
    });
    // housekeeping off the response path: requests past their lifetime can no longer be used (indexed delete)
    this.deps.store.pushedRequests.deleteExpired(now).catch(() => undefined);
    return { request_uri: `${REQUEST_URI_PREFIX}${reference}`, expires_in: PUSHED_REQUEST_LIFETIME_S };
  }

  /** RFC 9126 §4: the pushed parameters, once, for the client that pushed them, before they expire. */
  async take(clientId: string, requestUri: string): Promise<Record<string, string>> {
    if (!requestUri.startsWith(REQUEST_URI_PREFIX)) throw unusable();
    const reference = requestUri.slice(REQUEST_URI_PREFIX.length);
    if (!REFERENCE.test(reference)) throw unusable();
    const rec = await this.deps.store.pushedRequests.take(hashSecret(reference), clientId);
    if (!rec || rec.expiresAt <= this.deps.clock.now()) throw unusable();
    try {
      return JSON.parse(this.deps.box.openString(rec.data, AAD)) as Record<string, string>;
    } catch {
      throw unusable();
    }
  }
}
