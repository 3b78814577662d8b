import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { Link, useRouter } from '../router';
import { Confirm, CreateCard, DataTable, ErrorMessage, Field, fieldError, formError, ListPage, Loading, PageHeader, Tabs, useApi, useCreate } from '../ui';
import { OrganizationConnections, OrganizationM2m } from './organization-access';
import { OrganizationMembers } from './organization-members';

export interface Organization {
  id: string; name: string; display_name?: string; branding?: { logo_url?: string; colors?: { primary: string; page_background: string } }; metadata?: Record<string, string>;
}

export function OrganizationList() {
  const api = useApi();
  const { data, error, isLoading } = useQuery({ queryKey: ['organizations'], queryFn: () => api.get<Organization[]>('/organizations?per_page=100') });
  return (
    <ListPage title="Organizations" subtitle="The businesses or teams your users belong to: their members, member roles, connections and machine-to-machine access."
      createLabel="+ Create Organization" create={(close) => <CreateOrganization onCancel={close} />}>
      <DataTable caption="Organizations" columns={['Display name', 'Name', 'ID']} rows={data} rowKey={(o) => o.id} empty="No organizations yet." loading={isLoading} error={error}
        row={(o) => <><td><Link to={`/organizations/${o.id}/members`}>{o.display_name ?? o.name}</Link></td><td><code>{o.name}</code></td><td><code>{o.id}</code></td></>} />
    </ListPage>
  );
}

function CreateOrganization({ onCancel }: { onCancel: () => void }) {
  const api = useApi();
  const [name, setName] = useState('');
  const [displayName, setDisplayName] = useState('');
  const create = useCreate('organizations', () => api.post<Organization>('/organizations', { name, ...(displayName ? { display_name: displayName } : {}) }), (o) => `/organizations/${o.id}/members`);
  return (
    <CreateCard title="New Organization" error={create.error} fields={['name', 'display_name']} busy={create.isPending} onSubmit={() => create.mutate()} onCancel={onCancel}>
      <Field label="Name" hint="Lower case letters, digits, - and _; users may type it at login." error={fieldError(create.error, 'name')}>{(p) => <input {...p} value={name} onChange={(e) => setName(e.target.value)} />}</Field>
      <Field label="Display name" error={fieldError(create.error, 'display_name')}>{(p) => <input {...p} value={displayName} onChange={(e) => setDisplayName(e.target.value)} />}</Field>
    </CreateCard>
  );
}

const TABS = [
  { id: 'members', label: 'Members' }, { id: 'connections', label: 'Connections' }, { id: 'm2m', label: 'Machine to Machine Access' }, { id: 'settings', label: 'Settings' },
];

export function OrganizationDetail({ id, tab }: { id: string; tab: string }) {
  const api = useApi();
  const { navigate } = useRouter();
  const { data: org, error, isLoading } = useQuery({ queryKey: ['organization', id], queryFn: () => api.get<Organization>(`/organizations/${encodeURIComponent(id)}`) });
  if (isLoading) return <Loading />;
  if (!org) return <ErrorMessage error={error} />;
  return (
    <>
      <p><Link to="/organizations">← Back to Organizations</Link></p>
      <PageHeader title={org.display_name ?? org.name} subtitle={<>Name <code>{org.name}</code> · ID <code>{org.id}</code></>} />
      <Tabs label="Organization sections" tabs={TABS} current={tab} onSelect={(t) => navigate(`/organizations/${id}/${t}`)} />
      <section role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`} className="panel">
        {tab === 'members' && <OrganizationMembers org={org} />}
        {tab === 'connections' && <OrganizationConnections org={org} />}
        {tab === 'm2m' && <OrganizationM2m org={org} />}
        {tab === 'settings' && <OrganizationSettings org={org} />}
      </section>
    </>
  );
}

const formOf = (o: Organization) => ({
  name: o.name, display_name: o.display_name ?? '', logo_url: o.branding?.logo_url ?? '', primary: o.branding?.colors?.primary ?? '', page_background: o.branding?.colors?.page_background ?? '',
});

function OrganizationSettings({ org }: { org: Organization }) {
  const api = useApi();
  const queries = useQueryClient();
  const { navigate } = useRouter();
  const [f, setF] = useState(() => formOf(org));
  const [saved, setSaved] = useState(false);
  const [confirm, setConfirm] = useState(false);
  useEffect(() => setF(formOf(org)), [org]);
  const path = `/organizations/${encodeURIComponent(org.id)}`;
  const save = useMutation({
    mutationFn: () => {
      const colors = f.primary || f.page_background ? { colors: { primary: f.primary, page_background: f.page_background } } : {};
      const branding = f.logo_url || colors.colors ? { ...(f.logo_url ? { logo_url: f.logo_url } : {}), ...colors } : null;
      return api.patch<Organization>(path, { name: f.name, display_name: f.display_name || null, branding });
    },
    onSuccess: (o) => { queries.setQueryData(['organization', org.id], o); void queries.invalidateQueries({ queryKey: ['organizations'] }); setSaved(true); },
  });
  const remove = useMutation({ mutationFn: () => api.del(path), onSuccess: () => { void queries.invalidateQueries({ queryKey: ['organizations'] }); navigate('/organizations'); } });
  const set = (k: keyof typeof f) => (e: { target: { value: string } }) => { setF((x) => ({ ...x, [k]: e.target.value })); setSaved(false); };
  const err = (k: string) => fieldError(save.error, k);
  return (
    <form className="settings" noValidate onSubmit={(e) => { e.preventDefault(); save.mutate(); }}>
      <h2>General</h2>
      <Field label="Name" hint="Lower case letters, digits, - and _." error={err('name')}>{(p) => <input {...p} value={f.name} onChange={set('name')} />}</Field>
      <Field label="Display name" error={err('display_name')}>{(p) => <input {...p} value={f.display_name} onChange={set('display_name')} />}</Field>
      <h2>Branding</h2>
      <Field label="Logo URL">{(p) => <input {...p} value={f.logo_url} onChange={set('logo_url')} />}</Field>
      <Field label="Primary color" hint="#rrggbb; both colors or neither." error={err('branding')}>{(p) => <input {...p} value={f.primary} placeholder="#1b4fd8" onChange={set('primary')} />}</Field>
      <Field label="Page background color">{(p) => <input {...p} value={f.page_background} placeholder="#ffffff" onChange={set('page_background')} />}</Field>
      <ErrorMessage error={formError(save.error, ['name', 'display_name', 'branding'])} />
      {saved && <p className="success" role="status">Settings saved.</p>}
      <div className="actions"><button type="submit" className="primary" disabled={save.isPending}>Save</button></div>
      <section className="danger-zone" aria-labelledby="danger">
        <h2 id="danger">Danger Zone</h2>
        <p>Deleting the organization removes its members, their organization roles and its connections and client grant links.</p>
        <button type="button" className="danger" onClick={() => setConfirm(true)}>Delete Organization</button>
      </section>
      <Confirm open={confirm} title={`Delete ${org.display_name ?? org.name}?`} action="Delete" danger busy={remove.isPending} onCancel={() => setConfirm(false)} onConfirm={() => remove.mutate()}>
        <p>Members can no longer log in to it; tokens already issued for it stay valid until they expire.</p>
        <ErrorMessage error={remove.error} />
      </Confirm>
    </form>
  );
}
