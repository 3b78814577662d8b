import { Type } from '@sinclair/typebox';
import type { ClientCredential, CredentialInput } from '@tessera/core';
import type { FastifyInstance } from 'fastify';
import { CredentialCreateBody, CredentialPatchBody, CredentialResponse } from '../schemas/client';
import { Empty, errorResponses } from '../schemas/common';
import type { Services } from '../services';

const ClientParam = Type.Object({ id: Type.String({ minLength: 1, description: 'ID of the client.' }) });
const CredentialParam = Type.Object({
  id: Type.String({ minLength: 1, description: 'ID of the client.' }),
  credential_id: Type.String({ minLength: 1, description: 'ID of the credential.' }),
});
const tags = ['clients'];
type Params = { id: string; credential_id: string };

/** The wire view: everything but the PEM (public keys and certificates are registered, never handed back). */
function view(c: ClientCredential): Record<string, unknown> {
  const { pem: _pem, ...rest } = c;
  return { ...rest, name: c.name ?? '' };
}

/**
 * /api/v2/clients/{id}/credentials: Auth0's client credentials (public keys for private_key_jwt, certificates for
 * self_signed_tls_client_auth, subject DNs or SANs for tls_client_auth). A credential is used only once the
 * client's client_authentication_methods refers to it.
 */
export async function clientCredentialRoutes(app: FastifyInstance, { services }: { services: Services }): Promise<void> {
  const credentials = services.clientCredentials;

  app.get('/clients/:id/credentials', {
    schema: { summary: 'Get client credentials', tags, params: ClientParam, response: { 200: Type.Array(CredentialResponse), ...errorResponses } },
    config: { scopes: ['read:client_credentials'] },
  }, async (req) => (await credentials.list((req.params as { id: string }).id)).map(view));

  app.post('/clients/:id/credentials', {
    schema: { summary: 'Create a client credential', tags, params: ClientParam, body: CredentialCreateBody, response: { 201: CredentialResponse, ...errorResponses } },
    config: { scopes: ['create:client_credentials'] },
  }, async (req, reply) => reply.code(201).send(view(await credentials.create((req.params as { id: string }).id, req.body as CredentialInput))));

  app.get('/clients/:id/credentials/:credential_id', {
    schema: { summary: 'Get client credential details', tags, params: CredentialParam, response: { 200: CredentialResponse, ...errorResponses } },
    config: { scopes: ['read:client_credentials'] },
  }, async (req) => {
    const p = req.params as Params;
    return view(await credentials.get(p.id, p.credential_id));
  });

  app.patch('/clients/:id/credentials/:credential_id', {
    schema: { summary: 'Update a client credential', tags, params: CredentialParam, body: CredentialPatchBody, response: { 200: CredentialResponse, ...errorResponses } },
    config: { scopes: ['update:client_credentials'] },
  }, async (req) => {
    const p = req.params as Params;
    return view(await credentials.update(p.id, p.credential_id, (req.body ?? {}) as { expires_at?: string | null }));
  });

  app.delete('/clients/:id/credentials/:credential_id', {
    schema: { summary: 'Delete a client credential', tags, params: CredentialParam, response: { 204: Empty, ...errorResponses } },
    config: { scopes: ['delete:client_credentials'] },
  }, async (req, reply) => {
    const p = req.params as Params;
    await credentials.delete(p.id, p.credential_id);
    return reply.code(204).send();
  });
}
