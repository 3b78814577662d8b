import type { Generated, Kysely } from 'kysely';

export interface ResourceServerRow { seq: Generated<number>; id: string; identifier: string; is_system: number; doc: string; signing_secret: string | null; created_at: string; updated_at: string }
export interface ClientRow { seq: Generated<number>; client_id: string; name: string; is_global: number; is_first_party: number; app_type: string | null; doc: string; client_secret: string | null; created_at: string; updated_at: string }
export interface ClientCredentialRow { seq: Generated<number>; id: string; client_id: string; doc: string; created_at: string; updated_at: string }
export interface ClientGrantRow { seq: Generated<number>; id: string; client_id: string | null; audience: string; subject_type: string; default_for: string | null; allow_any_organization: number; doc: string; created_at: string }
export interface SigningKeyRow { seq: Generated<number>; kid: string; state: string; private_key: string; public_jwk: string; cert: string; fingerprint: string; thumbprint: string; created_at: string; current_since: string | null; current_until: string | null; revoked_at: string | null }
export interface MetaRow { key: string; value: string }
export interface GenerationRow { id: number; value: number }
export interface UserRow {
  seq: Generated<number>; user_id: string; connection: string; email: string; username: string | null; password_hash: string | null; doc: string; created_at: string; updated_at: string;
  logins_count: Generated<number>; last_login: string | null; last_ip: string | null;
}
export interface RoleRow { seq: Generated<number>; id: string; name: string; doc: string; created_at: string; owner_id: string | null }
export interface RolePermissionRow { seq: Generated<number>; role_id: string; resource_server_identifier: string; permission_name: string }
export interface UserPermissionRow { seq: Generated<number>; user_id: string; resource_server_identifier: string; permission_name: string }
export interface UserRoleRow { seq: Generated<number>; user_id: string; role_id: string }
export interface OrganizationRow { seq: Generated<number>; id: string; name: string; doc: string; created_at: string; updated_at: string }
export interface OrganizationMemberRow { seq: Generated<number>; organization_id: string; user_id: string }
export interface OrganizationMemberRoleRow { seq: Generated<number>; organization_id: string; user_id: string; role_id: string }
export interface OrganizationClientGrantRow { seq: Generated<number>; organization_id: string; grant_id: string }

export interface Database {
  resource_servers: ResourceServerRow;
  clients: ClientRow;
  client_credentials: ClientCredentialRow;
  client_grants: ClientGrantRow;
  signing_keys: SigningKeyRow;
  meta: MetaRow;
  store_generation: GenerationRow;
  users: UserRow;
  roles: RoleRow;
  role_permissions: RolePermissionRow;
  user_permissions: UserPermissionRow;
  user_roles: UserRoleRow;
  organizations: OrganizationRow;
  organization_members: OrganizationMemberRow;
  organization_member_roles: OrganizationMemberRoleRow;
  organization_client_grants: OrganizationClientGrantRow;
}

export type Db = Kysely<Database>;
export type Dialect = 'sqlite' | 'postgres';
