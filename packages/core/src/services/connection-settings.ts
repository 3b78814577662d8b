import type { DatabaseConnectionSettings } from '../model';
import type { MetaRepo } from '../ports';

/** Where the database connection's changeable options are kept (one `meta` row, JSON). */
export const CONNECTION_SETTINGS_KEY = 'connection:database:options';

/** The stored options of the database connection (none set: Auth0's defaults). */
export async function databaseSettings(meta: MetaRepo): Promise<DatabaseConnectionSettings> {
  const raw = await meta.get(CONNECTION_SETTINGS_KEY);
  return raw === undefined ? {} : (JSON.parse(raw) as DatabaseConnectionSettings);
}
