import { Command, Option } from 'commander';
import { ManagementClient, ApiCallError, enc } from './mgmt-client';
import { action, print, printJson, withTarget, type CommonOptions } from './session';
import { resolveTarget } from './target';
import { DeployError } from './types';

/**
 * `tessera clients reveal <client>`: a client's secret, read through the Management API with the caller's own
 * credentials, so the same scope decides (read:client_keys; without it the server withholds the secret). `apply`
 * masks secrets; this is the one way to print one, and only on request.
 */
export function clientsCommand(): Command {
  const clients = new Command('clients').description('applications on the target');
  clients.addCommand(withTarget(new Command('reveal').description('print a client\'s secret once (needs read:client_keys)'))
    .argument('<client>', 'client_id, or the exact name a manifest gives the client')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['text', 'json']).default('text'))
    .action(action(async (ref: string, o: CommonOptions) => {
      const api = new ManagementClient(resolveTarget(o));
      const client = await find(api, ref);
      const secret = typeof client.client_secret === 'string' ? client.client_secret : undefined;
      if (!secret) {
        throw new DeployError(`${api.target.origin} returned no secret for ${client.client_id} (${client.name}): a public client has none, and reading one needs the read:client_keys scope`);
      }
      if (o.output === 'json') printJson({ client_id: client.client_id, name: client.name, client_secret: secret });
      else print(`client_id:     ${client.client_id}\nname:          ${client.name}\nclient_secret: ${secret}\n`);
      process.stderr.write('tessera: the client_secret above is a credential: store it in a secret manager, not in a file next to the manifests\n');
      return 0;
    })));
  return clients;
}

type ClientJson = Record<string, unknown> & { client_id: string; name: string };

/** By client_id first (one GET), else by exact name among the clients (the deploying client itself excluded). */
async function find(api: ManagementClient, ref: string): Promise<ClientJson> {
  try {
    return await api.request<ClientJson>('GET', `/clients/${enc(ref)}`);
  } catch (e) {
    if (!(e instanceof ApiCallError) || e.status !== 404) throw e;
  }
  const named = (await api.listAll('/clients', 'clients')).filter((c) => c.name === ref && c.client_id !== api.target.clientId);
  if (named.length === 0) throw new DeployError(`no client with client_id or name "${ref}" on ${api.target.origin}`);
  if (named.length > 1) throw new DeployError(`${named.length} clients are named "${ref}" on ${api.target.origin}: pass the client_id instead (${named.map((c) => c.client_id).join(', ')})`);
  return named[0] as ClientJson;
}
