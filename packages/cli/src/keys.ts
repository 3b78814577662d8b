import { Command, Option } from 'commander';
import type { createTessera } from '@tessera/server';
import { configOrExit } from './env';

type Opened = Awaited<ReturnType<typeof createTessera>>;
interface KeyRow { kid: string; current?: boolean; next?: boolean; previous?: boolean; revoked?: boolean; current_since?: string; current_until?: string; revoked_at?: string; thumbprint?: string }

/** `tessera keys list|rotate`: the same operations as /api/v2/keys/signing, for operators. */
export function keysCommand(): Command {
  const keys = new Command('keys').description('tenant signing keys');
  const output = () => new Option('-o, --output <format>', 'output format').choices(['table', 'json']).default('table');
  const withTessera = (fn: (t: Opened) => Promise<unknown>, table: (v: never) => string) => async (o: { output: 'table' | 'json' }) => {
    const config = configOrExit();
    const { createTessera, createLogger } = await import('@tessera/server');
    // the server registers the dashboard, not this verb
    const t = await createTessera({ ...config, dashboard: false }, { logger: createLogger('warn') });
    try {
      const result = await fn(t);
      process.stdout.write(o.output === 'json' ? JSON.stringify(result, null, 2) + '\n' : table(result as never));
    } finally { await t.close(); }
  };
  keys.command('list').description('list signing keys (public parts only)').addOption(output())
    .action(withTessera((t) => t.services.signingKeys.list(), (rows: KeyRow[]) => keyTable(rows)));
  keys.command('rotate').description('promote the next key to current and create a new next key').addOption(output())
    .action(withTessera((t) => t.services.signingKeys.rotate(), (r: KeyRow) => `rotated: the next key is now current; the new next key is ${r.kid}\n`));
  return keys;
}

/** One line per key: its kid, its state and since when. */
export function keyTable(rows: KeyRow[]): string {
  const state = (k: KeyRow) => (k.revoked ? 'revoked' : k.current ? 'current' : k.next ? 'next' : k.previous ? 'previous' : '-');
  const table = [['KID', 'STATE', 'CURRENT SINCE', 'CURRENT UNTIL', 'REVOKED AT', 'THUMBPRINT'],
    ...rows.map((k) => [k.kid, state(k), k.current_since ?? '-', k.current_until ?? '-', k.revoked_at ?? '-', k.thumbprint ?? '-'])];
  const widths = table[0].map((_, i) => Math.max(...table.map((r) => r[i].length)));
  return table.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ')).join('\n') + '\n';
}
