import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { errorResponses } from '../schemas/common';
import type { Services } from '../services';

const Key = Type.Object({
  kid: Type.String(), cert: Type.String(), pkcs7: Type.Optional(Type.String()), current: Type.Optional(Type.Boolean()),
  next: Type.Optional(Type.Boolean()), previous: Type.Optional(Type.Boolean()), current_since: Type.Optional(Type.String()),
  current_until: Type.Optional(Type.String()), fingerprint: Type.String(), thumbprint: Type.String(),
  revoked: Type.Optional(Type.Boolean()), revoked_at: Type.Optional(Type.String()),
}, { additionalProperties: false });
const CertKid = Type.Object({ cert: Type.String(), kid: Type.String() }, { additionalProperties: false });
const KidParam = Type.Object({ kid: Type.String({ minLength: 1, description: 'Key id of the key.' }) });
const tags = ['keys'];

/** /api/v2/keys/signing: public material only; the response schemas have no room for a private key. */
export async function keysSigningRoutes(app: FastifyInstance, { services }: { services: Services }): Promise<void> {
  const keys = services.signingKeys;

  app.get('/keys/signing', {
    schema: { summary: 'Get all application signing keys', tags, response: { 200: Type.Array(Key), ...errorResponses } },
    config: { scopes: ['read:signing_keys'] },
  }, async () => keys.list());

  app.get('/keys/signing/:kid', {
    schema: { summary: 'Get an application signing key by its key id', tags, params: KidParam, response: { 200: Key, ...errorResponses } },
    config: { scopes: ['read:signing_keys'] },
  }, async (req) => keys.get((req.params as { kid: string }).kid));

  app.post('/keys/signing/rotate', {
    schema: { summary: 'Rotate the application signing key', tags, response: { 201: CertKid, ...errorResponses } },
    config: { scopes: [['create:signing_keys', 'update:signing_keys']] },
  }, async (_req, reply) => reply.code(201).send(await keys.rotate()));

  app.put('/keys/signing/:kid/revoke', {
    schema: { summary: 'Revoke an application signing key by its key id', tags, params: KidParam, response: { 200: CertKid, ...errorResponses } },
    config: { scopes: ['update:signing_keys'] },
  }, async (req) => keys.revoke((req.params as { kid: string }).kid));
}
