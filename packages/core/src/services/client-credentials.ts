import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { BadRequest, NotFound } from '../errors';
import { ids } from '../crypto/random';
import { jwkThumbprint, parsePublicPem } from '../crypto/pem';
import { CREDENTIAL_METHODS, SAN_FIELDS, type Client, type ClientCredential, type CredentialMethod, type SanField } from '../model';
import type { Clock, Store } from '../ports';
import type { ChangeFeed } from './changes';
import { certificateThumbprint, normalizeDn, normalizeSan } from '../token/mtls';

/** Auth0 keeps at most two credentials per application ("delete unused credentials to rotate again"). */
export const MAX_CREDENTIALS_PER_CLIENT = 2;

export const CREDENTIAL_NOT_FOUND = () => new NotFound('The credential does not exist', 'inexistent_credential');

/** What `POST /clients/{id}/credentials` and an inline credential of a client body may carry. */
export interface CredentialInput {
  credential_type: ClientCredential['credential_type'];
  name?: string;
  pem?: string;
  subject_dn?: string;
  tls_client_auth_san_dns?: string;
  tls_client_auth_san_uri?: string;
  tls_client_auth_san_ip?: string;
  tls_client_auth_san_email?: string;
  alg?: ClientCredential['alg'];
  kid?: string;
  parse_expiry_from_cert?: boolean;
  expires_at?: string;
}

const invalid = (message: string, at: string, field?: string) => {
  const property = [at, field].filter(Boolean).join('.');
  return new BadRequest(`Payload validation error: '${message}'${property ? ` on property ${property}` : ''}.`);
};

/** Fields that only some credential types take; sending one to another type is refused, never ignored. */
const ONLY_FOR: Record<string, ReadonlyArray<ClientCredential['credential_type']>> = {
  alg: ['public_key'], kid: ['public_key'], parse_expiry_from_cert: ['public_key'],
  subject_dn: ['cert_subject_dn'], ...Object.fromEntries(Object.keys(SAN_FIELDS).map((f) => [f, ['cert_subject_dn']])),
};

/**
 * Validates a credential and builds it: `public_key` takes an RSA public key or certificate (never a private key);
 * `x509_cert` a certificate (its expiry bounds the credential's); `cert_subject_dn` exactly one of `pem` (its subject
 * DN is kept), `subject_dn` or one RFC 8705 §2.1.2 subject alternative name. `at` names the property in errors.
 */
export async function buildCredential(input: CredentialInput, at: string, now: number): Promise<ClientCredential> {
  const type = input.credential_type;
  for (const [field, types] of Object.entries(ONLY_FOR)) {
    if ((input as unknown as Record<string, unknown>)[field] !== undefined && !types.includes(type)) {
      throw invalid(`${field} does not apply to credential_type ${type}`, at, field);
    }
  }
  if (input.pem !== undefined && /PRIVATE KEY-----/.test(input.pem)) {
    throw invalid('Invalid PEM: private keys are not accepted; send the public key or the certificate', at, 'pem');
  }
  if (input.parse_expiry_from_cert && input.expires_at !== undefined) {
    throw invalid('parse_expiry_from_cert and expires_at are mutually exclusive', at);
  }
  const iso = new Date(now).toISOString();
  const base = { id: ids.credential(), credential_type: type, name: input.name ?? '', created_at: iso, updated_at: iso };
  const expiresAt = input.expires_at === undefined ? undefined : dateTime(input.expires_at, at);
  if (type === 'public_key') {
    const pem = input.pem ?? '';
    const key = parsePublicPem(pem);
    if (!key || key.asymmetricKeyType !== 'rsa') throw invalid('Invalid PEM: expected an RSA public key or certificate', at, 'pem');
    const cert = pem.includes('CERTIFICATE') ? new X509Certificate(pem) : undefined;
    if (input.parse_expiry_from_cert && !cert) throw invalid('parse_expiry_from_cert needs an X509 certificate in pem', at, 'pem');
    const jkt = await jwkThumbprint(key);
    const expires = input.parse_expiry_from_cert && cert ? notAfter(cert) : expiresAt;
    return {
      ...base, pem, alg: input.alg ?? 'RS256', kid: input.kid ?? jkt,
      thumbprint_sha256: cert ? certificateThumbprint({ der: cert.raw }) : jkt,
      ...(cert && { subject_dn: cert.subject }), ...(expires !== undefined && { expires_at: expires }),
    };
  }
  if (type === 'x509_cert') {
    const cert = certificateOf(input.pem, at);
    return {
      ...base, pem: input.pem, subject_dn: cert.subject, thumbprint_sha256: certificateThumbprint({ der: cert.raw }),
      expires_at: earliest(expiresAt, notAfter(cert)),
    };
  }
  const forms = ['pem', 'subject_dn', ...Object.keys(SAN_FIELDS)].filter((f) => (input as unknown as Record<string, unknown>)[f] !== undefined);
  if (forms.length !== 1) {
    throw invalid('Exactly one of pem, subject_dn, tls_client_auth_san_dns, tls_client_auth_san_uri, tls_client_auth_san_ip and tls_client_auth_san_email is required', at);
  }
  const form = forms[0];
  const expiry = expiresAt !== undefined ? { expires_at: expiresAt } : {};
  if (form === 'pem') {
    const cert = certificateOf(input.pem, at);
    return { ...base, subject_dn: cert.subject, thumbprint_sha256: certificateThumbprint({ der: cert.raw }), ...expiry };
  }
  if (form === 'subject_dn') {
    if (!normalizeDn(input.subject_dn!)) throw invalid('Invalid subject DN', at, 'subject_dn');
    return { ...base, subject_dn: input.subject_dn, ...expiry };
  }
  const field = form as SanField;
  const value = (input as unknown as Record<string, string>)[field];
  if (!validSan(SAN_FIELDS[field], value)) throw invalid(`Invalid ${SAN_FIELDS[field]} subject alternative name`, at, field);
  return { ...base, [field]: value, ...expiry };
}

function certificateOf(pem: string | undefined, at: string): X509Certificate {
  try { return new X509Certificate(pem ?? ''); } catch { throw invalid('Invalid PEM: expected an X509 certificate', at, 'pem'); }
}

function dateTime(value: string, at: string): string {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw invalid(`Object didn't pass validation for format date-time: ${value}`, at, 'expires_at');
  return new Date(ms).toISOString();
}

/** The certificate's notAfter (validToDate is not in Node 20). */
const notAfter = (cert: X509Certificate): string => new Date(cert.validTo).toISOString();

const earliest = (a: string | undefined, b: string) => (a !== undefined && Date.parse(a) < Date.parse(b) ? a : b);

function validSan(type: string, value: string): boolean {
  if (value.length === 0 || value.length > 2048 || /\s/.test(value)) return false;
  switch (type) {
    case 'dns': return /^(?=.{1,253}$)([A-Za-z0-9*]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/.test(value);
    case 'ip': return isIP(value) !== 0;
    case 'email': return /^[^@]+@[^@]+$/.test(value);
    case 'uri': try { new URL(value); return /^[A-Za-z][A-Za-z0-9+.-]*:/.test(value); } catch { return false; }
    default: return normalizeSan(type, value) !== undefined;
  }
}

/** The methods of `client_authentication_methods` that refer to a credential. */
export function methodsUsing(client: Client, credentialId: string): CredentialMethod[] {
  const methods = client.client_authentication_methods ?? {};
  return (Object.keys(CREDENTIAL_METHODS) as CredentialMethod[]).filter((m) => methods[m]?.credentials.some((c) => c.id === credentialId));
}

/**
 * /api/v2/clients/{id}/credentials: credentials live apart from the client and are used only once the client's
 * `client_authentication_methods` refers to them; one still referred to cannot be deleted.
 */
export class ClientCredentialService {
  constructor(private readonly deps: { store: Store; changes: ChangeFeed; clock: Clock }) {}

  private async client(clientId: string): Promise<Client> {
    const c = await this.deps.store.clients.findById(clientId);
    if (!c) throw new NotFound('The client does not exist', 'inexistent_client');
    return c;
  }

  async list(clientId: string): Promise<ClientCredential[]> {
    return (await this.client(clientId)).credentials ?? [];
  }

  async get(clientId: string, credentialId: string): Promise<ClientCredential> {
    const found = (await this.list(clientId)).find((c) => c.id === credentialId);
    if (!found) throw CREDENTIAL_NOT_FOUND();
    return found;
  }

  async create(clientId: string, input: CredentialInput): Promise<ClientCredential> {
    const c = await this.client(clientId);
    if (c.global) throw new BadRequest('The global client cannot be modified.', 'operation_not_supported');
    if ((c.credentials?.length ?? 0) >= MAX_CREDENTIALS_PER_CLIENT) throw tooMany();
    const cred = await buildCredential(input, '', this.deps.clock.now());
    await this.deps.store.write((tx) => tx.clients.insertCredential(clientId, cred));
    this.deps.changes.notify();
    return cred;
  }

  /** Only `expires_at` changes (null removes it); an x509_cert credential never outlives its certificate. */
  async update(clientId: string, credentialId: string, patch: { expires_at?: string | null }): Promise<ClientCredential> {
    const current = await this.get(clientId, credentialId);
    if (patch.expires_at === undefined) return current;
    const next: ClientCredential = { ...current, updated_at: new Date(this.deps.clock.now()).toISOString() };
    const certEnd = current.credential_type === 'x509_cert' && current.pem ? notAfter(new X509Certificate(current.pem)) : undefined;
    const requested = patch.expires_at === null ? undefined : dateTime(patch.expires_at, '');
    const expires = certEnd === undefined ? requested : earliest(requested, certEnd);
    if (expires === undefined) delete next.expires_at; else next.expires_at = expires;
    await this.deps.store.write((tx) => tx.clients.replaceCredential(clientId, next));
    this.deps.changes.notify();
    return next;
  }

  async delete(clientId: string, credentialId: string): Promise<void> {
    const c = await this.client(clientId);
    if (!c.credentials?.some((x) => x.id === credentialId)) throw CREDENTIAL_NOT_FOUND();
    const using = methodsUsing(c, credentialId);
    if (using.length > 0) {
      throw new BadRequest(`The credential is in use by the client authentication method ${using.join(', ')}; remove it from client_authentication_methods first.`, 'credential_in_use');
    }
    await this.deps.store.write((tx) => tx.clients.deleteCredential(clientId, credentialId));
    this.deps.changes.notify();
  }
}

export const tooMany = () => new BadRequest(`A client can have at most ${MAX_CREDENTIALS_PER_CLIENT} credentials; delete an unused credential first.`, 'too_many_credentials');
