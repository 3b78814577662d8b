import { BadRequest, NotFound } from '../errors';
import { ids } from '../crypto/random';
import { jwkThumbprint, parsePublicPem } from '../crypto/pem';
import { DEFAULT_GRANT_TYPES, type Client, type ClientCredential } from '../model';
import type { Clock, ClientQuery, Page, Store } from '../ports';
import type { ChangeFeed } from './changes';
import { checkClientUrls } from '../authorize/url-schemes';
import { certificateThumbprint, normalizeDn } from '../token/mtls';
import { X509Certificate } from 'node:crypto';

export const CLIENT_NOT_FOUND = () => new NotFound('The client does not exist', 'inexistent_client');

export interface CredentialInput { credential_type: ClientCredential['credential_type']; name?: string; pem?: string; subject_dn?: string; alg?: ClientCredential['alg']; kid?: string; expires_at?: string }
type CredentialsInput = { credentials: Array<CredentialInput | { id: string }> };
/** The client authentication methods that take registered credentials, and the credential type each takes. */
const CREDENTIAL_METHODS = { private_key_jwt: 'public_key', self_signed_tls_client_auth: 'x509_cert', tls_client_auth: 'cert_subject_dn' } as const;
type CredentialMethod = keyof typeof CREDENTIAL_METHODS;
export type ClientInput = Partial<Omit<Client, 'client_id' | 'credentials' | 'client_authentication_methods'>> & {
  client_authentication_methods?: { [M in CredentialMethod]?: CredentialsInput } | null;
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

  /**
   * private_key_jwt public keys and self_signed_tls_client_auth certificates: new ones given inline, existing
   * ones referenced by id (of the same method). The methods sent replace the client's registered credentials.
   */
  private async credentials(c: Client, methods: NonNullable<ClientInput['client_authentication_methods']>): Promise<void> {
    const now = new Date(this.deps.clock.now()).toISOString();
    const kept: ClientCredential[] = [];
    const out: NonNullable<Client['client_authentication_methods']> = {};
    for (const method of Object.keys(CREDENTIAL_METHODS) as CredentialMethod[]) {
      const items = methods[method]?.credentials;
      if (!items) continue;
      const list: ClientCredential[] = [];
      for (const [i, item] of items.entries()) list.push(await this.credential(c, method, item, `client_authentication_methods.${method}.credentials[${i}]`, now));
      kept.push(...list);
      out[method] = { credentials: list.map((k) => ({ id: k.id })) };
    }
    c.credentials = kept;
    c.client_authentication_methods = Object.keys(out).length > 0 ? out : { private_key_jwt: { credentials: [] } };
  }

  private async credential(c: Client, method: CredentialMethod, item: CredentialInput | { id: string }, at: string, now: string): Promise<ClientCredential> {
    const type = CREDENTIAL_METHODS[method];
    if ('id' in item && !('pem' in item)) {
      const existing = c.credentials?.find((x) => x.id === item.id && x.credential_type === type);
      if (!existing) throw new BadRequest(`Payload validation error: 'Unknown credential ${item.id}' on property ${at}.`);
      return existing;
    }
    const input = item as CredentialInput;
    if (type === 'cert_subject_dn') return { id: ids.credential(), credential_type: type, ...subjectDnOf(input, at), created_at: now, updated_at: now, ...(input.name !== undefined && { name: input.name }) };
    const pem = input.pem ?? '';
    const thumbprint = type === 'x509_cert' ? certificateThumbprintOf(pem, at) : await rsaKeyThumbprint(pem, at);
    if (input.expires_at !== undefined && Number.isNaN(Date.parse(input.expires_at))) {
      throw new BadRequest(`Payload validation error: 'Object didn't pass validation for format date-time: ${input.expires_at}' on property ${at}.expires_at.`);
    }
    return {
      id: ids.credential(), credential_type: type, pem, kid: input.kid ?? thumbprint, thumbprint_sha256: thumbprint,
      created_at: now, updated_at: now,
      ...(input.name !== undefined && { name: input.name }), ...(input.alg !== undefined && { alg: input.alg }),
      ...(input.expires_at !== undefined && { expires_at: input.expires_at }),
    };
  }
}

async function rsaKeyThumbprint(pem: string, at: string): Promise<string> {
  const key = parsePublicPem(pem);
  if (!key || key.asymmetricKeyType !== 'rsa') throw new BadRequest(`Payload validation error: 'Invalid PEM: expected an RSA public key or certificate' on property ${at}.pem.`);
  return jwkThumbprint(key);
}

/** RFC 8705 §2.2: a self-signed certificate is matched by its x5t#S256. */
function certificateThumbprintOf(pem: string, at: string): string {
  let der: Buffer;
  try { der = new X509Certificate(pem).raw; } catch { throw new BadRequest(`Payload validation error: 'Invalid PEM: expected an X509 certificate' on property ${at}.pem.`); }
  return certificateThumbprint({ der });
}

/** RFC 8705 §2.1 tls_client_auth: the subject DN given, or read from a CA-issued certificate (one of the two). */
function subjectDnOf(input: CredentialInput, at: string): { subject_dn: string; pem?: string } {
  if ((input.pem === undefined) === (input.subject_dn === undefined)) {
    throw new BadRequest(`Payload validation error: 'Exactly one of pem and subject_dn is required' on property ${at}.`);
  }
  if (input.subject_dn !== undefined) {
    if (!normalizeDn(input.subject_dn)) throw new BadRequest(`Payload validation error: 'Invalid subject DN' on property ${at}.subject_dn.`);
    return { subject_dn: input.subject_dn };
  }
  try { return { subject_dn: new X509Certificate(input.pem!).subject, pem: input.pem }; } catch {
    throw new BadRequest(`Payload validation error: 'Invalid PEM: expected an X509 certificate' on property ${at}.pem.`);
  }
}
