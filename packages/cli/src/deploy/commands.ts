import { Command } from 'commander';
import { applyPlan, checkAllowed } from './applier';
import { renderImpact, tokenImpact } from './impact';
import { outputsFor, renderOutputs } from './outputs';
import { counts, type Plan } from './plan-types';
import { plan } from './planner';
import { planJson, renderIssues, renderPlan } from './render';
import { manifestJsonSchema } from './schema';
import { action, connect, loadOrFail, print, printJson, targetDomain, thumbprints, withFiles, withTarget, type CommonOptions } from './session';
import { reservedIdentifiers } from './target';
import { DeployError, type ResourceServerRes } from './types';
import { validateManifests } from './validate';

export { destroyCommand, exportCommand, importCommand } from './commands-io';

/** `tessera validate -f`: offline; every error with file, line, document and field path. Exit 1 on errors. */
export function validateCommand(): Command {
  return withFiles(new Command('validate').description('check manifests against the schema and the server\'s rules (offline)'))
    .option('--domain <host[:port]>', 'the target, if known: its reserved identifiers are errors (env TESSERA_DEPLOY_DOMAIN; nothing is sent to it)')
    .action(action(async (o: CommonOptions) => {
      const v = validateManifests(o.file!, { domain: targetDomain(o) });
      if (o.output === 'json') printJson({ valid: v.errors === 0, errors: v.errors, warnings: v.warnings, issues: v.issues, resources: v.resources.map((r) => ({ kind: r.kind, name: r.name, file: r.source.file, document: r.source.doc, ...(r.metadata && { metadata: r.metadata }) })) });
      else {
        print(renderIssues(v.issues));
        print(`${v.errors ? 'invalid' : 'valid'}: ${v.resources.length} resource(s), ${v.errors} error(s), ${v.warnings} warning(s)\n`);
      }
      return v.errors ? 1 : 0;
    }));
}

/** `tessera schema`: the published JSON Schema (docs/manifest.schema.json is this output). */
export function schemaCommand(): Command {
  return new Command('schema').description('print the JSON Schema of manifest documents').action(() => { printJson(manifestJsonSchema()); });
}

async function planFor(o: CommonOptions & { prune?: boolean }) {
  const resources = loadOrFail(o.file!, o);
  const tp = await thumbprints(resources);
  const { api, live } = await connect(o);
  const p = plan(resources, live, { prune: !!o.prune, reserved: reservedIdentifiers(api.target) }, tp);
  if (p.blocked.length) throw new DeployError(`cannot plan:\n${p.blocked.map((b) => `  ${b}`).join('\n')}`);
  return { resources, api, p, live };
}

/** `tessera plan -f`: exit 0 = no changes, 2 = changes (like terraform plan -detailed-exitcode), 1 = error. */
export function planCommand(): Command {
  return withTarget(withFiles(new Command('plan').description('show what apply would change (exit 0: none, 2: changes)')))
    .option('--prune', 'also delete resources of the declared kinds that the manifests do not mention')
    .action(action(async (o: CommonOptions & { prune?: boolean }) => {
      const { resources, api, p, live } = await planFor(o);
      const impact = await tokenImpact(api, live, p);
      if (o.output === 'json') printJson({ target: api.target.origin, ...planJson(p, resources), ...(impact && { impact: impact.rows, impact_notes: impact.notes }) });
      else print(renderPlan(p, api.target.origin) + renderImpact(impact));
      return p.changes.length ? 2 : 0;
    }));
}

/** `tessera apply -f`: the plan, executed in dependency order; a second run is a no-op. */
export function applyCommand(): Command {
  return withTarget(withFiles(new Command('apply').description('make the target match the manifests')))
    .option('--prune', 'also delete resources of the declared kinds that the manifests do not mention')
    .option('--allow-replace', 'allow identifier changes (create the new API, move grants and permissions, delete the old one)')
    .option('--show-secrets', 'show signing secrets in the outputs')
    .action(action(async (o: CommonOptions & { prune?: boolean; allowReplace?: boolean; showSecrets?: boolean }) => {
      const { resources, api, p } = await planFor(o);
      checkAllowed(p, { allowReplace: !!o.allowReplace });
      const json = o.output === 'json';
      if (!json) print(p.changes.length ? renderPlan(p, api.target.origin) + '\n' : '');
      const result = await applyPlan(api, p, (line) => { if (!json) print(`${line}\n`); });
      const apis = resources.filter((r): r is ResourceServerRes => r.kind === 'ResourceServer');
      const outputs = outputsFor(apis, await api.listAll('/resource-servers', 'resource_servers'), !!o.showSecrets);
      if (json) {
        printJson({ target: api.target.origin, ...planJson(p, resources), applied: result.applied.length, ...(result.failed && { failed: { kind: result.failed.change.kind, name: result.failed.change.name, message: result.failed.message } }), outputs });
      } else if (result.failed) {
        const { change, message } = result.failed;
        process.stderr.write(`\nError: ${change.action} ${change.kind} ${change.name} (${change.key}) failed:\n  ${message.replace(/\n/g, '\n  ')}\n`);
        process.stderr.write(`Apply stopped: ${result.applied.length} of ${p.changes.length} change(s) were applied and are in place; nothing after the failed step was attempted. Fix the problem and run apply again.\n`);
      } else {
        print(p.changes.length ? `\nApply complete: ${summary(p)}.\n` : 'No changes. The target matches the manifests; nothing to apply.\n');
        print(renderOutputs(outputs));
      }
      return result.failed ? 1 : 0;
    }));
}

function summary(p: Plan): string {
  const n = counts(p);
  return `${n.create} created, ${n.update} updated, ${n.replace} replaced, ${n.delete} deleted`;
}
