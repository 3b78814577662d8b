/** A tenant described with the Management API's own bodies; applied in order through the API itself. */
export interface TesseraSeed {
  /** POST /api/v2/resource-servers bodies. */
  apis?: Array<{ identifier: string; name?: string; scopes?: Array<{ value: string; description?: string }>; [field: string]: unknown }>;
  /** POST /api/v2/clients bodies; `grants` become client grants (client_credentials) of the new client. */
  clients?: Array<{ name: string; grants?: Array<{ audience: string; scope?: string[] }>; [field: string]: unknown }>;
  /** Roles with their permissions (an API identifier and one of its scopes). */
  roles?: Array<{ name: string; description?: string; permissions?: Array<{ api: string; scope: string }> }>;
  /** Users of the database connection (plain passwords, for tests) and the names of their roles. */
  users?: Array<{ email: string; password: string; roles?: string[]; [field: string]: unknown }>;
  /** Organizations and their members (emails). */
  organizations?: Array<{ name: string; display_name?: string; members?: string[] }>;
}

/** What seeding created, by the names the seed used. */
export interface Seeded {
  clients: Record<string, { client_id: string; client_secret?: string }>;
  users: Record<string, string>;
  roles: Record<string, string>;
  organizations: Record<string, string>;
}

export type ManagementCall = (method: string, path: string, body?: unknown) => Promise<any>;

/** Applies a seed through the Management API (so every rule of the API applies to it, refusals included). */
export async function applySeed(api: ManagementCall, seed: TesseraSeed): Promise<Seeded> {
  const out: Seeded = { clients: {}, users: {}, roles: {}, organizations: {} };
  for (const rs of seed.apis ?? []) await api('POST', '/resource-servers', rs);
  for (const { grants, ...body } of seed.clients ?? []) {
    const c = await api('POST', '/clients', body);
    out.clients[body.name] = { client_id: c.client_id, ...(c.client_secret && { client_secret: c.client_secret }) };
    for (const g of grants ?? []) await api('POST', '/client-grants', { client_id: c.client_id, audience: g.audience, scope: g.scope ?? [] });
  }
  for (const r of seed.roles ?? []) {
    const role = await api('POST', '/roles', { name: r.name, ...(r.description && { description: r.description }) });
    out.roles[r.name] = role.id;
    if (r.permissions?.length) {
      await api('POST', `/roles/${role.id}/permissions`, { permissions: r.permissions.map((p) => ({ resource_server_identifier: p.api, permission_name: p.scope })) });
    }
  }
  for (const { roles, ...u } of seed.users ?? []) {
    const user = await api('POST', '/users', { connection: 'Username-Password-Authentication', ...u });
    out.users[u.email] = user.user_id;
    for (const name of roles ?? []) {
      const id = out.roles[name];
      if (!id) throw new Error(`seed: user ${u.email} has role ${name}, which the seed does not define`);
      await api('POST', `/roles/${id}/users`, { users: [user.user_id] });
    }
  }
  for (const o of seed.organizations ?? []) {
    const org = await api('POST', '/organizations', { name: o.name, ...(o.display_name && { display_name: o.display_name }) });
    out.organizations[o.name] = org.id;
    const members = (o.members ?? []).map((email) => {
      const id = out.users[email];
      if (!id) throw new Error(`seed: organization ${o.name} has member ${email}, who is not a seeded user`);
      return id;
    });
    if (members.length > 0) await api('POST', `/organizations/${org.id}/members`, { members });
  }
  return out;
}
