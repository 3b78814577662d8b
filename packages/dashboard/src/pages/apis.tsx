import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState, type FormEvent } from 'react';
import { clientCredentialsToken, decodeJwt, numberOrText, randomSecret } from '../api';
import type { DashboardConfig } from '../main';
import { Link, useRouter } from '../router';
import { Check, Confirm, Copyable, CreateCard, DataTable, ErrorMessage, Field, fieldError, formError, ListPage, Loading, PageHeader, Switch, Tabs, useApi, useCreate } from '../ui';

export interface Scope { value: string; description?: string }
export interface ResourceServer {
  id: string; name?: string; identifier: string; is_system?: boolean; signing_alg: string; signing_secret?: string;
  token_lifetime: number; token_lifetime_for_web: number; allow_offline_access: boolean; skip_consent_for_verifiable_first_party_clients: boolean;
  enforce_policies?: boolean; token_dialect?: string; scopes?: Scope[]; consent_policy?: string | null;
  subject_type_authorization?: { user?: { policy?: string }; client?: { policy?: string }; anonymous_user?: { policy?: string } };
  allow_online_access?: boolean; allow_online_access_with_ephemeral_sessions?: boolean; token_lifetime_for_anonymous_access_tokens?: number;
  authorization_policy?: { policy_id: string } | null; verification_location?: string;
  proof_of_possession?: { mechanism: string; required: boolean; required_for?: string } | null;
  token_encryption?: { format: string; encryption_key: { name?: string; alg: string; kid?: string; thumbprint_sha256?: string } } | null;
  authorization_details?: Array<{ type: string }> | null;
}
export interface Client { client_id: string; name: string; app_type?: string; grant_types?: string[]; global?: boolean; client_secret?: string; token_endpoint_auth_method?: string }
export interface ClientGrant { id: string; client_id: string; audience: string; scope?: string[]; allow_all_scopes?: boolean; subject_type?: string }

export const useResourceServers = () => {
  const api = useApi();
  return useQuery({ queryKey: ['resource-servers'], queryFn: () => api.get<ResourceServer[]>('/resource-servers?per_page=100') });
};

export function ApiList() {
  const { data, error, isLoading } = useResourceServers();
  return (
    <ListPage title="APIs" subtitle="Define APIs that you can consume from your authorized applications." createLabel="+ Create API" create={(close) => <CreateApi onCancel={close} />}>
      <DataTable caption="APIs" columns={['Name', 'API Audience', 'Type']} rows={data} rowKey={(rs) => rs.id} empty="No APIs yet." loading={isLoading} error={error}
        row={(rs) => <>
          <td><Link to={`/apis/${rs.id}/quickstart`}>{rs.name ?? rs.identifier}</Link></td>
          <td><code>{rs.identifier}</code></td>
          <td>{rs.is_system ? <span className="badge">System API</span> : <span className="badge custom">Custom API</span>}</td>
        </>} />
    </ListPage>
  );
}

function CreateApi({ onCancel }: { onCancel: () => void }) {
  const api = useApi();
  const [name, setName] = useState('');
  const [identifier, setIdentifier] = useState('');
  const [alg, setAlg] = useState('RS256');
  const create = useCreate('resource-servers', () => api.post<ResourceServer>('/resource-servers', { name, identifier, signing_alg: alg }), (rs) => `/apis/${rs.id}/quickstart`);
  return (
    <CreateCard title="New API" error={create.error} fields={['name', 'identifier', 'signing_alg']} busy={create.isPending} onSubmit={() => create.mutate()} onCancel={onCancel}>
      <Field label="Name" hint="A friendly name for the API." error={fieldError(create.error, 'name')}>
        {(p) => <input {...p} value={name} onChange={(e) => setName(e.target.value)} />}
      </Field>
      <Field label="Identifier" hint="A logical identifier, used as the audience parameter on authorization calls. It cannot be changed later." error={fieldError(create.error, 'identifier')}>
        {(p) => <input {...p} value={identifier} placeholder="https://api.example.com" onChange={(e) => setIdentifier(e.target.value)} />}
      </Field>
      <Field label="JSON Web Token (JWT) Signing Algorithm" error={fieldError(create.error, 'signing_alg')}>
        {(p) => <select {...p} value={alg} onChange={(e) => setAlg(e.target.value)}>{['RS256', 'PS256', 'RS512', 'HS256'].map((a) => <option key={a}>{a}</option>)}</select>}
      </Field>
    </CreateCard>
  );
}

const TABS = [
  { id: 'quickstart', label: 'Quick Start' }, { id: 'settings', label: 'Settings' }, { id: 'permissions', label: 'Permissions' },
  { id: 'm2m', label: 'Machine to Machine Applications' }, { id: 'test', label: 'Test' },
];

export function ApiDetail({ id, tab, config }: { id: string; tab: string; config: DashboardConfig }) {
  const api = useApi();
  const { navigate } = useRouter();
  const { data: rs, error, isLoading } = useQuery({ queryKey: ['resource-server', id], queryFn: () => api.get<ResourceServer>(`/resource-servers/${encodeURIComponent(id)}`) });
  if (isLoading) return <Loading />;
  if (!rs) return <ErrorMessage error={error} />;
  return (
    <>
      <p><Link to="/apis">← Back to APIs</Link></p>
      <PageHeader title={rs.name ?? rs.identifier} subtitle={<>API Audience: <code>{rs.identifier}</code>{rs.is_system ? ' · System API' : ''}</>} />
      <Tabs label="API sections" tabs={TABS} current={tab} onSelect={(t) => navigate(`/apis/${id}/${t}`)} />
      <section role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`} className="panel">
        {tab === 'settings' && <ApiSettings rs={rs} />}
        {tab === 'permissions' && <ApiPermissions rs={rs} />}
        {tab === 'm2m' && <MachineToMachine rs={rs} />}
        {tab === 'test' && <TestTab rs={rs} />}
        {tab === 'quickstart' && <QuickStart rs={rs} config={config} />}
      </section>
    </>
  );
}

// ---------- Settings ----------

interface SettingsForm {
  name: string; token_lifetime: string; token_lifetime_for_web: string; signing_alg: string; token_dialect: string; enforce_policies: boolean;
  allow_offline_access: boolean; skip_consent_for_verifiable_first_party_clients: boolean; consent_policy: string;
  user_policy: string; client_policy: string; pop: string; pop_required: boolean; pop_required_for: string; rar_types: string;
  enc_name: string; enc_alg: string; enc_kid: string; enc_pem: string;
  allow_online_access: boolean; allow_online_access_with_ephemeral_sessions: boolean; anon_lifetime: string; anon_policy: string; policy_id: string; verification_location: string;
}

const formOf = (rs: ResourceServer): SettingsForm => ({
  name: rs.name ?? '', token_lifetime: String(rs.token_lifetime), token_lifetime_for_web: String(rs.token_lifetime_for_web), signing_alg: rs.signing_alg,
  token_dialect: rs.token_dialect ?? 'access_token', enforce_policies: rs.enforce_policies ?? false, allow_offline_access: rs.allow_offline_access,
  skip_consent_for_verifiable_first_party_clients: rs.skip_consent_for_verifiable_first_party_clients, consent_policy: rs.consent_policy ?? '',
  user_policy: rs.subject_type_authorization?.user?.policy ?? 'allow_all', client_policy: rs.subject_type_authorization?.client?.policy ?? 'require_client_grant',
  pop: rs.proof_of_possession?.mechanism ?? '', pop_required: rs.proof_of_possession?.required ?? false, pop_required_for: rs.proof_of_possession?.required_for ?? 'all_clients',
  rar_types: (rs.authorization_details ?? []).map((d) => d.type).join('\n'), enc_name: '', enc_alg: 'RSA-OAEP-256', enc_kid: '', enc_pem: '',
  allow_online_access: rs.allow_online_access ?? false, allow_online_access_with_ephemeral_sessions: rs.allow_online_access_with_ephemeral_sessions ?? false,
  anon_lifetime: rs.token_lifetime_for_anonymous_access_tokens === undefined ? '' : String(rs.token_lifetime_for_anonymous_access_tokens),
  anon_policy: rs.subject_type_authorization?.anonymous_user?.policy ?? '', policy_id: rs.authorization_policy?.policy_id ?? '', verification_location: rs.verification_location ?? '',
});

const num = numberOrText;

/** The PATCH body: only what changed. */
function patchOf(rs: ResourceServer, f: SettingsForm): Record<string, unknown> {
  const before = formOf(rs);
  const body: Record<string, unknown> = {};
  if (f.name !== before.name) body.name = f.name;
  if (f.token_lifetime !== before.token_lifetime) body.token_lifetime = num(f.token_lifetime);
  if (f.token_lifetime_for_web !== before.token_lifetime_for_web) body.token_lifetime_for_web = num(f.token_lifetime_for_web);
  for (const k of ['signing_alg', 'token_dialect', 'enforce_policies', 'allow_offline_access', 'skip_consent_for_verifiable_first_party_clients',
    'allow_online_access', 'allow_online_access_with_ephemeral_sessions', 'verification_location'] as const) {
    if (f[k] !== before[k]) body[k] = f[k];
  }
  if (f.consent_policy !== before.consent_policy) body.consent_policy = f.consent_policy || null;
  // the server merges subject_type_authorization by subject: only the subjects changed are sent
  const subjects: Record<string, unknown> = {};
  if (f.user_policy !== before.user_policy) subjects.user = { policy: f.user_policy };
  if (f.client_policy !== before.client_policy) subjects.client = { policy: f.client_policy };
  if (f.anon_policy !== before.anon_policy) subjects.anonymous_user = f.anon_policy ? { policy: f.anon_policy } : {};
  if (Object.keys(subjects).length) body.subject_type_authorization = subjects;
  if (f.anon_lifetime !== before.anon_lifetime) body.token_lifetime_for_anonymous_access_tokens = f.anon_lifetime.trim() ? num(f.anon_lifetime) : null;
  if (f.policy_id !== before.policy_id) body.authorization_policy = f.policy_id ? { policy_id: f.policy_id } : null;
  if (f.pop !== before.pop || f.pop_required !== before.pop_required || f.pop_required_for !== before.pop_required_for) {
    body.proof_of_possession = f.pop ? { mechanism: f.pop, required: f.pop_required, ...(f.pop_required ? { required_for: f.pop_required_for } : {}) } : null;
  }
  if (f.rar_types !== before.rar_types) {
    const types = f.rar_types.split(/\s*[\n,]\s*/).map((t) => t.trim()).filter(Boolean);
    body.authorization_details = types.length ? types.map((type) => ({ type })) : null;
  }
  if (f.enc_pem.trim()) {
    body.token_encryption = { format: 'compact-nested-jwe', encryption_key: { ...(f.enc_name ? { name: f.enc_name } : {}), alg: f.enc_alg, ...(f.enc_kid ? { kid: f.enc_kid } : {}), pem: f.enc_pem } };
  }
  return body;
}

function ApiSettings({ rs }: { rs: ResourceServer }) {
  const api = useApi();
  const queries = useQueryClient();
  const [f, setF] = useState<SettingsForm>(() => formOf(rs));
  const [saved, setSaved] = useState(false);
  const [confirm, setConfirm] = useState<'' | 'rotate' | 'delete' | 'unencrypt'>('');
  const [revealed, setRevealed] = useState(false);
  const { navigate } = useRouter();
  useEffect(() => setF(formOf(rs)), [rs]);
  const set = <K extends keyof SettingsForm>(k: K) => (v: SettingsForm[K]) => { setF((x) => ({ ...x, [k]: v })); setSaved(false); };
  const refresh = (next: ResourceServer) => { queries.setQueryData(['resource-server', rs.id], next); void queries.invalidateQueries({ queryKey: ['resource-servers'] }); };
  const save = useMutation({
    mutationFn: (body: Record<string, unknown>) => api.patch<ResourceServer>(`/resource-servers/${rs.id}`, body),
    onSuccess: (next) => { refresh(next); setSaved(true); },
  });
  const special = useMutation({
    mutationFn: (body: Record<string, unknown>) => api.patch<ResourceServer>(`/resource-servers/${rs.id}`, body),
    onSuccess: (next) => { refresh(next); setConfirm(''); },
  });
  const remove = useMutation({
    mutationFn: () => api.del(`/resource-servers/${rs.id}`),
    onSuccess: () => { void queries.invalidateQueries({ queryKey: ['resource-servers'] }); navigate('/apis'); },
  });
  const fields = ['name', 'token_lifetime', 'token_lifetime_for_web', 'signing_alg', 'token_dialect', 'enforce_policies', 'allow_offline_access',
    'skip_consent_for_verifiable_first_party_clients', 'consent_policy', 'subject_type_authorization', 'proof_of_possession', 'authorization_details', 'token_encryption',
    'token_lifetime_for_anonymous_access_tokens', 'authorization_policy', 'verification_location'];
  const err = (k: string) => fieldError(save.error, k);
  const submit = (e: FormEvent) => { e.preventDefault(); save.mutate(patchOf(rs, f)); };
  const system = rs.is_system === true;
  return (
    <form onSubmit={submit} noValidate className="settings">
      {system && <p className="notice">The Management API is a system API: only its token lifetimes can be changed here.</p>}
      <h2>General Settings</h2>
      <Field label="Id">{(p) => <input {...p} value={rs.id} readOnly />}</Field>
      <Field label="Name" error={err('name')}>{(p) => <input {...p} value={f.name} disabled={system} onChange={(e) => set('name')(e.target.value)} />}</Field>
      <Field label="Identifier" hint="The API's audience. It cannot be changed after creation.">{(p) => <input {...p} value={rs.identifier} readOnly />}</Field>

      <h2>Token Settings</h2>
      <Field label="Maximum Access Token Lifetime (seconds)" hint="Access tokens from the token endpoint." error={err('token_lifetime')}>
        {(p) => <input {...p} inputMode="numeric" value={f.token_lifetime} onChange={(e) => set('token_lifetime')(e.target.value)} />}
      </Field>
      <Field label="Implicit / Hybrid Flow Access Token Lifetime (seconds)" hint="Tokens from /authorize; cannot exceed the maximum above." error={err('token_lifetime_for_web')}>
        {(p) => <input {...p} inputMode="numeric" value={f.token_lifetime_for_web} onChange={(e) => set('token_lifetime_for_web')(e.target.value)} />}
      </Field>
      <Field label="JSON Web Token (JWT) Signing Algorithm" error={err('signing_alg')}>
        {(p) => <select {...p} value={f.signing_alg} disabled={system} onChange={(e) => set('signing_alg')(e.target.value)}>{['RS256', 'PS256', 'RS512', 'HS256'].map((a) => <option key={a}>{a}</option>)}</select>}
      </Field>
      {rs.signing_alg === 'HS256' && (
        <div className="secret" aria-label="Signing secret">
          <p className="label">Signing Secret</p>
          <code className="secret-value" aria-live="polite">{revealed ? rs.signing_secret ?? '(not readable with your permissions)' : '•'.repeat(24)}</code>
          <div className="actions inline">
            <button type="button" className="secondary small" onClick={() => setRevealed((x) => !x)}>{revealed ? 'Hide' : 'Reveal'} secret</button>
            <button type="button" className="secondary small" onClick={() => setConfirm('rotate')}>Rotate secret</button>
          </div>
        </div>
      )}
      <Field label="JSON Web Token (JWT) Profile" hint="Auth0's access token format or RFC 9068; the _authz variants add a permissions claim when RBAC is on." error={err('token_dialect')}>
        {(p) => <select {...p} value={f.token_dialect} disabled={system} onChange={(e) => set('token_dialect')(e.target.value)}>
          {['access_token', 'access_token_authz', 'rfc9068_profile', 'rfc9068_profile_authz'].map((d) => <option key={d}>{d}</option>)}
        </select>}
      </Field>

      <h2>RBAC Settings</h2>
      <Check label="Enable RBAC" hint="Users get only the scopes their roles and direct permissions hold." checked={f.enforce_policies} disabled={system} onChange={set('enforce_policies')} />
      {err('enforce_policies') && <p className="field-error" role="alert">{err('enforce_policies')}</p>}

      <h2>Access Settings</h2>
      <Check label="Allow Skipping User Consent" hint="First-party applications on verifiable (non-localhost) callbacks." checked={f.skip_consent_for_verifiable_first_party_clients} disabled={system} onChange={set('skip_consent_for_verifiable_first_party_clients')} />
      <Check label="Allow Offline Access" hint="Refresh tokens may be issued for this API." checked={f.allow_offline_access} disabled={system} onChange={set('allow_offline_access')} />
      <Field label="Consent policy" error={err('consent_policy')}>
        {(p) => <select {...p} value={f.consent_policy} disabled={system} onChange={(e) => set('consent_policy')(e.target.value)}>
          <option value="">Standard</option><option value="transactional-authorization-with-mfa">Transactional authorization with MFA</option>
        </select>}
      </Field>
      <Field label="User access (subject type policy)" error={err('subject_type_authorization')}>
        {(p) => <select {...p} value={f.user_policy} disabled={system} onChange={(e) => set('user_policy')(e.target.value)}>
          <option value="allow_all">Allow all applications</option><option value="require_client_grant">Require a client grant</option><option value="deny_all">Deny</option>
        </select>}
      </Field>
      <Field label="Machine-to-machine access (subject type policy)">
        {(p) => <select {...p} value={f.client_policy} disabled={system} onChange={(e) => set('client_policy')(e.target.value)}>
          <option value="require_client_grant">Require a client grant</option><option value="deny_all">Deny</option>
        </select>}
      </Field>

      <h2>Sender Constraining</h2>
      <Field label="Proof-of-Possession mechanism" error={err('proof_of_possession')}>
        {(p) => <select {...p} value={f.pop} disabled={system} onChange={(e) => set('pop')(e.target.value)}>
          <option value="">None (Bearer tokens)</option><option value="dpop">DPoP</option><option value="mtls">mTLS</option>
        </select>}
      </Field>
      {f.pop && <Check label="Require Proof-of-Possession" checked={f.pop_required} onChange={set('pop_required')} />}
      {f.pop && f.pop_required && (
        <Field label="Required for">{(p) => <select {...p} value={f.pop_required_for} onChange={(e) => set('pop_required_for')(e.target.value)}>
          <option value="all_clients">All clients</option><option value="public_clients">Public clients</option></select>}</Field>
      )}

      <h2>Token Encryption</h2>
      {rs.token_encryption ? (
        <div className="secret">
          <p>Access tokens are encrypted ({rs.token_encryption.format}) with key <strong>{rs.token_encryption.encryption_key.name ?? rs.token_encryption.encryption_key.kid ?? ''}</strong>, {rs.token_encryption.encryption_key.alg}, thumbprint <code>{rs.token_encryption.encryption_key.thumbprint_sha256}</code>.</p>
          <button type="button" className="secondary small" onClick={() => setConfirm('unencrypt')}>Remove encryption</button>
        </div>
      ) : <p className="muted small">Paste an RSA public key or certificate (PEM, at least 2048 bits) to encrypt this API's access tokens. Private keys are refused.</p>}
      <Field label="Encryption key name">{(p) => <input {...p} value={f.enc_name} disabled={system} onChange={(e) => set('enc_name')(e.target.value)} />}</Field>
      <Field label="Encryption algorithm">{(p) => <select {...p} value={f.enc_alg} disabled={system} onChange={(e) => set('enc_alg')(e.target.value)}>{['RSA-OAEP-256', 'RSA-OAEP-384', 'RSA-OAEP-512'].map((a) => <option key={a}>{a}</option>)}</select>}</Field>
      <Field label="Encryption key ID (kid)">{(p) => <input {...p} value={f.enc_kid} disabled={system} onChange={(e) => set('enc_kid')(e.target.value)} />}</Field>
      <Field label="Encryption public key (PEM)" error={err('token_encryption')}>{(p) => <textarea {...p} rows={4} value={f.enc_pem} disabled={system} onChange={(e) => set('enc_pem')(e.target.value)} />}</Field>

      <h2>Rich Authorization Requests</h2>
      <Field label="Authorization details types" hint="One type per line (RFC 9396)." error={err('authorization_details')}>
        {(p) => <textarea {...p} rows={3} value={f.rar_types} disabled={system} onChange={(e) => set('rar_types')(e.target.value)} />}
      </Field>

      <h2>Other Settings</h2>
      <p className="muted small">Fields of Auth0's resource-server contract that Tessera stores and returns (so tools that send them keep working) but that change nothing here: no online refresh tokens, no anonymous access tokens, no authorization policies, no introspection.</p>
      <Check label="Allow Online Access" hint="allow_online_access: stored; Tessera issues no online refresh tokens (Allow Offline Access governs refresh tokens)." checked={f.allow_online_access} disabled={system} onChange={set('allow_online_access')} />
      <Check label="Allow Online Access with Ephemeral Sessions" hint="allow_online_access_with_ephemeral_sessions: stored, no effect." checked={f.allow_online_access_with_ephemeral_sessions} disabled={system} onChange={set('allow_online_access_with_ephemeral_sessions')} />
      <Field label="Anonymous Access Token Lifetime (seconds)" hint="token_lifetime_for_anonymous_access_tokens: stored, no effect (empty removes it)." error={err('token_lifetime_for_anonymous_access_tokens')}>
        {(p) => <input {...p} inputMode="numeric" value={f.anon_lifetime} disabled={system} onChange={(e) => set('anon_lifetime')(e.target.value)} />}
      </Field>
      <Field label="Anonymous user access (subject type policy)" hint="subject_type_authorization.anonymous_user: stored, no effect.">
        {(p) => <select {...p} value={f.anon_policy} disabled={system} onChange={(e) => set('anon_policy')(e.target.value)}>
          <option value="">Not set</option><option value="require_client_grant">Require a client grant</option><option value="deny_all">Deny</option>
        </select>}
      </Field>
      <Field label="Authorization policy ID" hint="authorization_policy.policy_id: stored, no policy is evaluated (empty removes it)." error={err('authorization_policy')}>
        {(p) => <input {...p} value={f.policy_id} disabled={system} onChange={(e) => set('policy_id')(e.target.value)} />}
      </Field>
      <Field label="Verification location" hint="verification_location (legacy): stored, no effect." error={err('verification_location')}>
        {(p) => <input {...p} value={f.verification_location} disabled={system} onChange={(e) => set('verification_location')(e.target.value)} />}
      </Field>

      <ErrorMessage error={formError(save.error, fields)} />
      {saved && <p className="success" role="status">Settings saved.</p>}
      <div className="actions"><button type="submit" className="primary" disabled={save.isPending}>Save</button></div>

      {!system && (
        <section className="danger-zone" aria-labelledby="danger">
          <h2 id="danger">Danger Zone</h2>
          <p>Deleting this API removes its permissions from roles and users and its client grants. Tokens already issued stay valid until they expire.</p>
          <button type="button" className="danger" onClick={() => setConfirm('delete')}>Delete API</button>
        </section>
      )}
      <Confirm open={confirm === 'rotate'} title="Rotate the signing secret?" action="Rotate" danger busy={special.isPending}
        onCancel={() => setConfirm('')} onConfirm={() => special.mutate({ signing_secret: randomSecret() })}>
        <p>A new HS256 secret replaces the current one at once. Every access token signed with the old secret stops verifying, and every API that verifies with it must be given the new one.</p>
        <ErrorMessage error={special.error} />
      </Confirm>
      <Confirm open={confirm === 'unencrypt'} title="Remove token encryption?" action="Remove encryption" danger busy={special.isPending}
        onCancel={() => setConfirm('')} onConfirm={() => special.mutate({ token_encryption: null })}>
        <p>New access tokens for this API will be signed but readable by anyone who holds them.</p>
        <ErrorMessage error={special.error} />
      </Confirm>
      <Confirm open={confirm === 'delete'} title={`Delete ${rs.name ?? rs.identifier}?`} action="Delete" danger busy={remove.isPending}
        onCancel={() => setConfirm('')} onConfirm={() => remove.mutate()}>
        <p>This cannot be undone. Applications can no longer get tokens for <code>{rs.identifier}</code>.</p>
        <ErrorMessage error={remove.error} />
      </Confirm>
    </form>
  );
}

// ---------- Permissions ----------

function ApiPermissions({ rs }: { rs: ResourceServer }) {
  const api = useApi();
  const queries = useQueryClient();
  const [value, setValue] = useState('');
  const [description, setDescription] = useState('');
  const scopes = rs.scopes ?? [];
  const update = useMutation({
    mutationFn: (next: Scope[]) => api.patch<ResourceServer>(`/resource-servers/${rs.id}`, { scopes: next }),
    onSuccess: (next) => { queries.setQueryData(['resource-server', rs.id], next); void queries.invalidateQueries({ queryKey: ['resource-servers'] }); setValue(''); setDescription(''); },
  });
  const add = (e: FormEvent) => { e.preventDefault(); update.mutate([...scopes, { value: value.trim(), ...(description ? { description } : {}) }]); };
  return (
    <>
      <p>Define the permissions (scopes) that this API uses.</p>
      {!rs.is_system && (
        <form onSubmit={add} noValidate className="inline-form" aria-label="Add a permission">
          <Field label="Permission" hint="For example read:appointments" error={fieldError(update.error, 'scopes')}>
            {(p) => <input {...p} value={value} onChange={(e) => setValue(e.target.value)} />}
          </Field>
          <Field label="Description">{(p) => <input {...p} value={description} onChange={(e) => setDescription(e.target.value)} />}</Field>
          <button type="submit" className="primary" disabled={update.isPending}>+ Add</button>
        </form>
      )}
      <ErrorMessage error={formError(update.error, ['scopes'])} />
      <div className="table-scroll"><table className="list">
        <caption className="sr-only">Permissions of {rs.name}</caption>
        <thead><tr><th scope="col">Permission</th><th scope="col">Description</th>{!rs.is_system && <th scope="col"><span className="sr-only">Actions</span></th>}</tr></thead>
        <tbody>
          {scopes.length === 0 && <tr><td colSpan={3} className="muted">No permissions yet.</td></tr>}
          {scopes.map((s) => (
            <tr key={s.value}>
              <td><code>{s.value}</code></td><td>{s.description}</td>
              {!rs.is_system && <td><button type="button" className="secondary small" aria-label={`Remove ${s.value}`} onClick={() => update.mutate(scopes.filter((x) => x.value !== s.value))}>Remove</button></td>}
            </tr>
          ))}
        </tbody>
      </table></div>
    </>
  );
}

// ---------- Machine to Machine Applications ----------

export const useM2mClients = () => {
  const api = useApi();
  return useQuery({
    queryKey: ['clients', 'm2m'],
    queryFn: async () => (await api.get<Client[]>('/clients?per_page=100&fields=client_id,name,app_type,grant_types,global&include_fields=true'))
      .filter((c) => !c.global && (c.app_type === 'non_interactive' || (c.grant_types ?? []).includes('client_credentials'))),
  });
};
const useGrants = (audience: string) => {
  const api = useApi();
  return useQuery({
    queryKey: ['client-grants', audience],
    queryFn: async () => (await api.get<ClientGrant[]>(`/client-grants?per_page=100&audience=${encodeURIComponent(audience)}`)).filter((g) => (g.subject_type ?? 'client') === 'client'),
  });
};

function MachineToMachine({ rs }: { rs: ResourceServer }) {
  const clients = useM2mClients();
  const grants = useGrants(rs.identifier);
  if (clients.isLoading || grants.isLoading) return <Loading />;
  return (
    <>
      <p>Authorize machine-to-machine applications to request access tokens for this API with the client credentials grant, and choose the permissions each may get.</p>
      <ErrorMessage error={clients.error ?? grants.error} />
      {(clients.data ?? []).length === 0 && <p className="muted">No machine-to-machine applications yet. <Link to="/applications">Create one</Link>.</p>}
      <ul className="m2m">
        {(clients.data ?? []).map((c) => <M2mRow key={c.client_id} client={c} rs={rs} grant={grants.data?.find((g) => g.client_id === c.client_id)} />)}
      </ul>
    </>
  );
}

/**
 * One application's client grant on one API: the authorize switch and, once authorized, the permission checkboxes.
 * Listed per application on an API's tab and per API on an application's tab (`by` says which one the row names).
 */
export function M2mRow({ client, rs, grant, by = 'client' }: { client: Client; rs: ResourceServer; grant?: ClientGrant; by?: 'client' | 'api' }) {
  const api = useApi();
  const queries = useQueryClient();
  const [open, setOpen] = useState(false);
  const [selected, setSelected] = useState<string[]>(grant?.scope ?? []);
  const [confirm, setConfirm] = useState(false);
  const [saved, setSaved] = useState(false);
  useEffect(() => setSelected(grant?.scope ?? []), [grant]);
  const done = () => void queries.invalidateQueries({ queryKey: ['client-grants'] });
  const authorize = useMutation({ mutationFn: () => api.post('/client-grants', { client_id: client.client_id, audience: rs.identifier, scope: [] }), onSuccess: () => { done(); setOpen(true); } });
  const revoke = useMutation({ mutationFn: () => api.del(`/client-grants/${grant!.id}`), onSuccess: () => { done(); setConfirm(false); setOpen(false); } });
  const update = useMutation({ mutationFn: () => api.patch(`/client-grants/${grant!.id}`, { scope: selected }), onSuccess: () => { done(); setSaved(true); } });
  const scopes = rs.scopes ?? [];
  const panel = `grant-${client.client_id}-${rs.id}`;
  return (
    <li className="m2m-row">
      <div className="m2m-head">
        {by === 'client'
          ? <div><strong>{client.name}</strong> <span className="muted small">{client.client_id}</span></div>
          : <div><strong>{rs.name ?? rs.identifier}</strong> <span className="muted small">{rs.identifier}</span></div>}
        <Switch label={grant ? 'Authorized' : 'Unauthorized'} checked={!!grant} disabled={authorize.isPending || revoke.isPending}
          onChange={(on) => (on ? authorize.mutate() : setConfirm(true))} />
        {grant && <button type="button" className="secondary small" aria-expanded={open} aria-controls={panel} onClick={() => setOpen((x) => !x)}>{open ? 'Hide' : 'Permissions'}</button>}
      </div>
      <ErrorMessage error={authorize.error ?? revoke.error} />
      {grant && open && (
        <div id={panel} className="m2m-scopes">
          {grant.allow_all_scopes ? <p>This application may request every permission of this API (<code>allow_all_scopes</code>).</p> : (
            <>
              <fieldset>
                <legend>Permissions of {client.name} on {rs.name}</legend>
                <div className="actions inline">
                  <button type="button" className="link" onClick={() => setSelected(scopes.map((s) => s.value))}>All</button>
                  <button type="button" className="link" onClick={() => setSelected([])}>None</button>
                </div>
                {scopes.length === 0 && <p className="muted">This API has no permissions yet.</p>}
                {scopes.map((s) => (
                  <Check key={s.value} label={s.value} hint={s.description} checked={selected.includes(s.value)}
                    onChange={(v) => { setSaved(false); setSelected((x) => (v ? [...x, s.value] : x.filter((y) => y !== s.value))); }} />
                ))}
              </fieldset>
              <ErrorMessage error={update.error} />
              {saved && <p className="success" role="status">Permissions updated.</p>}
              <button type="button" className="primary" disabled={update.isPending} onClick={() => update.mutate()}>Update</button>
            </>
          )}
        </div>
      )}
      <Confirm open={confirm} title={`Unauthorize ${client.name}?`} action="Unauthorize" danger busy={revoke.isPending} onCancel={() => setConfirm(false)} onConfirm={() => revoke.mutate()}>
        <p>The client grant is deleted: {client.name} can no longer get tokens for <code>{rs.identifier}</code>. Tokens already issued stay valid until they expire.</p>
      </Confirm>
    </li>
  );
}

// ---------- Test ----------

function TestTab({ rs }: { rs: ResourceServer }) {
  const api = useApi();
  const clients = useM2mClients();
  const grants = useGrants(rs.identifier);
  const authorized = (clients.data ?? []).filter((c) => grants.data?.some((g) => g.client_id === c.client_id));
  const [clientId, setClientId] = useState('');
  const chosen = clientId || (authorized[0] ?? clients.data?.[0])?.client_id || '';
  const creds = useQuery({
    queryKey: ['client-secret', chosen], enabled: !!chosen,
    queryFn: () => api.get<Client>(`/clients/${encodeURIComponent(chosen)}?fields=client_id,client_secret,token_endpoint_auth_method&include_fields=true`),
  });
  const [result, setResult] = useState<{ ok: boolean; status?: number; body: any } | undefined>();
  const [busy, setBusy] = useState(false);
  if (clients.isLoading || grants.isLoading) return <Loading />;
  const secret = creds.data?.client_secret;
  const params = { client_id: chosen, client_secret: secret ?? '<client secret>', audience: rs.identifier, grant_type: 'client_credentials' };
  const tokenUrl = `${location.origin}/oauth/token`;
  const run = async () => {
    setBusy(true);
    try { setResult(await clientCredentialsToken(params)); } finally { setBusy(false); }
  };
  const decoded = result?.ok ? decodeJwt(result.body.access_token) : undefined;
  return (
    <>
      <p>Get a real access token for this API from <code>/oauth/token</code> with an authorized application's credentials (the client credentials grant), as your machine-to-machine application would.</p>
      <ErrorMessage error={clients.error ?? grants.error} />
      {(clients.data ?? []).length === 0 ? <p className="muted">No machine-to-machine application exists. <Link to="/applications">Create one</Link> and authorize it on the Machine to Machine Applications tab.</p> : (
        <Field label="Application" hint={authorized.length === 0 ? 'No application is authorized for this API: the token request will be refused.' : undefined}>
          {(p) => <select {...p} value={chosen} onChange={(e) => { setClientId(e.target.value); setResult(undefined); }}>
            {(authorized.length ? authorized : clients.data ?? []).map((c) => <option key={c.client_id} value={c.client_id}>{c.name}</option>)}
          </select>}
        </Field>
      )}
      {creds.error ? <ErrorMessage error={creds.error} /> : null}
      {creds.data && !secret && <p className="notice">This application has no client secret you may read (it authenticates with {creds.data.token_endpoint_auth_method ?? 'another method'}, or you lack <code>read:client_keys</code>): copy the snippets and run them with its credentials.</p>}
      {chosen && (
        <>
          <h2>Sending the token request</h2>
          <h3>cURL</h3>
          <Copyable label="cURL" value={`curl --request POST \\\n  --url ${tokenUrl} \\\n  --header 'content-type: application/json' \\\n  --data '${JSON.stringify(params)}'`} />
          <h3>Node.js</h3>
          <Copyable label="Node.js" value={`const response = await fetch('${tokenUrl}', {\n  method: 'POST',\n  headers: { 'content-type': 'application/json' },\n  body: JSON.stringify(${JSON.stringify(params, null, 2).replace(/\n/g, '\n  ')}),\n});\nconst { access_token } = await response.json();`} />
          <div className="actions"><button type="button" className="primary" disabled={busy || !secret} onClick={run}>Get token</button></div>
        </>
      )}
      {result && (
        <section aria-live="polite" aria-labelledby="test-result" className="card">
          <h2 id="test-result">{result.ok ? 'Response' : `Error ${result.status}`}</h2>
          {!result.ok && <p className="error" role="alert"><strong>{result.body?.error}</strong>: {result.body?.error_description}</p>}
          <Copyable label="Token response" value={JSON.stringify(result.body, null, 2)} />
          {decoded && (
            <>
              <h3>Decoded header</h3><pre className="json" data-testid="token-header">{JSON.stringify(decoded.header, null, 2)}</pre>
              <h3>Decoded payload</h3><pre className="json" data-testid="token-payload">{JSON.stringify(decoded.payload, null, 2)}</pre>
            </>
          )}
        </section>
      )}
    </>
  );
}

// ---------- Quick Start ----------

function QuickStart({ rs, config }: { rs: ResourceServer; config: DashboardConfig }) {
  const [lang, setLang] = useState('express');
  const hs = rs.signing_alg === 'HS256';
  const express = hs
    ? `import express from 'express';\nimport { auth } from 'express-oauth2-jwt-bearer';\n\nconst app = express();\n// HS256: tokens are verified with the API's signing secret (Settings tab)\napp.use(auth({\n  issuer: '${config.issuer}',\n  audience: '${rs.identifier}',\n  secret: process.env.API_SIGNING_SECRET,\n  tokenSigningAlg: 'HS256',\n}));\n\napp.get('/api/private', (req, res) => res.json({ sub: req.auth.payload.sub }));\napp.listen(8080);`
    : `import express from 'express';\nimport { auth, requiredScopes } from 'express-oauth2-jwt-bearer';\n\nconst app = express();\n// keys from ${config.issuer}.well-known/jwks.json, issuer and audience checked on every request\napp.use(auth({\n  issuerBaseURL: '${config.issuer}',\n  audience: '${rs.identifier}',\n  tokenSigningAlg: '${rs.signing_alg}',\n}));\n\napp.get('/api/private', (req, res) => res.json({ sub: req.auth.payload.sub }));\napp.get('/api/private-scoped', requiredScopes('${rs.scopes?.[0]?.value ?? 'read:messages'}'), (req, res) => res.json({ ok: true }));\napp.listen(8080);`;
  const fastify = `import Fastify from 'fastify';\nimport { createRemoteJWKSet, jwtVerify } from 'jose';\n\nconst app = Fastify();\n${hs ? "const key = new TextEncoder().encode(process.env.API_SIGNING_SECRET);" : `const key = createRemoteJWKSet(new URL('${config.issuer}.well-known/jwks.json'));`}\n\napp.addHook('onRequest', async (req, reply) => {\n  const [type, token] = (req.headers.authorization ?? '').split(' ');\n  if (type !== 'Bearer' || !token) return reply.code(401).send({ message: 'Missing token' });\n  try {\n    const { payload } = await jwtVerify(token, key, {\n      issuer: '${config.issuer}',\n      audience: '${rs.identifier}',\n      algorithms: ['${rs.signing_alg}'],\n    });\n    req.auth = payload;\n  } catch {\n    return reply.code(401).send({ message: 'Invalid token' });\n  }\n});\n\napp.get('/api/private', async (req) => ({ sub: req.auth.sub }));\nawait app.listen({ port: 8080 });`;
  return (
    <>
      <p>Protect your API: accept only access tokens issued by <code>{config.issuer}</code> for the audience <code>{rs.identifier}</code>, signed with {rs.signing_alg}.</p>
      <Tabs label="Frameworks" tabs={[{ id: 'express', label: 'Node.js (Express)' }, { id: 'fastify', label: 'Node.js (Fastify)' }]} current={lang} onSelect={setLang} />
      <div role="tabpanel" id={`panel-${lang}`} aria-labelledby={`tab-${lang}`}>
        {lang === 'express' ? (
          <><p>Install <code>npm install express express-oauth2-jwt-bearer</code></p><Copyable label="Express example" value={express} /></>
        ) : (
          <><p>Install <code>npm install fastify jose</code></p><Copyable label="Fastify example" value={fastify} /></>
        )}
      </div>
    </>
  );
}
