import { Type, type TSchema } from '@sinclair/typebox';
import { BadRequest, userSummary, type CheckpointPage, type PermissionRef, type RoleCreate, type RolePatch } from '@tessera/core';
import type { FastifyInstance } from 'fastify';
import { Empty, errorResponses } from '../schemas/common';
import {
  MixedPagingQuery, PagingQuery, PermissionResponse, PermissionsBody, RoleCreateBody, RoleIdParam, RoleListQuery, RolePatchBody, RoleResponse, UserIdsBody,
} from '../schemas/role';
import { UserSummaryResponse } from '../schemas/user';
import { offsetBody, offsetWindow, type OffsetQuery } from '../http/paging';
import type { Services } from '../services';

const tags = ['roles'];
type Id = { id: string };
type Mixed = OffsetQuery & { from?: string; take?: number };

/** 200 body of a list endpoint: bare array, offset object or (with from/take) checkpoint object. */
export const listResponse = (collection: string, item: TSchema) => Type.Union([
  Type.Array(item),
  Type.Object({ start: Type.Integer(), limit: Type.Integer(), total: Type.Integer(), [collection]: Type.Array(item) }),
  Type.Object({ [collection]: Type.Array(item), next: Type.Optional(Type.String()) }),
]);

export function checkpointBody<T, R>(collection: string, page: CheckpointPage<T>, view: (t: T) => R): Record<string, unknown> {
  return { [collection]: page.items.map(view), ...(page.next && { next: page.next }) };
}

/** /api/v2/roles with Auth0's irregular status codes (POST 200, DELETE 200 `{}`, permissions 201/204). */
export async function roleRoutes(app: FastifyInstance, { services }: { services: Services }): Promise<void> {
  await roleAccessRoutes(app, services);
  const roles = services.roles;

  app.get('/roles', {
    schema: { summary: 'Get roles', tags, querystring: RoleListQuery, response: { 200: listResponse('roles', RoleResponse), ...errorResponses } },
    config: { scopes: ['read:roles'] },
  }, async (req) => {
    const q = req.query as OffsetQuery & { name_filter?: string; type?: 'tenant' | 'organization'; owner_id?: string };
    if (q.type === 'organization' && q.owner_id === undefined) {
      throw new BadRequest("Query validation error: 'owner_id is required when type is organization' on property owner_id.", 'invalid_query_string');
    }
    const w = offsetWindow(q);
    // an owner filter matches organization roles only (tenant roles have no owner); never ignored
    const page = await roles.list({ ...w, nameFilter: q.name_filter, type: q.type, ownerId: q.owner_id });
    return offsetBody('roles', q, w, page, (r) => r);
  });

  app.post('/roles', {
    schema: { summary: 'Create a role', tags, body: RoleCreateBody, response: { 200: RoleResponse, ...errorResponses } },
    config: { scopes: ['create:roles'] },
  }, async (req) => roles.create(req.body as RoleCreate));

  app.get('/roles/:id', {
    schema: { summary: 'Get a role', tags, params: RoleIdParam, response: { 200: RoleResponse, ...errorResponses } },
    config: { scopes: ['read:roles'] },
  }, async (req) => roles.get((req.params as Id).id));

  app.patch('/roles/:id', {
    schema: { summary: 'Update a role', tags, params: RoleIdParam, body: RolePatchBody, response: { 200: RoleResponse, ...errorResponses } },
    config: { scopes: ['update:roles'] },
  }, async (req) => roles.update((req.params as Id).id, (req.body ?? {}) as RolePatch));

  app.delete('/roles/:id', {
    schema: { summary: 'Delete a role', tags, params: RoleIdParam, response: { 200: Type.Object({}), ...errorResponses } },
    config: { scopes: ['delete:roles'] },
  }, async (req) => {
    await roles.delete((req.params as Id).id);
    return {};
  });

}

/** A role's permissions and users. */
async function roleAccessRoutes(app: FastifyInstance, services: Services): Promise<void> {
  const roles = services.roles;
  app.get('/roles/:id/permissions', {
    schema: { summary: 'Get permissions granted by role', tags, params: RoleIdParam, querystring: PagingQuery, response: { 200: listResponse('permissions', PermissionResponse), ...errorResponses } },
    config: { scopes: ['read:roles'] },
  }, async (req) => {
    const q = req.query as OffsetQuery;
    const w = offsetWindow(q);
    return offsetBody('permissions', q, w, await roles.permissions((req.params as Id).id, w), (p) => p);
  });

  app.post('/roles/:id/permissions', {
    schema: { summary: 'Associate permissions with a role', tags, params: RoleIdParam, body: PermissionsBody, response: { 201: Type.Object({}), ...errorResponses } },
    config: { scopes: ['update:roles'] },
  }, async (req, reply) => {
    await roles.addPermissions((req.params as Id).id, (req.body as { permissions: PermissionRef[] }).permissions);
    return reply.code(201).send({});
  });

  app.delete('/roles/:id/permissions', {
    schema: { summary: 'Remove permissions from a role', tags, params: RoleIdParam, body: PermissionsBody, response: { 204: Empty, ...errorResponses } },
    config: { scopes: ['update:roles'] },
  }, async (req, reply) => {
    await roles.removePermissions((req.params as Id).id, (req.body as { permissions: PermissionRef[] }).permissions);
    return reply.code(204).send();
  });

  app.get('/roles/:id/users', {
    schema: { summary: "Get a role's users", tags, params: RoleIdParam, querystring: MixedPagingQuery, response: { 200: listResponse('users', UserSummaryResponse), ...errorResponses } },
    config: { scopes: [['read:users', 'read:roles'], 'read:role_members'] },
  }, async (req) => {
    const { id } = req.params as Id;
    const q = req.query as Mixed;
    if (q.from !== undefined || q.take !== undefined) return checkpointBody('users', await roles.usersFrom(id, q.from, q.take ?? 50), userSummary);
    const w = offsetWindow(q);
    return offsetBody('users', q, w, await roles.users(id, w), userSummary);
  });

  app.post('/roles/:id/users', {
    schema: { summary: 'Assign users to a role', tags, params: RoleIdParam, body: UserIdsBody, response: { 200: Type.Object({}), ...errorResponses } },
    config: { scopes: ['update:roles', 'create:role_members'] },
  }, async (req) => {
    await roles.assignUsers((req.params as Id).id, (req.body as { users: string[] }).users);
    return {};
  });
}
