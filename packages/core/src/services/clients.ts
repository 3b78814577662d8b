import { BadRequest, NotFound } from '../errors';
import { ids } from '../crypto/random';
import { jwkThumbprint, parsePublicPem } from '../crypto/pem';
import { DEFAULT_GRANT_TYPES, type Client, type ClientCredential } from '../model';
import type { Clock, ClientQuery, Page, Store } from '../ports';
import type { ChangeFeed } from './changes';
import { checkClientUrls } from '../authorize/url-schemes';

export const CLIENT_NOT_FOUND = () => new NotFound('The client does not exist', 'inexistent_client');

export interface CredentialInput { credential_type: 'public_key'; name?: string; pem: string; alg?: ClientCredential['alg']; kid?: string; expires_at?: string }
export type ClientInput = Partial<Omit<Client, 'client_id' | 'credentials' | 'client_authentication_methods'>> & {
  client_authentication_methods?: { private_key_jwt?: { credentials: Array<CredentialInput | { id: string }> } } | null;
  token_endpoint_auth_method?: Client['token_endpoint_auth_method'] | null;
};

/** Nested objects that PATCH merges key by key rather than replacing. */
const MERGED = new Set(['jwt_configuration', 'refresh_token']);
const NULL_CLEARS = new Set(['token_endpoint_auth_method', 'default_organization', 'organization_require_behavior', 'client_authentication_methods', 'description', 'logo_uri', 'initiate_login_uri']);

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
      is_first_party: true,
      is_token_endpoint_ip_header_trusted: false,
      oidc_conformant: false,
      jwt_configuration: { secret_encoded: false, lifetime_in_seconds: 36000 },
      sso_disabled: false,
      cross_origin_authentication: false,
      grant_types: [...DEFAULT_GRANT_TYPES],
      custom_login_page_on: true,
      ...(method && { token_endpoint_auth_method: method }),
      refresh_token: {
        rotation_type: 'non-rotating', expiration_type: 'non-expiring', leeway: 0, token_lifetime: 31557600,
        infinite_token_lifetime: true, infinite_idle_token_lifetime: true, idle_token_lifetime: 2592000,
      },
    };
    if (input.jwt_configuration && input.jwt_configuration.lifetime_in_seconds === undefined && input.jwt_configuration.alg !== undefined) {
      delete c.jwt_configuration.lifetime_in_seconds; // Auth0 echoes lifetime only when sent alongside alg
    }
    await this.apply(c, { ...input, token_endpoint_auth_method: method });
    await this.deps.store.write((tx) => tx.clients.insert(c));
    this.deps.changes.notify();
    return c;
  }

  async update(clientId: string, patch: ClientInput): Promise<Client> {
    const current = await this.get(clientId);
    if (current.global) throw new BadRequest('The global client cannot be modified.', 'operation_not_supported');
    const next = structuredClone(current);
    await this.apply(next, patch);
    await this.deps.store.write((tx) => tx.clients.replace(next));
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
    await this.deps.store.write((tx) => tx.clients.delete(clientId));
    this.deps.changes.notify();
  }

  private async apply(c: Client, patch: ClientInput): Promise<void> {
    checkClientUrls(patch as Record<string, unknown>);
    const target = c as unknown as Record<string, unknown>;
    for (const [key, value] of Object.entries(patch)) {
      if (value === undefined) continue;
      if (value === null) { if (NULL_CLEARS.has(key)) delete target[key]; if (key === 'client_authentication_methods') delete c.credentials; continue; }
      if (key === 'client_authentication_methods') { await this.credentials(c, value as NonNullable<ClientInput['client_authentication_methods']>); continue; }
      if (MERGED.has(key)) { target[key] = { ...(target[key] as object), ...(value as object) }; continue; }
      target[key] = structuredClone(value);
    }
  }

  /** private_key_jwt: new public keys given inline, existing ones referenced by id. */
  private async credentials(c: Client, methods: NonNullable<ClientInput['client_authentication_methods']>): Promise<void> {
    const now = new Date(this.deps.clock.now()).toISOString();
    const kept: ClientCredential[] = [];
    for (const [i, item] of (methods.private_key_jwt?.credentials ?? []).entries()) {
      if ('id' in item && !('pem' in item)) {
        const existing = c.credentials?.find((x) => x.id === item.id);
        if (!existing) throw new BadRequest(`Payload validation error: 'Unknown credential ${item.id}' on property client_authentication_methods.private_key_jwt.credentials[${i}].`);
        kept.push(existing);
        continue;
      }
      const input = item as CredentialInput;
      const key = parsePublicPem(input.pem);
      if (!key || key.asymmetricKeyType !== 'rsa') throw new BadRequest(`Payload validation error: 'Invalid PEM: expected an RSA public key or certificate' on property client_authentication_methods.private_key_jwt.credentials[${i}].pem.`);
      if (input.expires_at !== undefined && Number.isNaN(Date.parse(input.expires_at))) {
        throw new BadRequest(`Payload validation error: 'Object didn't pass validation for format date-time: ${input.expires_at}' on property client_authentication_methods.private_key_jwt.credentials[${i}].expires_at.`);
      }
      const thumbprint = await jwkThumbprint(key);
      kept.push({
        id: ids.credential(), credential_type: 'public_key', pem: input.pem, kid: input.kid ?? thumbprint, thumbprint_sha256: thumbprint,
        created_at: now, updated_at: now,
        ...(input.name !== undefined && { name: input.name }), ...(input.alg !== undefined && { alg: input.alg }),
        ...(input.expires_at !== undefined && { expires_at: input.expires_at }),
      });
    }
    c.credentials = kept;
    c.client_authentication_methods = { private_key_jwt: { credentials: kept.map((k) => ({ id: k.id })) } };
  }
}
