import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { Link, useRouter } from '../router';
import { Confirm, ErrorMessage, Field, fieldError, formError, Loading, PageHeader, useApi } from '../ui';
import type { User } from './roles';

interface Role { id: string; name: string; description?: string }

export function UserList() {
  const api = useApi();
  const queries = useQueryClient();
  const { navigate } = useRouter();
  const { data, error, isLoading } = useQuery({ queryKey: ['users'], queryFn: () => api.get<User[]>('/users?per_page=100') });
  const [creating, setCreating] = useState(false);
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const create = useMutation({
    mutationFn: () => api.post<User>('/users', { connection: 'Username-Password-Authentication', email, password }),
    onSuccess: (u) => { void queries.invalidateQueries({ queryKey: ['users'] }); navigate(`/users/${encodeURIComponent(u.user_id)}`); },
  });
  const submit = (e: FormEvent) => { e.preventDefault(); create.mutate(); };
  const passwordError = create.error && /password/i.test((create.error as Error).message) ? (create.error as Error).message : undefined;
  return (
    <>
      <PageHeader title="Users" subtitle="People who sign in through the hosted login (database connection Username-Password-Authentication).">
        <button type="button" className="primary" onClick={() => setCreating(true)}>+ Create User</button>
      </PageHeader>
      {creating && (
        <section className="card" aria-labelledby="new-user">
          <h2 id="new-user">New User</h2>
          <form onSubmit={submit} noValidate>
            <ErrorMessage error={passwordError ? undefined : formError(create.error, ['email'])} />
            <Field label="Email" error={fieldError(create.error, 'email')}>{(p) => <input {...p} type="email" value={email} onChange={(e) => setEmail(e.target.value)} />}</Field>
            <Field label="Password" error={passwordError}>{(p) => <input {...p} type="password" autoComplete="new-password" value={password} onChange={(e) => setPassword(e.target.value)} />}</Field>
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
          <caption className="sr-only">Users</caption>
          <thead><tr><th scope="col">Email</th><th scope="col">User ID</th><th scope="col">Status</th></tr></thead>
          <tbody>
            {(data ?? []).map((u) => (
              <tr key={u.user_id}><td><Link to={`/users/${encodeURIComponent(u.user_id)}`}>{u.email ?? u.user_id}</Link></td><td><code>{u.user_id}</code></td>
                <td>{u.blocked ? <span className="badge revoked">Blocked</span> : <span className="badge">Active</span>}</td></tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

export function UserDetail({ id }: { id: string }) {
  const api = useApi();
  const queries = useQueryClient();
  const path = `/users/${encodeURIComponent(id)}`;
  const { data: user, error, isLoading } = useQuery({ queryKey: ['user', id], queryFn: () => api.get<User>(path) });
  const roles = useQuery({ queryKey: ['user-roles', id], queryFn: () => api.get<Role[]>(`${path}/roles?per_page=100`) });
  const allRoles = useQuery({ queryKey: ['roles'], queryFn: () => api.get<Role[]>('/roles?per_page=100') });
  const [roleId, setRoleId] = useState('');
  const [confirm, setConfirm] = useState(false);
  const refresh = () => { void queries.invalidateQueries({ queryKey: ['user-roles', id] }); void queries.invalidateQueries({ queryKey: ['users'] }); };
  const block = useMutation({ mutationFn: (blocked: boolean) => api.patch<User>(path, { blocked }), onSuccess: (u) => { queries.setQueryData(['user', id], u); refresh(); setConfirm(false); } });
  const assign = useMutation({ mutationFn: () => api.post(`${path}/roles`, { roles: [roleId] }), onSuccess: () => { refresh(); setRoleId(''); } });
  const unassign = useMutation({ mutationFn: (rid: string) => api.del(`${path}/roles`, { roles: [rid] }), onSuccess: refresh });
  if (isLoading) return <Loading />;
  if (!user) return <ErrorMessage error={error} />;
  const mine = new Set((roles.data ?? []).map((r) => r.id));
  return (
    <>
      <p><Link to="/users">← Back to Users</Link></p>
      <PageHeader title={user.email ?? user.user_id} subtitle={<>user_id: <code>{user.user_id}</code>{user.blocked ? ' · Blocked' : ''}</>}>
        {user.blocked
          ? <button type="button" className="secondary" onClick={() => block.mutate(false)}>Unblock</button>
          : <button type="button" className="danger" onClick={() => setConfirm(true)}>Block</button>}
      </PageHeader>
      <ErrorMessage error={block.error} />
      <h2>Roles</h2>
      <form className="inline-form" aria-label="Assign a role" onSubmit={(e) => { e.preventDefault(); assign.mutate(); }}>
        <Field label="Role">{(p) => <select {...p} value={roleId} onChange={(e) => setRoleId(e.target.value)}>
          <option value="">Select a role…</option>
          {(allRoles.data ?? []).filter((r) => !mine.has(r.id)).map((r) => <option key={r.id} value={r.id}>{r.name}</option>)}
        </select>}</Field>
        <button type="submit" className="primary" disabled={!roleId || assign.isPending}>Assign role</button>
      </form>
      <ErrorMessage error={roles.error ?? assign.error ?? unassign.error} />
      <table className="list">
        <caption className="sr-only">Roles of {user.email}</caption>
        <thead><tr><th scope="col">Role</th><th scope="col">Description</th><th scope="col"><span className="sr-only">Actions</span></th></tr></thead>
        <tbody>
          {(roles.data ?? []).length === 0 && <tr><td colSpan={3} className="muted">No roles.</td></tr>}
          {(roles.data ?? []).map((r) => (
            <tr key={r.id}><td><Link to={`/roles/${r.id}/permissions`}>{r.name}</Link></td><td>{r.description}</td>
              <td><button type="button" className="secondary small" aria-label={`Remove ${r.name}`} onClick={() => unassign.mutate(r.id)}>Remove</button></td></tr>
          ))}
        </tbody>
      </table>
      <Confirm open={confirm} title={`Block ${user.email}?`} action="Block" danger busy={block.isPending} onCancel={() => setConfirm(false)} onConfirm={() => block.mutate(true)}>
        <p>The user can no longer sign in; their sessions end and their refresh tokens stop working. Access tokens already issued stay valid until they expire.</p>
      </Confirm>
    </>
  );
}
