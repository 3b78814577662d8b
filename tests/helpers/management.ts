import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import { MGMT_AUDIENCE, type TestServer } from './tessera';

/** A unique suffix so tests sharing one server never collide. */
export const uniq = (): string => randomBytes(5).toString('hex');

/** A fresh RSA public key as SPKI PEM (for token encryption and private_key_jwt credentials). */
export function rsaPublicPem(): string {
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return publicKey.export({ type: 'spki', format: 'pem' }).toString();
}

/** Creates an M2M client and returns its id and secret. */
export async function createM2mClient(s: TestServer, name = `m2m-${uniq()}`): Promise<{ client_id: string; client_secret: string }> {
  const r = await s.api('POST', '/clients', { name, app_type: 'non_interactive', grant_types: ['client_credentials'] });
  expect(r.status).toBe(201);
  return { client_id: r.body.client_id, client_secret: r.body.client_secret };
}

/**
 * A Management API token carrying exactly `scopes`, minted the way a real caller gets one: an M2M client
 * with a client grant on the Management API audience, then POST /oauth/token.
 */
export async function managementToken(s: TestServer, scopes: string[]): Promise<string> {
  const c = await createM2mClient(s);
  const g = await s.api('POST', '/client-grants', { client_id: c.client_id, audience: MGMT_AUDIENCE, scope: scopes });
  expect(g.status).toBe(201);
  const t = await s.token({ grant_type: 'client_credentials', client_id: c.client_id, client_secret: c.client_secret, audience: MGMT_AUDIENCE });
  expect(t.status).toBe(200);
  return t.body.access_token as string;
}

/** Creates a custom API and returns the response body. */
export async function createApi(s: TestServer, body: Record<string, unknown> = {}): Promise<Record<string, any>> {
  const r = await s.api('POST', '/resource-servers', { identifier: `https://api-${uniq()}.example.com`, ...body });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body;
}

/** Everything the Management API can list, for "nothing changed" assertions. */
export async function snapshot(s: TestServer): Promise<{ resource_servers: unknown; clients: unknown; client_grants: unknown }> {
  const [rs, clients, grants] = await Promise.all([
    s.api('GET', '/resource-servers'), s.api('GET', '/clients'), s.api('GET', '/client-grants'),
  ]);
  for (const r of [rs, clients, grants]) expect(r.status).toBe(200);
  return { resource_servers: rs.body, clients: clients.body, client_grants: grants.body };
}

/** Raw request through the app (for malformed bodies and odd headers the JSON helper cannot send). */
export async function raw(s: TestServer, method: string, path: string, payload: string | Buffer | undefined, headers: Record<string, string> = {}) {
  const res = await s.t.app.inject({
    method: method as 'POST', url: `/api/v2${path}`, payload,
    headers: { authorization: `Bearer ${await s.adminToken()}`, ...headers },
  });
  let body: unknown = res.body;
  try { body = JSON.parse(res.body); } catch { /* keep text */ }
  return { status: res.statusCode, body: body as any, headers: res.headers };
}

export const badRequest = (message: string, errorCode = 'invalid_body') => ({ statusCode: 400, error: 'Bad Request', message, errorCode });
export const RS_NOT_FOUND = { statusCode: 404, error: 'Not Found', message: 'The resource server does not exist', errorCode: 'inexistent_resource_server' };
export const CLIENT_NOT_FOUND = { statusCode: 404, error: 'Not Found', message: 'The client does not exist', errorCode: 'inexistent_client' };

/** Contract Appendix B: the scopes (value and description) of a live tenant's "Auth0 Management API". */
export const APPENDIX_B_SCOPES: Array<{ value: string; description: string }> = `
read:client_grants (Read Client Grants); create:client_grants (Create Client Grants); 
delete:client_grants (Delete Client Grants); update:client_grants (Update Client Grants); read:users (Read 
Users); update:users (Update Users); delete:users (Delete Users); create:users (Create Users); 
read:users_app_metadata (Read Users App Metadata); update:users_app_metadata (Update Users App Metadata); 
delete:users_app_metadata (Delete Users App Metadata); create:users_app_metadata (Create Users App 
Metadata); read:user_custom_blocks (Read Custom User Blocks); create:user_custom_blocks (Create Custom User 
Blocks); delete:user_custom_blocks (Delete Custom User Blocks); create:user_tickets (Create User Tickets); 
read:clients (Read Clients); update:clients (Update Clients); delete:clients (Delete Clients); 
create:clients (Create Clients); read:client_keys (Read Client Keys); update:client_keys (Update Client 
Keys); delete:client_keys (Delete Client Keys); create:client_keys (Create Client Keys); read:connections 
(Read Connections); update:connections (Update Connections); delete:connections (Delete Connections); 
create:connections (Create Connections); read:resource_servers (Read Resource Servers); 
update:resource_servers (Update Resource Servers); delete:resource_servers (Delete Resource Servers); 
create:resource_servers (Create Resource Servers); read:device_credentials (Read Device Credentials); 
update:device_credentials (Update Device Credentials); delete:device_credentials (Delete Device 
Credentials); create:device_credentials (Create Device Credentials); read:rules (Read Rules); update:rules 
(Update Rules); delete:rules (Delete Rules); create:rules (Create Rules); read:rules_configs (Read Rules 
Configs); update:rules_configs (Update Rules Configs); delete:rules_configs (Delete Rules Configs); 
read:hooks (Read Hooks); update:hooks (Update Hooks); delete:hooks (Delete Hooks); create:hooks (Create 
Hooks); read:actions (Read Actions); update:actions (Update Actions); delete:actions (Delete Actions); 
create:actions (Create Actions); read:email_provider (Read Email Provider); update:email_provider (Update 
Email Provider); delete:email_provider (Delete Email Provider); create:email_provider (Create Email 
Provider); blacklist:tokens (Blacklist Tokens); read:stats (Read Stats); read:insights (Read Insights); 
read:tenant_settings (Read Tenant Settings); update:tenant_settings (Update Tenant Settings); read:logs 
(Read Logs); read:logs_users (Read logs relating to users); read:shields (Read Shields); create:shields 
(Create Shields); update:shields (Update Shields); delete:shields (Delete Shields); read:anomaly_blocks 
(Read Anomaly Detection Blocks); delete:anomaly_blocks (Delete Anomaly Detection Blocks); update:triggers 
(Update Triggers); read:triggers (Read Triggers); read:grants (Read User Grants); delete:grants (Delete 
User Grants); read:guardian_factors (Read Guardian factors configuration); update:guardian_factors (Update 
Guardian factors); read:guardian_enrollments (Read Guardian enrollments); delete:guardian_enrollments 
(Delete Guardian enrollments); create:guardian_enrollment_tickets (Create enrollment tickets for Guardian); 
read:user_idp_tokens (Read Users IDP tokens); create:passwords_checking_job (Create password checking jobs); 
delete:passwords_checking_job (Deletes password checking job and all its resources); read:custom_domains 
(Read custom domains configurations); delete:custom_domains (Delete custom domains configurations); 
create:custom_domains (Configure new custom domains); update:custom_domains (Update custom domain 
configurations); read:email_templates (Read email templates); create:email_templates (Create email 
templates); update:email_templates (Update email templates); read:mfa_policies (Read Multifactor 
Authentication policies); update:mfa_policies (Update Multifactor Authentication policies); read:roles 
(Read roles); create:roles (Create roles); delete:roles (Delete roles); update:roles (Update roles); 
read:prompts (Read prompts settings); update:prompts (Update prompts settings); read:branding (Read 
branding settings); update:branding (Update branding settings); delete:branding (Delete branding settings); 
read:log_streams (Read log_streams); create:log_streams (Create log_streams); delete:log_streams (Delete 
log_streams); update:log_streams (Update log_streams); create:signing_keys (Create signing keys); 
read:signing_keys (Read signing keys); update:signing_keys (Update signing keys); read:limits (Read entity 
limits); update:limits (Update entity limits); create:role_members (Create role members); 
read:role_members (Read role members); delete:role_members (Update role members); read:entitlements (Read 
entitlements); read:attack_protection (Read attack protection); update:attack_protection (Update attack 
protection); read:organizations_summary (Read organization summary); create:actions_log_sessions (Create 
Actions Log Sessions); read:organizations (Read Organizations); update:organizations (Update 
Organizations); create:organizations (Create Organizations); delete:organizations (Delete Organizations); 
create:organization_members (Create organization members); read:organization_members (Read organization 
members); delete:organization_members (Delete organization members); create:organization_connections 
(Create organization connections); read:organization_connections (Read organization connections); 
update:organization_connections (Update organization connections); delete:organization_connections (Delete 
organization connections); create:organization_member_roles (Create organization member roles); 
read:organization_member_roles (Read organization member roles); delete:organization_member_roles (Delete 
organization member roles); create:organization_invitations (Create organization invitations); 
read:organization_invitations (Read organization invitations); delete:organization_invitations (Delete 
organization invitations)
`.replace(/\s+/g, " ").split(";").map((s) => s.trim()).filter(Boolean).map((s) => {
  const m = /^(\S+) \((.*)\)$/.exec(s) as RegExpExecArray;
  return { value: m[1], description: m[2] };
});
