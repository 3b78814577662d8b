import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState, type FormEvent } from 'react';
import { Link, useRouter } from '../router';
import { Confirm, ErrorMessage, Field, fieldError, formError, Loading, PageHeader, useApi } from '../ui';

interface Application {
  client_id: string; name: string; description?: string; app_type?: string; global?: boolean; is_first_party?: boolean; client_secret?: string;
  callbacks?: string[]; allowed_logout_urls?: string[]; web_origins?: string[]; allowed_origins?: string[]; grant_types?: string[]; token_endpoint_auth_method?: string;
}

const TYPES = [
  { id: 'non_interactive', label: 'Machine to Machine Applications' }, { id: 'spa', label: 'Single Page Web Applications' },
  { id: 'regular_web', label: 'Regular Web Applications' }, { id: 'native', label: 'Native' },
];
const typeLabel = (t?: string) => TYPES.find((x) => x.id === t)?.label ?? t ?? '';

export function ApplicationList() {
  const api = useApi();
  const queries = useQueryClient();
  const { navigate } = useRouter();
  const { data, error, isLoading } = useQuery({ queryKey: ['clients'], queryFn: async () => (await api.get<Application[]>('/clients?per_page=100&fields=client_id,name,app_type,global&include_fields=true')).filter((c) => !c.global) });
  const [creating, setCreating] = useState(false);
  const [name, setName] = useState('');
  const [appType, setAppType] = useState('non_interactive');
  const create = useMutation({
    mutationFn: () => api.post<Application>('/clients', { name, app_type: appType, ...(appType === 'non_interactive' ? { grant_types: ['client_credentials'] } : {}) }),
    onSuccess: (c) => { void queries.invalidateQueries({ queryKey: ['clients'] }); navigate(`/applications/${c.client_id}`); },
  });
  const submit = (e: FormEvent) => { e.preventDefault(); create.mutate(); };
  return (
    <>
      <PageHeader title="Applications" subtitle="Set up the applications that get tokens from Tessera.">
        <button type="button" className="primary" onClick={() => setCreating(true)}>+ Create Application</button>
      </PageHeader>
      {creating && (
        <section className="card" aria-labelledby="new-app">
          <h2 id="new-app">New Application</h2>
          <form onSubmit={submit} noValidate>
            <ErrorMessage error={formError(create.error, ['name', 'app_type'])} />
            <Field label="Name" error={fieldError(create.error, 'name')}>{(p) => <input {...p} value={name} onChange={(e) => setName(e.target.value)} />}</Field>
            <fieldset>
              <legend>Application type</legend>
              {TYPES.map((t) => (
                <label key={t.id} className="radio"><input type="radio" name="app_type" value={t.id} checked={appType === t.id} onChange={() => setAppType(t.id)} /> {t.label}</label>
              ))}
            </fieldset>
            <div className="actions">
              <button type="button" className="secondary" onClick={() => setCreating(false)}>Cancel</button>
              <button type="submit" className="primary" disabled={create.isPending}>Create</button>
            </div>
          </form>
        </section>
      )}
      <ErrorMessage error={error} />
      {isLoading ? <Loading /> : (
        <table className="list">
          <caption className="sr-only">Applications</caption>
          <thead><tr><th scope="col">Name</th><th scope="col">Type</th><th scope="col">Client ID</th></tr></thead>
          <tbody>
            {(data ?? []).map((c) => (
              <tr key={c.client_id}><td><Link to={`/applications/${c.client_id}`}>{c.name}</Link></td><td>{typeLabel(c.app_type)}</td><td><code>{c.client_id}</code></td></tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

const lines = (a?: string[]) => (a ?? []).join('\n');
const list = (s: string) => s.split(/[\n,]/).map((x) => x.trim()).filter(Boolean);

export function ApplicationDetail({ id }: { id: string }) {
  const api = useApi();
  const queries = useQueryClient();
  const { navigate } = useRouter();
  const path = `/clients/${encodeURIComponent(id)}`;
  const { data: app, error, isLoading } = useQuery({ queryKey: ['client', id], queryFn: () => api.get<Application>(path) });
  const [f, setF] = useState({ name: '', description: '', callbacks: '', allowed_logout_urls: '', web_origins: '', allowed_origins: '' });
  const [saved, setSaved] = useState(false);
  const [revealed, setRevealed] = useState(false);
  const [confirm, setConfirm] = useState<'' | 'rotate' | 'delete'>('');
  useEffect(() => {
    if (app) setF({ name: app.name, description: app.description ?? '', callbacks: lines(app.callbacks), allowed_logout_urls: lines(app.allowed_logout_urls), web_origins: lines(app.web_origins), allowed_origins: lines(app.allowed_origins) });
  }, [app]);
  const save = useMutation({
    mutationFn: () => api.patch<Application>(path, {
      name: f.name, description: f.description, callbacks: list(f.callbacks), allowed_logout_urls: list(f.allowed_logout_urls), web_origins: list(f.web_origins), allowed_origins: list(f.allowed_origins),
    }),
    onSuccess: (c) => { queries.setQueryData(['client', id], c); void queries.invalidateQueries({ queryKey: ['clients'] }); setSaved(true); },
  });
  const rotate = useMutation({ mutationFn: () => api.post<Application>(`${path}/rotate-secret`), onSuccess: (c) => { queries.setQueryData(['client', id], c); setConfirm(''); setRevealed(true); } });
  const remove = useMutation({ mutationFn: () => api.del(path), onSuccess: () => { void queries.invalidateQueries({ queryKey: ['clients'] }); navigate('/applications'); } });
  if (isLoading) return <Loading />;
  if (!app) return <ErrorMessage error={error} />;
  const set = (k: keyof typeof f) => (e: { target: { value: string } }) => { setF((x) => ({ ...x, [k]: e.target.value })); setSaved(false); };
  const err = (k: string) => fieldError(save.error, k);
  const confidential = app.token_endpoint_auth_method !== 'none';
  return (
    <>
      <p><Link to="/applications">← Back to Applications</Link></p>
      <PageHeader title={app.name} subtitle={<>{typeLabel(app.app_type)} · Client ID <code>{app.client_id}</code></>} />
      <form className="settings" noValidate onSubmit={(e) => { e.preventDefault(); save.mutate(); }}>
        <h2>Basic Information</h2>
        <Field label="Name" error={err('name')}>{(p) => <input {...p} value={f.name} onChange={set('name')} />}</Field>
        <Field label="Client ID">{(p) => <input {...p} value={app.client_id} readOnly />}</Field>
        {confidential && (
          <div className="secret" aria-label="Client secret">
            <p className="label">Client Secret</p>
            <code className="secret-value">{revealed ? app.client_secret ?? '(not readable with your permissions)' : '•'.repeat(24)}</code>
            <div className="actions inline">
              <button type="button" className="secondary small" onClick={() => setRevealed((x) => !x)}>{revealed ? 'Hide' : 'Reveal'} secret</button>
              <button type="button" className="secondary small" onClick={() => setConfirm('rotate')}>Rotate secret</button>
            </div>
          </div>
        )}
        <Field label="Description" error={err('description')}>{(p) => <textarea {...p} rows={2} value={f.description} onChange={set('description')} />}</Field>
        <h2>Application URIs</h2>
        <Field label="Allowed Callback URLs" hint="One per line." error={err('callbacks')}>{(p) => <textarea {...p} rows={3} value={f.callbacks} onChange={set('callbacks')} />}</Field>
        <Field label="Allowed Logout URLs" hint="One per line." error={err('allowed_logout_urls')}>{(p) => <textarea {...p} rows={2} value={f.allowed_logout_urls} onChange={set('allowed_logout_urls')} />}</Field>
        <Field label="Allowed Web Origins" hint="One per line." error={err('web_origins')}>{(p) => <textarea {...p} rows={2} value={f.web_origins} onChange={set('web_origins')} />}</Field>
        <Field label="Allowed Origins (CORS)" hint="One per line." error={err('allowed_origins')}>{(p) => <textarea {...p} rows={2} value={f.allowed_origins} onChange={set('allowed_origins')} />}</Field>
        <ErrorMessage error={formError(save.error, ['name', 'description', 'callbacks', 'allowed_logout_urls', 'web_origins', 'allowed_origins'])} />
        {saved && <p className="success" role="status">Changes saved.</p>}
        <div className="actions"><button type="submit" className="primary" disabled={save.isPending}>Save Changes</button></div>
        <section className="danger-zone" aria-labelledby="danger">
          <h2 id="danger">Danger Zone</h2>
          <p>Deleting the application revokes its client grants; it can no longer get tokens.</p>
          <button type="button" className="danger" onClick={() => setConfirm('delete')}>Delete Application</button>
        </section>
      </form>
      <Confirm open={confirm === 'rotate'} title="Rotate the client secret?" action="Rotate" danger busy={rotate.isPending} onCancel={() => setConfirm('')} onConfirm={() => rotate.mutate()}>
        <p>The current secret stops working at once: every service using it to get tokens fails until it is given the new secret.</p>
        <ErrorMessage error={rotate.error} />
      </Confirm>
      <Confirm open={confirm === 'delete'} title={`Delete ${app.name}?`} action="Delete" danger busy={remove.isPending} onCancel={() => setConfirm('')} onConfirm={() => remove.mutate()}>
        <p>This cannot be undone.</p>
        <ErrorMessage error={remove.error} />
      </Confirm>
    </>
  );
}
