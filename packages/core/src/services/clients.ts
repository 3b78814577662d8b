import { BadRequest, Conflict, NotFound } from '../errors';
import { ids } from '../crypto/random';
import { CLIENT_DEFAULTS, CREDENTIAL_METHODS, DEFAULT_GRANT_TYPES, type Client, type ClientCredential, type CredentialMethod } from '../model';
import type { Clock, ClientQuery, Page, Store } from '../ports';
import type { ChangeFeed } from './changes';
import { checkClientUrls } from '../authorize/url-schemes';
import { buildCredential, MAX_CREDENTIALS_PER_CLIENT, tooMany, type CredentialInput } from './client-credentials';

export const CLIENT_NOT_FOUND = () => new NotFound('The client does not exist', 'inexistent_client');

type CredentialsInput = { credentials: Array<CredentialInput | { id: string }> };
export type ClientInput = Partial<Omit<Client, 'client_id' | 'credentials' | 'client_authentication_methods'>> & {
  client_authentication_methods?: { [M in CredentialMethod]?: CredentialsInput } | null;
  token_endpoint_auth_method?: Client['token_endpoint_auth_method'] | null;
};

/**
 * Refresh-token settings of new clients. Browser and native applications (public clients) get rotating, expiring
 * tokens (RFC 9700 §4.14; Auth0's values for new SPAs: 30 days absolute, 15 days idle); confidential
 * applications get Auth0's long-standing non-rotating, non-expiring default.
 */
export const PUBLIC_REFRESH_DEFAULTS = {
  rotation_type: 'rotating', expiration_type: 'expiring', leeway: 0, token_lifetime: 2592000,
  infinite_token_lifetime: false, idle_token_lifetime: 1296000, infinite_idle_token_lifetime: false,
} as const;
export const CONFIDENTIAL_REFRESH_DEFAULTS = {
  rotation_type: 'non-rotating', expiration_type: 'non-expiring', leeway: 0, token_lifetime: 31557600,
  infinite_token_lifetime: true, infinite_idle_token_lifetime: true, idle_token_lifetime: 2592000,
} as const;

/** An idle lifetime longer than the absolute one could never apply: refused, as Auth0 does. */
function checkRefreshLifetimes(cfg: Record<string, unknown>): void {
  const { token_lifetime: abs, idle_token_lifetime: idle } = cfg as { token_lifetime?: number; idle_token_lifetime?: number };
  if (cfg.expiration_type !== 'expiring' || cfg.infinite_token_lifetime === true || cfg.infinite_idle_token_lifetime === true) return;
  if (abs !== undefined && idle !== undefined && idle > abs) {
    throw new BadRequest(`Payload validation error: 'idle_token_lifetime (${idle}) must not be greater than token_lifetime (${abs})' on property refresh_token.`);
  }
}

/** Nested objects that PATCH merges key by key rather than replacing. */
const MERGED = new Set(['jwt_configuration', 'refresh_token']);
const NULL_CLEARS = new Set([
  'token_quota', 'tessera_token_reuse',
  'token_endpoint_auth_method', 'default_organization', 'organization_require_behavior', 'client_authentication_methods', 'description', 'logo_uri',
  'initiate_login_uri', 'token_exchange', 'skip_non_verifiable_callback_uri_confirmation_prompt',
]);
const RS_LINK = 'resource_server_identifier';

export class ClientService {
  constructor(private readonly deps: { store: Store; changes: ChangeFeed; clock: Clock }) {}

  list(q: ClientQuery): Promise<Page<Client>> { return this.deps.store.clients.list(q); }

  async get(clientId: string): Promise<Client> {
    const c = await this.deps.store.clients.findById(clientId);
    if (!c) throw CLIENT_NOT_FOUND();
    return c;
  }

  async create(input: ClientInput & { name: string }, fixed?: { client_id?: string; client_secret?: string }): Promise<Client> {
    const appType = input.app_type;
    // private_key_jwt clients carry no token_endpoint_auth_method (Auth0 treats the two as alternatives)
    const sent = input.token_endpoint_auth_method as Client['token_endpoint_auth_method'] | null | undefined;
    const method = sent === null || (sent === undefined && input.client_authentication_methods)
      ? undefined
      : sent ?? (appType === 'spa' || appType === 'native' ? 'none' : 'client_secret_post');
    const c: Client = {
      client_id: fixed?.client_id ?? ids.client(),
      name: input.name,
      client_secret: fixed?.client_secret ?? ids.clientSecret(),
      ...CLIENT_DEFAULTS,
      jwt_configuration: { secret_encoded: false, lifetime_in_seconds: 36000 },
      grant_types: [...DEFAULT_GRANT_TYPES],
      ...(method && { token_endpoint_auth_method: method }),
      refresh_token: appType === 'spa' || appType === 'native' ? { ...PUBLIC_REFRESH_DEFAULTS } : { ...CONFIDENTIAL_REFRESH_DEFAULTS },
    };
    if (input.jwt_configuration && input.jwt_configuration.lifetime_in_seconds === undefined && input.jwt_configuration.alg !== undefined) {
      delete c.jwt_configuration.lifetime_in_seconds; // Auth0 echoes lifetime only when sent alongside alg
    }
    const { resource_server_identifier: linked, ...body } = input;
    const added = await this.apply(c, { ...body, token_endpoint_auth_method: method });
    if (linked !== undefined && appType !== 'resource_server') {
      throw new BadRequest(`Payload validation error: '${RS_LINK} is only allowed with app_type resource_server' on property ${RS_LINK}.`);
    }
    await this.deps.store.write(async (tx) => {
      if (linked !== undefined) {
        // the API's read-only client_id names this client; one client per API
        const api = await tx.resourceServers.findByIdentifier(linked);
        if (!api || api.is_system) throw new NotFound(`No resource with identifier ${linked}`, 'inexistent_resource_server');
        if (api.client_id) throw new Conflict(`The resource server ${linked} is already linked to client ${api.client_id}.`, 'conflict');
        c.resource_server_identifier = linked;
        await tx.resourceServers.replace({ ...api, client_id: c.client_id });
      }
      await tx.clients.insert(c);
      for (const cred of added) await tx.clients.insertCredential(c.client_id, cred);
    });
    this.deps.changes.notify();
    return c;
  }

  async update(clientId: string, patch: ClientInput): Promise<Client> {
    const current = await this.get(clientId);
    if (current.global) throw new BadRequest('The global client cannot be modified.', 'operation_not_supported');
    const next = structuredClone(current);
    const added = await this.apply(next, patch);
    if (current.resource_server_identifier !== undefined && next.app_type !== 'resource_server') {
      throw new BadRequest(`Payload validation error: 'app_type of a client linked to a resource server must stay resource_server' on property app_type.`);
    }
    await this.deps.store.write(async (tx) => {
      await tx.clients.replace(next);
      for (const cred of added) await tx.clients.insertCredential(next.client_id, cred);
    });
    this.deps.changes.notify();
    return next;
  }

  async rotateSecret(clientId: string): Promise<Client> {
    const current = await this.get(clientId);
    const next = { ...current, client_secret: ids.clientSecret() };
    await this.deps.store.write((tx) => tx.clients.replace(next));
    this.deps.changes.notify();
    return next;
  }

  async delete(clientId: string): Promise<void> {
    const c = await this.get(clientId);
    if (c.global) throw new BadRequest('Global client cannot be deleted.', 'operation_not_supported');
    await this.deps.store.write(async (tx) => {
      await tx.clients.delete(clientId);
      const api = c.resource_server_identifier === undefined ? undefined : await tx.resourceServers.findByIdentifier(c.resource_server_identifier);
      if (api?.client_id === clientId) {
        const { client_id: _gone, ...rest } = api;
        await tx.resourceServers.replace(rest);
      }
    });
    this.deps.changes.notify();
  }

  /** Applies a body to the client; returns the credentials it created inline (to be stored with the client). */
  private async apply(c: Client, patch: ClientInput): Promise<ClientCredential[]> {
    checkClientUrls(patch as Record<string, unknown>);
    const target = c as unknown as Record<string, unknown>;
    let added: ClientCredential[] = [];
    for (const [key, value] of Object.entries(patch)) {
      if (value === undefined) continue;
      if (value === null) { if (NULL_CLEARS.has(key)) delete target[key]; continue; }
      if (key === 'client_authentication_methods') { added = await this.methods(c, value as NonNullable<ClientInput['client_authentication_methods']>); continue; }
      if (MERGED.has(key)) { target[key] = { ...(target[key] as object), ...(value as object) }; continue; }
      target[key] = structuredClone(value);
    }
    checkRefreshLifetimes(c.refresh_token);
    return added;
  }

  /**
   * `client_authentication_methods`: each method lists credentials of its type, existing ones by id or new ones in
   * full (created as credentials of the client, as Auth0 does on create). The methods sent replace the client's
   * methods; credentials no longer referred to stay (unused) until deleted through the credentials API.
   */
  private async methods(c: Client, methods: NonNullable<ClientInput['client_authentication_methods']>): Promise<ClientCredential[]> {
    const now = this.deps.clock.now();
    const added: ClientCredential[] = [];
    const out: NonNullable<Client['client_authentication_methods']> = {};
    for (const method of Object.keys(CREDENTIAL_METHODS) as CredentialMethod[]) {
      const items = methods[method]?.credentials;
      if (!items) continue;
      const refs: Array<{ id: string }> = [];
      for (const [i, item] of items.entries()) {
        const at = `client_authentication_methods.${method}.credentials[${i}]`;
        let id: string;
        if ('id' in item && !('credential_type' in item)) {
          const type = CREDENTIAL_METHODS[method];
          const existing = c.credentials?.find((x) => x.id === item.id);
          if (!existing) throw new BadRequest(`Payload validation error: 'Unknown credential ${item.id}' on property ${at}.`);
          if (existing.credential_type !== type) throw new BadRequest(`Payload validation error: 'Credential ${item.id} is a ${existing.credential_type} credential; ${method} takes ${type}' on property ${at}.`);
          id = existing.id;
        } else {
          const cred = await buildCredential({ ...(item as CredentialInput), credential_type: CREDENTIAL_METHODS[method] }, at, now);
          added.push(cred);
          id = cred.id;
        }
        if (refs.some((r) => r.id === id)) throw new BadRequest(`Payload validation error: 'Duplicate credential ${id}' on property ${at}.`);
        refs.push({ id });
      }
      out[method] = { credentials: refs };
    }
    if ((c.credentials?.length ?? 0) + added.length > MAX_CREDENTIALS_PER_CLIENT && added.length > 0) throw tooMany();
    c.credentials = [...(c.credentials ?? []), ...added];
    c.client_authentication_methods = Object.keys(out).length > 0 ? out : { private_key_jwt: { credentials: [] } };
    return added;
  }
}
