/**
 * Tenant log events in Auth0's shape (`GET /api/v2/logs`): Auth0's event type codes, its fields, and the
 * log-stream filter category each code belongs to. Events are data: nothing secret is ever put in them
 * (no secrets, tokens, passwords, codes or assertions), only who, what, when and why.
 */
export interface LogEvent {
  log_id: string;
  date: string;
  type: string;
  description?: string;
  client_id?: string;
  client_name?: string;
  ip?: string;
  user_agent?: string;
  user_id?: string;
  user_name?: string;
  audience?: string;
  scope?: string;
  connection?: string;
  strategy?: string;
  strategy_type?: string;
  hostname?: string;
  details?: Record<string, unknown>;
}

/** What a caller hands in: the id, date and hostname are stamped by the event log. */
export type LogEventInput = Omit<LogEvent, 'log_id' | 'date' | 'hostname'>;

interface TypeInfo { description: string; category: string }

/** The codes Tessera emits, with Auth0's descriptions and the log-stream category of each. */
export const LOG_EVENT_TYPES: Readonly<Record<string, TypeInfo>> = {
  s: { description: 'Success Login', category: 'auth.login.success' },
  f: { description: 'Failed Login', category: 'auth.login.fail' },
  fp: { description: 'Failed Login (Incorrect Password)', category: 'auth.login.fail' },
  fu: { description: 'Failed Login (Invalid Email/Username)', category: 'auth.login.fail' },
  limit_wc: { description: 'Blocked Account', category: 'auth.login.fail' },
  limit_mu: { description: 'Blocked IP Address', category: 'auth.login.fail' },
  slo: { description: 'Success Logout', category: 'auth.logout.success' },
  ssa: { description: 'Success Silent Auth', category: 'auth.silent_auth.success' },
  fsa: { description: 'Failed Silent Auth', category: 'auth.silent_auth.fail' },
  seccft: { description: 'Success Exchange (Client Credentials for Access Token)', category: 'auth.token_exchange.success' },
  feccft: { description: 'Failed Exchange (Client Credentials for Access Token)', category: 'auth.token_exchange.fail' },
  seacft: { description: 'Success Exchange (Authorization Code for Access Token)', category: 'auth.token_exchange.success' },
  feacft: { description: 'Failed Exchange (Authorization Code for Access Token)', category: 'auth.token_exchange.fail' },
  sertft: { description: 'Success Exchange (Refresh Token for Access Token)', category: 'auth.token_exchange.success' },
  fertft: { description: 'Failed Exchange (Refresh Token for Access Token)', category: 'auth.token_exchange.fail' },
  sepft: { description: 'Success Exchange (Password for Access Token)', category: 'auth.token_exchange.success' },
  fepft: { description: 'Failed Exchange (Password for Access Token)', category: 'auth.token_exchange.fail' },
  seotpft: { description: 'Success Exchange (Password and OTP for Access Token)', category: 'auth.token_exchange.success' },
  feotpft: { description: 'Failed Exchange (Password and OTP for Access Token)', category: 'auth.token_exchange.fail' },
  sercft: { description: 'Success Exchange (Password and MFA Recovery code for Access Token)', category: 'auth.token_exchange.success' },
  fercft: { description: 'Failed Exchange (Password and MFA Recovery code for Access Token)', category: 'auth.token_exchange.fail' },
  sapi: { description: 'Success API Operation', category: 'management.success' },
  fapi: { description: 'Failed API Operation', category: 'management.fail' },
};

/** Auth0's log-stream filter categories (`filters: [{type: 'category', name}]`). */
export const LOG_STREAM_CATEGORIES = [
  'auth.ancillary.fail', 'auth.ancillary.success', 'auth.login.fail', 'auth.login.notification', 'auth.login.success',
  'auth.logout.fail', 'auth.logout.success', 'auth.signup.fail', 'auth.signup.success', 'auth.silent_auth.fail',
  'auth.silent_auth.success', 'auth.token_exchange.fail', 'auth.token_exchange.success', 'management.fail',
  'management.success', 'scim.event', 'system.notification', 'user.fail', 'user.notification', 'user.success', 'actions', 'other',
] as const;

export const categoryOf = (type: string): string => LOG_EVENT_TYPES[type]?.category ?? 'other';

/** The success and failure codes of each grant type at /oauth/token. */
export const TOKEN_EXCHANGE_TYPES: Readonly<Record<string, readonly [string, string]>> = {
  client_credentials: ['seccft', 'feccft'],
  authorization_code: ['seacft', 'feacft'],
  refresh_token: ['sertft', 'fertft'],
  password: ['sepft', 'fepft'],
  'http://auth0.com/oauth/grant-type/password-realm': ['sepft', 'fepft'],
  'http://auth0.com/oauth/grant-type/mfa-otp': ['seotpft', 'feotpft'],
  'http://auth0.com/oauth/grant-type/mfa-recovery-code': ['sercft', 'fercft'],
};
