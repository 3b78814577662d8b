import { useQuery } from '@tanstack/react-query';
import { ErrorMessage, Loading, useApi } from '../ui';
import { M2mRow, useResourceServers, type ClientGrant } from './apis';
import type { Application } from './applications';

/** The APIs an application may get tokens for with client credentials: one authorize switch and scope list per API. */
export function ApplicationApis({ app }: { app: Application }) {
  const api = useApi();
  const apis = useResourceServers();
  const grants = useQuery({
    queryKey: ['client-grants', 'client', app.client_id],
    queryFn: async () => (await api.get<ClientGrant[]>(`/client-grants?per_page=100&client_id=${encodeURIComponent(app.client_id)}`)).filter((g) => (g.subject_type ?? 'client') === 'client'),
  });
  if (apis.isLoading || grants.isLoading) return <Loading />;
  const m2m = (app.grant_types ?? []).includes('client_credentials');
  return (
    <>
      <p>Authorize this application to request access tokens for an API with the client credentials grant, and choose the permissions it may get.</p>
      {!m2m && <p className="notice">This application does not use the client credentials grant (<code>grant_types</code>): a grant here has no effect until it does.</p>}
      <ErrorMessage error={apis.error ?? grants.error} />
      <ul className="m2m">
        {(apis.data ?? []).map((rs) => <M2mRow key={rs.id} by="api" client={app} rs={rs} grant={grants.data?.find((g) => g.audience === rs.identifier)} />)}
      </ul>
    </>
  );
}
