import { Command } from 'commander';
import { configOrExit } from './env';

/**
 * `tessera admin reset-credentials`: operator recovery of the bootstrap admin client, with local access to the
 * database (TESSERA_DATABASE_URL) and the master key. Prints `{ client_id, client_secret }` once on stdout;
 * the warning it logs goes to stderr. `tessera admin create-user --email [--username]`: a dashboard administrator
 * and a one-time link that sets the password.
 */
export function adminCommand(): Command {
  const admin = new Command('admin').description('the bootstrap admin client and dashboard administrators');
  admin.command('reset-credentials')
    .description('recreate or reset the bootstrap admin client: a new secret and a grant for every Management API scope')
    .option('--client-id <id>', 'make this client the admin (default: the recorded admin client)')
    .option('--use-env-secret', 'set TESSERA_ADMIN_CLIENT_SECRET instead of generating a secret')
    .action(async (opts: { clientId?: string; useEnvSecret?: boolean }) => {
      const config = configOrExit();
      const { createLogger, createTessera, resetAdminCredentials, ResetRefused } = await import('@tessera/server');
      if (opts.useEnvSecret && !config.adminClientSecret) fail('--use-env-secret needs TESSERA_ADMIN_CLIENT_SECRET');
      const logger = createLogger('warn', 2);
      const t = await createTessera({ ...config, dashboard: false }, { logger }); // the server registers the dashboard, not this verb
      try {
        const result = await resetAdminCredentials(t.services, {
          managementAudience: config.managementAudience, clientId: opts.clientId, configuredClientId: config.adminClientId,
          secret: opts.useEnvSecret ? config.adminClientSecret : undefined,
        }, logger);
        process.stdout.write(JSON.stringify({ client_id: result.client_id, ...(result.client_secret && { client_secret: result.client_secret }) }, null, 2) + '\n');
        if (result.client_secret) process.stderr.write('tessera: the new client_secret is shown once: store it now\n');
      } catch (e) {
        if (e instanceof ResetRefused) fail(e.message);
        throw e;
      } finally {
        await t.close();
      }
    });
  admin.command('create-user')
    .description('make a dashboard administrator: the user (created without a usable password, or found by email) gets the role with every Management API permission and a one-time link to set a password')
    .requiredOption('--email <email>', 'the administrator\'s email address')
    .option('--username <name>', 'the username of a new administrator (needed when the database connection has requires_username; a user found by email keeps theirs)')
    .action(async (opts: { email: string; username?: string }) => {
      const config = configOrExit();
      const { createAdminUser, createLogger, createTessera } = await import('@tessera/server');
      const logger = createLogger('warn', 2);
      const t = await createTessera({ ...config, dashboard: false }, { logger }); // the server registers the dashboard, not this verb
      try {
        const result = await createAdminUser(t.services, config, opts.email, { username: opts.username });
        process.stdout.write(JSON.stringify(result, null, 2) + '\n');
        process.stderr.write(`tessera: ${result.email} is an administrator; set the password within 24 hours, once, at:\n  ${result.set_password_url}\n`);
      } catch (e) {
        if (e instanceof Error && 'status' in e && (e as { status: number }).status < 500) fail(e.message);
        throw e;
      } finally {
        await t.close();
      }
    });
  return admin;
}

function fail(message: string): never {
  process.stderr.write(`tessera: ${message}\n`);
  process.exit(1);
}
