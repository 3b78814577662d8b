import { BadRequest, Conflict, NotFound, UniqueViolation } from '../errors';
import { ids } from '../crypto/random';
import type { KeyObject } from 'node:crypto';
import { encryptionKeyProblem, jwkThumbprint, parsePublicPem } from '../crypto/pem';
import { RESOURCE_SERVER_DEFAULTS, type ResourceServer, type ResourceServerCreate, type ResourceServerPatch, type ScopeDef, type TokenEncryption, type EncryptionKeyInput } from '../model';
import type { Page, ResourceServerQuery, Store } from '../ports';
import type { ChangeFeed } from './changes';
import { pruneGrantScopes } from './client-grants';

export const RS_NOT_FOUND = () => new NotFound('The resource server does not exist', 'inexistent_resource_server');

/** Fields Auth0 lets a caller change on a system API (union of what TF and a0deploy send). */
const SYSTEM_PATCHABLE = new Set([
  'token_lifetime', 'token_lifetime_for_web', 'skip_consent_for_verifiable_first_party_clients',
  'subject_type_authorization', 'authorization_policy', 'proof_of_possession',
]);

/** Keys whose explicit `null` removes the field. */
const NULL_CLEARS = new Set(['consent_policy', 'authorization_details', 'proof_of_possession', 'authorization_policy', 'token_encryption', 'token_lifetime_for_anonymous_access_tokens']);

export interface ResourceServerServiceDeps {
  store: Store;
  changes: ChangeFeed;
  /** Identifiers nobody may register (the Management API audience, /userinfo, …). */
  reservedIdentifiers: string[];
}

export class ResourceServerService {
  constructor(private readonly deps: ResourceServerServiceDeps) {}

  list(q: ResourceServerQuery): Promise<Page<ResourceServer>> {
    return this.deps.store.resourceServers.list(q);
  }

  /**
   * `idOrIdentifier` is the path segment as routing decoded it once: the id, the identifier, or (as go-auth0 and
   * the Terraform provider send it) the identifier URL-encoded twice, which one more decoding yields. Tried in that
   * order, so an identifier that itself contains `%xx` is still reached by its single encoding; nothing is decoded
   * more than once more, and a segment that does not decode is simply not found.
   */
  async get(idOrIdentifier: string): Promise<ResourceServer> {
    const repo = this.deps.store.resourceServers;
    const rs = (await repo.findById(idOrIdentifier)) ?? (await repo.findByIdentifier(idOrIdentifier)) ?? (await this.byEncodedIdentifier(idOrIdentifier));
    if (!rs) throw RS_NOT_FOUND();
    return rs;
  }

  private async byEncodedIdentifier(segment: string): Promise<ResourceServer | undefined> {
    if (!segment.includes('%')) return undefined;
    let decoded: string;
    try { decoded = decodeURIComponent(segment); } catch { return undefined; }
    // eslint-disable-next-line no-control-regex
    if (decoded === segment || /[\u0000-\u001f\u007f]/.test(decoded)) return undefined;
    return decoded === segment ? undefined : this.deps.store.resourceServers.findByIdentifier(decoded);
  }

  async create(input: ResourceServerCreate): Promise<ResourceServer> {
    if (this.deps.reservedIdentifiers.includes(input.identifier)) throw new BadRequest('The selected identifier is reserved.', 'invalid_body');
    const rs: ResourceServer = {
      id: ids.resourceServer(),
      identifier: input.identifier,
      ...RESOURCE_SERVER_DEFAULTS,
      subject_type_authorization: { client: { policy: 'require_client_grant' }, user: { policy: 'allow_all' } },
    };
    const { identifier: _ignored, ...rest } = input;
    await applyPatch(rs, rest);
    finish(rs, rest);
    try {
      await this.deps.store.write((tx) => tx.resourceServers.insert(rs));
    } catch (e) {
      if (e instanceof UniqueViolation) throw new Conflict('A resource server with the same identifier already exists.', 'conflict', e);
      throw e;
    }
    this.deps.changes.notify();
    return rs;
  }

  async update(idOrIdentifier: string, patch: ResourceServerPatch): Promise<ResourceServer> {
    const current = await this.get(idOrIdentifier);
    if (current.is_system) {
      const refused = Object.keys(patch).find((k) => !SYSTEM_PATCHABLE.has(k));
      if (refused) throw new BadRequest(`Payload validation error: 'Additional properties not allowed: ${refused}'.`);
    }
    const next: ResourceServer = structuredClone(current);
    await applyPatch(next, patch);
    finish(next, patch);
    await this.deps.store.write(async (tx) => {
      await tx.resourceServers.replace(next);
      // role and user permissions and client-grant scopes the API no longer defines go with them
      if (patch.scopes) {
        const keep = (next.scopes ?? []).map((s) => s.value);
        await tx.permissions.pruneScopes(next.identifier, keep);
        await pruneGrantScopes(tx, next.identifier, keep);
      }
    });
    this.deps.changes.notify();
    return next;
  }

  async delete(idOrIdentifier: string): Promise<void> {
    const rs = await this.get(idOrIdentifier);
    if (rs.is_system) throw new BadRequest('System resource servers cannot be deleted.', 'operation_not_supported');
    await this.deps.store.write((tx) => tx.resourceServers.delete(rs.id));
    this.deps.changes.notify();
  }

  /** Creates or refreshes a system API (the Management API) with a fixed scope vocabulary. */
  async ensureSystem(identifier: string, name: string, scopes: ScopeDef[]): Promise<ResourceServer> {
    const existing = await this.deps.store.resourceServers.findByIdentifier(identifier);
    if (existing) {
      if (existing.name === name && existing.is_system && JSON.stringify(existing.scopes) === JSON.stringify(scopes)) return existing;
      const next = { ...existing, name, scopes, is_system: true };
      await this.deps.store.write((tx) => tx.resourceServers.replace(next));
      this.deps.changes.notify();
      return next;
    }
    const rs: ResourceServer = {
      id: ids.resourceServer(), name, identifier, allow_offline_access: false,
      skip_consent_for_verifiable_first_party_clients: false,
      subject_type_authorization: { client: { policy: 'require_client_grant' }, user: { policy: 'require_client_grant' } },
      token_lifetime: 86400, token_lifetime_for_web: 7200, signing_alg: 'RS256', scopes, is_system: true,
    };
    await this.deps.store.write((tx) => tx.resourceServers.insert(rs));
    this.deps.changes.notify();
    return rs;
  }
}

/** Merge semantics of PATCH (also used for create on top of the defaults). */
async function applyPatch(rs: ResourceServer, patch: ResourceServerPatch): Promise<void> {
  const target = rs as unknown as Record<string, unknown>;
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    if (value === null) {
      if (NULL_CLEARS.has(key)) delete target[key];
      continue;
    }
    switch (key) {
      case 'scopes': rs.scopes = checkScopes(value as ScopeDef[]); break;
      case 'token_encryption': rs.token_encryption = await encryption(value as TokenEncryption<EncryptionKeyInput>); break;
      case 'subject_type_authorization': rs.subject_type_authorization = { ...rs.subject_type_authorization, ...(value as object) }; break;
      default: target[key] = structuredClone(value);
    }
  }
}

/** Rules that span fields, checked on the merged result. */
function finish(rs: ResourceServer, patch: ResourceServerPatch): void {
  if (patch.token_lifetime != null && patch.token_lifetime_for_web == null && rs.token_lifetime_for_web > rs.token_lifetime) {
    rs.token_lifetime_for_web = rs.token_lifetime; // a shorter token_lifetime pulls the (unsent) web lifetime down with it
  }
  if (rs.token_lifetime_for_web > rs.token_lifetime) {
    throw new BadRequest(`Payload validation error: 'token_lifetime_for_web (${rs.token_lifetime_for_web}) cannot be greater than token_lifetime (${rs.token_lifetime})' on property token_lifetime_for_web.`);
  }
  if (rs.signing_alg === 'HS256' && !rs.signing_secret) rs.signing_secret = ids.signingSecret();
}

function checkScopes(scopes: ScopeDef[]): ScopeDef[] {
  const seen = new Map<string, number>();
  scopes.forEach((s, i) => {
    const prev = seen.get(s.value);
    if (prev !== undefined) throw new BadRequest(`Payload validation error: 'Array items are not unique (indexes ${prev} and ${i})' on property scopes.`);
    seen.set(s.value, i);
  });
  return scopes.map((s) => (s.description === undefined ? { value: s.value } : { value: s.value, description: s.description }));
}

/**
 * Validates a token encryption key (RSA public key or certificate, ≥ 2048 bits, no private key material) and
 * stores its public PEM with the RFC 7638 thumbprint. `algorithm` is accepted for `alg` (Terraform's name).
 */
async function encryption(input: TokenEncryption<EncryptionKeyInput>): Promise<TokenEncryption> {
  const { name, kid, pem, alg: wireAlg, algorithm } = input.encryption_key;
  if (wireAlg !== undefined && algorithm !== undefined && wireAlg !== algorithm) {
    throw new BadRequest(`Payload validation error: 'alg (${wireAlg}) and algorithm (${algorithm}) differ' on property token_encryption.encryption_key.`);
  }
  const alg = wireAlg ?? algorithm;
  if (alg === undefined) throw new BadRequest("Payload validation error: 'Missing required property: alg' on property token_encryption.encryption_key.");
  const problem = encryptionKeyProblem(pem);
  if (problem) throw new BadRequest(`Payload validation error: '${problem}' on property token_encryption.encryption_key.pem.`);
  const key = parsePublicPem(pem) as KeyObject;
  const stored = { alg, pem, thumbprint_sha256: await jwkThumbprint(key), ...(name !== undefined && { name }), ...(kid !== undefined && { kid }) };
  return { format: input.format, encryption_key: stored };
}

/** The wire view: everything stored except the write-only PEM. */
export function resourceServerView(rs: ResourceServer): ResourceServer {
  if (!rs.token_encryption) return rs;
  const { pem: _pem, ...key } = rs.token_encryption.encryption_key;
  return { ...rs, token_encryption: { format: rs.token_encryption.format, encryption_key: key as typeof rs.token_encryption.encryption_key } };
}
