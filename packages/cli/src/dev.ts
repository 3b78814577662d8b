import { Command, Option } from 'commander';

export interface DevOptions {
  port: string; host: string; http?: boolean; data?: string; seed: string[]; watch?: boolean; keywords?: string;
  signingKey?: string; signingSeed?: string; writeEnv?: string; dashboard?: boolean;
}

/** Flags only `tessera dev` has: `tessera serve` refuses each of them by name (a production server must not take them). */
export const DEV_ONLY_FLAGS = ['--http', '--data', '--seed', '--watch', '--keywords', '--signing-key', '--signing-seed', '--write-env'] as const;

const collect = (value: string, previous: string[]) => [...previous, value];

/** `tessera dev`: a throw-away local Auth0 tenant for development and tests. */
export function devCommand(): Command {
  return new Command('dev').description('run a local development tenant: temporary SQLite, HTTPS from a local CA, seeded from your tenant files')
    .option('-p, --port <port>', 'listen port (0 picks a free one)', '4433')
    .option('--host <address>', 'listen address; the default serves this machine only (127.0.0.1 and ::1)', 'localhost')
    .option('--http', 'serve plain HTTP instead of HTTPS (no CA; Auth0 SDKs insist on https://{domain})')
    .option('--data <dir>', 'keep the tenant in this folder (SQLite) across runs instead of a fresh temporary database per run')
    .option('--seed <path>', 'seed at start (repeatable): an auth0-deploy-cli folder or tenant.yaml, Tessera manifests (file or folder), or a users JSON file', collect, [])
    .option('--watch', 'seed again whenever a --seed file changes; an item removed from the seed is deleted (items made by hand are kept)')
    .option('--keywords <json|file>', 'a0deploy keyword values for ##KEY## and @@KEY@@: inline JSON or a JSON file (AUTH0_KEYWORD_REPLACE_MAPPINGS from the environment fills in)')
    .option('--signing-key <pem-file>', 'sign tokens with this RSA private key (PEM), the same key every run: tokens stay verifiable across restarts')
    .option('--signing-seed <phrase>', 'sign tokens with an RSA key derived from this phrase (the same key on every machine; development only)')
    .option('--write-env <file>', 'also write the Auth0 SDK variables (AUTH0_DOMAIN, …, NODE_EXTRA_CA_CERTS) to this file once listening')
    .option('--dashboard', 'serve the admin dashboard at /dashboard (off in development mode)')
    .addHelpText('after', `
Development mode only: every run starts from an empty tenant unless --data is given, and the admin client's
credentials are printed. The local CA is created once in $TESSERA_DEV_CA_DIR, else $XDG_CACHE_HOME/tessera/dev-ca
(~/.cache/tessera/dev-ca); trust it with NODE_EXTRA_CA_CERTS=<folder>/ca.pem. TESSERA_* settings of
\`tessera serve --help\` apply too, except the address, port, public URL, database, TLS and workers, which the flags
decide. Users files are JSON arrays of POST /api/v2/users bodies with plain passwords, plus "roles",
"permissions" and "organizations". In an a0deploy client, "client_id" and "client_secret" fix its credentials.
Signing keys made ahead for the next run (and a --signing-seed key, derived once) are kept in dev-keys beside
the CA folder. The tenant follows the seed: what an earlier seeding declared and the seed no longer declares is
deleted (with --data, at the next start too); what the seed never declared is never deleted.`)
    .action(async (o: DevOptions) => {
      const { runDev } = await import('./dev-run'); // the server is loaded only to run, never for --help
      await runDev(o);
    });
}

/** `tessera serve` takes the development flags only to refuse them by name. */
export function refuseDevFlags(cmd: Command): Command {
  for (const flag of DEV_ONLY_FLAGS) cmd.addOption(new Option(`${flag} [value]`).hideHelp());
  return cmd;
}

/** The development flag given to `tessera serve`, if any. */
export function devFlagGiven(opts: Record<string, unknown>): string | undefined {
  return DEV_ONLY_FLAGS.find((f) => opts[f.slice(2).replace(/-(.)/g, (_m, c: string) => c.toUpperCase())] !== undefined);
}
