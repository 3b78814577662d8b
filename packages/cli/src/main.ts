import { Command } from 'commander';
import { serveCommand } from './serve';
import { migrateCommand } from './migrate';
import { keysCommand } from './keys';
import { adminCommand } from './admin';
import { applyCommand, destroyCommand, exportCommand, importCommand, planCommand, schemaCommand, validateCommand } from './deploy/commands';

const program = new Command()
  .name('tessera')
  .description('Tessera: a self-hosted authorization server for APIs that speaks Auth0\'s wire protocol')
  .showHelpAfterError();

program.addCommand(serveCommand(), { isDefault: true });
program.addCommand(migrateCommand());
program.addCommand(keysCommand());
program.addCommand(adminCommand());
for (const deploy of [validateCommand(), planCommand(), applyCommand(), importCommand(), exportCommand(), destroyCommand(), schemaCommand()]) program.addCommand(deploy);

await program.parseAsync(process.argv);
