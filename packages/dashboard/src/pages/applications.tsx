import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState, type FormEvent } from 'react';
import { Link, useRouter } from '../router';
import { Confirm, CreateCard, DataTable, ErrorMessage, Field, fieldError, formError, ListPage, Loading, PageHeader, Tabs, useApi, useCreate } from '../ui';
import { ApplicationApis } from './application-apis';
import { ApplicationCredentials } from './application-credentials';

export interface Application {
  client_id: string; name: string; description?: string; app_type?: string; global?: boolean; is_first_party?: boolean; client_secret?: string;
  callbacks?: string[]; allowed_logout_urls?: string[]; web_origins?: string[]; allowed_origins?: string[]; grant_types?: string[]; token_endpoint_auth_method?: string;
  client_authentication_methods?: Record<string, { credentials: Array<{ id: string }> } | undefined>;
}

const TYPES = [
  { id: 'non_interactive', label: 'Machine to Machine Applications' }, { id: 'spa', label: 'Single Page Web Applications' },
  { id: 'regular_web', label: 'Regular Web Applications' }, { id: 'native', label: 'Native' },
];
const typeLabel = (t?: string) => TYPES.find((x) => x.id === t)?.label ?? t ?? '';

/**
 * Every application but the tenant's global client (id, name and type only). `fresh`: read again on mount, for pages
 * that name applications created elsewhere since (a user's refresh tokens, the log).
 */
export const useClients = (o: { fresh?: boolean } = {}) => {
  const api = useApi();
  return useQuery({
    queryKey: ['clients'], refetchOnMount: o.fresh ? 'always' : true,
    queryFn: async () => (await api.get<Application[]>('/clients?per_page=100&fields=client_id,name,app_type,global&include_fields=true')).filter((c) => !c.global),
  });
};

export function ApplicationList() {
  const { data, error, isLoading } = useClients();
  return (
    <ListPage title="Applications" subtitle="Set up the applications that get tokens from Tessera." createLabel="+ Create Application" create={(close) => <CreateApplication onCancel={close} />}>
      <DataTable caption="Applications" columns={['Name', 'Type', 'Client ID']} rows={data} rowKey={(c) => c.client_id} empty="No applications yet." loading={isLoading} error={error}
        row={(c) => <><td><Link to={`/applications/${c.client_id}`}>{c.name}</Link></td><td>{typeLabel(c.app_type)}</td><td><code>{c.client_id}</code></td></>} />
    </ListPage>
  );
}

function CreateApplication({ onCancel }: { onCancel: () => void }) {
  const api = useApi();
  const [name, setName] = useState('');
  const [appType, setAppType] = useState('non_interactive');
  const create = useCreate('clients', () => api.post<Application>('/clients', { name, app_type: appType, ...(appType === 'non_interactive' ? { grant_types: ['client_credentials'] } : {}) }),
    (c) => `/applications/${c.client_id}`);
  return (
    <CreateCard title="New Application" error={create.error} fields={['name', 'app_type']} busy={create.isPending} onSubmit={() => create.mutate()} onCancel={onCancel}>
      <Field label="Name" error={fieldError(create.error, 'name')}>{(p) => <input {...p} value={name} onChange={(e) => setName(e.target.value)} />}</Field>
      <fieldset>
        <legend>Application type</legend>
        {TYPES.map((t) => (
          <label key={t.id} className="radio"><input type="radio" name="app_type" value={t.id} checked={appType === t.id} onChange={() => setAppType(t.id)} /> {t.label}</label>
        ))}
      </fieldset>
    </CreateCard>
  );
}

const lines = (a?: string[]) => (a ?? []).join('\n');
const list = (s: string) => s.split(/[\n,]/).map((x) => x.trim()).filter(Boolean);

const TABS = [{ id: 'settings', label: 'Settings' }, { id: 'credentials', label: 'Credentials' }, { id: 'apis', label: 'APIs' }];

export function ApplicationDetail({ id, tab }: { id: string; tab: string }) {
  const api = useApi();
  const { navigate } = useRouter();
  const { data: app, error, isLoading } = useQuery({ queryKey: ['client', id], queryFn: () => api.get<Application>(`/clients/${encodeURIComponent(id)}`) });
  if (isLoading) return <Loading />;
  if (!app) return <ErrorMessage error={error} />;
  return (
    <>
      <p><Link to="/applications">← Back to Applications</Link></p>
      <PageHeader title={app.name} subtitle={<>{typeLabel(app.app_type)} · Client ID <code>{app.client_id}</code></>} />
      <Tabs label="Application sections" tabs={TABS} current={tab} onSelect={(t) => navigate(`/applications/${encodeURIComponent(id)}/${t}`)} />
      <section role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`} className="panel">
        {tab === 'credentials' && <ApplicationCredentials app={app} />}
        {tab === 'apis' && <ApplicationApis app={app} />}
        {tab === 'settings' && <ApplicationSettings app={app} />}
      </section>
    </>
  );
}

function ApplicationSettings({ app }: { app: Application }) {
  const api = useApi();
  const queries = useQueryClient();
  const { navigate } = useRouter();
  const id = app.client_id;
  const path = `/clients/${encodeURIComponent(id)}`;
  const formOf = (c: Application) => ({ name: c.name, description: c.description ?? '', callbacks: lines(c.callbacks), allowed_logout_urls: lines(c.allowed_logout_urls), web_origins: lines(c.web_origins), allowed_origins: lines(c.allowed_origins) });
  const [f, setF] = useState(() => formOf(app));
  const [saved, setSaved] = useState(false);
  const [confirm, setConfirm] = useState(false);
  useEffect(() => setF(formOf(app)), [app]);
  const save = useMutation({
    mutationFn: () => api.patch<Application>(path, {
      name: f.name, description: f.description, callbacks: list(f.callbacks), allowed_logout_urls: list(f.allowed_logout_urls), web_origins: list(f.web_origins), allowed_origins: list(f.allowed_origins),
    }),
    onSuccess: (c) => { queries.setQueryData(['client', id], c); void queries.invalidateQueries({ queryKey: ['clients'] }); setSaved(true); },
  });
  const remove = useMutation({ mutationFn: () => api.del(path), onSuccess: () => { void queries.invalidateQueries({ queryKey: ['clients'] }); navigate('/applications'); } });
  const set = (k: keyof typeof f) => (e: { target: { value: string } }) => { setF((x) => ({ ...x, [k]: e.target.value })); setSaved(false); };
  const err = (k: string) => fieldError(save.error, k);
  return (
    <form className="settings" noValidate onSubmit={(e: FormEvent) => { e.preventDefault(); save.mutate(); }}>
      <h2>Basic Information</h2>
      <Field label="Name" error={err('name')}>{(p) => <input {...p} value={f.name} onChange={set('name')} />}</Field>
      <Field label="Client ID">{(p) => <input {...p} value={app.client_id} readOnly />}</Field>
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
        <button type="button" className="danger" onClick={() => setConfirm(true)}>Delete Application</button>
      </section>
      <Confirm open={confirm} title={`Delete ${app.name}?`} action="Delete" danger busy={remove.isPending} onCancel={() => setConfirm(false)} onConfirm={() => remove.mutate()}>
        <p>This cannot be undone.</p>
        <ErrorMessage error={remove.error} />
      </Confirm>
    </form>
  );
}
