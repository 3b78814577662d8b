import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Confirm, DataTable, ErrorMessage, RemoveButton, useApi } from '../ui';
import { useClients } from './applications';
import type { User } from './roles';

interface Session { id: string; created_at: string; authenticated_at: string; expires_at: string; authentication?: { methods: Array<{ name: string }> } }
interface RefreshToken { id: string; client_id: string; created_at: string; expires_at?: string; idle_expires_at?: string; last_exchanged_at?: string; rotating: boolean; resource_servers: Array<{ audience: string; scopes: string }> }

const when = (s?: string) => (s ? new Date(s).toLocaleString() : '');
type Ending = { what: 'session'; id: string } | { what: 'sessions' } | { what: 'token'; id: string } | { what: 'tokens' };

/** The user's hosted-login sessions and refresh tokens, each ended on its own or all at once, after a confirmation. */
export function UserSessions({ user }: { user: User }) {
  const api = useApi();
  const queries = useQueryClient();
  const clients = useClients({ fresh: true }); // names the applications of refresh tokens, which may be newer than the cached list
  const path = `/users/${encodeURIComponent(user.user_id)}`;
  const sessions = useQuery({ queryKey: ['user-sessions', user.user_id], queryFn: async () => (await api.get<{ sessions: Session[] }>(`${path}/sessions?take=100`)).sessions });
  const tokens = useQuery({ queryKey: ['user-refresh-tokens', user.user_id], queryFn: async () => (await api.get<{ tokens: RefreshToken[] }>(`${path}/refresh-tokens?take=100`)).tokens });
  const [ending, setEnding] = useState<Ending | undefined>();
  const end = useMutation({
    mutationFn: (e: Ending) => (e.what === 'session' ? api.del(`/sessions/${encodeURIComponent(e.id)}`)
      : e.what === 'sessions' ? api.del(`${path}/sessions`)
        : e.what === 'token' ? api.del(`/refresh-tokens/${encodeURIComponent(e.id)}`) : api.del(`${path}/refresh-tokens`)),
    onSuccess: () => {
      void queries.invalidateQueries({ queryKey: ['user-sessions', user.user_id] });
      void queries.invalidateQueries({ queryKey: ['user-refresh-tokens', user.user_id] });
      setEnding(undefined);
    },
  });
  const ask = (e: Ending) => { end.reset(); setEnding(e); };
  const appName = (id: string) => clients.data?.find((c) => c.client_id === id)?.name ?? id;
  const sessionsEnd = ending?.what === 'session' || ending?.what === 'sessions';
  return (
    <>
      <div className="section-head">
        <h2>Sessions</h2>
        <button type="button" className="secondary small" disabled={!sessions.data?.length} onClick={() => ask({ what: 'sessions' })}>End all sessions</button>
      </div>
      <DataTable caption={`Sessions of ${user.email ?? user.user_id}`} columns={['Started', 'Signed in', 'Methods', 'Expires', '']} rows={sessions.data} rowKey={(x) => x.id}
        empty="No active sessions." loading={sessions.isLoading} error={sessions.error}
        row={(x) => <>
          <td>{when(x.created_at)}</td><td>{when(x.authenticated_at)}</td><td>{(x.authentication?.methods ?? []).map((m) => m.name).join(', ')}</td><td>{when(x.expires_at)}</td>
          <td><RemoveButton label="End" what={`session started ${when(x.created_at)}`} onClick={() => ask({ what: 'session', id: x.id })} /></td>
        </>} />
      <div className="section-head">
        <h2>Refresh Tokens</h2>
        <button type="button" className="secondary small" disabled={!tokens.data?.length} onClick={() => ask({ what: 'tokens' })}>Revoke all refresh tokens</button>
      </div>
      <DataTable caption={`Refresh tokens of ${user.email ?? user.user_id}`} columns={['Application', 'API and scopes', 'Issued', 'Last exchanged', 'Expires', '']} rows={tokens.data} rowKey={(t) => t.id}
        empty="No refresh tokens." loading={tokens.isLoading} error={tokens.error ?? clients.error}
        row={(t) => <>
          <td>{appName(t.client_id)}{t.rotating && <span className="badge">rotating</span>}</td>
          <td>{t.resource_servers.map((r) => <div key={r.audience}><code>{r.audience}</code> <span className="hint">{r.scopes}</span></div>)}</td>
          <td>{when(t.created_at)}</td><td>{when(t.last_exchanged_at)}</td><td>{when(t.expires_at) || 'Never'}</td>
          <td><RemoveButton label="Revoke" what={`refresh token of ${appName(t.client_id)}`} onClick={() => ask({ what: 'token', id: t.id })} /></td>
        </>} />
      <Confirm open={!!ending} title={sessionsEnd ? (ending?.what === 'sessions' ? 'End every session?' : 'End this session?') : (ending?.what === 'tokens' ? 'Revoke every refresh token?' : 'Revoke this refresh token?')}
        action={sessionsEnd ? 'End' : 'Revoke'} danger busy={end.isPending} onCancel={() => setEnding(undefined)} onConfirm={() => ending && end.mutate(ending)}>
        <p>{sessionsEnd
          ? 'The browser is signed out at the hosted login: its next authorization asks for the password again (silent authentication fails with login_required). Tokens already issued stay valid.'
          : 'The application can no longer get new access tokens with it and must sign the user in again. Access tokens already issued stay valid until they expire.'}</p>
        <ErrorMessage error={end.error} />
      </Confirm>
    </>
  );
}
