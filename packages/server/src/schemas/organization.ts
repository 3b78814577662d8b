import { Type } from '@sinclair/typebox';
import { Nullable } from './common';

const name = Type.String({ minLength: 1, maxLength: 50, pattern: '^[a-z0-9](?:[a-z0-9_-]*[a-z0-9])?$', description: 'The name of this organization.' });
const displayName = Type.String({ minLength: 1, maxLength: 255, description: 'Friendly name of this organization.' });
const color = Type.String({ pattern: '^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$' });
const branding = Type.Object({
  logo_url: Type.Optional(Type.String({ maxLength: 2048, description: 'URL of logo to display on login page.' })),
  colors: Type.Optional(Type.Object({ primary: color, page_background: color }, { additionalProperties: false, description: 'Color scheme used to customize the login pages.' })),
}, { additionalProperties: false, description: 'Theme defines how to style the login pages.' });
const metadataValue = Type.String({ maxLength: 255 });

export const OrganizationCreateBody = Type.Object({
  name,
  display_name: Type.Optional(displayName),
  branding: Type.Optional(branding),
  metadata: Type.Optional(Type.Record(Type.String(), metadataValue, { maxProperties: 25, description: 'Metadata associated with the organization.' })),
}, { additionalProperties: false });

export const OrganizationPatchBody = Type.Object({
  name: Type.Optional(name),
  display_name: Type.Optional(Nullable(displayName)),
  branding: Type.Optional(Nullable(branding)),
  metadata: Type.Optional(Nullable(Type.Record(Type.String(), Nullable(metadataValue), { description: 'Merged into the current metadata; a key set to null is removed.' }))),
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
