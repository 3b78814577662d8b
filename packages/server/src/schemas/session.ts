import { Type } from '@sinclair/typebox';
import { CheckpointPaging } from './role';

export const SessionResponse = Type.Object({
  id: Type.String({ description: 'The ID of the session.' }),
  user_id: Type.String(),
  created_at: Type.String(), updated_at: Type.String(), authenticated_at: Type.String(), expires_at: Type.String(),
  authentication: Type.Object({ methods: Type.Array(Type.Object({ name: Type.String(), timestamp: Type.String() })) }),
});

export const RefreshTokenResponse = Type.Object({
  id: Type.String({ description: 'The ID of the refresh token (the same for every token of a rotating family).' }),
  user_id: Type.String(), client_id: Type.String(), created_at: Type.String(),
  expires_at: Type.Optional(Type.String()), idle_expires_at: Type.Optional(Type.String()), last_exchanged_at: Type.Optional(Type.String()),
  rotating: Type.Boolean(),
  resource_servers: Type.Array(Type.Object({ audience: Type.String(), scopes: Type.String() })),
});

export const CheckpointQuery = Type.Object({ ...CheckpointPaging }, { additionalProperties: false });
export const SessionIdParam = Type.Object({ id: Type.String({ minLength: 1, maxLength: 128, description: 'ID of the session.' }) });
export const RefreshTokenIdParam = Type.Object({ id: Type.String({ minLength: 1, maxLength: 128, description: 'ID of the refresh token.' }) });
