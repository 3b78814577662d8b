import { Type } from '@sinclair/typebox';
import { DATABASE_CONNECTION, type OrganizationConnection, type OrganizationConnectionInput } from '@tessera/core';
import type { FastifyInstance } from 'fastify';
import { Empty, errorResponses, OffsetPaging } from '../schemas/common';
import {
  EnabledConnectionCreateBody, EnabledConnectionPatchBody, EnabledConnectionResponse, OrgConnectionCreateBody, OrgConnectionPatchBody,
  OrgConnectionResponse, OrgIdParam,
} from '../schemas/organization';
import { offsetBody, offsetWindow, type OffsetQuery } from '../http/paging';
import type { Services } from '../services';
import { listResponse } from './roles';

const tags = ['organizations'];
type Id = { id: string };
type ConnParams = { id: string; connection_id: string };
const ConnParam = Type.Object({ id: OrgIdParam.properties.id, connection_id: Type.String({ minLength: 1, description: 'ID of the connection.' }) });

/** Auth0's view of an enabled connection (`/enabled_connections`, and `enabled_connections` of a created organization). */
export function enabledView(c: OrganizationConnection) {
  return {
    connection_id: c.connection_id, assign_membership_on_login: c.assign_membership_on_login, show_as_button: c.show_as_button,
    is_signup_enabled: c.is_signup_enabled, connection: { name: DATABASE_CONNECTION, strategy: 'auth0' },
  };
}
/** The newer view (`/connections`): the same settings, plus whether it is enabled and the organization-scoped fields. */
function fullView(c: OrganizationConnection) {
  return {
    ...enabledView(c), is_enabled: c.is_enabled,
    ...(c.organization_connection_name !== undefined && { organization_connection_name: c.organization_connection_name }),
    ...(c.organization_access_level !== undefined && { organization_access_level: c.organization_access_level }),
  };
}

function page<T>(items: T[], q: OffsetQuery) {
  const w = offsetWindow(q);
  const slice = items.slice(w.offset, w.limit === undefined ? undefined : w.offset + w.limit);
  return { w, page: { items: slice, total: items.length } };
}

/**
 * /api/v2/organizations/{id}/enabled_connections (Auth0's classic API) and /api/v2/organizations/{id}/connections
 * (the newer one, which also lists connections disabled with `is_enabled: false`). Both edit the same settings.
 */
export async function organizationConnectionRoutes(app: FastifyInstance, { services }: { services: Services }): Promise<void> {
  const orgs = services.organizations;
  const variants = [
    { path: 'enabled_connections', collection: 'enabled_connections', enabledOnly: true, view: enabledView, response: EnabledConnectionResponse, create: EnabledConnectionCreateBody, patch: EnabledConnectionPatchBody, query: {} },
    { path: 'connections', collection: 'connections', enabledOnly: false, view: fullView, response: OrgConnectionResponse, create: OrgConnectionCreateBody, patch: OrgConnectionPatchBody, query: { is_enabled: Type.Optional(Type.Boolean({ description: 'Filter by whether the connection is enabled.' })) } },
  ] as const;

  for (const v of variants) {
    const view = v.view as (c: OrganizationConnection) => Record<string, unknown>;
    app.get(`/organizations/:id/${v.path}`, {
      schema: {
        summary: 'Get connections enabled for an organization', tags, params: OrgIdParam,
        querystring: Type.Object({ ...OffsetPaging, ...v.query }, { additionalProperties: false }),
        response: { 200: listResponse(v.collection, v.response), ...errorResponses },
      },
      config: { scopes: ['read:organization_connections'] },
    }, async (req) => {
      const q = req.query as OffsetQuery & { is_enabled?: boolean };
      let items = await orgs.connections((req.params as Id).id, v.enabledOnly);
      if (q.is_enabled !== undefined) items = items.filter((c) => c.is_enabled === q.is_enabled);
      const { w, page: p } = page(items, q);
      return offsetBody(v.collection, q, w, p, view);
    });

    app.post(`/organizations/:id/${v.path}`, {
      schema: { summary: 'Add a connection to an organization', tags, params: OrgIdParam, body: v.create, response: { 201: v.response, ...errorResponses } },
      config: { scopes: ['create:organization_connections'] },
    }, async (req, reply) => {
      const { connection_id, ...input } = req.body as OrganizationConnectionInput & { connection_id: string };
      return reply.code(201).send(view(await orgs.addConnection((req.params as Id).id, connection_id, input)));
    });

    app.get(`/organizations/:id/${v.path}/:connection_id`, {
      schema: { summary: 'Get an enabled connection for an organization', tags, params: ConnParam, response: { 200: v.response, ...errorResponses } },
      config: { scopes: ['read:organization_connections'] },
    }, async (req) => {
      const p = req.params as ConnParams;
      return view(await orgs.connection(p.id, p.connection_id, v.enabledOnly));
    });

    app.patch(`/organizations/:id/${v.path}/:connection_id`, {
      schema: { summary: 'Modify an organization connection', tags, params: ConnParam, body: v.patch, response: { 200: v.response, ...errorResponses } },
      config: { scopes: ['update:organization_connections'] },
    }, async (req) => {
      const p = req.params as ConnParams;
      return view(await orgs.updateConnection(p.id, p.connection_id, (req.body ?? {}) as OrganizationConnectionInput, v.enabledOnly));
    });

    app.delete(`/organizations/:id/${v.path}/:connection_id`, {
      schema: { summary: 'Delete a connection from an organization', tags, params: ConnParam, response: { 204: Empty, ...errorResponses } },
      config: { scopes: ['delete:organization_connections'] },
    }, async (req, reply) => {
      const p = req.params as ConnParams;
      await orgs.removeConnection(p.id, p.connection_id, v.enabledOnly);
      return reply.code(204).send();
    });
  }
}
