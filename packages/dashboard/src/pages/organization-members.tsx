import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from '../router';
import { Confirm, DataTable, ErrorMessage, Picker, RemoveButton, useApi } from '../ui';
import type { Organization } from './organizations';
import { useRoles, useUsers, type Role, type User } from './roles';

/** Members: add and remove users, and each member's roles in this organization. */
export function OrganizationMembers({ org }: { org: Organization }) {
  const api = useApi();
  const queries = useQueryClient();
  const path = `/organizations/${encodeURIComponent(org.id)}/members`;
  const members = useQuery({ queryKey: ['org-members', org.id], queryFn: () => api.get<User[]>(`${path}?per_page=100`) });
  const users = useUsers();
  const [selected, setSelected] = useState<User | undefined>();
  const [removing, setRemoving] = useState<User | undefined>();
  const done = () => void queries.invalidateQueries({ queryKey: ['org-members', org.id] });
  const add = useMutation({ mutationFn: (userId: string) => api.post(path, { members: [userId] }), onSuccess: done });
  const remove = useMutation({
    mutationFn: (userId: string) => api.del(path, { members: [userId] }),
    onSuccess: (_r, userId) => { done(); setRemoving(undefined); if (selected?.user_id === userId) setSelected(undefined); },
  });
  const ids = new Set((members.data ?? []).map((m) => m.user_id));
  return (
    <>
      <Picker label="User" formLabel="Add a member" placeholder="Select a user…" action="Add member" busy={add.isPending} onPick={(v) => add.mutateAsync(v)}
        options={(users.data ?? []).filter((u) => !ids.has(u.user_id)).map((u) => ({ value: u.user_id, label: u.email ?? u.user_id }))} />
      <ErrorMessage error={add.error ?? users.error} />
      <DataTable caption={`Members of ${org.display_name ?? org.name}`} columns={['Email', 'User ID', '', '']} rows={members.data} rowKey={(m) => m.user_id}
        empty="No members yet." loading={members.isLoading} error={members.error}
        row={(m) => <>
          <td><Link to={`/users/${encodeURIComponent(m.user_id)}`}>{m.email ?? m.user_id}</Link></td><td><code>{m.user_id}</code></td>
          <td><button type="button" className="secondary small" aria-label={`Roles of ${m.email ?? m.user_id}`} aria-pressed={selected?.user_id === m.user_id} onClick={() => setSelected(m)}>Roles</button></td>
          <td><RemoveButton what={m.email ?? m.user_id} onClick={() => { remove.reset(); setRemoving(m); }} /></td>
        </>} />
      {selected && <MemberRoles key={selected.user_id} org={org} member={selected} />}
      <Confirm open={!!removing} title={`Remove ${removing?.email ?? removing?.user_id} from ${org.display_name ?? org.name}?`} action="Remove" danger busy={remove.isPending}
        onCancel={() => setRemoving(undefined)} onConfirm={() => removing && remove.mutate(removing.user_id)}>
        <p>The user can no longer log in to this organization and loses the roles they had in it.</p>
        <ErrorMessage error={remove.error} />
      </Confirm>
    </>
  );
}

function MemberRoles({ org, member }: { org: Organization; member: User }) {
  const api = useApi();
  const queries = useQueryClient();
  const path = `/organizations/${encodeURIComponent(org.id)}/members/${encodeURIComponent(member.user_id)}/roles`;
  const roles = useQuery({ queryKey: ['org-member-roles', org.id, member.user_id], queryFn: () => api.get<Role[]>(`${path}?per_page=100`) });
  const all = useRoles();
  const done = () => void queries.invalidateQueries({ queryKey: ['org-member-roles', org.id, member.user_id] });
  const assign = useMutation({ mutationFn: (roleId: string) => api.post(path, { roles: [roleId] }), onSuccess: done });
  const unassign = useMutation({ mutationFn: (roleId: string) => api.del(path, { roles: [roleId] }), onSuccess: done });
  const mine = new Set((roles.data ?? []).map((r) => r.id));
  const who = member.email ?? member.user_id;
  return (
    <section className="card" aria-labelledby="member-roles">
      <h2 id="member-roles">Roles of {who} in {org.display_name ?? org.name}</h2>
      <p className="muted small">These roles apply when the user logs in through this organization, in addition to the roles they hold everywhere.</p>
      <Picker label="Role" formLabel="Assign an organization role" placeholder="Select a role…" action="Assign role" busy={assign.isPending} onPick={(v) => assign.mutateAsync(v)}
        options={(all.data ?? []).filter((r) => !mine.has(r.id)).map((r) => ({ value: r.id, label: r.name }))} />
      <DataTable caption={`Organization roles of ${who}`} columns={['Role', 'Description', '']} rows={roles.data} rowKey={(r) => r.id} empty="No roles in this organization."
        loading={roles.isLoading} error={roles.error ?? assign.error ?? unassign.error ?? all.error}
        row={(r) => <><td>{r.name}</td><td>{r.description}</td><td><RemoveButton what={r.name} onClick={() => unassign.mutate(r.id)} /></td></>} />
    </section>
  );
}
