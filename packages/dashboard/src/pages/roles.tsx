import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useRouter } from '../router';
import { Confirm, CreateCard, DataTable, ErrorMessage, Field, fieldError, ListPage, Loading, PageHeader, Picker, RemoveButton, Tabs, useApi, useCreate } from '../ui';
import { AddPermissions, permissionKey, type Permission, type PermissionRef } from './permissions';

export interface Role { id: string; name: string; description?: string }
export interface User { user_id: string; email?: string; name?: string; blocked?: boolean; created_at?: string; last_login?: string }

export const useRoles = () => {
  const api = useApi();
  return useQuery({ queryKey: ['roles'], queryFn: () => api.get<Role[]>('/roles?per_page=100') });
};
export const useUsers = () => {
  const api = useApi();
  return useQuery({ queryKey: ['users'], queryFn: () => api.get<User[]>('/users?per_page=100') });
};

export function RoleList() {
  const { data, error, isLoading } = useRoles();
  return (
    <ListPage title="Roles" subtitle="Create and manage roles: sets of API permissions given to users." createLabel="+ Create Role" create={(close) => <CreateRole onCancel={close} />}>
      <DataTable caption="Roles" columns={['Name', 'Description']} rows={data} rowKey={(r) => r.id} empty="No roles yet." loading={isLoading} error={error}
        row={(r) => <><td><Link to={`/roles/${r.id}/permissions`}>{r.name}</Link></td><td>{r.description}</td></>} />
    </ListPage>
  );
}

function CreateRole({ onCancel }: { onCancel: () => void }) {
  const api = useApi();
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const create = useCreate('roles', () => api.post<Role>('/roles', { name, ...(description ? { description } : {}) }), (r) => `/roles/${r.id}/permissions`);
  return (
    <CreateCard title="New Role" error={create.error} fields={['name', 'description']} busy={create.isPending} onSubmit={() => create.mutate()} onCancel={onCancel}>
      <Field label="Name" error={fieldError(create.error, 'name')}>{(p) => <input {...p} value={name} onChange={(e) => setName(e.target.value)} />}</Field>
      <Field label="Description" error={fieldError(create.error, 'description')}>{(p) => <input {...p} value={description} onChange={(e) => setDescription(e.target.value)} />}</Field>
    </CreateCard>
  );
}

export function RoleDetail({ id, tab }: { id: string; tab: string }) {
  const api = useApi();
  const queries = useQueryClient();
  const { navigate } = useRouter();
  const { data: role, error, isLoading } = useQuery({ queryKey: ['role', id], queryFn: () => api.get<Role>(`/roles/${encodeURIComponent(id)}`) });
  const [confirm, setConfirm] = useState(false);
  const remove = useMutation({
    mutationFn: () => api.del(`/roles/${id}`),
    onSuccess: () => { for (const key of [['roles'], ['user-roles'], ['user-permissions']]) void queries.invalidateQueries({ queryKey: key }); navigate('/roles'); },
  });
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
  const { data, error, isLoading } = useQuery({ queryKey: ['role-permissions', role.id], queryFn: () => api.get<Permission[]>(`/roles/${role.id}/permissions?per_page=100`) });
  // users' permission lists show what roles give them: they are refetched too
  const done = () => { void queries.invalidateQueries({ queryKey: ['role-permissions', role.id] }); void queries.invalidateQueries({ queryKey: ['user-permissions'] }); };
  const add = useMutation({ mutationFn: (permissions: PermissionRef[]) => api.post(`/roles/${role.id}/permissions`, { permissions }), onSuccess: done });
  const remove = useMutation({
    mutationFn: (p: Permission) => api.del(`/roles/${role.id}/permissions`, { permissions: [{ resource_server_identifier: p.resource_server_identifier, permission_name: p.permission_name }] }),
    onSuccess: done,
  });
  return (
    <>
      <AddPermissions onAdd={(p) => add.mutateAsync(p)} busy={add.isPending} error={add.error} />
      <DataTable caption={`Permissions of ${role.name}`} columns={['Permission', 'Description', 'API', '']} rows={data} rowKey={permissionKey}
        empty="No permissions yet." loading={isLoading} error={error ?? remove.error}
        row={(p) => <>
          <td><code>{p.permission_name}</code></td><td>{p.description}</td><td>{p.resource_server_name ?? p.resource_server_identifier}</td>
          <td><RemoveButton what={p.permission_name} onClick={() => remove.mutate(p)} /></td>
        </>} />
    </>
  );
}

function RoleUsers({ role }: { role: Role }) {
  const api = useApi();
  const queries = useQueryClient();
  const { data, error, isLoading } = useQuery({ queryKey: ['role-users', role.id], queryFn: () => api.get<User[]>(`/roles/${role.id}/users?per_page=100`) });
  const all = useUsers();
  // the users' own pages list their roles and the permissions those give
  const done = () => { for (const key of [['role-users', role.id], ['user-roles'], ['user-permissions']]) void queries.invalidateQueries({ queryKey: key }); };
  const assign = useMutation({ mutationFn: (userId: string) => api.post(`/roles/${role.id}/users`, { users: [userId] }), onSuccess: done });
  const unassign = useMutation({ mutationFn: (uid: string) => api.del(`/users/${encodeURIComponent(uid)}/roles`, { roles: [role.id] }), onSuccess: done });
  const members = new Set((data ?? []).map((u) => u.user_id));
  return (
    <>
      <Picker label="User" formLabel="Assign users" placeholder="Select a user…" action="Assign" busy={assign.isPending} onPick={(v) => assign.mutateAsync(v)}
        options={(all.data ?? []).filter((u) => !members.has(u.user_id)).map((u) => ({ value: u.user_id, label: u.email ?? u.user_id }))} />
      <DataTable caption={`Users with ${role.name}`} columns={['Email', 'User ID', '']} rows={data} rowKey={(u) => u.user_id} empty="No users have this role."
        loading={isLoading} error={error ?? assign.error ?? unassign.error ?? all.error}
        row={(u) => <>
          <td><Link to={`/users/${encodeURIComponent(u.user_id)}`}>{u.email}</Link></td><td><code>{u.user_id}</code></td>
          <td><RemoveButton what={u.email ?? u.user_id} onClick={() => unassign.mutate(u.user_id)} /></td>
        </>} />
    </>
  );
}
