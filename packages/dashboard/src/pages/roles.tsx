import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { Link, useRouter } from '../router';
import { Check, Confirm, ErrorMessage, Field, fieldError, formError, Loading, PageHeader, Tabs, useApi } from '../ui';
import { useResourceServers } from './apis';

interface Role { id: string; name: string; description?: string }
interface Permission { resource_server_identifier: string; permission_name: string; description?: string; resource_server_name?: string }
export interface User { user_id: string; email?: string; name?: string; blocked?: boolean; created_at?: string; last_login?: string }

export function RoleList() {
  const api = useApi();
  const queries = useQueryClient();
  const { navigate } = useRouter();
  const { data, error, isLoading } = useQuery({ queryKey: ['roles'], queryFn: () => api.get<Role[]>('/roles?per_page=100') });
  const [creating, setCreating] = useState(false);
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const create = useMutation({
    mutationFn: () => api.post<Role>('/roles', { name, ...(description ? { description } : {}) }),
    onSuccess: (r) => { void queries.invalidateQueries({ queryKey: ['roles'] }); navigate(`/roles/${r.id}/permissions`); },
  });
  const submit = (e: FormEvent) => { e.preventDefault(); create.mutate(); };
  return (
    <>
      <PageHeader title="Roles" subtitle="Create and manage roles: sets of API permissions given to users.">
        <button type="button" className="primary" onClick={() => setCreating(true)}>+ Create Role</button>
      </PageHeader>
      {creating && (
        <section className="card" aria-labelledby="new-role">
          <h2 id="new-role">New Role</h2>
          <form onSubmit={submit} noValidate>
            <ErrorMessage error={formError(create.error, ['name', 'description'])} />
            <Field label="Name" error={fieldError(create.error, 'name')}>{(p) => <input {...p} value={name} onChange={(e) => setName(e.target.value)} />}</Field>
            <Field label="Description" error={fieldError(create.error, 'description')}>{(p) => <input {...p} value={description} onChange={(e) => setDescription(e.target.value)} />}</Field>
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
          <caption className="sr-only">Roles</caption>
          <thead><tr><th scope="col">Name</th><th scope="col">Description</th></tr></thead>
          <tbody>
            {(data ?? []).length === 0 && <tr><td colSpan={2} className="muted">No roles yet.</td></tr>}
            {(data ?? []).map((r) => <tr key={r.id}><td><Link to={`/roles/${r.id}/permissions`}>{r.name}</Link></td><td>{r.description}</td></tr>)}
          </tbody>
        </table>
      )}
    </>
  );
}

export function RoleDetail({ id, tab }: { id: string; tab: string }) {
  const api = useApi();
  const queries = useQueryClient();
  const { navigate } = useRouter();
  const { data: role, error, isLoading } = useQuery({ queryKey: ['role', id], queryFn: () => api.get<Role>(`/roles/${encodeURIComponent(id)}`) });
  const [confirm, setConfirm] = useState(false);
  const remove = useMutation({ mutationFn: () => api.del(`/roles/${id}`), onSuccess: () => { void queries.invalidateQueries({ queryKey: ['roles'] }); navigate('/roles'); } });
  if (isLoading) return <Loading />;
  if (!role) return <ErrorMessage error={error} />;
  return (
    <>
      <p><Link to="/roles">← Back to Roles</Link></p>
      <PageHeader title={role.name} subtitle={role.description}>
        <button type="button" className="danger" onClick={() => setConfirm(true)}>Delete Role</button>
      </PageHeader>
      <Tabs label="Role sections" tabs={[{ id: 'permissions', label: 'Permissions' }, { id: 'users', label: 'Users' }]} current={tab} onSelect={(t) => navigate(`/roles/${id}/${t}`)} />
      <section role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`} className="panel">
        {tab === 'users' ? <RoleUsers role={role} /> : <RolePermissions role={role} />}
      </section>
      <Confirm open={confirm} title={`Delete ${role.name}?`} action="Delete" danger busy={remove.isPending} onCancel={() => setConfirm(false)} onConfirm={() => remove.mutate()}>
        <p>Its users lose the permissions the role gave them (new tokens only; tokens already issued keep their scopes until they expire).</p>
        <ErrorMessage error={remove.error} />
      </Confirm>
    </>
  );
}

function RolePermissions({ role }: { role: Role }) {
  const api = useApi();
  const queries = useQueryClient();
  const apis = useResourceServers();
  const { data, error, isLoading } = useQuery({ queryKey: ['role-permissions', role.id], queryFn: () => api.get<Permission[]>(`/roles/${role.id}/permissions?per_page=100`) });
  const [audience, setAudience] = useState('');
  const [chosen, setChosen] = useState<string[]>([]);
  const done = () => { void queries.invalidateQueries({ queryKey: ['role-permissions', role.id] }); setChosen([]); };
  const add = useMutation({
    mutationFn: () => api.post(`/roles/${role.id}/permissions`, { permissions: chosen.map((p) => ({ resource_server_identifier: audience, permission_name: p })) }),
    onSuccess: done,
  });
  const remove = useMutation({
    mutationFn: (p: Permission) => api.del(`/roles/${role.id}/permissions`, { permissions: [{ resource_server_identifier: p.resource_server_identifier, permission_name: p.permission_name }] }),
    onSuccess: done,
  });
  const rs = apis.data?.find((x) => x.identifier === audience);
  return (
    <>
      <form className="card" aria-labelledby="add-perms" onSubmit={(e) => { e.preventDefault(); add.mutate(); }}>
        <h2 id="add-perms">Add Permissions</h2>
        <Field label="API">{(p) => <select {...p} value={audience} onChange={(e) => { setAudience(e.target.value); setChosen([]); }}>
          <option value="">Select an API…</option>
          {(apis.data ?? []).map((x) => <option key={x.id} value={x.identifier}>{x.name ?? x.identifier}</option>)}
        </select>}</Field>
        {rs && (
          <fieldset>
            <legend>Permissions of {rs.name}</legend>
            {(rs.scopes ?? []).length === 0 && <p className="muted">This API has no permissions.</p>}
            {(rs.scopes ?? []).map((s) => (
              <Check key={s.value} label={s.value} hint={s.description} checked={chosen.includes(s.value)} onChange={(v) => setChosen((x) => (v ? [...x, s.value] : x.filter((y) => y !== s.value)))} />
            ))}
          </fieldset>
        )}
        <ErrorMessage error={add.error} />
        <button type="submit" className="primary" disabled={!chosen.length || add.isPending}>Add permissions</button>
      </form>
      <ErrorMessage error={error ?? remove.error} />
      {isLoading ? <Loading /> : (
        <table className="list">
          <caption className="sr-only">Permissions of {role.name}</caption>
          <thead><tr><th scope="col">Permission</th><th scope="col">Description</th><th scope="col">API</th><th scope="col"><span className="sr-only">Actions</span></th></tr></thead>
          <tbody>
            {(data ?? []).length === 0 && <tr><td colSpan={4} className="muted">No permissions yet.</td></tr>}
            {(data ?? []).map((p) => (
              <tr key={`${p.resource_server_identifier} ${p.permission_name}`}>
                <td><code>{p.permission_name}</code></td><td>{p.description}</td><td>{p.resource_server_name ?? p.resource_server_identifier}</td>
                <td><button type="button" className="secondary small" aria-label={`Remove ${p.permission_name}`} onClick={() => remove.mutate(p)}>Remove</button></td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

function RoleUsers({ role }: { role: Role }) {
  const api = useApi();
  const queries = useQueryClient();
  const { data, error, isLoading } = useQuery({ queryKey: ['role-users', role.id], queryFn: () => api.get<User[]>(`/roles/${role.id}/users?per_page=100`) });
  const all = useQuery({ queryKey: ['users'], queryFn: () => api.get<User[]>('/users?per_page=100') });
  const [userId, setUserId] = useState('');
  const done = () => { void queries.invalidateQueries({ queryKey: ['role-users', role.id] }); setUserId(''); };
  const assign = useMutation({ mutationFn: () => api.post(`/roles/${role.id}/users`, { users: [userId] }), onSuccess: done });
  const unassign = useMutation({ mutationFn: (uid: string) => api.del(`/users/${encodeURIComponent(uid)}/roles`, { roles: [role.id] }), onSuccess: done });
  const members = new Set((data ?? []).map((u) => u.user_id));
  return (
    <>
      <form className="inline-form" aria-label="Assign users" onSubmit={(e) => { e.preventDefault(); assign.mutate(); }}>
        <Field label="User">{(p) => <select {...p} value={userId} onChange={(e) => setUserId(e.target.value)}>
          <option value="">Select a user…</option>
          {(all.data ?? []).filter((u) => !members.has(u.user_id)).map((u) => <option key={u.user_id} value={u.user_id}>{u.email ?? u.user_id}</option>)}
        </select>}</Field>
        <button type="submit" className="primary" disabled={!userId || assign.isPending}>Assign</button>
      </form>
      <ErrorMessage error={error ?? assign.error ?? unassign.error ?? all.error} />
      {isLoading ? <Loading /> : (
        <table className="list">
          <caption className="sr-only">Users with {role.name}</caption>
          <thead><tr><th scope="col">Email</th><th scope="col">User ID</th><th scope="col"><span className="sr-only">Actions</span></th></tr></thead>
          <tbody>
            {(data ?? []).length === 0 && <tr><td colSpan={3} className="muted">No users have this role.</td></tr>}
            {(data ?? []).map((u) => (
              <tr key={u.user_id}><td><Link to={`/users/${encodeURIComponent(u.user_id)}`}>{u.email}</Link></td><td><code>{u.user_id}</code></td>
                <td><button type="button" className="secondary small" aria-label={`Remove ${u.email ?? u.user_id}`} onClick={() => unassign.mutate(u.user_id)}>Remove</button></td></tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
