import { Type } from '@sinclair/typebox';
import { InsufficientScope, requirementMessage, userSummary, type OrganizationCreate, type OrganizationPatch, type User } from '@tessera/core';
import type { FastifyInstance } from 'fastify';
import { Empty, errorResponses, OffsetPaging } from '../schemas/common';
import {
  GrantIdBody, MembersBody, OrganizationClientGrantResponse, OrganizationCreateBody, OrganizationCreatedResponse, OrganizationGrantListItem, OrganizationPatchBody,
  OrganizationResponse, OrgIdParam,
} from '../schemas/organization';
import { CheckpointPaging, MixedPagingQuery, PagingQuery, RoleIdsBody, RoleResponse } from '../schemas/role';
import { UserSummaryResponse } from '../schemas/user';
import { offsetBody, offsetWindow, type OffsetQuery } from '../http/paging';
import type { Services } from '../services';
import { checkpointBody, listResponse } from './roles';
import { FieldsQuery, projectedResponse, projecting, projection, type FieldsParams } from './projection';
import { enabledView } from './organization-connections';
import { principalOf } from './plugin';

const tags = ['organizations'];
type Id = { id: string };
type Mixed = OffsetQuery & { from?: string; take?: number };
const MemberParams = Type.Object({ id: OrgIdParam.properties.id, user_id: Type.String({ minLength: 1, description: 'ID of the user.' }) });
const GrantParams = Type.Object({ id: OrgIdParam.properties.id, grant_id: Type.String({ minLength: 1, description: 'The Client Grant ID.' }) });
/** A member as the list shows it: the user summary, and `roles` when `fields=roles` asks for them. */
const MemberResponse = Type.Object({ ...UserSummaryResponse.properties, roles: Type.Array(Type.Object({ id: Type.String(), name: Type.String() })) });
const MemberListQuery = Type.Object({ ...MixedPagingQuery.properties, ...FieldsQuery }, { additionalProperties: false });
const checkpointWanted = (q: Mixed) => q.from !== undefined || q.take !== undefined;

/** /api/v2/organizations: CRUD, members, member roles and the client grants an organization may use. */
export async function organizationRoutes(app: FastifyInstance, { services }: { services: Services }): Promise<void> {
  await memberRoutes(app, services);
  await clientGrantLinkRoutes(app, services);
  const orgs = services.organizations;

  app.get('/organizations', {
    schema: { summary: 'Get organizations', tags, querystring: MixedPagingQuery, response: { 200: listResponse('organizations', OrganizationResponse), ...errorResponses } },
    config: { scopes: ['read:organizations'] },
  }, async (req) => {
    const q = req.query as Mixed;
    if (checkpointWanted(q)) return checkpointBody('organizations', await orgs.listFrom(q.from, q.take ?? 50), (o) => o);
    const w = offsetWindow(q);
    return offsetBody('organizations', q, w, await orgs.list(w), (o) => o);
  });

  app.post('/organizations', {
    schema: { summary: 'Create an organization', tags, body: OrganizationCreateBody, response: { 201: OrganizationCreatedResponse, ...errorResponses } },
    // enabling connections on create is what POST /organizations/{id}/enabled_connections does: its scope too
    config: { scopes: ['create:organizations'], bodyScopes: { default: ['create:organizations'], fields: { enabled_connections: ['create:organization_connections'] } } },
  }, async (req, reply) => {
    const body = req.body as OrganizationCreate;
    const org = await orgs.create(body);
    const { connections, ...view } = org;
    return reply.code(201).send(body.enabled_connections === undefined ? view : { ...view, enabled_connections: (connections ?? []).map(enabledView) });
  });

  app.get('/organizations/:id', {
    schema: { summary: 'Get an organization', tags, params: OrgIdParam, response: { 200: OrganizationResponse, ...errorResponses } },
    config: { scopes: ['read:organizations'] },
  }, async (req) => orgs.get((req.params as Id).id));

  app.get('/organizations/name/:name', {
    schema: { summary: 'Get an organization by name', tags, params: Type.Object({ name: Type.String({ minLength: 1, maxLength: 50, description: 'Name of the organization.' }) }), response: { 200: OrganizationResponse, ...errorResponses } },
    config: { scopes: ['read:organizations'] },
  }, async (req) => orgs.getByName((req.params as { name: string }).name));

  app.patch('/organizations/:id', {
    schema: { summary: 'Modify an organization', tags, params: OrgIdParam, body: OrganizationPatchBody, response: { 200: OrganizationResponse, ...errorResponses } },
    config: { scopes: ['update:organizations'] },
  }, async (req) => orgs.update((req.params as Id).id, (req.body ?? {}) as OrganizationPatch));

  app.delete('/organizations/:id', {
    schema: { summary: 'Delete an organization', tags, params: OrgIdParam, response: { 204: Empty, ...errorResponses } },
    config: { scopes: ['delete:organizations'] },
  }, async (req, reply) => {
    await orgs.delete((req.params as Id).id);
    return reply.code(204).send();
  });

}

/** Members and their organization roles. */
async function memberRoutes(app: FastifyInstance, services: Services): Promise<void> {
  const orgs = services.organizations;
  app.get('/organizations/:id/members', {
    schema: {
      summary: 'Get members who belong to an organization',
      description: 'Member roles are not sent by default: `fields=roles` adds each member\'s roles in the organization (`{id, name}`), which needs `read:organization_member_roles` as well.',
      tags, params: OrgIdParam, querystring: MemberListQuery, response: { 200: listResponse('members', projectedResponse(MemberResponse)), ...errorResponses },
    },
    config: { scopes: ['read:organization_members'] },
  }, async (req) => {
    const { id } = req.params as Id;
    const q = req.query as Mixed & FieldsParams;
    const p = projection(q);
    // Auth0: roles only when `fields` names them (and includes them), with the member-roles scope
    const withRoles = p !== undefined && p.include && p.names.has('roles');
    if (withRoles && !principalOf(req).scopes.has('read:organization_member_roles')) {
      throw new InsufficientScope(requirementMessage(['read:organization_member_roles']));
    }
    const summary = projecting(userSummary, p);
    // the page first, then its members' roles in one query
    const viewFor = async (users: User[]) => {
      if (!withRoles) return summary;
      const roles = await orgs.rolesOfMembers(id, users.map((u) => u.user_id));
      return (u: User) => ({ ...summary(u), roles: roles.get(u.user_id) ?? [] });
    };
    if (checkpointWanted(q)) {
      const page = await orgs.membersFrom(id, q.from, q.take ?? 50);
      return checkpointBody('members', page, await viewFor(page.items));
    }
    const w = offsetWindow(q);
    const page = await orgs.members(id, w);
    return offsetBody('members', q, w, page, await viewFor(page.items));
  });

  app.post('/organizations/:id/members', {
    schema: { summary: 'Add members to an organization', tags, params: OrgIdParam, body: MembersBody, response: { 204: Empty, ...errorResponses } },
    config: { scopes: ['create:organization_members'] },
  }, async (req, reply) => {
    await orgs.addMembers((req.params as Id).id, (req.body as { members: string[] }).members);
    return reply.code(204).send();
  });

  app.delete('/organizations/:id/members', {
    schema: { summary: 'Delete members from an organization', tags, params: OrgIdParam, body: MembersBody, response: { 204: Empty, ...errorResponses } },
    config: { scopes: ['delete:organization_members'] },
  }, async (req, reply) => {
    await orgs.removeMembers((req.params as Id).id, (req.body as { members: string[] }).members);
    return reply.code(204).send();
  });

  app.get('/organizations/:id/members/:user_id/roles', {
    schema: { summary: 'Get user roles assigned to an organization member', tags, params: MemberParams, querystring: PagingQuery, response: { 200: listResponse('roles', RoleResponse), ...errorResponses } },
    config: { scopes: ['read:organization_member_roles'] },
  }, async (req) => {
    const p = req.params as { id: string; user_id: string };
    const q = req.query as OffsetQuery;
    const w = offsetWindow(q);
    return offsetBody('roles', q, w, await orgs.memberRoles(p.id, p.user_id, w), (r) => r);
  });

  app.post('/organizations/:id/members/:user_id/roles', {
    schema: { summary: 'Assign user roles to an organization member', tags, params: MemberParams, body: RoleIdsBody, response: { 204: Empty, ...errorResponses } },
    config: { scopes: ['create:organization_member_roles'] },
  }, async (req, reply) => {
    const p = req.params as { id: string; user_id: string };
    await orgs.assignMemberRoles(p.id, p.user_id, (req.body as { roles: string[] }).roles);
    return reply.code(204).send();
  });

  app.delete('/organizations/:id/members/:user_id/roles', {
    schema: { summary: 'Delete user roles from an organization member', tags, params: MemberParams, body: RoleIdsBody, response: { 204: Empty, ...errorResponses } },
    config: { scopes: ['delete:organization_member_roles'] },
  }, async (req, reply) => {
    const p = req.params as { id: string; user_id: string };
    await orgs.removeMemberRoles(p.id, p.user_id, (req.body as { roles: string[] }).roles);
    return reply.code(204).send();
  });

}

/** Client grants an organization may be used with, seen from both sides. */
async function clientGrantLinkRoutes(app: FastifyInstance, services: Services): Promise<void> {
  const orgs = services.organizations;
  app.get('/organizations/:id/client-grants', {
    schema: {
      summary: 'Get client grants associated to an organization', tags, params: OrgIdParam,
      querystring: Type.Object({ ...OffsetPaging, audience: Type.Optional(Type.String()), client_id: Type.Optional(Type.String()) }, { additionalProperties: false }),
      response: { 200: listResponse('client_grants', OrganizationGrantListItem), ...errorResponses },
    },
    config: { scopes: ['read:organization_client_grants'] },
  }, async (req) => {
    const q = req.query as OffsetQuery & { audience?: string; client_id?: string };
    const w = offsetWindow(q);
    return offsetBody('client_grants', q, w, await orgs.clientGrants((req.params as Id).id, { ...w, audience: q.audience, clientId: q.client_id }), (g) => g);
  });

  app.post('/organizations/:id/client-grants', {
    schema: { summary: 'Associate a client grant with an organization', tags, params: OrgIdParam, body: GrantIdBody, response: { 201: OrganizationClientGrantResponse, ...errorResponses } },
    config: { scopes: ['create:organization_client_grants'] },
  }, async (req, reply) => reply.code(201).send(await orgs.addClientGrant((req.params as Id).id, (req.body as { grant_id: string }).grant_id)));

  app.delete('/organizations/:id/client-grants/:grant_id', {
    schema: { summary: 'Remove a client grant from an organization', tags, params: GrantParams, response: { 204: Empty, ...errorResponses } },
    config: { scopes: ['delete:organization_client_grants'] },
  }, async (req, reply) => {
    const p = req.params as { id: string; grant_id: string };
    await orgs.removeClientGrant(p.id, p.grant_id);
    return reply.code(204).send();
  });

  app.get('/client-grants/:id/organizations', {
    schema: {
      summary: 'Get the organizations associated to a client grant', tags: ['client-grants'],
      params: Type.Object({ id: Type.String({ minLength: 1, description: 'ID of the client grant.' }) }),
      querystring: Type.Object({ ...OffsetPaging, ...CheckpointPaging }, { additionalProperties: false }),
      response: { 200: listResponse('organizations', OrganizationResponse), ...errorResponses },
    },
    config: { scopes: ['read:organization_client_grants'] },
  }, async (req) => {
    const { id } = req.params as Id;
    const q = req.query as Mixed;
    if (checkpointWanted(q)) return checkpointBody('organizations', await orgs.ofClientGrantFrom(id, q.from, q.take ?? 50), (o) => o);
    const w = offsetWindow(q);
    return offsetBody('organizations', q, w, await orgs.ofClientGrant(id, w), (o) => o);
  });
}
