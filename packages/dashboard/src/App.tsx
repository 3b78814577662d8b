import type { DashboardConfig } from './main';
import { Link, match, useRouter } from './router';
import { ApiDetail, ApiList } from './pages/apis';
import { ApplicationDetail, ApplicationList } from './pages/applications';
import { SigningKeys } from './pages/keys';
import { AuditLog, LogDetail } from './pages/logs';
import { OrganizationDetail, OrganizationList } from './pages/organizations';
import { RoleDetail, RoleList } from './pages/roles';
import { TenantSettingsPage } from './pages/settings';
import { UserDetail, UserList } from './pages/users';

const SECTIONS = [
  { to: '/apis', label: 'APIs' }, { to: '/applications', label: 'Applications' }, { to: '/roles', label: 'Roles' },
  { to: '/users', label: 'Users' }, { to: '/organizations', label: 'Organizations' }, { to: '/keys', label: 'Signing Keys' }, { to: '/logs', label: 'Logs' },
  { to: '/settings', label: 'Settings' },
];

export function SignIn({ error, onSignIn }: { error?: string; onSignIn?: () => void }) {
  return (
    <main className="signin">
      <h1>Tessera Dashboard</h1>
      <p>Manage the APIs, applications, roles, users and organizations of this Tessera tenant.</p>
      {error && <p className="error" role="alert">{error}</p>}
      {onSignIn && <button type="button" className="primary" onClick={onSignIn}>Sign in</button>}
      <p className="muted small">No administrator yet? Use the one-time link printed when the server first started, or run <code>tessera admin create-user --email you@example.com</code>.</p>
    </main>
  );
}

export function App({ config, user, onSignOut }: { config: DashboardConfig; user: string; onSignOut: () => void }) {
  const { path } = useRouter();
  let page;
  let m;
  if ((m = match('/apis/:id/:tab?', path))) page = <ApiDetail id={m.id} tab={m.tab ?? 'quickstart'} config={config} />;
  else if (match('/apis', path)) page = <ApiList />;
  else if ((m = match('/applications/:id/:tab?', path))) page = <ApplicationDetail id={m.id} tab={m.tab ?? 'settings'} />;
  else if (match('/applications', path)) page = <ApplicationList />;
  else if ((m = match('/roles/:id/:tab?', path))) page = <RoleDetail id={m.id} tab={m.tab ?? 'permissions'} />;
  else if (match('/roles', path)) page = <RoleList />;
  else if ((m = match('/users/:id/:tab?', path))) page = <UserDetail id={m.id} tab={m.tab ?? 'roles'} />;
  else if (match('/users', path)) page = <UserList />;
  else if ((m = match('/organizations/:id/:tab?', path))) page = <OrganizationDetail id={m.id} tab={m.tab ?? 'members'} />;
  else if (match('/organizations', path)) page = <OrganizationList />;
  else if ((m = match('/logs/:id', path))) page = <LogDetail id={m.id} />;
  else if (match('/logs', path)) page = <AuditLog />;
  else if (match('/keys', path)) page = <SigningKeys />;
  else if (match('/settings', path)) page = <TenantSettingsPage />;
  else page = <ApiList />;
  return (
    <div className="shell">
      <a className="skip" href="#content">Skip to content</a>
      <nav className="sidebar" aria-label="Sections">
        <p className="brand">Tessera</p>
        <ul>
          {SECTIONS.map((s) => (
            <li key={s.to}><Link to={s.to} className={path.startsWith(s.to) ? 'active' : undefined} aria-current={path.startsWith(s.to) ? 'page' : undefined}>{s.label}</Link></li>
          ))}
        </ul>
        <div className="me">
          <p className="small muted">Signed in as</p><p className="small">{user}</p>
          <button type="button" className="secondary small" onClick={onSignOut}>Sign out</button>
        </div>
      </nav>
      <main id="content" tabIndex={-1}>{page}</main>
    </div>
  );
}
