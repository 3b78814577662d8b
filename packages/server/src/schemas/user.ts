import { Type, type TOptional, type TSchema } from '@sinclair/typebox';
import { Nullable, OffsetPaging } from './common';
import { FieldsQuery } from '../management-api/projection';

const Metadata = (description: string) => Type.Object({}, { additionalProperties: true, description });
const profile = {
  email: Type.String({ minLength: 1, maxLength: 512, description: "The user's email." }),
  email_verified: Type.Boolean({ description: 'Whether this email address is verified (true) or unverified (false).' }),
  verify_email: Type.Literal(false, { description: 'Tessera sends no verification email; only false is accepted.' }),
  password: Type.String({ minLength: 1, maxLength: 1024, description: 'Initial password for this user.' }),
  name: Type.String({ minLength: 1, maxLength: 300, description: "The user's full name." }),
  nickname: Type.String({ minLength: 1, maxLength: 300, description: "The user's nickname." }),
  picture: Type.String({ minLength: 1, maxLength: 2048, description: "A URI pointing to the user's picture." }),
  blocked: Type.Boolean({ description: 'Whether this user was blocked by an administrator (true) or not (false).' }),
};
const names = {
  given_name: Type.String({ minLength: 1, maxLength: 150, description: "The user's given name(s)." }),
  family_name: Type.String({ minLength: 1, maxLength: 150, description: "The user's family name(s)." }),
};

const optional = <T extends Record<string, TSchema>>(fields: T) =>
  Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, Type.Optional(v)])) as { [K in keyof T]: TOptional<T[K]> };

const username = Type.String({ minLength: 1, maxLength: 128, description: "The user's username. Only valid if the connection requires a username." });

export const UserCreateBody = Type.Object({
  connection: Type.String({ minLength: 1, description: 'Name of the connection this user should be created in.' }),
  user_id: Type.Optional(Type.String({ minLength: 1, maxLength: 255, description: 'The user_id of the user to create: without the provider prefix, or with auth0| (stored as auth0|<id> either way).' })),
  username: Type.Optional(username),
  ...optional({ ...profile, ...names }),
  app_metadata: Type.Optional(Metadata('Data related to the user that affects the application\'s core functionality.')),
  user_metadata: Type.Optional(Metadata('Data related to the user that does not affect the application\'s core functionality.')),
}, { additionalProperties: false });

export const UserPatchBody = Type.Object({
  connection: Type.Optional(Type.String({ minLength: 1, description: 'Name of the connection to target for this user update.' })),
  username: Type.Optional(username),
  ...optional(profile),
  given_name: Type.Optional(Nullable(names.given_name)),
  family_name: Type.Optional(Nullable(names.family_name)),
  app_metadata: Type.Optional(Nullable(Metadata('Merged into the current app_metadata; a key set to null is removed.'))),
  user_metadata: Type.Optional(Nullable(Metadata('Merged into the current user_metadata; a key set to null is removed.'))),
}, { additionalProperties: false });

export const UserResponse = Type.Object({
  user_id: Type.String(),
  email: Type.String(),
  username: Type.Optional(Type.String()),
  email_verified: Type.Boolean(),
  name: Type.String(),
  nickname: Type.String(),
  picture: Type.String(),
  given_name: Type.Optional(Type.String()),
  family_name: Type.Optional(Type.String()),
  identities: Type.Array(Type.Object({ connection: Type.String(), user_id: Type.String(), provider: Type.String(), isSocial: Type.Boolean() })),
  app_metadata: Type.Optional(Type.Object({}, { additionalProperties: true })),
  user_metadata: Type.Optional(Type.Object({}, { additionalProperties: true })),
  blocked: Type.Optional(Type.Boolean()),
  created_at: Type.String(),
  updated_at: Type.String(),
  last_login: Type.Optional(Type.String()),
  last_ip: Type.Optional(Type.String()),
  logins_count: Type.Optional(Type.Integer()),
});

export const UserSummaryResponse = Type.Object({ user_id: Type.String(), email: Type.String(), picture: Type.String(), name: Type.String() });

export const UserListQuery = Type.Object({
  ...OffsetPaging,
  ...FieldsQuery,
  connection: Type.Optional(Type.String({ description: 'Connection filter.' })),
  q: Type.Optional(Type.String({ maxLength: 2048, description: 'Query in Lucene query string syntax (the subset listed in docs/compatibility.md).' })),
  sort: Type.Optional(Type.String({ maxLength: 100, description: 'Field to sort by. Use field:order where order is 1 for ascending and -1 for descending. e.g. created_at:1' })),
  search_engine: Type.Optional(Type.String({ enum: ['v1', 'v2', 'v3'], description: 'The version of the search engine; only v3 is answered.' })),
  primary_order: Type.Optional(Type.Boolean({ description: 'Accepted for compatibility; results come from the primary store either way.' })),
}, { additionalProperties: false });

export const UsersByEmailQuery = Type.Object({
  email: Type.String({ minLength: 1, maxLength: 512, description: 'Email address to search for (case-insensitive).' }),
  ...FieldsQuery,
}, { additionalProperties: false });

export const UserIdParam = Type.Object({ id: Type.String({ minLength: 1, description: 'ID of the user.' }) });
