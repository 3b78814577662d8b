import { Type } from '@sinclair/typebox';
import type { Client, ClientInput } from '@tessera/core';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ClientCreateBody, ClientPatchBody, ClientResponse } from '../schemas/client';
import { Empty, errorResponses, OffsetPaging } from '../schemas/common';
import { offsetBody, offsetWindow, type OffsetQuery } from '../http/paging';
import type { Services } from '../services';
import { principalOf } from './plugin';

const IdParam = Type.Object({ id: Type.String({ minLength: 1, description: 'ID of the client.' }) });
const ListQuery = Type.Object({
  ...OffsetPaging,
  per_page: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
  fields: Type.Optional(Type.String()), include_fields: Type.Optional(Type.Boolean()),
  is_global: Type.Optional(Type.Boolean()), is_first_party: Type.Optional(Type.Boolean()), app_type: Type.Optional(Type.String()),
}, { additionalProperties: true });
const tags = ['clients'];
const READ = ['read:clients', 'read:client_keys', 'read:client_credentials', 'read:client_summary'];
const UPDATE = ['update:clients', 'update:client_keys', 'update:client_credentials', 'update:client_token_vault_privileged_access'];

/** The wire view: the secret only for callers holding read:client_keys (or on create/rotate), never the key PEMs. */
function view(c: Client, withSecret: boolean, fields?: { names: Set<string>; include: boolean }): Record<string, unknown> {
  const { credentials: _c, client_secret, ...rest } = c;
  let out: Record<string, unknown> = withSecret && client_secret ? { ...rest, client_secret } : { ...rest };
  if (fields) out = Object.fromEntries(Object.entries(out).filter(([k]) => fields.names.has(k) === fields.include));
  return out;
}

const canReadSecret = (req: FastifyRequest) => principalOf(req).scopes.has('read:client_keys');

function projection(q: { fields?: string; include_fields?: boolean }) {
  if (!q.fields) return undefined;
  return { names: new Set(q.fields.split(',').map((s) => s.trim()).filter(Boolean)), include: q.include_fields !== false };
}

/** /api/v2/clients: what machine-to-machine applications need. */
export async function clientRoutes(app: FastifyInstance, { services }: { services: Services }): Promise<void> {
  const clients = services.clients;
  const Partial = Type.Object({}, { additionalProperties: true });

  app.get('/clients', {
    schema: { summary: 'Get clients', tags, querystring: ListQuery, response: { 200: Type.Union([Type.Array(Partial), Type.Object({ start: Type.Integer(), limit: Type.Integer(), total: Type.Integer(), clients: Type.Array(Partial) })]), ...errorResponses } },
    config: { scopes: READ },
  }, async (req) => {
    const q = req.query as OffsetQuery & { is_global?: boolean; is_first_party?: boolean; app_type?: string; fields?: string; include_fields?: boolean };
    const w = offsetWindow(q);
    const page = await clients.list({ ...w, isGlobal: q.is_global, isFirstParty: q.is_first_party, appTypes: q.app_type?.split(',').filter(Boolean) });
    const secret = canReadSecret(req);
    const fields = projection(q);
    return offsetBody('clients', q, w, page, (c) => view(c, secret, fields));
  });

  app.post('/clients', {
    schema: { summary: 'Create a client', tags, body: ClientCreateBody, response: { 201: ClientResponse, ...errorResponses } },
    config: { scopes: ['create:clients'] },
  }, async (req, reply) => reply.code(201).send(view(await clients.create(req.body as ClientInput & { name: string }), true)));

  app.get('/clients/:id', {
    schema: { summary: 'Get a client', tags, params: IdParam, querystring: Type.Object({ fields: Type.Optional(Type.String()), include_fields: Type.Optional(Type.Boolean()) }), response: { 200: Partial, ...errorResponses } },
    config: { scopes: READ },
  }, async (req) => view(await clients.get((req.params as { id: string }).id), canReadSecret(req), projection(req.query as { fields?: string })));

  app.patch('/clients/:id', {
    schema: { summary: 'Update a client', tags, params: IdParam, body: ClientPatchBody, response: { 200: ClientResponse, ...errorResponses } },
    config: { scopes: UPDATE },
  }, async (req) => view(await clients.update((req.params as { id: string }).id, (req.body ?? {}) as ClientInput), canReadSecret(req)));

  app.post('/clients/:id/rotate-secret', {
    schema: { summary: 'Rotate a client secret', tags, params: IdParam, response: { 200: ClientResponse, ...errorResponses } },
    config: { scopes: ['update:client_keys'] },
  }, async (req) => view(await clients.rotateSecret((req.params as { id: string }).id), true));

  app.delete('/clients/:id', {
    schema: { summary: 'Delete a client', tags, params: IdParam, response: { 204: Empty, ...errorResponses } },
    config: { scopes: ['delete:clients'] },
  }, async (req, reply) => {
    await clients.delete((req.params as { id: string }).id);
    return reply.code(204).send();
  });
}
