import { Type } from '@sinclair/typebox';
import type { TenantSettingsPatch } from '@tessera/core';
import type { FastifyInstance } from 'fastify';
import { errorResponses, Nullable, TokenQuotaBody, TokenQuotaResponse } from '../schemas/common';
import type { Services } from '../services';
import { FieldsQuery, project, projectedResponse, projection, type FieldsParams } from './projection';

const tags = ['tenants'];

/** Auth0's `default_token_quota`: the quotas of clients and organizations that have none of their own. */
const DefaultTokenQuota = Type.Object({
  clients: Type.Optional(TokenQuotaBody),
  organizations: Type.Optional(TokenQuotaBody),
}, { additionalProperties: false, minProperties: 1, description: 'Token Quota configuration, applied to all clients and organizations unless overridden in their own settings.' });

const SettingsPatch = Type.Object({
  default_token_quota: Type.Optional(Nullable(DefaultTokenQuota)),
}, { additionalProperties: false });

const SettingsResponse = Type.Object({
  default_token_quota: Type.Optional(Type.Object({ clients: Type.Optional(TokenQuotaResponse), organizations: Type.Optional(TokenQuotaResponse) })),
});

/**
 * /api/v2/tenants/settings: the tenant settings Tessera keeps (the default token quotas). Other settings of Auth0's
 * are refused (400), not stored and ignored.
 */
export async function tenantSettingsRoutes(app: FastifyInstance, { services }: { services: Services }): Promise<void> {
  const settings = services.tenantSettings;

  app.get('/tenants/settings', {
    schema: { summary: 'Get tenant settings', tags, querystring: Type.Object(FieldsQuery), response: { 200: projectedResponse(SettingsResponse), ...errorResponses } },
    config: { scopes: ['read:tenant_settings'] },
  }, async (req) => project(await settings.get(), projection(req.query as FieldsParams)));

  app.patch('/tenants/settings', {
    schema: { summary: 'Update tenant settings', tags, body: SettingsPatch, response: { 200: SettingsResponse, ...errorResponses } },
    config: { scopes: ['update:tenant_settings'] },
  }, async (req) => settings.update((req.body ?? {}) as TenantSettingsPatch));
}
