import { BadRequest } from '../errors';
import { databaseConnection, DATABASE_CONNECTION, type Connection, type DatabaseConnectionSettings } from '../model';
import type { Store } from '../ports';
import { CONNECTION_SETTINGS_KEY, databaseSettings } from './connection-settings';
import { CONNECTION_NOT_FOUND } from './organizations';

export interface ConnectionQuery { strategy?: string[]; name?: string }

/** What `PATCH /connections/{id}` may send: `options` replaces the changeable options as a whole (Auth0's rule). */
export interface ConnectionPatch {
  options?: { requires_username?: boolean; validation?: { username?: { min: number; max: number } | null } | null; passwordPolicy?: string; password_complexity_options?: { min_length?: number } };
}

/**
 * Auth0's connections API for Tessera's one database connection, which every client may use (`enabled_clients`
 * lists every client but the global one). Of its options, `requires_username` and `validation.username` can be
 * changed (and are enforced by the user service); the password policy is fixed ("good").
 */
export class ConnectionService {
  constructor(private readonly deps: { store: Store }) {}

  async list(q: ConnectionQuery): Promise<Connection[]> {
    if (q.strategy && q.strategy.length > 0 && !q.strategy.includes('auth0')) return [];
    if (q.name !== undefined && q.name !== DATABASE_CONNECTION) return [];
    return [await this.database()];
  }

  async get(id: string): Promise<Connection> {
    const c = await this.database();
    if (id !== c.id) throw CONNECTION_NOT_FOUND();
    return c;
  }

  async update(id: string, patch: ConnectionPatch): Promise<Connection> {
    await this.get(id);
    if (patch.options !== undefined) {
      const { requires_username, validation } = patch.options;
      const length = validation?.username;
      if (length && length.min > length.max) {
        throw new BadRequest(`Payload validation error: 'validation.username.min (${length.min}) is greater than validation.username.max (${length.max})' on property options.`, 'invalid_body');
      }
      const next: DatabaseConnectionSettings = {};
      if (requires_username !== undefined) next.requires_username = requires_username;
      if (length) next.validation = { username: { min: length.min, max: length.max } };
      await this.deps.store.write((tx) => tx.meta.set(CONNECTION_SETTINGS_KEY, JSON.stringify(next)));
    }
    return this.database();
  }

  /** Whether the database connection's `requires_username` is on (new users must then have a username). */
  async usernameRequired(): Promise<boolean> {
    return (await databaseSettings(this.deps.store.meta)).requires_username === true;
  }

  private async database(): Promise<Connection> {
    const [clients, settings] = await Promise.all([this.deps.store.clients.list({ offset: 0, isGlobal: false }), databaseSettings(this.deps.store.meta)]);
    return databaseConnection(clients.items.map((c) => c.client_id), settings);
  }
}
