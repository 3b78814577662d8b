import { DATABASE_CONNECTION } from './user';

/** The id of Tessera's one database connection (Auth0's `con_` + 16 characters); fixed so exports stay stable. */
export const DATABASE_CONNECTION_ID = 'con_TesseraDatabase1';

/** A connection as `GET /api/v2/connections` shows it. */
export interface Connection {
  id: string;
  name: string;
  strategy: 'auth0';
  options: Record<string, unknown>;
  realms: string[];
  is_domain_connection: boolean;
  enabled_clients: string[];
}

/** Username length limits (`options.validation.username`). */
export interface UsernameLength { min: number; max: number }

/** The options of the database connection an administrator may change (`PATCH /api/v2/connections/{id}`). */
export interface DatabaseConnectionSettings {
  requires_username?: boolean;
  validation?: { username?: UsernameLength };
}

/** Without `validation.username`: Auth0's widest configurable range. */
export const USERNAME_LENGTH: UsernameLength = { min: 1, max: 128 };

/** What user creation and updates enforce for usernames. */
export function usernameRules(s: DatabaseConnectionSettings): UsernameLength & { required: boolean } {
  return { required: s.requires_username === true, ...(s.validation?.username ?? USERNAME_LENGTH) };
}

/** The database connection: Auth0's default "good" password policy plus the stored settings; every client may use it. */
export function databaseConnection(enabledClients: string[], settings: DatabaseConnectionSettings = {}): Connection {
  return {
    id: DATABASE_CONNECTION_ID,
    name: DATABASE_CONNECTION,
    strategy: 'auth0',
    options: { passwordPolicy: 'good', password_complexity_options: { min_length: 8 }, ...settings },
    realms: [DATABASE_CONNECTION],
    is_domain_connection: false,
    enabled_clients: enabledClients,
  };
}

export const ORGANIZATION_ACCESS_LEVELS = ['none', 'readonly', 'limited', 'full'] as const;

/** A connection enabled for (or, with `is_enabled: false`, explicitly disabled in) an organization. */
export interface OrganizationConnection {
  connection_id: string;
  assign_membership_on_login: boolean;
  show_as_button: boolean;
  is_signup_enabled: boolean;
  is_enabled: boolean;
  organization_connection_name?: string;
  organization_access_level?: (typeof ORGANIZATION_ACCESS_LEVELS)[number];
}

export type OrganizationConnectionInput = Partial<Omit<OrganizationConnection, 'connection_id' | 'organization_connection_name' | 'organization_access_level'>> & {
  organization_connection_name?: string | null;
  organization_access_level?: OrganizationConnection['organization_access_level'] | null;
};
