import { createAuth0Client, type Auth0Client } from '@auth0/auth0-spa-js';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { managementApi } from './api';
import { App, SignIn } from './App';
import { Router } from './router';
import { ApiContext } from './ui';
import './styles.css';

export interface DashboardConfig { issuer: string; domain: string; clientId: string | null; audience: string; scope: string }

const root = createRoot(document.getElementById('root') as HTMLElement);

/**
 * Signs in through Tessera's hosted login (authorization code + PKCE, by Auth0's own SPA SDK) for an access token
 * to the Management API; the token's scopes are the Management permissions the user holds through roles.
 */
async function start(): Promise<void> {
  const config = await (await fetch('/dashboard/config.json')).json() as DashboardConfig;
  if (!config.clientId) {
    root.render(<SignIn error="The dashboard's client was deleted. Recreate it with a SPA client named 'Tessera Dashboard' (see the README)." />);
    return;
  }
  const auth0: Auth0Client = await createAuth0Client({
    domain: config.domain, clientId: config.clientId, cacheLocation: 'memory', useRefreshTokens: false,
    authorizationParams: { redirect_uri: `${location.origin}/dashboard/callback`, audience: config.audience, scope: `openid profile email ${config.scope}` },
  });
  let callbackError: string | undefined;
  if (location.pathname === '/dashboard/callback') {
    try {
      const result = await auth0.handleRedirectCallback();
      history.replaceState({}, '', (result.appState as { returnTo?: string } | undefined)?.returnTo ?? '/dashboard/apis');
    } catch (e) {
      const err = e as { error?: string; error_description?: string; message?: string };
      callbackError = err.error_description ? `${err.error}: ${err.error_description}` : err.message;
      history.replaceState({}, '', '/dashboard/');
    }
  }
  const login = () => auth0.loginWithRedirect({ appState: { returnTo: location.pathname === '/dashboard/' ? '/dashboard/apis' : location.pathname } });
  if (!(await auth0.isAuthenticated())) {
    root.render(<SignIn error={callbackError} onSignIn={login} />);
    return;
  }
  const user = await auth0.getUser();
  const api = managementApi(async (fresh) => {
    try { return (await auth0.getTokenSilently(fresh ? { cacheMode: 'off' } : undefined)) as string; } catch (e) {
      void login(); // the session ended: sign in again
      throw e;
    }
  });
  const queries = new QueryClient({ defaultOptions: { queries: { retry: false, refetchOnWindowFocus: false, staleTime: 5_000 } } });
  if (location.pathname === '/dashboard/' || location.pathname === '/dashboard') history.replaceState({}, '', '/dashboard/apis');
  root.render(
    <StrictMode>
      <QueryClientProvider client={queries}>
        <ApiContext.Provider value={api}>
          <Router>
            <App config={config} user={user?.email ?? user?.sub ?? ''} onSignOut={() => auth0.logout({ logoutParams: { returnTo: `${location.origin}/dashboard/` } })} />
          </Router>
        </ApiContext.Provider>
      </QueryClientProvider>
    </StrictMode>,
  );
}

start().catch((e) => root.render(<SignIn error={String((e as Error).message ?? e)} />));
