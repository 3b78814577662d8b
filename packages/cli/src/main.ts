import { Command } from 'commander';
import pkg from '../package.json' with { type: 'json' };
import { serveCommand } from './serve';
import { migrateCommand } from './migrate';
import { keysCommand } from './keys';
import { adminCommand } from './admin';
import { devCommand } from './dev';

const program = new Command()
  .name('tessera')
  .description('Tessera: a self-hosted authorization server for APIs that speaks Auth0\'s wire protocol')
  .version(pkg.version, '-V, --version', 'print the version')
  .showHelpAfterError();

program.addCommand(serveCommand(), { isDefault: true });
program.addCommand(migrateCommand());
program.addCommand(keysCommand());
program.addCommand(adminCommand());
program.addCommand(devCommand());
// The deployment verbs (YAML, JSON Schema, the planner) are loaded only when one of them, or the help, is asked for:
// `serve` never carries them.
const DEPLOY_VERBS = ['validate', 'plan', 'apply', 'import', 'export', 'destroy', 'schema', 'clients'];
const verb = process.argv[2];
if (verb !== undefined && (DEPLOY_VERBS.includes(verb) || ['help', '--help', '-h'].includes(verb))) {
  const [d, { clientsCommand }] = await Promise.all([import('./deploy/commands'), import('./deploy/reveal')]);
  for (const deploy of [d.validateCommand(), d.planCommand(), d.applyCommand(), d.importCommand(), d.exportCommand(), d.destroyCommand(), d.schemaCommand(), clientsCommand()]) program.addCommand(deploy);
}

await program.parseAsync(process.argv);
