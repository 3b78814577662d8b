import { Type } from '@sinclair/typebox';
import type { ClientGrantCreate, ClientGrantPatch, ClientGrantQuery, SubjectType } from '@tessera/core';
import type { FastifyInstance } from 'fastify';
import { Empty, errorResponses, Nullable, OffsetPaging, StringEnum } from '../schemas/common';
import { offsetBody, offsetWindow, type OffsetQuery } from '../http/paging';
import type { Services } from '../services';

const Scope = Type.Array(Type.String({ minLength: 1, maxLength: 280 }), { description: 'Scopes allowed for this client grant.' });
const OrgUsage = StringEnum(['deny', 'allow', 'require'] as const, { description: 'Defines whether organizations can be used with client credentials exchanges for this grant.' });
const AuthzTypes = Type.Array(Type.String({ minLength: 1, maxLength: 255 }));

const CreateBody = Type.Object({
  client_id: Type.Optional(Type.String({ minLength: 1, description: 'ID of the client.' })),
  audience: Type.String({ minLength: 1, maxLength: 600, description: 'The audience (API identifier) of this client grant' }),
  scope: Type.Optional(Scope),
  organization_usage: Type.Optional(OrgUsage),
  allow_any_organization: Type.Optional(Type.Boolean()),
  allow_all_scopes: Type.Optional(Type.Boolean()),
  subject_type: Type.Optional(StringEnum(['client', 'user'] as const, { description: 'The type of application access the client grant allows.' })),
  authorization_details_types: Type.Optional(AuthzTypes),
  default_for: Type.Optional(Type.Literal('third_party_clients')),
}, { additionalProperties: false });

const PatchBody = Type.Object({
  scope: Type.Optional(Nullable(Scope)),
  organization_usage: Type.Optional(Nullable(OrgUsage)),
  allow_any_organization: Type.Optional(Nullable(Type.Boolean())),
  allow_all_scopes: Type.Optional(Nullable(Type.Boolean())),
  authorization_details_types: Type.Optional(AuthzTypes),
}, { additionalProperties: false, minProperties: 1 });

const Grant = Type.Object({
  id: Type.String(), client_id: Type.Optional(Type.String()), audience: Type.String(), scope: Type.Optional(Type.Array(Type.String())),
  organization_usage: Type.Optional(Type.String()), allow_any_organization: Type.Optional(Type.Boolean()),
  allow_all_scopes: Type.Optional(Type.Boolean()), is_system: Type.Optional(Type.Boolean()), subject_type: Type.String(),
  authorization_details_types: Type.Optional(Type.Array(Type.String())), default_for: Type.Optional(Type.String()),
});

const ListQuery = Type.Object({
  ...OffsetPaging,
  from: Type.Optional(Type.String({ description: 'Optional Id from which to start selection.' })),
  take: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, description: 'Number of results per page. Defaults to 50.' })),
  audience: Type.Optional(Type.String()), client_id: Type.Optional(Type.String()),
  allow_any_organization: Type.Optional(Type.Literal(true)),
  subject_type: Type.Optional(StringEnum(['client', 'user'] as const)),
  default_for: Type.Optional(Type.Literal('third_party_clients')),
}, { additionalProperties: true });

const IdParam = Type.Object({ id: Type.String({ minLength: 1, description: 'ID of the client grant.' }) });
const tags = ['client-grants'];

/** /api/v2/client-grants: offset or checkpoint paging (`from`/`take` win when present). */
export async function clientGrantRoutes(app: FastifyInstance, { services }: { services: Services }): Promise<void> {
  const grants = services.clientGrants;

  app.get('/client-grants', {
    schema: {
      summary: 'Get client grants', tags, querystring: ListQuery,
      // closed objects: the serializer picks the first variant that matches, so an open checkpoint shape would eat the offset totals
      response: { 200: Type.Union([Type.Array(Grant), Type.Object({ start: Type.Integer(), limit: Type.Integer(), total: Type.Integer(), client_grants: Type.Array(Grant) }, { additionalProperties: false }), Type.Object({ client_grants: Type.Array(Grant), next: Type.Optional(Type.String()) }, { additionalProperties: false })]), ...errorResponses },
    },
    config: { scopes: ['read:client_grants'] },
  }, async (req) => {
    const q = req.query as OffsetQuery & { from?: string; take?: number; audience?: string; client_id?: string; allow_any_organization?: boolean; subject_type?: SubjectType; default_for?: string };
    const filter: ClientGrantQuery = { audience: q.audience, clientId: q.client_id, subjectType: q.subject_type, allowAnyOrganization: q.allow_any_organization, defaultFor: q.default_for };
    if (q.from !== undefined || q.take !== undefined) {
      const page = await grants.listFrom({ ...filter, from: q.from, take: q.take ?? 50 });
      return page.next ? { client_grants: page.items, next: page.next } : { client_grants: page.items };
    }
    const w = offsetWindow(q);
    return offsetBody('client_grants', q, w, await grants.list({ ...filter, ...w }), (g) => g);
  });

  app.post('/client-grants', {
    schema: { summary: 'Create client grant', tags, body: CreateBody, response: { 201: Grant, ...errorResponses } },
    config: { scopes: ['create:client_grants'] },
  }, async (req, reply) => reply.code(201).send(await grants.create(req.body as ClientGrantCreate)));

  app.get('/client-grants/:id', {
    schema: { summary: 'Get client grant', tags, params: IdParam, response: { 200: Grant, ...errorResponses } },
    config: { scopes: ['read:client_grants'] },
  }, async (req) => grants.get((req.params as { id: string }).id));

  app.patch('/client-grants/:id', {
    schema: { summary: 'Update client grant', tags, params: IdParam, body: PatchBody, response: { 200: Grant, ...errorResponses } },
    config: { scopes: ['update:client_grants'] },
  }, async (req) => grants.update((req.params as { id: string }).id, req.body as ClientGrantPatch));

  app.delete('/client-grants/:id', {
    schema: { summary: 'Delete client grant', tags, params: IdParam, response: { 204: Empty, ...errorResponses } },
    config: { scopes: ['delete:client_grants'] },
  }, async (req, reply) => {
    await grants.delete((req.params as { id: string }).id);
    return reply.code(204).send();
  });
}
