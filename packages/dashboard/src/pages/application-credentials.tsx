import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { Check, Confirm, DataTable, ErrorMessage, Field, fieldError, formError, RemoveButton, useApi } from '../ui';
import type { Application } from './applications';

interface Credential { id: string; name: string; credential_type: string; kid?: string; alg?: string; thumbprint_sha256?: string; created_at?: string; expires_at?: string }

const METHODS = [
  { id: 'none', label: 'None', hint: 'A public application (single-page or native) that cannot keep a secret.' },
  { id: 'client_secret_post', label: 'Client Secret (Post)', hint: 'The secret in the request body.' },
  { id: 'client_secret_basic', label: 'Client Secret (Basic)', hint: 'The secret in an HTTP Basic authorization header.' },
  { id: 'private_key_jwt', label: 'Private Key JWT', hint: 'A JWT signed with the private key of one of the credentials below (RFC 7523).' },
];
const methodOf = (app: Application) => app.token_endpoint_auth_method ?? (app.client_authentication_methods?.private_key_jwt ? 'private_key_jwt' : 'client_secret_post');
const enabledIds = (app: Application) => (app.client_authentication_methods?.private_key_jwt?.credentials ?? []).map((c) => c.id);
const date = (s?: string) => (s ? new Date(s).toLocaleString() : '');

/**
 * How the application authenticates at the token endpoint: its method, its secret (reveal, rotate) and the public
 * keys of private_key_jwt (list, add, enable, delete), through /clients/{id} and /clients/{id}/credentials.
 */
export function ApplicationCredentials({ app }: { app: Application }) {
  const api = useApi();
  const queries = useQueryClient();
  const path = `/clients/${encodeURIComponent(app.client_id)}`;
  const creds = useQuery({ queryKey: ['client-credentials', app.client_id], queryFn: () => api.get<Credential[]>(`${path}/credentials`) });
  const [method, setMethod] = useState(methodOf(app));
  const [enabled, setEnabled] = useState<string[]>(enabledIds(app));
  const [saved, setSaved] = useState(false);
  useEffect(() => { setMethod(methodOf(app)); setEnabled(enabledIds(app)); }, [app]);
  const save = useMutation({
    mutationFn: () => api.patch<Application>(path, method === 'private_key_jwt'
      ? { token_endpoint_auth_method: null, client_authentication_methods: { private_key_jwt: { credentials: enabled.map((id) => ({ id })) } } }
      : { token_endpoint_auth_method: method, client_authentication_methods: null }),
    onSuccess: (c) => { queries.setQueryData(['client', app.client_id], c); setSaved(true); },
  });
  const keys = (creds.data ?? []).filter((c) => c.credential_type === 'public_key');
  return (
    <div className="settings">
      <h2>Authentication Method</h2>
      <form noValidate onSubmit={(e) => { e.preventDefault(); save.mutate(); }}>
        <fieldset>
          <legend>How the application authenticates at the token endpoint</legend>
          {METHODS.map((m) => (
            <label key={m.id} className="radio"><input type="radio" name="auth_method" value={m.id} checked={method === m.id} onChange={() => { setMethod(m.id); setSaved(false); }} /> {m.label} <span className="hint">{m.hint}</span></label>
          ))}
        </fieldset>
        {method === 'private_key_jwt' && (
          <fieldset>
            <legend>Credentials used for Private Key JWT</legend>
            {keys.length === 0 && <p className="muted">Add a public key below first.</p>}
            {keys.map((k) => <Check key={k.id} label={k.name || k.kid || k.id} checked={enabled.includes(k.id)} onChange={(v) => { setSaved(false); setEnabled((x) => (v ? [...x, k.id] : x.filter((y) => y !== k.id))); }} />)}
          </fieldset>
        )}
        <ErrorMessage error={save.error} />
        {saved && <p className="success" role="status">Authentication method saved.</p>}
        <div className="actions inline"><button type="submit" className="primary" disabled={save.isPending}>Save authentication method</button></div>
      </form>
      {method !== 'none' && method !== 'private_key_jwt' && <ClientSecret app={app} />}
      <h2>Private Key JWT Credentials</h2>
      <p className="muted small">At most two credentials per application. A credential is used once it is enabled above; one in use cannot be deleted.</p>
      <CredentialList app={app} creds={keys} loading={creds.isLoading} error={creds.error} />
      <AddCredential app={app} />
    </div>
  );
}

function ClientSecret({ app }: { app: Application }) {
  const api = useApi();
  const queries = useQueryClient();
  const [revealed, setRevealed] = useState(false);
  const [confirm, setConfirm] = useState(false);
  const rotate = useMutation({
    mutationFn: () => api.post<Application>(`/clients/${encodeURIComponent(app.client_id)}/rotate-secret`),
    onSuccess: (c) => { queries.setQueryData(['client', app.client_id], c); void queries.invalidateQueries({ queryKey: ['client-secret', app.client_id] }); setConfirm(false); setRevealed(true); },
  });
  return (
    <>
      <h2>Client Secret</h2>
      <div className="secret" aria-label="Client secret">
        <code className="secret-value" aria-live="polite">{revealed ? app.client_secret ?? '(not readable with your permissions)' : '•'.repeat(24)}</code>
        <div className="actions inline">
          <button type="button" className="secondary small" onClick={() => setRevealed((x) => !x)}>{revealed ? 'Hide' : 'Reveal'} secret</button>
          <button type="button" className="secondary small" onClick={() => setConfirm(true)}>Rotate secret</button>
        </div>
      </div>
      <Confirm open={confirm} title="Rotate the client secret?" action="Rotate" danger busy={rotate.isPending} onCancel={() => setConfirm(false)} onConfirm={() => rotate.mutate()}>
        <p>The current secret stops working at once: every service using it to get tokens fails until it is given the new secret.</p>
        <ErrorMessage error={rotate.error} />
      </Confirm>
    </>
  );
}

function CredentialList({ app, creds, loading, error }: { app: Application; creds: Credential[]; loading: boolean; error: unknown }) {
  const api = useApi();
  const queries = useQueryClient();
  const [deleting, setDeleting] = useState<Credential | undefined>();
  const remove = useMutation({
    mutationFn: (c: Credential) => api.del(`/clients/${encodeURIComponent(app.client_id)}/credentials/${encodeURIComponent(c.id)}`),
    onSuccess: () => { void queries.invalidateQueries({ queryKey: ['client-credentials', app.client_id] }); setDeleting(undefined); },
  });
  const used = new Set(enabledIds(app));
  return (
    <>
      <DataTable caption={`Credentials of ${app.name}`} columns={['Name', 'Key ID', 'Algorithm', 'Created', 'Expires', 'Status', '']} rows={creds} rowKey={(c) => c.id}
        empty="No credentials." loading={loading} error={error}
        row={(c) => <>
          <td>{c.name || <span className="muted">(no name)</span>}</td><td><code>{c.kid}</code></td><td>{c.alg}</td><td>{date(c.created_at)}</td><td>{date(c.expires_at) || 'Never'}</td>
          <td>{used.has(c.id) ? <span className="badge current">Enabled</span> : <span className="badge">Not used</span>}</td>
          <td><RemoveButton label="Delete" what={c.name || c.id} onClick={() => { remove.reset(); setDeleting(c); }} /></td>
        </>} />
      <Confirm open={!!deleting} title={`Delete ${deleting?.name || 'this credential'}?`} action="Delete" danger busy={remove.isPending} onCancel={() => setDeleting(undefined)} onConfirm={() => deleting && remove.mutate(deleting)}>
        <p>Assertions signed with its private key are refused from now on. A credential still enabled for Private Key JWT must be disabled first.</p>
        <ErrorMessage error={remove.error} />
      </Confirm>
    </>
  );
}

function AddCredential({ app }: { app: Application }) {
  const api = useApi();
  const queries = useQueryClient();
  const blank = { name: '', pem: '', alg: 'RS256', expires: '' };
  const [f, setF] = useState(blank);
  const add = useMutation({
    mutationFn: () => api.post<Credential>(`/clients/${encodeURIComponent(app.client_id)}/credentials`, {
      credential_type: 'public_key', name: f.name, pem: f.pem, alg: f.alg, ...(f.expires ? { expires_at: new Date(f.expires).toISOString() } : {}),
    }),
    onSuccess: () => { void queries.invalidateQueries({ queryKey: ['client-credentials', app.client_id] }); setF(blank); },
  });
  const set = (k: keyof typeof f) => (e: { target: { value: string } }) => setF((x) => ({ ...x, [k]: e.target.value }));
  const err = (k: string) => fieldError(add.error, k);
  return (
    <form className="card" aria-labelledby="add-credential" noValidate onSubmit={(e) => { e.preventDefault(); add.mutate(); }}>
      <h3 id="add-credential">Add a public key</h3>
      <ErrorMessage error={formError(add.error, ['name', 'pem', 'alg', 'expires_at'])} />
      <Field label="Credential name" error={err('name')}>{(p) => <input {...p} value={f.name} onChange={set('name')} />}</Field>
      <Field label="Public key (PEM)" hint="An RSA public key or certificate. Private keys are refused." error={err('pem')}>{(p) => <textarea {...p} rows={5} value={f.pem} onChange={set('pem')} />}</Field>
      <Field label="Signing algorithm" error={err('alg')}>{(p) => <select {...p} value={f.alg} onChange={set('alg')}>{['RS256', 'RS384', 'PS256'].map((a) => <option key={a}>{a}</option>)}</select>}</Field>
      <Field label="Expires at (optional)" error={err('expires_at')}>{(p) => <input {...p} type="datetime-local" value={f.expires} onChange={set('expires')} />}</Field>
      <div className="actions inline"><button type="submit" className="primary" disabled={add.isPending}>Add credential</button></div>
    </form>
  );
}
