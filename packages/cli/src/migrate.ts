import { Command } from 'commander';
import { configOrExit } from './env';

export function migrateCommand(): Command {
  return new Command('migrate').description('apply pending database migrations and exit').action(async () => {
    const config = configOrExit();
    const [{ createSecretBox }, { openStore }] = await Promise.all([import('@tessera/core'), import('@tessera/store')]);
    const store = openStore(config.databaseUrl, createSecretBox(config.masterKeys));
    try {
      const applied = await store.migrate();
      process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'database is up to date\n');
    } finally {
      await store.close();
    }
  });
}
