import { databaseConnection, DATABASE_CONNECTION, type Connection } from '../model';
import type { Store } from '../ports';
import { CONNECTION_NOT_FOUND } from './organizations';

export interface ConnectionQuery { strategy?: string[]; name?: string }

/**
 * The read side of Auth0's connections: Tessera has one database connection, which every client may use
 * (`enabled_clients` lists every client but the global one).
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

  private async database(): Promise<Connection> {
    const clients = await this.deps.store.clients.list({ offset: 0, isGlobal: false });
    return databaseConnection(clients.items.map((c) => c.client_id));
  }
}
