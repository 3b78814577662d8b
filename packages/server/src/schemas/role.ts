import { Type } from '@sinclair/typebox';
import { Nullable, OffsetPaging, StringEnum } from './common';

const name = Type.String({ minLength: 1, maxLength: 200, description: 'Name of the role.' });
const description = Type.String({ maxLength: 140, description: 'Description of the role.' });

export const RoleCreateBody = Type.Object({
  name,
  description: Type.Optional(description),
  type: Type.Optional(StringEnum(['tenant', 'organization'] as const, { description: 'The type of the role. Defaults to tenant.' })),
  owner_id: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'The ID of the organization that owns this role. Required when type is "organization".' })),
}, { additionalProperties: false });

export const RolePatchBody = Type.Object({
  name: Type.Optional(name),
  description: Type.Optional(Nullable(description)),
}, { additionalProperties: false });

export const RoleResponse = Type.Object({
  id: Type.String(), name: Type.String(), description: Type.Optional(Type.String()), type: Type.String(), owner_id: Type.Optional(Type.String()),
});

export const RoleListQuery = Type.Object({
  ...OffsetPaging,
  name_filter: Type.Optional(Type.String({ description: 'Optional filter on name (case-insensitive).' })),
  type: Type.Optional(StringEnum(['tenant', 'organization'] as const, { description: 'Type of the role.' })),
  owner_id: Type.Optional(Type.String({ description: 'Owner of organization roles.' })),
}, { additionalProperties: false });

export const PermissionsBody = Type.Object({
  permissions: Type.Array(Type.Object({
    resource_server_identifier: Type.String({ minLength: 1, description: 'Resource server (API) identifier that this permission is for.' }),
    permission_name: Type.String({ minLength: 1, description: 'Name of this permission.' }),
  }, { additionalProperties: false }), { minItems: 1, description: 'Array of resource_server_identifier, permission_name pairs.' }),
}, { additionalProperties: false });

export const PermissionResponse = Type.Object({
  permission_name: Type.String(),
  description: Type.Optional(Type.String()),
  resource_server_name: Type.Optional(Type.String()),
  resource_server_identifier: Type.String(),
});

export const UserPermissionResponse = Type.Object({
  ...PermissionResponse.properties,
  sources: Type.Array(Type.Object({ source_id: Type.String(), source_name: Type.String(), source_type: Type.String() })),
});

export const RoleIdsBody = Type.Object({
  roles: Type.Array(Type.String({ minLength: 1 }), { minItems: 1, description: 'List of roles IDs.' }),
}, { additionalProperties: false });

export const UserIdsBody = Type.Object({
  users: Type.Array(Type.String({ minLength: 1 }), { minItems: 1, description: 'user_id\'s of the users to assign the role to.' }),
}, { additionalProperties: false });

export const CheckpointPaging = {
  from: Type.Optional(Type.String({ description: 'Optional Id from which to start selection.' })),
  take: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, description: 'Number of results per page. Defaults to 50.' })),
};

export const PagingQuery = Type.Object({ ...OffsetPaging }, { additionalProperties: false });
export const MixedPagingQuery = Type.Object({ ...OffsetPaging, ...CheckpointPaging }, { additionalProperties: false });

export const RoleIdParam = Type.Object({ id: Type.String({ minLength: 1, description: 'ID of the role.' }) });
