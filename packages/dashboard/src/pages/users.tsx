import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useRouter } from '../router';
import { Confirm, CreateCard, DataTable, ErrorMessage, Field, fieldError, ListPage, Loading, PageHeader, Picker, RemoveButton, Tabs, useApi, useCreate } from '../ui';
import { AddPermissions, permissionKey, type Permission, type PermissionRef } from './permissions';
import { useRoles, useUsers, type Role, type User } from './roles';
import { UserSessions } from './user-sessions';

export function UserList() {
  const { data, error, isLoading } = useUsers();
  return (
    <ListPage title="Users" subtitle="People who sign in through the hosted login (database connection Username-Password-Authentication)."
      createLabel="+ Create User" create={(close) => <CreateUser onCancel={close} />}>
      <DataTable caption="Users" columns={['Email', 'User ID', 'Status']} rows={data} rowKey={(u) => u.user_id} empty="No users yet." loading={isLoading} error={error}
        row={(u) => <>
          <td><Link to={`/users/${encodeURIComponent(u.user_id)}`}>{u.email ?? u.user_id}</Link></td><td><code>{u.user_id}</code></td>
          <td>{u.blocked ? <span className="badge revoked">Blocked</span> : <span className="badge">Active</span>}</td>
        </>} />
    </ListPage>
  );
}

function CreateUser({ onCancel }: { onCancel: () => void }) {
  const api = useApi();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const create = useCreate('users', () => api.post<User>('/users', { connection: 'Username-Password-Authentication', email, password }), (u) => `/users/${encodeURIComponent(u.user_id)}`);
  // the password policy's refusals name no property: they belong under the password
  const passwordError = create.error && /password/i.test((create.error as Error).message) ? (create.error as Error).message : undefined;
  return (
    <CreateCard title="New User" error={passwordError ? undefined : create.error} fields={['email']} busy={create.isPending} onSubmit={() => create.mutate()} onCancel={onCancel}>
      <Field label="Email" error={fieldError(create.error, 'email')}>{(p) => <input {...p} type="email" value={email} onChange={(e) => setEmail(e.target.value)} />}</Field>
      <Field label="Password" error={passwordError}>{(p) => <input {...p} type="password" autoComplete="new-password" value={password} onChange={(e) => setPassword(e.target.value)} />}</Field>
    </CreateCard>
  );
}

const TABS = [{ id: 'roles', label: 'Roles' }, { id: 'permissions', label: 'Permissions' }, { id: 'sessions', label: 'Sessions' }];

export function UserDetail({ id, tab }: { id: string; tab: string }) {
  const api = useApi();
  const queries = useQueryClient();
  const { navigate } = useRouter();
  const path = `/users/${encodeURIComponent(id)}`;
  const { data: user, error, isLoading } = useQuery({ queryKey: ['user', id], queryFn: () => api.get<User>(path) });
  const [confirm, setConfirm] = useState(false);
  const block = useMutation({
    mutationFn: (blocked: boolean) => api.patch<User>(path, { blocked }),
    onSuccess: (u) => { queries.setQueryData(['user', id], u); void queries.invalidateQueries({ queryKey: ['users'] }); setConfirm(false); },
  });
  if (isLoading) return <Loading />;
  if (!user) return <ErrorMessage error={error} />;
  return (
    <>
      <p><Link to="/users">← Back to Users</Link></p>
      <PageHeader title={user.email ?? user.user_id} subtitle={<>user_id: <code>{user.user_id}</code>{user.blocked ? ' · Blocked' : ''}</>}>
        {user.blocked
          ? <button type="button" className="secondary" onClick={() => block.mutate(false)}>Unblock</button>
          : <button type="button" className="danger" onClick={() => setConfirm(true)}>Block</button>}
      </PageHeader>
      <ErrorMessage error={block.error} />
      <Tabs label="User sections" tabs={TABS} current={tab} onSelect={(t) => navigate(`/users/${encodeURIComponent(id)}/${t}`)} />
      <section role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`} className="panel">
        {tab === 'permissions' && <UserPermissions user={user} />}
        {tab === 'sessions' && <UserSessions user={user} />}
        {tab !== 'permissions' && tab !== 'sessions' && <UserRoles user={user} />}
      </section>
      <Confirm open={confirm} title={`Block ${user.email}?`} action="Block" danger busy={block.isPending} onCancel={() => setConfirm(false)} onConfirm={() => block.mutate(true)}>
        <p>The user can no longer sign in; their sessions end and their refresh tokens stop working. Access tokens already issued stay valid until they expire.</p>
      </Confirm>
    </>
  );
}

function UserRoles({ user }: { user: User }) {
  const api = useApi();
  const queries = useQueryClient();
  const path = `/users/${encodeURIComponent(user.user_id)}`;
  const roles = useQuery({ queryKey: ['user-roles', user.user_id], queryFn: () => api.get<Role[]>(`${path}/roles?per_page=100`) });
  const allRoles = useRoles();
  const refresh = () => { for (const key of [['user-roles', user.user_id], ['user-permissions', user.user_id], ['role-users']]) void queries.invalidateQueries({ queryKey: key }); };
  const assign = useMutation({ mutationFn: (roleId: string) => api.post(`${path}/roles`, { roles: [roleId] }), onSuccess: refresh });
  const unassign = useMutation({ mutationFn: (rid: string) => api.del(`${path}/roles`, { roles: [rid] }), onSuccess: refresh });
  const mine = new Set((roles.data ?? []).map((r) => r.id));
  return (
    <>
      <Picker label="Role" formLabel="Assign a role" placeholder="Select a role…" action="Assign role" busy={assign.isPending} onPick={(v) => assign.mutateAsync(v)}
        options={(allRoles.data ?? []).filter((r) => !mine.has(r.id)).map((r) => ({ value: r.id, label: r.name }))} />
      <DataTable caption={`Roles of ${user.email ?? user.user_id}`} columns={['Role', 'Description', '']} rows={roles.data} rowKey={(r) => r.id} empty="No roles."
        loading={roles.isLoading} error={roles.error ?? assign.error ?? unassign.error}
        row={(r) => <>
          <td><Link to={`/roles/${r.id}/permissions`}>{r.name}</Link></td><td>{r.description}</td>
          <td><RemoveButton what={r.name} onClick={() => unassign.mutate(r.id)} /></td>
        </>} />
    </>
  );
}

interface UserPermission extends Permission { sources?: Array<{ source_id: string; source_name: string; source_type: 'DIRECT' | 'ROLE' | string }> }

/** Direct permissions and those held through roles, each with where it comes from; only direct ones are removed here. */
function UserPermissions({ user }: { user: User }) {
  const api = useApi();
  const queries = useQueryClient();
  const path = `/users/${encodeURIComponent(user.user_id)}/permissions`;
  const { data, error, isLoading } = useQuery({ queryKey: ['user-permissions', user.user_id], queryFn: () => api.get<UserPermission[]>(`${path}?per_page=100`) });
  const done = () => void queries.invalidateQueries({ queryKey: ['user-permissions', user.user_id] });
  const add = useMutation({ mutationFn: (permissions: PermissionRef[]) => api.post(path, { permissions }), onSuccess: done });
  const remove = useMutation({ mutationFn: (p: PermissionRef) => api.del(path, { permissions: [{ resource_server_identifier: p.resource_server_identifier, permission_name: p.permission_name }] }), onSuccess: done });
  return (
    <>
      <AddPermissions onAdd={(p) => add.mutateAsync(p)} busy={add.isPending} error={add.error} />
      <DataTable caption={`Permissions of ${user.email ?? user.user_id}`} columns={['Permission', 'API', 'Assignment', '']} rows={data} rowKey={permissionKey}
        empty="No permissions." loading={isLoading} error={error ?? remove.error}
        row={(p) => {
          const direct = (p.sources ?? []).some((s) => s.source_type === 'DIRECT');
          return <>
            <td><code>{p.permission_name}</code>{p.description && <span className="hint"> {p.description}</span>}</td>
            <td>{p.resource_server_name ?? p.resource_server_identifier}</td>
            <td><ul className="sources">{(p.sources ?? []).map((s) => (
              <li key={`${s.source_type} ${s.source_id}`}>{s.source_type === 'ROLE' ? <>Role <Link to={`/roles/${s.source_id}/permissions`}>{s.source_name}</Link></> : 'Direct'}</li>
            ))}</ul></td>
            <td>{direct && <RemoveButton what={p.permission_name} onClick={() => remove.mutate(p)} />}</td>
          </>;
        }} />
    </>
  );
}
