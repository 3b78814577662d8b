import { Type } from '@sinclair/typebox';
import type { Client, ClientInput } from '@tessera/core';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ClientCreateBody, ClientPatchBody, ClientResponse } from '../schemas/client';
import { Empty, errorResponses, OffsetPaging } from '../schemas/common';
import { offsetBody, offsetWindow, type OffsetQuery } from '../http/paging';
import type { Services } from '../services';
import { principalOf } from './plugin';
import { FieldsQuery, project, projection, type FieldsParams, type Projection } from './projection';

const IdParam = Type.Object({ id: Type.String({ minLength: 1, description: 'ID of the client.' }) });
const ListQuery = Type.Object({
  ...OffsetPaging,
  per_page: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
  ...FieldsQuery,
  is_global: Type.Optional(Type.Boolean()), is_first_party: Type.Optional(Type.Boolean()), app_type: Type.Optional(Type.String()),
}, { additionalProperties: true });
const tags = ['clients'];
const READ = ['read:clients', 'read:client_keys', 'read:client_credentials', 'read:client_summary'];
const UPDATE = ['update:clients', 'update:client_keys', 'update:client_credentials', 'update:client_token_vault_privileged_access'];
/** A new private_key_jwt public key or self_signed_tls_client_auth certificate given inline in a client body. */
const NEW_CREDENTIAL = 'client_authentication_methods.private_key_jwt.credentials.*.pem';
const NEW_CERTIFICATE = 'client_authentication_methods.self_signed_tls_client_auth.credentials.*.pem';
const NEW_DN = 'client_authentication_methods.tls_client_auth.credentials.*.credential_type';

/**
 * Auth0's field rules: secrets and keys need update:client_keys, credentials update:client_credentials (and
 * create:client_credentials for a new key), everything else update:clients. Tessera has no token-vault
 * fields, so update:client_token_vault_privileged_access changes nothing.
 */
const PATCH_FIELDS = {
  default: ['update:clients'],
  fields: {
    client_secret: ['update:client_keys'], 'jwt_configuration.secret': ['update:client_keys'], encryption_key: ['update:client_keys'],
    client_authentication_methods: ['update:client_credentials'], [NEW_CREDENTIAL]: ['create:client_credentials'],
    [NEW_CERTIFICATE]: ['create:client_credentials'], [NEW_DN]: ['create:client_credentials'],
  },
};
const CREATE_FIELDS = { default: ['create:clients'], fields: { client_authentication_methods: ['create:client_credentials'] } };

/** What any read scope shows (Auth0's client summary). */
const SUMMARY = ['client_id', 'app_type', 'name', 'description'];

/**
 * The wire view by the caller's read scopes: read:clients or read:client_keys the whole client (the secret
 * only with read:client_keys), read:client_credentials the summary and client_authentication_methods,
 * read:client_summary the summary alone. Never the key PEMs.
 */
function view(c: Client, scopes: ReadonlySet<string> | 'all', fields?: Projection): Record<string, unknown> {
  const { credentials: _c, client_secret, ...rest } = c;
  const has = (s: string) => scopes === 'all' || scopes.has(s);
  let out: Record<string, unknown>;
  if (has('read:clients') || has('read:client_keys')) out = has('read:client_keys') && client_secret ? { ...rest, client_secret } : { ...rest };
  else {
    const allowed = has('read:client_credentials') ? [...SUMMARY, 'client_authentication_methods'] : SUMMARY;
    out = Object.fromEntries(Object.entries(rest).filter(([k]) => allowed.includes(k)));
  }
  return project(out, fields);
}

const readScopes = (req: FastifyRequest) => principalOf(req).scopes;
/** Writes answer with the whole client; the secret only to callers holding read:client_keys. */
const writeScopes = (req: FastifyRequest) => new Set(['read:clients', ...(readScopes(req).has('read:client_keys') ? ['read:client_keys'] : [])]);

/** /api/v2/clients: what machine-to-machine applications need. */
export async function clientRoutes(app: FastifyInstance, { services }: { services: Services }): Promise<void> {
  const clients = services.clients;
  const Partial = Type.Object({}, { additionalProperties: true });

  app.get('/clients', {
    schema: { summary: 'Get clients', tags, querystring: ListQuery, response: { 200: Type.Union([Type.Array(Partial), Type.Object({ start: Type.Integer(), limit: Type.Integer(), total: Type.Integer(), clients: Type.Array(Partial) })]), ...errorResponses } },
    config: { scopes: READ },
  }, async (req) => {
    const q = req.query as OffsetQuery & { is_global?: boolean; is_first_party?: boolean; app_type?: string; } & FieldsParams;
    const w = offsetWindow(q);
    const page = await clients.list({ ...w, isGlobal: q.is_global, isFirstParty: q.is_first_party, appTypes: q.app_type?.split(',').filter(Boolean) });
    const scopes = readScopes(req);
    const fields = projection(q);
    return offsetBody('clients', q, w, page, (c) => view(c, scopes, fields));
  });

  app.post('/clients', {
    schema: { summary: 'Create a client', tags, body: ClientCreateBody, response: { 201: ClientResponse, ...errorResponses } },
    config: { scopes: ['create:clients'], bodyScopes: CREATE_FIELDS },
  }, async (req, reply) => reply.code(201).send(view(await clients.create(req.body as ClientInput & { name: string }), 'all')));

  app.get('/clients/:id', {
    schema: { summary: 'Get a client', tags, params: IdParam, querystring: Type.Object(FieldsQuery), response: { 200: Partial, ...errorResponses } },
    config: { scopes: READ },
  }, async (req) => view(await clients.get((req.params as { id: string }).id), readScopes(req), projection(req.query as FieldsParams)));

  app.patch('/clients/:id', {
    schema: { summary: 'Update a client', tags, params: IdParam, body: ClientPatchBody, response: { 200: ClientResponse, ...errorResponses } },
    config: { scopes: UPDATE, bodyScopes: PATCH_FIELDS },
  }, async (req) => view(await clients.update((req.params as { id: string }).id, (req.body ?? {}) as ClientInput), writeScopes(req)));

  app.post('/clients/:id/rotate-secret', {
    schema: { summary: 'Rotate a client secret', tags, params: IdParam, response: { 200: ClientResponse, ...errorResponses } },
    config: { scopes: ['update:client_keys'] },
  }, async (req) => view(await clients.rotateSecret((req.params as { id: string }).id), 'all'));

  app.delete('/clients/:id', {
    schema: { summary: 'Delete a client', tags, params: IdParam, response: { 204: Empty, ...errorResponses } },
    config: { scopes: ['delete:clients'] },
  }, async (req, reply) => {
    await clients.delete((req.params as { id: string }).id);
    return reply.code(204).send();
  });
}
