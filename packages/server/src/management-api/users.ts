import { Type } from '@sinclair/typebox';
import { userView, type PermissionRef, type UserCreate, type UserPatch } from '@tessera/core';
import type { FastifyInstance } from 'fastify';
import { Empty, errorResponses } from '../schemas/common';
import { PagingQuery, PermissionsBody, RoleIdsBody, RoleResponse, UserPermissionResponse } from '../schemas/role';
import { UserCreateBody, UserIdParam, UserListQuery, UserPatchBody, UserResponse } from '../schemas/user';
import { offsetBody, offsetWindow, type OffsetQuery } from '../http/paging';
import type { Services } from '../services';
import { listResponse } from './roles';
import { FieldsQuery, projectedResponse, projecting, projection, type FieldsParams } from './projection';

const tags = ['users'];
type Id = { id: string };

/** /api/v2/users: database users, their roles and their direct permissions. `{id}` arrives URL-encoded (`auth0%7C…`). */
export async function userRoutes(app: FastifyInstance, { services }: { services: Services }): Promise<void> {
  await userAccessRoutes(app, services);
  const { users } = services;

  app.get('/users', {
    schema: { summary: 'List users', tags, querystring: UserListQuery, response: { 200: listResponse('users', projectedResponse(UserResponse)), ...errorResponses } },
    config: { scopes: ['read:users'] },
  }, async (req) => {
    const q = req.query as OffsetQuery & FieldsParams & { connection?: string; q?: string; sort?: string; search_engine?: string };
    const w = offsetWindow(q);
    const page = await users.list({ ...w, connection: q.connection, q: q.q, sort: q.sort, searchEngine: q.search_engine });
    return offsetBody('users', q, w, page, projecting(userView, projection(q)));
  });

  app.post('/users', {
    schema: { summary: 'Create a user', tags, body: UserCreateBody, response: { 201: UserResponse, ...errorResponses } },
    config: { scopes: ['create:users'] },
  }, async (req, reply) => reply.code(201).send(userView(await users.create(req.body as UserCreate))));

  app.get('/users/:id', {
    schema: { summary: 'Get a user', tags, params: UserIdParam, querystring: Type.Object(FieldsQuery, { additionalProperties: false }), response: { 200: projectedResponse(UserResponse), ...errorResponses } },
    config: { scopes: ['read:users'] },
  }, async (req) => projecting(userView, projection(req.query as FieldsParams))(await users.get((req.params as Id).id)));

  app.patch('/users/:id', {
    schema: { summary: 'Update a user', tags, params: UserIdParam, body: UserPatchBody, response: { 200: UserResponse, ...errorResponses } },
    // Auth0: update:users_app_metadata may change app_metadata and nothing else
    config: { scopes: ['update:users', 'update:users_app_metadata'], bodyScopes: { default: ['update:users'], fields: { app_metadata: ['update:users', 'update:users_app_metadata'] } } },
  }, async (req) => userView(await users.update((req.params as Id).id, (req.body ?? {}) as UserPatch)));

  app.delete('/users/:id', {
    schema: { summary: 'Delete a user', tags, params: UserIdParam, response: { 204: Empty, ...errorResponses } },
    config: { scopes: ['delete:users'] },
  }, async (req, reply) => {
    await users.delete((req.params as Id).id);
    return reply.code(204).send();
  });

}

/** A user's roles and direct permissions. */
async function userAccessRoutes(app: FastifyInstance, services: Services): Promise<void> {
  const { roles, permissions } = services;
  app.get('/users/:id/roles', {
    schema: { summary: "Get a user's roles", tags, params: UserIdParam, querystring: PagingQuery, response: { 200: listResponse('roles', RoleResponse), ...errorResponses } },
    config: { scopes: [['read:users', 'read:roles'], 'read:role_members'] },
  }, async (req) => {
    const q = req.query as OffsetQuery;
    const w = offsetWindow(q);
    return offsetBody('roles', q, w, await roles.rolesOfUser((req.params as Id).id, w), (r) => r);
  });

  app.post('/users/:id/roles', {
    schema: { summary: 'Assign roles to a user', tags, params: UserIdParam, body: RoleIdsBody, response: { 204: Empty, ...errorResponses } },
    config: { scopes: ['update:users', 'create:role_members'] },
  }, async (req, reply) => {
    await roles.assignToUser((req.params as Id).id, (req.body as { roles: string[] }).roles);
    return reply.code(204).send();
  });

  app.delete('/users/:id/roles', {
    schema: { summary: 'Remove roles from a user', tags, params: UserIdParam, body: RoleIdsBody, response: { 204: Empty, ...errorResponses } },
    config: { scopes: ['update:users', 'delete:role_members'] },
  }, async (req, reply) => {
    await roles.removeFromUser((req.params as Id).id, (req.body as { roles: string[] }).roles);
    return reply.code(204).send();
  });

  app.get('/users/:id/permissions', {
    schema: { summary: "Get a user's permissions", tags, params: UserIdParam, querystring: PagingQuery, response: { 200: listResponse('permissions', UserPermissionResponse), ...errorResponses } },
    config: { scopes: ['read:users'] },
  }, async (req) => {
    const q = req.query as OffsetQuery;
    const w = offsetWindow(q);
    return offsetBody('permissions', q, w, await permissions.ofUser((req.params as Id).id, w), (p) => p);
  });

  app.post('/users/:id/permissions', {
    schema: { summary: 'Assign permissions to a user', tags, params: UserIdParam, body: PermissionsBody, response: { 201: Type.Object({}), ...errorResponses } },
    config: { scopes: ['update:users'] },
  }, async (req, reply) => {
    await permissions.addToUser((req.params as Id).id, (req.body as { permissions: PermissionRef[] }).permissions);
    return reply.code(201).send({});
  });

  app.delete('/users/:id/permissions', {
    schema: { summary: 'Remove permissions from a user', tags, params: UserIdParam, body: PermissionsBody, response: { 204: Empty, ...errorResponses } },
    config: { scopes: ['update:users'] },
  }, async (req, reply) => {
    await permissions.removeFromUser((req.params as Id).id, (req.body as { permissions: PermissionRef[] }).permissions);
    return reply.code(204).send();
  });
}
