export interface Role {
  id: string;
  name: string;
  description?: string;
  /** `organization` roles have an `owner_id` and apply only to members of that organization. */
  type: 'tenant' | 'organization';
  owner_id?: string;
}

export interface RoleCreate { name: string; description?: string; type?: 'tenant' | 'organization'; owner_id?: string }
export interface RolePatch { name?: string; description?: string | null }

/** A permission as clients send it: a scope of an API named by its identifier. */
export interface PermissionRef { resource_server_identifier: string; permission_name: string }

/** A permission as the Management API lists it (description and API name come from the API). */
export interface PermissionView extends PermissionRef { description?: string; resource_server_name?: string }

export interface PermissionSource { source_id: string; source_name: string; source_type: 'DIRECT' | 'ROLE' }
export interface UserPermissionView extends PermissionView { sources: PermissionSource[] }
