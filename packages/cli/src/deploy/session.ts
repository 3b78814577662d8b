import { Command, Option } from 'commander';
import { jwkThumbprint, parsePublicPem } from '@tessera/core';
import { readLive } from './live';
import { ManagementClient } from './mgmt-client';
import type { Thumbprints } from './plan-resource-servers';
import { renderIssues } from './render';
import { resolveTarget, type TargetOptions } from './target';
import { DeployError, type LiveState, type Resource } from './types';
import { validateManifests } from './validate';

export interface CommonOptions extends TargetOptions { file?: string[]; output?: 'text' | 'json' }

/** -f (repeatable, files or folders) and --output. */
export function withFiles(cmd: Command): Command {
  return cmd
    .requiredOption('-f, --file <path...>', 'manifest files or folders (*.yaml, *.yml; several documents per file)')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['text', 'json']).default('text'));
}

/** The target: any Auth0-compatible Management API. */
export function withTarget(cmd: Command): Command {
  return cmd
    .option('--domain <host[:port]>', 'Management API domain, as in https://{domain}/api/v2 (env TESSERA_DEPLOY_DOMAIN)')
    .option('--client-id <id>', 'M2M client with Management API scopes (env TESSERA_DEPLOY_CLIENT_ID)')
    .option('--client-secret <secret>', 'its secret (env TESSERA_DEPLOY_CLIENT_SECRET)')
    .option('--audience <url>', 'Management API audience (env TESSERA_DEPLOY_AUDIENCE; default https://{domain}/api/v2/)')
    .option('--insecure-http', 'plain HTTP, loopback hosts only (env TESSERA_DEPLOY_INSECURE_HTTP=1)');
}

/** Validated manifests or exit 1 with every error; warnings go to stderr and do not stop. */
export function loadOrFail(files: string[], o: TargetOptions = {}): Resource[] {
  const v = validateManifests(files, { domain: targetDomain(o) });
  if (v.issues.length) process.stderr.write(renderIssues(v.issues));
  if (v.errors) throw new DeployError(`${v.errors} error(s) in the manifests; nothing was sent to the target`);
  return v.resources;
}

/** The target's domain when one is configured (validation then knows which identifiers it reserves). */
export const targetDomain = (o: TargetOptions): string | undefined => o.domain ?? process.env.TESSERA_DEPLOY_DOMAIN;

export async function connect(o: TargetOptions): Promise<{ api: ManagementClient; live: LiveState }> {
  const api = new ManagementClient(resolveTarget(o));
  return { api, live: await readLive(api) };
}

/** RFC 7638 thumbprints of the PEMs in the manifests (the server never returns a PEM, only its thumbprint). */
export async function thumbprints(resources: Resource[]): Promise<Thumbprints> {
  const tp: Thumbprints = new Map();
  for (const r of resources) {
    const pem = r.kind === 'ResourceServer' ? r.spec.token_encryption?.encryption_key.pem : undefined;
    const key = pem ? parsePublicPem(pem) : undefined;
    if (pem && key) tp.set(pem, await jwkThumbprint(key));
  }
  return tp;
}

export const print = (s: string) => process.stdout.write(s);
export const printJson = (v: unknown) => process.stdout.write(JSON.stringify(v, null, 2) + '\n');

/** Runs an action; DeployError → message on stderr and its exit code; anything else is a bug and is shown whole. */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<number | void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      const code = await fn(...args);
      process.exitCode = code ?? 0;
    } catch (e) {
      if (e instanceof DeployError) {
        process.stderr.write(`tessera: ${e.message}\n`);
        process.exitCode = e.exitCode;
        return;
      }
      throw e;
    }
  };
}
