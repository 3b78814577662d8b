import { ConfigError, loadConfig, type Config } from '@tessera/server';

/** Loads the configuration or exits naming the bad variable. */
export function configOrExit(): Config {
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
