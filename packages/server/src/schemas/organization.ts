import { Type } from '@sinclair/typebox';
import { ORGANIZATION_ACCESS_LEVELS, THIRD_PARTY_CLIENT_ACCESS } from '@tessera/core';
import { Nullable, StringEnum, TokenQuotaBody, TokenQuotaResponse } from './common';

const name = Type.String({ minLength: 1, maxLength: 50, pattern: '^[a-z0-9](?:[a-z0-9_-]*[a-z0-9])?$', description: 'The name of this organization.' });
const displayName = Type.String({ minLength: 1, maxLength: 255, description: 'Friendly name of this organization.' });
const color = Type.String({ pattern: '^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$' });
const branding = Type.Object({
  logo_url: Type.Optional(Type.String({ maxLength: 2048, description: 'URL of logo to display on login page.' })),
  colors: Type.Optional(Type.Object({ primary: color, page_background: color }, { additionalProperties: false, description: 'Color scheme used to customize the login pages.' })),
}, { additionalProperties: false, description: 'Theme defines how to style the login pages.' });
const metadataValue = Type.String({ maxLength: 255 });
const appEntitlement = Type.Boolean({ description: 'Whether app entitlement is active for this organization.' });
const thirdPartyAccess = StringEnum(THIRD_PARTY_CLIENT_ACCESS, { description: 'Whether third-party clients may log users in through this organization (`block` refuses them at /authorize; absent: allowed).' });
const connectionSettings = {
  assign_membership_on_login: Type.Optional(Type.Boolean({ description: 'When true, users who log in with this connection become members of the organization.' })),
  is_signup_enabled: Type.Optional(Type.Boolean({ description: 'Whether organization signup is enabled for this database connection (stored; Tessera has no signup).' })),
  show_as_button: Type.Optional(Type.Boolean({ description: "Whether the connection is shown on the organization's login prompt (stored; applies to enterprise connections)." })),
};
const ConnectionId = Type.String({ minLength: 1, maxLength: 64, description: 'ID of the connection.' });
export const EnabledConnectionCreateBody = Type.Object({ connection_id: ConnectionId, ...connectionSettings }, { additionalProperties: false });

export const OrganizationCreateBody = Type.Object({
  name,
  display_name: Type.Optional(displayName),
  branding: Type.Optional(branding),
  metadata: Type.Optional(Type.Record(Type.String(), metadataValue, { maxProperties: 25, description: 'Metadata associated with the organization.' })),
  is_app_entitlement_active: Type.Optional(appEntitlement),
  token_quota: Type.Optional(Nullable(TokenQuotaBody)),
  third_party_client_access: Type.Optional(thirdPartyAccess),
  enabled_connections: Type.Optional(Type.Array(EnabledConnectionCreateBody, { maxItems: 10, description: 'Connections enabled for the organization when it is created (the body of POST /organizations/{id}/enabled_connections; at most 10). Needs create:organization_connections as well.' })),
}, { additionalProperties: false });

export const OrganizationPatchBody = Type.Object({
  name: Type.Optional(name),
  display_name: Type.Optional(Nullable(displayName)),
  branding: Type.Optional(Nullable(branding)),
  metadata: Type.Optional(Nullable(Type.Record(Type.String(), Nullable(metadataValue), { description: 'Merged into the current metadata; a key set to null is removed.' }))),
  is_app_entitlement_active: Type.Optional(appEntitlement),
  token_quota: Type.Optional(Nullable(TokenQuotaBody)),
  third_party_client_access: Type.Optional(thirdPartyAccess),
}, { additionalProperties: false });

export const OrganizationResponse = Type.Object({
  id: Type.String(),
  name: Type.String(),
  display_name: Type.Optional(Type.String()),
  branding: Type.Optional(Type.Object({
    logo_url: Type.Optional(Type.String()),
    colors: Type.Optional(Type.Object({ primary: Type.String(), page_background: Type.String() })),
  })),
  metadata: Type.Optional(Type.Record(Type.String(), Type.String())),
  is_app_entitlement_active: Type.Optional(Type.Boolean()),
  token_quota: Type.Optional(TokenQuotaResponse),
  third_party_client_access: Type.Optional(Type.String()),
});

export const MembersBody = Type.Object({
  members: Type.Array(Type.String({ minLength: 1 }), { minItems: 1, description: 'List of user IDs to add to the organization as members.' }),
}, { additionalProperties: false });

export const GrantIdBody = Type.Object({
  grant_id: Type.String({ minLength: 1, description: 'A Client Grant ID to add to the organization.' }),
}, { additionalProperties: false });

export const OrganizationClientGrantResponse = Type.Object({
  grant_id: Type.String(), client_id: Type.Optional(Type.String()), audience: Type.String(), scope: Type.Optional(Type.Array(Type.String())),
  organization_usage: Type.Optional(Type.String()), allow_any_organization: Type.Optional(Type.Boolean()),
});

export const OrganizationGrantListItem = Type.Object({
  id: Type.String(), client_id: Type.Optional(Type.String()), audience: Type.String(), scope: Type.Optional(Type.Array(Type.String())),
  organization_usage: Type.Optional(Type.String()), allow_any_organization: Type.Optional(Type.Boolean()),
});

export const OrgIdParam = Type.Object({ id: Type.String({ minLength: 1, description: 'ID of the organization.' }) });

const connectionExtras = {
  organization_connection_name: Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: 'Name of the connection in the scope of this organization (stored and returned).' })),
  organization_access_level: Type.Optional(StringEnum(ORGANIZATION_ACCESS_LEVELS, { description: 'Access level for the organization (stored and returned).' })),
  is_enabled: Type.Optional(Type.Boolean({ description: 'Whether the connection is enabled for the organization; false refuses organization logins through it.' })),
};
export const EnabledConnectionPatchBody = Type.Object({ ...connectionSettings }, { additionalProperties: false });
export const OrgConnectionCreateBody = Type.Object({ connection_id: ConnectionId, ...connectionSettings, ...connectionExtras }, { additionalProperties: false });
export const OrgConnectionPatchBody = Type.Object({
  ...connectionSettings,
  organization_connection_name: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 128 }))),
  organization_access_level: Type.Optional(Nullable(StringEnum(ORGANIZATION_ACCESS_LEVELS))),
  is_enabled: Type.Optional(Nullable(Type.Boolean())),
}, { additionalProperties: false });

const connectionInfo = Type.Object({ name: Type.String(), strategy: Type.String() });
export const EnabledConnectionResponse = Type.Object({
  connection_id: Type.String(), assign_membership_on_login: Type.Boolean(), show_as_button: Type.Boolean(), is_signup_enabled: Type.Boolean(),
  connection: connectionInfo,
});
/** POST /organizations answers the organization and, when the body enabled connections, those connections. */
export const OrganizationCreatedResponse = Type.Object({
  ...OrganizationResponse.properties, enabled_connections: Type.Optional(Type.Array(EnabledConnectionResponse)),
});
export const OrgConnectionResponse = Type.Object({
  ...EnabledConnectionResponse.properties, is_enabled: Type.Boolean(),
  organization_connection_name: Type.Optional(Type.String()), organization_access_level: Type.Optional(Type.String()),
});
