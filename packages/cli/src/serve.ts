import cluster from 'node:cluster';
import { Command } from 'commander';
import { SETTINGS, type Config } from '@tessera/server/config';
import { configOrExit } from './env';
import { devFlagGiven, refuseDevFlags } from './dev';

/** `tessera serve` (= `npm start`): migrate, bootstrap, listen; TESSERA_WORKERS > 1 forks workers sharing the port. */
export function serveCommand(): Command {
  return refuseDevFlags(new Command('serve').description('run the server (migrates and bootstraps on start)'))
    .addHelpText('after', settingsHelp())
    .action(async (opts: Record<string, unknown>) => {
      const devFlag = devFlagGiven(opts);
      if (devFlag !== undefined) {
        process.stderr.write(`tessera: ${devFlag} is a development-mode option (tessera dev); tessera serve refuses it and starts nothing\n`);
        process.exit(2);
      }
      const config = configOrExit();
      const { createTessera, explainStartupFailure, listen } = await import('@tessera/server'); // not for --help
      try {
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
      } catch (e) {
        const line = explainStartupFailure(e, config);
        if (line === undefined) throw e;
        process.stderr.write(`tessera: cannot start: ${line}\n`);
        process.exit(78); // EX_CONFIG: the environment needs a change, a restart loop will not help
      }
    });
}

/** Every environment variable with its default: the loader's own table (config.ts SETTINGS). */
function settingsHelp(): string {
  const width = Math.max(...SETTINGS.map((s) => s.env.length));
  const rows = SETTINGS.map((s) => `  ${s.env.padEnd(width)}  ${s.doc} (default: ${s.default})`);
  return `\nEnvironment variables:\n${rows.join('\n')}\n`;
}

/** The human banner, on stderr: stdout carries only the JSON log lines. */
function announce(config: Config, boot: { adminClientId: string; generatedSecret?: string; setupUrl?: string }, address: string): void {
  const lines = [
    `Tessera listening on ${address}`,
    `  issuer:               ${config.issuer}`,
    `  Management API:       ${config.managementAudience} (the audience of Management API tokens)`,
    ...(config.mtlsPort !== undefined ? [`  mTLS port:            ${config.mtlsPort} (${config.mtlsPublicUrl})`] : []),
    `  database:             ${config.databaseUrl.replace(/\/\/[^@/]*@/, '//***@')}`,
    `  admin client_id:      ${boot.adminClientId}`,
    `  dashboard:            ${config.publicUrl}/dashboard/`,
  ];
  if (boot.generatedSecret) {
    lines.push(`  admin client_secret:  ${boot.generatedSecret}`, '  (shown once: store it now, or set TESSERA_ADMIN_CLIENT_ID/TESSERA_ADMIN_CLIENT_SECRET)');
  }
  lines.push('', 'Deploy APIs and clients from manifests (docs/deploy.md):', `  ${deployExample(config, boot.adminClientId)}`);
  process.stderr.write(lines.join('\n') + '\n');
  if (boot.setupUrl) {
    // a secret: stderr, like the other one-time credentials, never the request log
    process.stderr.write(`No dashboard administrator yet. Create one (this link works once, for 24 hours):\n  ${boot.setupUrl}\n`
      + 'or run `tessera admin create-user --email <address>`.\n');
  }
}

/** A deployment command that reaches this server as configured: the domain and audience of the public URL. */
export function deployExample(config: Config, clientId: string): string {
  const url = new URL(config.publicUrl);
  const parts = ['tessera plan -f ./manifests', `--domain ${url.host}`];
  const origin = url.protocol === 'http:' ? `http://${url.host}` : `https://${url.host}`;
  if (url.protocol === 'http:') parts.push('--insecure-http');
  if (`${origin}/api/v2/` !== config.managementAudience) parts.push(`--audience ${config.managementAudience}`);
  parts.push(`--client-id ${clientId}`, '--client-secret "$TESSERA_ADMIN_CLIENT_SECRET"');
  return parts.join(' ');
}
