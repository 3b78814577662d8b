import { randomBytes, randomInt } from 'node:crypto';

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** Uniformly random alphanumeric string (rejection-free via randomInt). */
export function randomAlnum(length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += ALNUM[randomInt(ALNUM.length)];
  return out;
}

export function randomHex(bytes: number): string {
  return randomBytes(bytes).toString('hex');
}

export function randomBase64Url(bytes: number): string {
  return randomBytes(bytes).toString('base64url');
}

export const ids = {
  resourceServer: () => randomHex(12),
  client: () => randomAlnum(32),
  clientSecret: () => randomBase64Url(48), // 64 chars of [A-Za-z0-9_-]
  clientGrant: () => `cgr_${randomAlnum(16)}`,
  credential: () => `cred_${randomAlnum(22)}`,
  signingKid: () => randomAlnum(21),
  jti: () => randomBase64Url(16),
  signingSecret: () => randomBase64Url(48), // 384 bits
};
