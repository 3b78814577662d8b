import cluster from 'node:cluster';
import { Command } from 'commander';
import { createTessera, listen } from '@tessera/server';
import { configOrExit } from './env';

/** `tessera serve` (= `npm start`): migrate, bootstrap, listen; TESSERA_WORKERS > 1 forks workers sharing the port. */
export function serveCommand(): Command {
  return new Command('serve').description('run the server (migrates and bootstraps on start)').action(async () => {
    const config = configOrExit();
    if (cluster.isPrimary && config.workers > 1) {
      // Migrate and bootstrap once, then let the workers share the listening socket.
      const t = await createTessera({ ...config }, {});
      announce(config, t.boot, `${config.workers} workers`);
      await t.close();
      for (let i = 0; i < config.workers; i++) cluster.fork();
      cluster.on('exit', (w, code) => { if (code !== 0) process.stderr.write(`worker ${w.process.pid} exited with ${code}\n`); });
      const stop = () => { for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM'); };
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
      return;
    }
    const t = await createTessera(config);
    const address = await listen(t, true);
    if (cluster.isPrimary) announce(config, t.boot, address);
  });
}

function announce(config: ReturnType<typeof configOrExit>, boot: { adminClientId: string; generatedSecret?: string; setupUrl?: string }, address: string): void {
  const lines = [
    `Tessera listening on ${address}`,
    `  issuer:               ${config.issuer}`,
    `  Management API:       ${config.managementAudience}`,
    ...(config.mtlsPort !== undefined ? [`  mTLS port:            ${config.mtlsPort} (${config.mtlsPublicUrl})`] : []),
    `  database:             ${config.databaseUrl.replace(/\/\/[^@/]*@/, '//***@')}`,
    `  admin client_id:      ${boot.adminClientId}`,
    `  dashboard:            ${config.publicUrl}/dashboard/`,
  ];
  if (boot.generatedSecret) {
    lines.push(`  admin client_secret:  ${boot.generatedSecret}`, '  (shown once: store it now, or set TESSERA_ADMIN_CLIENT_ID/TESSERA_ADMIN_CLIENT_SECRET)');
  }
  process.stdout.write(lines.join('\n') + '\n');
  if (boot.setupUrl) {
    // a secret: stderr, like the other one-time credentials, never the request log
    process.stderr.write(`No dashboard administrator yet. Create one (this link works once, for 24 hours):\n  ${boot.setupUrl}\n`
      + 'or run `tessera admin create-user --email <address>`.\n');
  }
}
