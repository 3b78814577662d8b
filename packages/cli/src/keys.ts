import { Command } from 'commander';
import { createTessera } from '@tessera/server';
import { configOrExit } from './env';

/** `tessera keys list|rotate`: the same operations as /api/v2/keys/signing, for operators. */
export function keysCommand(): Command {
  const keys = new Command('keys').description('tenant signing keys');
  const withTessera = (fn: (t: Awaited<ReturnType<typeof createTessera>>) => Promise<unknown>) => async () => {
    const t = await createTessera(configOrExit(), { logger: (await import('@tessera/server')).createLogger('warn') });
    try { process.stdout.write(JSON.stringify(await fn(t), null, 2) + '\n'); } finally { await t.close(); }
  };
  keys.command('list').description('list signing keys (public parts only)').action(withTessera((t) => t.services.signingKeys.list()));
  keys.command('rotate').description('promote the next key to current and create a new next key').action(withTessera((t) => t.services.signingKeys.rotate()));
  return keys;
}
