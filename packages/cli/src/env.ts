import { ConfigError, loadConfig, unknownVariableWarnings, type Config } from '@tessera/server/config';

/** Loads the configuration or exits naming the bad variable; warns about `TESSERA_*` variables that are no setting. */
export function configOrExit(): Config {
  for (const w of unknownVariableWarnings(process.env)) process.stderr.write(`tessera: warning: ${w}\n`);
  try {
    return loadConfig(process.env);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`tessera: invalid configuration: ${e.message}\n`);
      process.exit(78);
    }
    throw e;
  }
}
