import { createHash, randomBytes } from 'node:crypto';
import { BadRequest, Conflict, DATABASE_CONNECTION, MANAGEMENT_SCOPES, type User } from '@tessera/core';
import type { Services } from '../services';

/** Meta key recording the dashboard's own SPA client, created once (a deleted one is not recreated). */
const DASHBOARD_META = 'bootstrap.dashboard_client_id';
/** Meta key recording the role that holds every Management API permission. */
const ADMIN_ROLE_META = 'dashboard.admin_role_id';
/** Present once a first administrator exists (through the setup link or `tessera admin create-user`). */
const FIRST_ADMIN_META = 'dashboard.first_admin';
const TICKET_PREFIX = 'dashboard.ticket.';
export const TICKET_LIFETIME_MS = 24 * 3600_000;
export const DASHBOARD_CLIENT_NAME = 'Tessera Dashboard';
export const ADMIN_ROLE_NAME = 'Tessera Administrators';

export interface DashboardUrls { publicUrl: string; managementAudience: string }

/**
 * The dashboard's own client: a first-party SPA (public, PKCE) whose callback is `/dashboard/callback` on Tessera's
 * origin, with a client grant for users on the Management API. What a signed-in user may do there is decided by the
 * Management permissions the user holds through roles (RBAC is always on for the Management API).
 */
export async function ensureDashboardClient(services: Services, urls: DashboardUrls): Promise<string | undefined> {
  const recorded = await services.store.meta.get(DASHBOARD_META);
  if (recorded !== undefined) return (await services.store.clients.findById(recorded)) ? recorded : undefined;
  const origin = new URL(urls.publicUrl).origin;
  const client = await services.clients.create({
    name: DASHBOARD_CLIENT_NAME, app_type: 'spa', is_first_party: true, token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code', 'refresh_token'],
    callbacks: [`${urls.publicUrl}/dashboard/callback`], allowed_logout_urls: [`${urls.publicUrl}/dashboard/`],
    web_origins: [origin], allowed_origins: [origin],
  }, {});
  await services.clientGrants.create({ client_id: client.client_id, audience: urls.managementAudience, subject_type: 'user', allow_all_scopes: true });
  await services.store.write((tx) => tx.meta.set(DASHBOARD_META, client.client_id));
  return client.client_id;
}

/** The role with every Management API permission (created when missing). */
export async function ensureAdminRole(services: Services, managementAudience: string): Promise<string> {
  const recorded = await services.store.meta.get(ADMIN_ROLE_META);
  let roleId = recorded !== undefined && (await services.store.roles.findById(recorded)) ? recorded : undefined;
  if (!roleId) {
    roleId = (await services.roles.create({ name: ADMIN_ROLE_NAME, description: 'Every Management API permission (the dashboard administrators)' })).id;
    await services.store.write((tx) => tx.meta.set(ADMIN_ROLE_META, roleId as string));
  }
  await services.roles.addPermissions(roleId, MANAGEMENT_SCOPES.map((s) => ({ resource_server_identifier: managementAudience, permission_name: s.value })));
  return roleId;
}

export interface AdminUserResult { user_id: string; email: string; username?: string; role_id: string; created: boolean; set_password_url: string }

/**
 * `tessera admin create-user --email [--username]`: the user (created with a random password nobody knows, or
 * found by email), the administrators role assigned, and a one-time link to set the password. `username` is used
 * only when the user is created (a found user keeps theirs); it is needed while the connection requires usernames.
 */
export async function createAdminUser(services: Services, urls: DashboardUrls, email: string, opts: { username?: string } = {}): Promise<AdminUserResult> {
  const existing = await services.store.users.findByEmail(DATABASE_CONNECTION, email.toLowerCase());
  if (!existing && opts.username === undefined && await services.connections.usernameRequired()) {
    throw new BadRequest('The database connection requires a username (requires_username): pass --username <name>.');
  }
  const user = existing ?? await services.users.create({
    connection: DATABASE_CONNECTION, email, email_verified: true, password: unguessablePassword(), ...(opts.username !== undefined && { username: opts.username }),
  });
  const roleId = await makeAdmin(services, urls, user);
  const ticket = await issueTicket(services, { user_id: user.user_id });
  return {
    user_id: user.user_id, email: user.email as string, ...(user.username !== undefined && { username: user.username }),
    role_id: roleId, created: !existing, set_password_url: setupUrl(urls, ticket),
  };
}

async function makeAdmin(services: Services, urls: DashboardUrls, user: User): Promise<string> {
  const roleId = await ensureAdminRole(services, urls.managementAudience);
  await services.roles.assignToUser(user.user_id, [roleId]);
  await services.store.write((tx) => tx.meta.set(FIRST_ADMIN_META, user.user_id));
  return roleId;
}

/** On a start before any administrator exists: a one-time link that lets the first administrator sign up. */
export async function firstAdminLink(services: Services, urls: DashboardUrls): Promise<string | undefined> {
  if ((await services.store.meta.get(FIRST_ADMIN_META)) !== undefined) return undefined;
  return setupUrl(urls, await issueTicket(services, {}));
}

interface TicketBody { user_id?: string; exp?: number }

/** A ticket is 32 random bytes; only its SHA-256 is stored, with its expiry. */
async function issueTicket(services: Services, body: TicketBody): Promise<string> {
  const ticket = randomBytes(32).toString('base64url');
  const value = JSON.stringify({ ...body, exp: services.clock.now() + TICKET_LIFETIME_MS });
  await services.store.write((tx) => tx.meta.set(TICKET_PREFIX + hash(ticket), value));
  return ticket;
}

const hash = (ticket: string) => createHash('sha256').update(ticket).digest('hex');
const setupUrl = (urls: DashboardUrls, ticket: string) => `${urls.publicUrl}/dashboard/setup?ticket=${ticket}`;
const unguessablePassword = () => `Aa1!${randomBytes(24).toString('base64url')}`;

export class TicketRefused extends Error {}

/**
 * What a valid ticket is for: setting the password of `email`, or (no email) signing up the first administrator,
 * who must then also choose a username when the database connection requires one (`usernameRequired`).
 */
export async function ticketPurpose(services: Services, ticket: string | undefined): Promise<{ email?: string; usernameRequired?: boolean }> {
  const body = await readTicket(services, ticket);
  if (!body.user_id) return { usernameRequired: await services.connections.usernameRequired() };
  const user = await services.store.users.findById(body.user_id);
  if (!user) throw new TicketRefused('This link is no longer valid.');
  return { email: user.email };
}

async function readTicket(services: Services, ticket: string | undefined): Promise<TicketBody> {
  if (!ticket || !/^[A-Za-z0-9_-]{43}$/.test(ticket)) throw new TicketRefused('This link is not valid.');
  const raw = await services.store.meta.get(TICKET_PREFIX + hash(ticket));
  if (raw === undefined) throw new TicketRefused('This link is not valid or was already used.');
  const body = JSON.parse(raw) as TicketBody;
  if ((body.exp ?? 0) <= services.clock.now()) throw new TicketRefused('This link has expired. Run `tessera admin create-user --email …` for a new one.');
  return body;
}

/**
 * Uses a ticket once: sets the user's password, or creates the first administrator. The ticket is taken atomically
 * before the change (a concurrent second use finds nothing) and put back when the change is refused (a weak
 * password, an email in use), so a typo does not burn the link.
 */
export async function redeemTicket(services: Services, urls: DashboardUrls, ticket: string | undefined, input: { email?: string; username?: string; password: string }): Promise<User> {
  const body = await readTicket(services, ticket);
  const key = TICKET_PREFIX + hash(ticket as string);
  const raw = await services.store.meta.take(key);
  if (raw === undefined) throw new TicketRefused('This link is not valid or was already used.');
  try {
    if (body.user_id) return await services.users.update(body.user_id, { password: input.password });
    if ((await services.store.meta.get(FIRST_ADMIN_META)) !== undefined) throw new TicketRefused('An administrator already exists. Ask them for access, or run `tessera admin create-user`.');
    if (!input.email) throw new BadRequest('Enter an email address.');
    if (!input.username && await services.connections.usernameRequired()) throw new BadRequest('Enter a username: the database connection requires one.');
    const user = await services.users.create({
      connection: DATABASE_CONNECTION, email: input.email, email_verified: true, password: input.password, ...(input.username && { username: input.username }),
    });
    await makeAdmin(services, urls, user);
    return user;
  } catch (e) {
    if (e instanceof BadRequest || e instanceof Conflict) {
      await services.store.write((tx) => tx.meta.set(key, raw));
    }
    throw e;
  }
}
