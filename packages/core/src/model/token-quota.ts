/** The largest `per_hour` / `per_day` Auth0 accepts (a 32-bit signed integer). */
export const MAX_TOKEN_QUOTA = 2147483647;

/** Auth0's `token_quota.client_credentials` of a client, an organization or a tenant default. */
export interface ClientCredentialsQuota {
  /** true: a request over the quota is refused (429); false: it is logged and issued (warn-only). */
  enforce?: boolean;
  /** Tokens per UTC day (the window resets at 00:00 UTC). */
  per_day?: number;
  /** Tokens per UTC hour (the window resets on the hour). */
  per_hour?: number;
}

export interface TokenQuota { client_credentials: ClientCredentialsQuota }
